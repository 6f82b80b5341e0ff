// External merge sort of packets within a memory budget, for `pcapml sort`.
//
// Packets are copied into one arena of the budget's size: records grow from
// its front, the sort index from its back. When they would meet, the index is
// sorted and the records are written in that order as one run to a spill
// file (created and unlinked at once in the temp directory, so nothing is
// left behind). Merge() then does a k-way merge of the spilled runs and the
// last run still in memory, first merging down to `max_fan_in` runs in
// intermediate passes if there are more. Any packet size works: a record
// larger than the arena becomes a run of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pcapml {

// Order: sampleID, then timestamp, then input order; unlabeled packets after
// every labeled one.
struct SortKey {
  uint64_t sample = 0;
  int64_t ts_ns = 0;
  uint64_t seq = 0;  // input order; the top bit marks an unlabeled packet

  static constexpr uint64_t kUnlabeled = uint64_t{1} << 63;
  static SortKey Labeled(uint64_t sample, int64_t ts, uint64_t seq) { return {sample, ts, seq}; }
  static SortKey Unlabeled(int64_t ts, uint64_t seq) { return {~uint64_t{0}, ts, seq | kUnlabeled}; }
  bool unlabeled() const { return seq & kUnlabeled; }

  bool operator<(const SortKey& o) const {
    if (sample != o.sample) return sample < o.sample;
    if ((seq ^ o.seq) & kUnlabeled) return o.unlabeled();
    if (ts_ns != o.ts_ns) return ts_ns < o.ts_ns;
    return seq < o.seq;
  }
};

struct SortedPacket {
  SortKey key;
  uint32_t interface = 0;
  uint32_t caplen = 0;
  uint32_t orig_len = 0;
  const uint8_t* data = nullptr;
  std::string_view comment;
};

class PacketSorter {
 public:
  struct Options {
    uint64_t memory = 256u << 20;  // arena bytes: records + 32 bytes of index per packet
    std::string tmpdir = "/tmp";
    size_t max_fan_in = 256;         // runs merged at once
    size_t merge_buffer = 8u << 20;  // read buffers of one merge, shared by its runs
  };

  explicit PacketSorter(Options options);
  ~PacketSorter();
  PacketSorter(const PacketSorter&) = delete;
  PacketSorter& operator=(const PacketSorter&) = delete;

  // Copies a packet in; may spill a run. False on a spill error.
  bool Add(const SortKey& key, uint32_t interface, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
           std::string_view comment, std::string* err);

  // Calls emit for every packet in order (data valid during the call only).
  // Call once, after the last Add.
  bool Merge(const std::function<void(const SortedPacket&)>& emit, std::string* err);

  uint64_t packets() const { return packets_; }
  uint64_t runs_spilled() const { return runs_spilled_; }
  uint64_t bytes_spilled() const { return bytes_spilled_; }
  // Merges before the final one, needed when runs outnumber max_fan_in.
  uint64_t merge_passes() const { return merge_passes_; }

  // Implementation details, named here for the .cc's helpers.
  class SpillFile;      // the runs on disk
  struct RecordHeader;  // a packet's record in the arena and on disk
  struct Run {
    uint64_t offset, length;
  };

 private:
  bool SpillArena(std::string* err);
  bool SpillRecord(const RecordHeader& h, const uint8_t* data, const char* comment, std::string* err);
  bool OpenSpill(std::string* err);
  bool MergeRuns(size_t first, size_t count, bool with_memory, const std::function<void(const SortedPacket&)>& emit,
                 std::string* err);

  Options opts_;
  std::unique_ptr<uint8_t[]> arena_;
  uint64_t capacity_ = 0;
  uint64_t used_ = 0;     // record bytes at the front
  uint64_t entries_ = 0;  // index entries at the back
  std::unique_ptr<SpillFile> spill_;
  std::vector<Run> runs_;
  uint64_t packets_ = 0, runs_spilled_ = 0, bytes_spilled_ = 0, merge_passes_ = 0;
};

}  // namespace pcapml
