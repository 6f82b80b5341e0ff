// How the offline commands read a capture: one cut short (its writer killed
// mid-record) is read up to its last whole packet with one warning, as
// tcpdump -r reads it, or refused with --strict. Damage before the end stays
// an error naming its offset.
#pragma once

#include <cstdint>
#include <string>

#include "pcapio/reader.h"

namespace CLI {
class App;
}

namespace pcapml {

struct InputOptions {
  bool strict = false;  // a capture cut short is an error
};

// Adds --strict.
void AddInputOptions(CLI::App& app, InputOptions* o);

class Input {
 public:
  // Opens path ("-": standard input).
  bool Open(const std::string& path, const InputOptions& o, std::string* err);
  // The next packet; false at the end, cut short, or on an error: then
  // Finish says which.
  bool Next(Packet* p);
  // After Next returned false: true when the input was read as asked (a
  // capture cut short gets its warning on stderr here, unless --strict).
  bool Finish(std::string* err);

  PacketReader& reader() { return reader_; }
  uint64_t read() const { return read_; }  // packets read

 private:
  PacketReader reader_;
  InputOptions options_;
  uint64_t read_ = 0;
  PacketReader::Status status_ = PacketReader::Status::kEnd;
  std::string error_;
};

}  // namespace pcapml
