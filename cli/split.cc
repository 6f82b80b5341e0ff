// pcapml split: one classic pcap per sample, "<sampleID>_<label>.pcap", and
// metadata.csv (File,Label) listing them by sampleID (docs/format.md: Outputs).
//
// One pass over the input: each packet is appended to its sample's file as
// it comes, so a sample's packets stay in input order however they
// interleave with others. Files go through an OutputFileSet, which bounds
// the open descriptors and buffer memory (an LRU of open files, reopened at
// their end when written again), so 100,000 samples work in a few MiB.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "base/csv.h"
#include "base/progress.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "pcapio/output_file.h"
#include "pcapio/output_file_set.h"
#include "pcapio/pcap_writer.h"
#include "pcapio/reader.h"
#include "rules/label.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

constexpr size_t kBufferBudget = 16u << 20;  // shared by the open sample files

struct SplitOptions {
  std::string input, dir;
  size_t max_open = 0;  // 0: from the descriptor limit
  bool stats = false;
  InputOptions in;
};

struct Sample {
  uint64_t id;
  std::string metadata;  // everything after the sampleID, from its first packet
  uint32_t file;         // in the OutputFileSet
  uint16_t link_type;
  uint32_t header_snaplen;  // as written in the file header
  uint32_t snaplen;         // what its packets need
  std::string_view label() const { return std::string_view(metadata).substr(0, metadata.find(',')); }
};

struct SplitCounts {
  uint64_t read = 0, written = 0, unlabeled = 0, mismatched = 0;
};

// Routes packets to their samples' files and writes metadata.csv.
class Splitter {
 public:
  Splitter(const std::string& dir, size_t max_open) : dir_(dir), files_(dir, max_open, kBufferBudget) {}

  // False (with *err) if the packet's sample already has another link type.
  bool Add(const Packet& p, const Interface& ifc, std::string* err) {
    ++counts_.read;
    if (labels_.Next(p.comment)) Switch(ifc);
    if (current_ == kUnlabeled) return ++counts_.unlabeled, true;
    Sample& s = samples_[current_];
    if (ifc.link_type != s.link_type) return LinkTypeConflict(s, ifc, p.offset, err);
    s.snaplen = std::max({s.snaplen, PcapSnaplen(ifc), p.caplen});
    uint32_t h[4];
    PcapWriter::RecordHeader(p.ts_ns, p.caplen, p.orig_len, h);
    files_.Append(s.file, h, sizeof h);
    files_.Append(s.file, p.data, p.caplen);
    ++counts_.written;
    return true;
  }

  bool ok(std::string* err) const { return files_.ok() || (*err = files_.error(), false); }

  // Widens snaplens where needed, writes metadata.csv, renames everything.
  bool Finish(std::string* err) {
    for (const Sample& s : samples_)
      if (s.snaplen > s.header_snaplen) files_.Overwrite(s.file, 16, &s.snaplen, 4);
    OutputFile csv;
    if (!csv.Open(dir_ + "/metadata.csv", err)) return false;
    std::vector<const Sample*> sorted;
    for (const Sample& s : samples_) sorted.push_back(&s);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->id < b->id; });
    std::string row = CsvRow({"File", "Label"});
    csv.Append(row.data(), row.size());
    for (const Sample* s : sorted) {
      row = CsvRow({files_.name(s->file), s->metadata});
      csv.Append(row.data(), row.size());
    }
    return files_.CommitAll(err) && csv.Commit(err);
  }

  const SplitCounts& counts() const { return counts_; }
  size_t samples() const { return samples_.size(); }
  uint64_t reopens() const { return files_.reopens(); }

 private:
  static constexpr int64_t kUnlabeled = -1;

  // A new comment (usually a new sample).
  void Switch(const Interface& ifc) {
    if (!labels_.labeled()) {
      current_ = kUnlabeled;
      return;
    }
    const SampleLabel& label = labels_.label();
    auto [it, fresh] = index_.try_emplace(label.sample_id, samples_.size());
    current_ = static_cast<int64_t>(it->second);
    if (!fresh) {
      counts_.mismatched += samples_[it->second].metadata != label.metadata;
      return;
    }
    std::string name = std::to_string(label.sample_id) + "_" + FileSafe(label.name) + ".pcap";
    Sample s{label.sample_id, std::string(label.metadata), files_.Add(std::move(name)), ifc.link_type, PcapSnaplen(ifc),
             PcapSnaplen(ifc)};
    uint32_t h[6];
    PcapWriter::FileHeader(s.link_type, s.header_snaplen, h);
    files_.Append(s.file, h, sizeof h);
    samples_.push_back(std::move(s));
  }

  bool LinkTypeConflict(const Sample& s, const Interface& ifc, uint64_t offset, std::string* err) {
    *err = "sample " + std::to_string(s.id) + " (" + std::string(s.label()) + ") has packets of link types " +
           std::to_string(s.link_type) + " and " + std::to_string(ifc.link_type) + " (the latter at byte offset " +
           std::to_string(offset) + "); a classic pcap holds one link type";
    return false;
  }

  std::string dir_;
  OutputFileSet files_;
  std::vector<Sample> samples_;
  std::unordered_map<uint64_t, size_t> index_;  // sampleID -> samples_
  LabelRuns labels_;
  int64_t current_ = kUnlabeled;  // samples_ index, set by Switch
  SplitCounts counts_;
};

size_t DefaultMaxOpen() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1024;
  return std::clamp<size_t>(r.rlim_cur / 2, 1, 1024);
}

// The output directory, created if missing; `created` says whether we did.
bool MakeOutputDir(const std::string& dir, bool* created, std::string* err) {
  std::error_code ec;
  *created = !fs::exists(dir, ec);
  if (!*created && !fs::is_directory(dir, ec)) return *err = dir + ": exists and is not a directory", false;
  if (*created && !fs::create_directories(dir, ec))
    return *err = "cannot create output directory " + dir + ": " + ec.message(), false;
  return true;
}

bool Split(const SplitOptions& o, Input& in, Splitter& splitter, std::string* err) {
  Progress progress("split " + o.input);
  Packet p;
  while (in.Next(&p)) {
    if (!splitter.Add(p, in.reader().interfaces()[p.interface], err) || !splitter.ok(err)) return false;
    progress.Update(in.reader().position(), in.reader().file_size(), splitter.counts().read);
  }
  progress.Done();
  return in.Finish(err) && splitter.Finish(err);
}

void PrintStats(const SplitOptions& o, const Splitter& s) {
  const SplitCounts& c = s.counts();
  fprintf(stderr,
          "pcapml split: %" PRIu64 " packets read, %" PRIu64
          " written to %zu sample files + "
          "metadata.csv in %s, %" PRIu64 " unlabeled skipped, %" PRIu64
          " with metadata differing from their sample's first packet, %" PRIu64 " file reopens\n",
          c.read, c.written, s.samples(), o.dir.c_str(), c.unlabeled, c.mismatched, s.reopens());
}

}  // namespace

int RunSplit(const Args& args) {
  CLI::App app(
      "Splits a labeled pcapng into one classic pcap (nanosecond timestamps) per sample, named "
      "<sampleID>_<label>.pcap, plus metadata.csv (File,Label: the file and the sample's full "
      "metadata), rows sorted by sampleID. Each file holds its sample's packets in input order. "
      "Packets without a pcapml label are skipped (counted by --stats); a sample whose packets "
      "have several link types is an error. A sample's metadata comes from its first packet.",
      "split");
  SplitOptions o;
  app.add_option("-M,--input,input", o.input, "labeled pcapng (or pcap) to read ('-' for stdin)")->required();
  app.add_option("-O,--output-dir", o.dir, "directory for the pcaps and metadata.csv (created if missing)")->required();
  app.add_option("--max-open-files", o.max_open,
                 "sample files kept open at once (default: 1024, or half the descriptor limit)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--stats", o.stats, "print packet, sample and file counts at the end");
  AddInputOptions(app, &o.in, /*filter=*/true);
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  while (o.dir.size() > 1 && o.dir.back() == '/') o.dir.pop_back();
  if (o.max_open == 0) o.max_open = DefaultMaxOpen();

  Input in;
  std::string err;
  if (!in.Open(o.input, o.in, &err)) return Fail(err);
  bool created = false;
  if (!MakeOutputDir(o.dir, &created, &err)) return Fail(err);
  bool ok;
  {
    Splitter splitter(o.dir, o.max_open);
    ok = Split(o, in, splitter, &err);
    if (ok && o.stats) PrintStats(o, splitter);
  }  // a failed splitter removes its partial files here
  if (ok) return kExitOk;
  std::error_code ec;
  if (created) fs::remove(o.dir, ec);  // only if still empty
  return Fail(err);
}

}  // namespace pcapml
