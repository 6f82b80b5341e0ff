// pcapml sort: a labeled pcapng ordered by sampleID (numerically), then
// timestamp, with input order breaking ties; unlabeled packets come last, in
// time order. Works on files larger than memory: an external merge sort
// within --memory (PacketSorter), spilling runs to one unlinked temporary
// file. Interfaces (link type, snaplen, if_name, if_filter) and each
// packet's first comment, the label, are kept exactly.
#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/progress.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "pcapio/packet_sorter.h"
#include "pcapio/pcapng_writer.h"
#include "pcapio/reader.h"
#include "rules/label.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

struct SortOptions {
  std::string input, write, memory = "256MiB", tmpdir;
  bool stats = false;
  InputOptions in;
};

struct SortCounts {
  uint64_t read = 0, unlabeled = 0;
  uint64_t bytes = 0;  // packet data and comments, for the merge's progress
  // Counted while merging, where each sample's packets come together: no set
  // of IDs (it grew by ~40 bytes a sample, past --memory for 1M samples).
  uint64_t samples = 0;
};

// Sort keys of the packets read: the label is parsed once per run of equal
// comments, not per packet.
class KeyMaker {
 public:
  explicit KeyMaker(SortCounts* counts) : counts_(counts) {}
  SortKey Key(const Packet& p) {
    labels_.Next(p.comment);
    uint64_t seq = counts_->read++;
    if (!labels_.labeled()) return ++counts_->unlabeled, SortKey::Unlabeled(p.ts_ns, seq);
    return SortKey::Labeled(labels_.label().sample_id, p.ts_ns, seq);
  }

 private:
  SortCounts* counts_;
  LabelRuns labels_;
};

// Reads every packet into the sorter; returns the input's interfaces.
bool ReadRuns(const SortOptions& o, PacketSorter* sorter, SortCounts* counts, std::vector<Interface>* interfaces,
              std::string* err) {
  Input in;
  if (!in.Open(o.input, o.in, err)) return false;
  Progress progress("sort: reading " + o.input);
  KeyMaker keys(counts);
  Packet p;
  while (in.Next(&p)) {
    if (!sorter->Add(keys.Key(p), p.interface, p.data, p.caplen, p.orig_len, p.comment, err)) return false;
    counts->bytes += p.caplen + p.comment.size();
    progress.Update(in.reader().position(), in.reader().file_size(), counts->read);
  }
  progress.Done();
  *interfaces = in.reader().interfaces();
  return in.Finish(err);
}

bool WriteSorted(PacketSorter* sorter, const std::vector<Interface>& interfaces, SortCounts* counts, OutputFile* out,
                 std::string* err) {
  PcapngWriter writer(out);
  writer.WriteSectionHeader({}, {}, /*grouped=*/true);
  // Every input interface, in input order, even those without packets.
  std::vector<uint32_t> ids;
  for (const Interface& i : interfaces) ids.push_back(writer.Interface({i.name, i.link_type, i.snaplen, i.filter}));
  Progress progress("sort: merging");
  uint64_t n = 0, done = 0, last = 0;
  bool ok = sorter->Merge(
      [&](const SortedPacket& p) {
        // Labeled packets come first, grouped by sample: count where the sample changes.
        if (!p.key.unlabeled() && (counts->samples == 0 || p.key.sample != last)) ++counts->samples;
        last = p.key.sample;
        writer.WritePacket(ids[p.interface], p.key.ts_ns, p.data, p.caplen, p.orig_len, p.comment);
        done += p.caplen + p.comment.size();
        progress.Update(done, counts->bytes, ++n);
      },
      err);
  progress.Done();
  return ok && out->Commit(err);
}

// Where runs spill: --tmpdir, else beside the output (same file system as
// the result, which must have room for it anyway).
std::string SpillDir(const SortOptions& o) {
  if (!o.tmpdir.empty()) return o.tmpdir;
  if (o.write == "-") return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  std::string dir = fs::path(o.write).parent_path().string();
  return dir.empty() ? "." : dir;
}

void PrintStats(const SortCounts& c, const PacketSorter& s) {
  fprintf(stderr,
          "pcapml sort: %" PRIu64 " packets read and written, %" PRIu64 " samples, %" PRIu64
          " unlabeled (written last), %" PRIu64 " runs spilled (%" PRIu64 " bytes), %" PRIu64
          " intermediate merge passes\n",
          c.read, c.samples, c.unlabeled, s.runs_spilled(), s.bytes_spilled(), s.merge_passes());
}

}  // namespace

int RunSort(const Args& args) {
  CLI::App app(
      "Sorts a labeled pcapng by sampleID (numerically, ascending), then timestamp; input order "
      "breaks ties. Packets without a pcapml label are written last, in time order. Files larger "
      "than memory are sorted in runs of --memory, spilled to a temporary file and merged. "
      "Interfaces and label comments are kept; other packet options, and comments after the "
      "first, are not.",
      "sort");
  SortOptions o;
  app.add_option("-M,--input,input", o.input, "labeled pcapng to read ('-' for stdin)")->required();
  app.add_option("-W,--write", o.write, "sorted pcapng ('-' for stdout); written whole or not at all")->required();
  app.add_option("--memory", o.memory, "memory for packets in sort runs (default 256MiB)");
  app.add_option("--tmpdir", o.tmpdir, "directory for the spilled runs (default: the output's)");
  app.add_flag("--stats", o.stats, "print packet, sample and run counts at the end");
  AddInputOptions(app, &o.in, /*filter=*/true);
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  uint64_t memory = 0;
  std::string err;
  if (!ParseBytes(o.memory, &memory, &err) || memory < 4096) {
    fprintf(stderr, "pcapml sort: --memory %s: %s (see pcapml help sort)\n", o.memory.c_str(),
            err.empty() ? "must be at least 4KiB" : err.c_str());
    return kExitUsage;
  }

  OutputFile out;
  if (!out.Open(o.write, &err)) return Fail(err);
  PacketSorter::Options so;
  so.memory = memory;
  so.tmpdir = SpillDir(o);
  PacketSorter sorter(so);
  SortCounts counts;
  std::vector<Interface> interfaces;
  if (!ReadRuns(o, &sorter, &counts, &interfaces, &err) || !WriteSorted(&sorter, interfaces, &counts, &out, &err))
    return Fail(err);
  if (o.stats) PrintStats(counts, sorter);
  return kExitOk;
}

}  // namespace pcapml
