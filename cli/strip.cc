// pcapml strip: the packets without their labels, as a classic pcap with
// nanosecond timestamps, or with --pcapng as a pcapng whose EPBs carry no
// comments (all interfaces kept). A classic pcap holds one link type, so an
// input with several is an error naming them, unless --pcapng.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#include "base/progress.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "pcapio/pcap_writer.h"
#include "pcapio/pcapng_writer.h"
#include "pcapio/reader.h"

namespace pcapml {
namespace {

constexpr uint16_t kEthernet = 1;

struct StripOptions {
  std::string input, write;
  bool pcapng = false, stats = false;
  InputOptions in;
};

struct StripCounts {
  uint64_t packets = 0, labeled = 0;
};

std::string Join(const std::set<uint16_t>& types) {
  std::string s;
  for (uint16_t t : types) s += (s.empty() ? "" : ", ") + std::to_string(t);
  return s;
}

// The file header is written with the first packet's snaplen; a later
// interface of the same link type may need more, and libpcap truncates
// packets longer than the header's snaplen, so widen it in place before the
// rename. (Standard output cannot be patched; it keeps the first value.)
bool WidenSnaplen(OutputFile* out, uint32_t snaplen, std::string* err) {
  if (!out->Flush(err) || out->temp_path().empty()) return out->ok();
  int fd = open(out->temp_path().c_str(), O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && pwrite(fd, &snaplen, 4, 16) == 4;
  if (!ok) *err = "cannot update the header of " + out->path() + ": " + strerror(errno);
  if (fd >= 0) close(fd);
  return ok;
}

// Classic pcap: one link type, from the first packet.
bool StripToPcap(Input& in, OutputFile* out, StripCounts* c, std::string* err) {
  PacketReader& reader = in.reader();
  PcapWriter writer(out);
  Progress progress("strip " + reader.path());
  std::set<uint16_t> types;
  uint16_t link_type = 0;
  uint32_t header_snaplen = 0, snaplen = 0;
  Packet p;
  while (in.Next(&p)) {
    const Interface& ifc = reader.interfaces()[p.interface];
    if (c->packets++ == 0) {
      link_type = ifc.link_type;
      header_snaplen = snaplen = PcapSnaplen(ifc);
      writer.WriteHeader(link_type, header_snaplen);
      types.insert(link_type);
    }
    c->labeled += !p.comment.empty();
    progress.Update(reader.position(), reader.file_size(), c->packets);
    if (ifc.link_type != link_type) types.insert(ifc.link_type);  // keep reading to name them all
    if (types.size() > 1) continue;
    snaplen = std::max({snaplen, PcapSnaplen(ifc), p.caplen});
    writer.WritePacket(p.ts_ns, p.data, p.caplen, p.orig_len);
  }
  progress.Done();
  if (!in.Finish(err)) return false;
  if (types.size() > 1)
    return *err = reader.path() + " has packets of several link types (" + Join(types) +
                  "); a classic pcap holds one: use --pcapng for an unlabeled pcapng",
           false;
  if (c->packets == 0) {  // no packet to take the link type from
    const auto& ifcs = reader.interfaces();
    writer.WriteHeader(ifcs.empty() ? kEthernet : ifcs[0].link_type, ifcs.empty() ? 0 : ifcs[0].snaplen);
  }
  if (snaplen > header_snaplen && !WidenSnaplen(out, snaplen, err)) return false;
  return out->Commit(err);
}

// pcapng: every interface in input order, EPBs without options.
bool StripToPcapng(Input& in, OutputFile* out, StripCounts* c, std::string* err) {
  PacketReader& reader = in.reader();
  PcapngWriter writer(out);
  writer.WriteSectionHeader();
  std::vector<uint32_t> ids;
  auto declare = [&] {
    for (size_t i = ids.size(); i < reader.interfaces().size(); ++i) {
      const Interface& f = reader.interfaces()[i];
      ids.push_back(writer.Interface({f.name, f.link_type, f.snaplen, f.filter}));
    }
  };
  Progress progress("strip " + reader.path());
  Packet p;
  while (in.Next(&p)) {
    if (p.interface >= ids.size()) declare();
    ++c->packets;
    c->labeled += !p.comment.empty();
    writer.WritePacket(ids[p.interface], p.ts_ns, p.data, p.caplen, p.orig_len, {});
    progress.Update(reader.position(), reader.file_size(), c->packets);
  }
  progress.Done();
  if (!in.Finish(err)) return false;
  declare();
  return out->Commit(err);
}

}  // namespace

int RunStrip(const Args& args) {
  CLI::App app(
      "Writes the packets without their labels: a classic pcap with nanosecond timestamps, or "
      "with --pcapng a pcapng without packet comments (interfaces kept). An input whose packets "
      "have several link types needs --pcapng.",
      "strip");
  StripOptions o;
  app.add_option("-M,--input,input", o.input, "pcapng (or pcap) to read ('-' for stdin)")->required();
  app.add_option("-W,--write", o.write, "output file ('-' for stdout); written whole or not at all")->required();
  app.add_flag("--pcapng", o.pcapng, "write pcapng (keeps several link types) instead of classic pcap");
  app.add_flag("--stats", o.stats, "print packet counts at the end");
  AddInputOptions(app, &o.in, /*filter=*/true);
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;

  Input in;
  std::string err;
  if (!in.Open(o.input, o.in, &err)) return Fail(err);
  OutputFile out;
  if (!out.Open(o.write, &err)) return Fail(err);
  StripCounts c;
  bool ok = o.pcapng ? StripToPcapng(in, &out, &c, &err) : StripToPcap(in, &out, &c, &err);
  if (!ok) return Fail(err);
  if (o.stats)
    fprintf(stderr, "pcapml strip: %" PRIu64 " packets written, %" PRIu64 " of them had comments\n", c.packets,
            c.labeled);
  return kExitOk;
}

}  // namespace pcapml
