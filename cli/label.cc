// pcapml label: a directory of pcaps (one sample per listed file) or one
// capture plus rules, into one labeled pcapng (docs/format.md: Rules, Outputs).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <string_view>

#include "base/progress.h"
#include "base/units.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "pcapio/pcapng_writer.h"
#include "pcapio/reader.h"
#include "classify/rule_chain.h"
#include "rules/labels_file.h"
#include "base/text_file.h"
#include "classify/rule_files.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

struct LabelOptions {
  std::string dir, pcap, labels, write, sensor_id;
  bool keep_unmatched = false, skip_bad = false, verbose = false, stats = false;
  size_t max_flows = SampleOptions().max_flows;
  std::vector<std::string> plugins;  // --plugin PATH
  std::string hold = "2s", hold_bytes = "64MiB";
  InputOptions in;  // --strict
};

struct Counts {
  uint64_t read = 0, labeled = 0, unmatched = 0, files = 0, skipped = 0, unlisted = 0;
  std::set<uint64_t> samples;
  uint64_t flow_and_window_samples = 0;  // capture mode: not kept in `samples`
};

// Writes packets of one input after another into one labeled pcapng.
class LabelJob {
 public:
  explicit LabelJob(const LabelOptions& o) : opts_(o), writer_(&out_), progress_("label") {}

  bool Open(std::string* err) {
    if (!out_.Open(opts_.write, err)) return false;
    // Directory mode writes each sample's packets together: say so.
    writer_.WriteSectionHeader({}, opts_.sensor_id.empty() ? "" : "sensor " + opts_.sensor_id, !opts_.dir.empty());
    return true;
  }

  // Reads every packet of `path` and hands it to handle(packet, output
  // interface, link type), which writes it (Write) or not.
  // `prepare(link_type)` runs once per input interface. False on an input
  // or output error.
  template <typename Prepare, typename Handle>
  bool Copy(const std::string& path, Prepare prepare, Handle handle, std::string* err) {
    Input input;
    if (!input.Open(path, opts_.in, err)) return false;
    PacketReader& reader = input.reader();
    std::vector<int64_t> out_iface;  // input interface -> output IDB, -1 until seen
    Packet p;
    while (input.Next(&p)) {
      const Interface& in = reader.interfaces()[p.interface];
      if (p.interface >= out_iface.size()) out_iface.resize(reader.interfaces().size(), -1);
      if (out_iface[p.interface] < 0) {
        if (!prepare(in.link_type, err)) return false;
        out_iface[p.interface] = writer_.Interface({in.name, in.link_type, in.snaplen, ""});
      }
      ++counts_.read;
      handle(p, static_cast<uint32_t>(out_iface[p.interface]), in.link_type);
      progress_.Update(done_bytes_ + reader.position(), total_bytes_, counts_.read);
    }
    done_bytes_ += reader.position();
    if (!out_.ok()) return *err = out_.error(), false;
    return input.Finish(err);
  }

  void Write(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
             std::string_view comment) {
    writer_.WritePacket(interface, ts_ns, data, caplen, orig_len, comment);
  }

  bool Finish(std::string* err) {
    progress_.Done();
    return out_.Commit(err);
  }

  void set_total_bytes(uint64_t n) { total_bytes_ = n; }
  Counts& counts() { return counts_; }

 private:
  const LabelOptions& opts_;
  OutputFile out_;
  PcapngWriter writer_;
  Progress progress_;
  Counts counts_;
  uint64_t done_bytes_ = 0, total_bytes_ = 0;
};

void PrintStats(const Counts& c, bool capture_mode, bool keep) {
  fprintf(stderr,
          "pcapml label: %" PRIu64 " packets read, %" PRIu64 " labeled, %" PRIu64
          " unmatched (%s), %zu samples, %" PRIu64 " files read",
          c.read, c.labeled, c.unmatched, keep ? "kept" : "dropped", c.samples.size() + c.flow_and_window_samples,
          c.files);
  if (!capture_mode) fprintf(stderr, ", %" PRIu64 " unlisted, %" PRIu64 " skipped", c.unlisted, c.skipped);
  fputc('\n', stderr);
}

// Regular files below dir, as sorted relative paths.
std::vector<std::string> ListFiles(const std::string& dir, std::string* err) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) return *err = dir + ": " + ec.message(), files;
  for (; it != end; it.increment(ec)) {
    if (ec) return *err = dir + ": " + ec.message(), std::vector<std::string>();
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

int LabelDirectory(const LabelOptions& o) {
  std::string text, err;
  std::vector<LabeledFile> listed;
  if (!ReadTextFile(o.labels, &text, &err) || !ParseLabelsFile(o.labels, text, o.dir, o.sensor_id, &listed, &err))
    return Fail(err);
  if (!fs::is_directory(o.dir)) return Fail(o.dir + ": not a directory");
  std::vector<std::string> present = ListFiles(o.dir, &err);
  if (!err.empty()) return Fail(err);
  std::set<std::string> listed_paths;
  for (const LabeledFile& f : listed) listed_paths.insert(f.path);
  std::sort(listed.begin(), listed.end(), [](auto& a, auto& b) { return a.path < b.path; });

  LabelJob job(o);
  Counts& c = job.counts();
  uint64_t total = 0;
  for (const LabeledFile& f : listed) {
    std::error_code ec;
    total += fs::file_size(fs::path(o.dir) / f.path, ec);
  }
  job.set_total_bytes(total);
  for (const std::string& p : present) {
    if (listed_paths.count(p) || fs::path(p) == fs::path(o.labels).filename()) continue;
    ++c.unlisted;
    if (o.verbose) fprintf(stderr, "pcapml label: %s is not listed in %s\n", p.c_str(), o.labels.c_str());
  }
  if (!job.Open(&err)) return Fail(err);
  auto no_prepare = [](uint16_t, std::string*) { return true; };
  for (const LabeledFile& f : listed) {
    std::string path = (fs::path(o.dir) / f.path).string();
    uint64_t before = c.labeled;
    auto write = [&](const Packet& p, uint32_t iface, uint16_t) {
      ++c.labeled;
      job.Write(iface, p.ts_ns, p.data, p.caplen, p.orig_len, f.comment);
    };
    bool ok = job.Copy(path, no_prepare, write, &err);
    if (!ok) {
      std::string where = " (listed at " + o.labels + ":" + std::to_string(f.line) + ")";
      if (!o.skip_bad) return Fail(err + where);
      ++c.skipped;
      fprintf(stderr, "pcapml label: warning: %s%s; kept its %" PRIu64 " complete packets\n", err.c_str(),
              where.c_str(), c.labeled - before);
    }
    ++c.files;
    if (c.labeled > before) c.samples.insert(f.sample_id);
  }
  if (!job.Finish(&err)) return Fail(err);
  if (o.stats) PrintStats(c, false, false);
  return kExitOk;
}

// Where the delay line's packets go: counted, and written unless unmatched
// ones are dropped.
class CaptureOutput : public PacketOutput {
 public:
  CaptureOutput(LabelJob* job, bool keep_unmatched) : job_(job), keep_(keep_unmatched) {}
  void Write(const LinePacket& p, const std::string_view* comment) override {
    ++(comment ? job_->counts().labeled : job_->counts().unmatched);
    if (comment || keep_) job_->Write(p.interface, p.ts_ns, p.data, p.caplen, p.orig_len, comment ? *comment : "");
  }

 private:
  LabelJob* job_;
  bool keep_;
};

int LabelCapture(const LabelOptions& o) {
  std::string err;
  HoldLimits limits;
  if (!ParseDuration(o.hold, &limits.hold_ns, &err) || limits.hold_ns < 0 ||
      !ParseBytes(o.hold_bytes, &limits.hold_bytes, &err)) {
    fprintf(stderr, "pcapml label: --hold %s --hold-bytes %s: %s\n", o.hold.c_str(), o.hold_bytes.c_str(),
            err.empty() ? "a duration must not be negative" : err.c_str());
    return kExitUsage;
  }
  RuleSet rules(SampleOptions{o.max_flows, /*count_windows=*/true});
  if (!LoadRules({o.labels}, o.sensor_id, &rules, &err)) return Fail(err);
  std::vector<PluginSpec> specs;  // --plugin PATH first: a [[plugin]] table may configure it
  for (const std::string& p : o.plugins) specs.push_back({"", p, "--plugin " + p, {}});
  PluginSet plugins;
  RuleChain chain;
  if (!ReadPluginTablesOfRules({o.labels}, &specs, &err) || !plugins.Load(specs, &err) ||
      !chain.Build(std::move(rules), plugins, SampleOptions{o.max_flows, /*count_windows=*/true}, &err))
    return Fail(err);
  std::error_code ec;
  LabelJob job(o);
  job.set_total_bytes(fs::file_size(o.pcap, ec));
  Counts& c = job.counts();
  if (!job.Open(&err)) return Fail(err);
  chain.SetInput(o.pcap);
  CaptureOutput output(&job, o.keep_unmatched);
  DelayLine line(limits, &output);
  chain.Attach(&line);
  auto prepare = [&](uint16_t link_type, std::string* e) { return chain.Prepare(link_type, e); };
  auto handle = [&](const Packet& p, uint32_t iface, uint16_t link_type) {
    chain.Process(LinePacket{iface, link_type, p.ts_ns, p.data, p.caplen, p.orig_len});
  };
  bool read = job.Copy(o.pcap, prepare, handle, &err);
  line.Flush();  // the end of the input ends every hold
  if (!read) return Fail(err);
  c.files = 1;
  for (const Rule* r : chain.rules())
    if (r->packets && r->sample == SampleMode::kRule && r->plugin.empty()) c.samples.insert(r->sample_id);
  RuleSetStats st = chain.stats();
  c.flow_and_window_samples = st.flows.started + st.window_samples + chain.plugin_samples();
  if (!job.Finish(&err)) return Fail(err);
  if (o.stats) {
    PrintStats(c, true, o.keep_unmatched);
    if (st.flows.started)
      fprintf(stderr,
              "pcapml label: %" PRIu64 " flows, %" PRIu64 " ended idle, %" PRIu64 " evicted at --max-flows %zu\n",
              st.flows.started, st.flows.expired, st.flows.evicted, o.max_flows);
    for (size_t i = 0; i < plugins.size(); ++i) {
      const PluginCounts& n = plugins.at(i).counts();
      fprintf(stderr,
              "pcapml label: plugin %s: %" PRIu64 " packets in, %" PRIu64 " labeled, %" PRIu64 " no opinion, %" PRIu64
              " errors, %" PRIu64 " held\n",
              plugins.at(i).name(), n.in, n.labeled, n.no_opinion, n.errors, n.held);
      if (std::vector<uint64_t> values = plugins.at(i).Stats(); !values.empty()) {
        std::string text;
        for (size_t k = 0; k < values.size(); ++k)
          text += (k ? ", " : "") + std::string(plugins.at(i).info().stats[k].name) + "=" + std::to_string(values[k]);
        fprintf(stderr, "pcapml label: plugin %s: %s\n", plugins.at(i).name(), text.c_str());
      }
    }
    if (const HoldCounts& h = line.counts(); h.held)
      fprintf(stderr,
              "pcapml label: %" PRIu64 " packets held: %" PRIu64 " labeled by their plugin, %" PRIu64
              " passed on undecided, %" PRIu64 " released at the hold limit, %" PRIu64 " at the end\n",
              h.held, h.labeled, h.passed, h.limit, h.flushed);
  }
  return kExitOk;
}

}  // namespace

int RunLabel(const Args& args) {
  CLI::App app(
      "Labels traffic into one pcapng whose packet comments say '<sampleID>,<label>'.\n"
      "  directory mode: every packet of each file listed in the labels file (filename,label)\n"
      "                  is one sample; sampleID = SHA-256 of the labels-file line.\n"
      "  capture mode:   each packet gets the first matching rule of a rules file: TOML\n"
      "                  ([[rule]] tables, by .toml extension or content) or a legacy metadata file\n"
      "                  (<BPF:expr|TS_START:t|TS_END:t|FILE:path>,<metadata>[,<hash_key>]).",
      "label");
  LabelOptions o;
  auto* dir = app.add_option("-D,--dir", o.dir, "directory of pcap/pcapng files (directory mode)");
  auto* pcap = app.add_option("-P,--pcap", o.pcap, "one pcap/pcapng capture (capture mode)");
  dir->excludes(pcap);
  app.add_option("-L,--labels", o.labels, "labels file (directory mode) or rules file (capture mode)")->required();
  app.add_option("-W,--write", o.write, "output pcapng ('-' for stdout); written whole or not at all")->required();
  app.add_option("--sensor-id", o.sensor_id, "prefix every sample key with '<id>/'");
  app.add_flag("--keep-unmatched", o.keep_unmatched, "write packets no rule matches, without a comment");
  app.add_flag("--skip-bad", o.skip_bad, "warn about and skip listed files that are missing or unreadable");
  app.add_flag("-v,--verbose", o.verbose, "name the files present but not listed");
  app.add_flag("--stats", o.stats, "print packet, sample and file counts at the end");
  app.add_flag("--strict", o.in.strict,
               "an input cut short (its last record incomplete) is an error; by default its complete "
               "packets are read, with a warning");
  app.add_option("--max-flows", o.max_flows, "capture mode: flows tracked at once for sample = \"flow\" rules")
      ->check(CLI::PositiveNumber);
  app.add_option("--hold", o.hold,
                 "capture mode: hold a connection a plugin has not decided yet at most this long in packet time\n"
                 "(its packets and those after it wait; default 2s, 0 = off)");
  app.add_option("--hold-bytes", o.hold_bytes, "capture mode: at most this much held at once (default 64MiB)");
  app.add_option("--plugin", o.plugins,
                 "capture mode: load the plugin library at PATH for `plugin = \"<name>\"` rules (repeatable;\n"
                 "a [[plugin]] table of the same name in the rules file gives its settings)");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  if (o.dir.empty() == o.pcap.empty()) {
    fprintf(stderr, "pcapml label: give one of -D/--dir or -P/--pcap (see pcapml help label)\n");
    return kExitUsage;
  }
  if (!o.dir.empty() && !o.plugins.empty()) {
    fprintf(stderr, "pcapml label: --plugin is for capture mode (-P/--pcap)\n");
    return kExitUsage;
  }
  return o.dir.empty() ? LabelCapture(o) : LabelDirectory(o);
}

}  // namespace pcapml
