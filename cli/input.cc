#include "cli/input.h"

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>

#include "rules/bpf.h"

namespace pcapml {

void AddInputOptions(CLI::App& app, InputOptions* o, bool filter) {
  app.add_option("-c,--count", o->count, "read only the first N packets (that pass the filter)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--strict", o->strict,
               "a capture cut short (its last record incomplete) is an error; by default its complete "
               "packets are read, with a warning");
  if (filter)
    app.add_option("filter", o->filter,
                   "libpcap read filter after the input, as in tcpdump -r FILE 'EXPRESSION': only the "
                   "packets it passes are read");
}

Input::Input() = default;
Input::~Input() = default;

bool Input::Open(const std::string& path, const InputOptions& o, std::string* err) {
  options_ = o;
  std::string expression;
  for (const std::string& w : o.filter) expression += (expression.empty() ? "" : " ") + w;
  if (!expression.empty()) filter_ = std::make_unique<BpfFilter>(expression);
  if (!reader_.Open(path, err)) return false;
  // A filter libpcap rejects fails before any work (pcap: its one link type; pcapng: Ethernet until its
  // interfaces are read, for the syntax).
  uint16_t link_type = reader_.interfaces().empty() ? 1 : reader_.interfaces()[0].link_type;
  if (filter_ && !filter_->Prepare(link_type, err)) return *err = "read filter '" + expression + "': " + *err, false;
  return true;
}

bool Input::Passes(const Packet& p) {
  uint16_t link_type = reader_.interfaces()[p.interface].link_type;
  if (!filter_->prepared(link_type) && !filter_->Prepare(link_type, &error_)) {
    error_ = "read filter '" + filter_->expression() + "': " + error_ + " (link type " + std::to_string(link_type) +
             " of " + reader_.path() + ")";
    status_ = PacketReader::Status::kError;
    return false;
  }
  return filter_->Matches(link_type, p.data, p.caplen, p.orig_len);
}

bool Input::Next(Packet* p) {
  if (options_.count && given_ == options_.count) return status_ = PacketReader::Status::kEnd, false;
  while ((status_ = reader_.Next(p, &error_)) == PacketReader::Status::kPacket) {
    ++read_;
    if (!filter_ || Passes(*p)) return ++given_, true;
    if (status_ == PacketReader::Status::kError) return false;
  }
  return false;
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
