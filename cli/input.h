// How the offline commands read a capture, as tcpdump -r does: a trailing
// libpcap read filter ("pcapml summary f.pcap 'tcp port 443'"), -c N (the
// first N packets that pass it), and a capture cut short (its writer killed
// mid-record) read up to its last whole packet with one warning, or refused
// with --strict. Damage before the end stays an error naming its offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pcapio/reader.h"

namespace CLI {
class App;
}

namespace pcapml {

class BpfFilter;

struct InputOptions {
  std::vector<std::string> filter;  // words of the expression, joined with spaces (as tcpdump does)
  uint64_t count = 0;               // 0: every packet
  bool strict = false;              // a capture cut short is an error
};

// Adds -c/--count and --strict, and with `filter` the trailing expression.
void AddInputOptions(CLI::App& app, InputOptions* o, bool filter);

class Input {
 public:
  Input();
  ~Input();

  // Opens path ("-": standard input); a filter that does not compile for
  // the input's link type is an error here or at its first packet.
  bool Open(const std::string& path, const InputOptions& o, std::string* err);
  // The next packet that passes the filter, until -c packets were given;
  // false at the end, cut short, or on an error: then Finish says which.
  bool Next(Packet* p);
  // After Next returned false: true when the input was read as asked (a
  // capture cut short gets its warning on stderr here, unless --strict).
  bool Finish(std::string* err);

  PacketReader& reader() { return reader_; }
  uint64_t read() const { return read_; }  // packets read, before the filter

 private:
  bool Passes(const Packet& p);  // through the read filter (there is one)

  PacketReader reader_;
  InputOptions options_;
  std::unique_ptr<BpfFilter> filter_;
  uint64_t read_ = 0, given_ = 0;
  PacketReader::Status status_ = PacketReader::Status::kEnd;
  std::string error_;
};

}  // namespace pcapml
