// pcapml merge: pcap/pcapng files joined into one pcapng section in time
// order (pcapio/packet_merger.h), labels and interfaces kept. At most
// --max-open inputs are open at once: beyond that, runs of consecutive inputs
// are merged into temporary files first (each a pass over their data), which
// keeps both the descriptors and the memory bounded whatever the number of
// inputs, and keeps equal timestamps in input order.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/progress.h"
#include "cli/commands.h"
#include "pcapio/packet_merger.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

// Read buffers of all open inputs together; each gets 64 KiB to 1 MiB.
constexpr size_t kReadMemory = 32u << 20;

struct MergeCliOptions {
  std::vector<std::string> inputs;
  std::string write, tmpdir;
  size_t max_open = 0;
  bool stats = false, strict = false;
};

size_t DefaultMaxOpen() {
  struct rlimit rl;
  size_t half = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur / 2 : 512;
  return std::clamp<size_t>(half, 2, 256);
}

size_t ReadBuffer(size_t open) { return std::clamp<size_t>(kReadMemory / open, 64u << 10, 1u << 20); }

// Where intermediate files go: --tmpdir, else beside the output.
std::string TempDir(const MergeCliOptions& o) {
  if (!o.tmpdir.empty()) return o.tmpdir;
  if (o.write == "-") return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  std::string dir = fs::path(o.write).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Intermediate merge results, removed once merged on or when the run ends.
class TempFiles {
 public:
  explicit TempFiles(std::string dir) : dir_(std::move(dir)) {}
  ~TempFiles() {
    for (const std::string& p : live_) unlink(p.c_str());
  }
  std::string Next() {
    live_.push_back(dir_ + "/pcapml-merge-" + std::to_string(getpid()) + "-" + std::to_string(count_++) + ".pcapng");
    return live_.back();
  }
  // Removes `path` if it is one of ours.
  void Release(const std::string& path) {
    auto it = std::find(live_.begin(), live_.end(), path);
    if (it == live_.end()) return;
    unlink(path.c_str());
    live_.erase(it);
  }
  size_t count() const { return count_; }
  bool Owns(const std::string& path) const { return std::find(live_.begin(), live_.end(), path) != live_.end(); }

 private:
  std::string dir_;
  std::vector<std::string> live_;
  size_t count_ = 0;
};

// Every input must be readable before hours of passes start.
bool CheckInputs(const std::vector<std::string>& inputs, std::string* err) {
  for (const std::string& path : inputs) {
    if (path == "-") continue;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return *err = path + ": " + strerror(errno), false;
    if (S_ISDIR(st.st_mode)) return *err = path + ": is a directory", false;
  }
  return true;
}

// What the command reports: the final pass's counts, and the order check of
// the user's own inputs (a temporary file repeats its inputs' disorder).
struct MergeTotals {
  uint64_t packets = 0, interfaces = 0, options_dropped = 0, out_of_order = 0;
  std::string first_out_of_order;  // the first input with a packet out of order
  size_t passes = 0;
};

bool MergeOnce(const std::vector<std::string>& inputs, const std::string& write, const std::string& what,
               const TempFiles& temps, bool strict, MergeTotals* totals, std::string* err) {
  OutputFile out;
  if (!out.Open(write, err)) return false;
  Progress progress(what);
  MergeOptions mo;
  mo.read_buffer = ReadBuffer(inputs.size());
  mo.progress = &progress;
  mo.strict = strict;
  MergeStats pass;
  if (!MergeFiles(inputs, &out, mo, &pass, err) || !out.Commit(err)) return false;
  for (const std::string& w : pass.cut_short) fprintf(stderr, "pcapml: warning: %s\n", w.c_str());
  ++totals->passes;
  totals->packets = pass.packets;  // the last pass writes them all
  totals->interfaces = pass.interfaces;
  totals->options_dropped += pass.options_dropped;  // only a user's input can be byte-swapped
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (pass.out_of_order[i] == 0 || temps.Owns(inputs[i])) continue;
    if (totals->out_of_order == 0) totals->first_out_of_order = inputs[i];
    totals->out_of_order += pass.out_of_order[i];
  }
  return true;
}

// Merges consecutive groups of inputs into temporary files until at most
// max_open remain, each group only as large as needed, so the least data is
// rewritten; then merges the rest into the output.
bool Merge(const MergeCliOptions& o, MergeTotals* totals, std::string* err) {
  std::vector<std::string> list = o.inputs;
  TempFiles temps(TempDir(o));
  size_t pos = 0;
  while (list.size() > o.max_open) {
    size_t group = std::min(o.max_open, list.size() - o.max_open + 1);
    if (pos + group > list.size()) pos = 0;  // every input went through a pass: start another
    std::vector<std::string> in(list.begin() + pos, list.begin() + pos + group);
    std::string temp = temps.Next();
    std::string what = "merge: pass " + std::to_string(temps.count()) + " (" + std::to_string(group) + " files)";
    if (!MergeOnce(in, temp, what, temps, o.strict, totals, err)) return false;
    for (const std::string& p : in) temps.Release(p);
    list.erase(list.begin() + pos + 1, list.begin() + pos + group);
    list[pos++] = temp;
  }
  return MergeOnce(list, o.write, "merge: " + std::to_string(list.size()) + " files", temps, o.strict, totals, err);
}

void PrintStats(const MergeCliOptions& o, const MergeTotals& s) {
  fprintf(stderr,
          "pcapml merge: %zu inputs, %" PRIu64 " packets, %" PRIu64
          " interfaces, %zu passes (at most %zu"
          " files open), %" PRIu64 " packets out of order in their input, %" PRIu64
          " options of byte-swapped inputs dropped\n",
          o.inputs.size(), s.packets, s.interfaces, s.passes, o.max_open, s.out_of_order, s.options_dropped);
}

}  // namespace

int RunMerge(const Args& args) {
  CLI::App app(
      "Merges pcap and pcapng files into one pcapng section in timestamp order. Each packet keeps "
      "its exact time, data, comments (its label) and interface (link type, snaplen, name, filter); "
      "interfaces of files from a pcapml daemon with sensor_id are described as 'sensor <id>'. "
      "Equal timestamps keep the order of the inputs; each input is expected in time order "
      "(reordercap sorts one that is not). At most --max-open inputs are open at once: more are "
      "merged in passes through temporary files.",
      "merge");
  MergeCliOptions o;
  app.add_option("-M,--input,inputs", o.inputs, "pcap or pcapng files to merge, in this order")->required();
  app.add_option("-W,--write", o.write, "merged pcapng ('-' for stdout); written whole or not at all")->required();
  app.add_option("--max-open", o.max_open, "inputs open at once (default 256, at most half the descriptor limit)")
      ->check(CLI::Range(size_t{2}, size_t{1} << 20));
  app.add_option("--tmpdir", o.tmpdir, "directory for intermediate files (default: the output's)");
  app.add_flag("--stats", o.stats, "print packet, interface and pass counts at the end");
  app.add_flag("--strict", o.strict,
               "an input cut short (its last record incomplete) is an error; by default its complete "
               "packets are merged, with a warning");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  if (o.max_open == 0) o.max_open = DefaultMaxOpen();

  std::string err;
  if (!CheckInputs(o.inputs, &err)) return Fail(err);
  MergeTotals totals;
  if (!Merge(o, &totals, &err)) return Fail(err);
  if (totals.out_of_order > 0)
    fprintf(stderr,
            "pcapml merge: warning: %" PRIu64
            " packets came earlier than their predecessor in their own "
            "input (first in %s); they keep that input's order\n",
            totals.out_of_order, totals.first_out_of_order.c_str());
  if (o.stats) PrintStats(o, totals);
  return kExitOk;
}

}  // namespace pcapml
