#include "cli/input.h"

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>

namespace pcapml {

void AddInputOptions(CLI::App& app, InputOptions* o) {
  app.add_flag("--strict", o->strict,
               "a capture cut short (its last record incomplete) is an error; by default its complete "
               "packets are read, with a warning");
}

bool Input::Open(const std::string& path, const InputOptions& o, std::string* err) {
  options_ = o;
  return reader_.Open(path, err);
}

bool Input::Next(Packet* p) {
  if ((status_ = reader_.Next(p, &error_)) != PacketReader::Status::kPacket) return false;
  ++read_;
  return true;
}

bool Input::Finish(std::string* err) {
  switch (status_) {
    case PacketReader::Status::kPacket:
    case PacketReader::Status::kEnd:
      return true;
    case PacketReader::Status::kTruncated:
      if (options_.strict) return *err = error_ + " (--strict)", false;
      fprintf(stderr, "pcapml: warning: %s; read the %" PRIu64 " complete packets before it\n", error_.c_str(), read_);
      return true;
    case PacketReader::Status::kError:
      break;
  }
  *err = error_;
  return false;
}

}  // namespace pcapml
