// A k-way merge of pcap/pcapng files by timestamp into one pcapng section
// (pcapml merge). Every input is read with its own PacketReader and the
// packet at the head of each sits in a heap keyed by (time, input position),
// so equal timestamps keep the order of the inputs, and each input keeps its
// own order. Packets are copied from the readers' buffers straight into the
// writer's: nothing is allocated per packet.
//
// Kept per packet: the exact nanosecond time (if_tsresol and if_tsoffset
// applied; written with if_tsresol 9), lengths, data, and its options (every
// opt_comment, hence the label). Options of a byte-swapped input are
// rewritten in this machine's order, which is known for comments only: its
// other options are dropped and counted. Kept per interface: link type,
// snaplen, if_name, if_filter and if_description; an interface declared in a
// section commented "sensor <id>" (the daemon's files) gets that text as its
// if_description when it has none, so sensors stay apart in the single output
// section even when their interfaces share a name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pcapio/output_file.h"

namespace pcapml {

class Progress;

struct MergeStats {
  uint64_t packets = 0;
  uint64_t interfaces = 0;  // IDBs written
  // Per input: packets earlier than their predecessor in that input.
  std::vector<uint64_t> out_of_order;
  uint64_t options_dropped = 0;  // non-comment options of byte-swapped inputs
  // Inputs cut short (last record incomplete), each "<what>; read the N complete packets before it".
  std::vector<std::string> cut_short;
};

struct MergeOptions {
  size_t read_buffer = 1u << 20;  // per input
  Progress* progress = nullptr;   // updated per packet when set
  bool strict = false;            // an input cut short is an error, not the end of that input
};

// Merges `inputs`, all open at once, into `out` (opened by the caller, not
// committed). The output's section comment is the inputs' common "sensor
// <id>" comment, if they all have the same one.
bool MergeFiles(const std::vector<std::string>& inputs, OutputFile* out, const MergeOptions& options, MergeStats* stats,
                std::string* err);

}  // namespace pcapml
