// pcapml summary: per label, the number of samples, packets, captured bytes
// and the first and last timestamp, over one or more files (a daemon's
// rotated files count as one capture); with --samples the same per sample.
// --json gives the numbers to scripts; --timeline draws packets/s per label
// over time (daemon/timeline.h). A trailing read filter and -c choose the
// packets, as tcpdump -r takes them.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "base/csv.h"
#include "base/json.h"
#include "base/progress.h"
#include "base/units.h"
#include "classify/rule_files.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "cli/timeline.h"
#include "pcapio/output_file.h"
#include "pcapio/reader.h"
#include "rules/label.h"

namespace pcapml {
namespace {

constexpr std::string_view kUnlabeled = "<unlabeled>";

struct LabelStats {
  uint32_t series = 0;  // the timeline's index of this label
  std::unordered_set<uint64_t> samples;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t first = INT64_MAX;
  int64_t last = INT64_MIN;
};

struct SampleStats {
  std::string label;  // of its first packet
  uint64_t packets = 0, bytes = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

class SummaryTable {
 public:
  // With a timeline, every packet with a timestamp is counted in it too;
  // with per_sample, a row per sample is kept (--samples, --json).
  SummaryTable(Timeline* timeline, bool per_sample) : timeline_(timeline), per_sample_(per_sample) {}

  void Add(const Packet& p) {
    if (labels_.Next(p.comment)) Switch();
    LabelStats& s = *current_;
    ++s.packets;
    s.bytes += p.caplen;
    if (sample_) ++sample_->packets, sample_->bytes += p.caplen;
    if (p.has_timestamp) {
      s.first = std::min(s.first, p.ts_ns);
      s.last = std::max(s.last, p.ts_ns);
      if (sample_) sample_->first = std::min(sample_->first, p.ts_ns), sample_->last = std::max(sample_->last, p.ts_ns);
      if (timeline_) timeline_->Add(p.ts_ns, s.series);
    }
  }

  // By sample ID.
  std::map<uint64_t, const SampleStats*> Samples() const {
    std::map<uint64_t, const SampleStats*> out;
    for (const auto& [id, stats] : by_sample_) out[id] = &stats;
    return out;
  }

  // Sorted by label for a deterministic report.
  std::map<std::string_view, const LabelStats*> Sorted() const {
    std::map<std::string_view, const LabelStats*> out;
    for (const auto& [name, stats] : by_label_) out[name] = &stats;
    return out;
  }

 private:
  void Switch() {
    const SampleLabel& label = labels_.label();
    bool labeled = labels_.labeled();
    std::string_view name = labeled ? label.name : kUnlabeled;
    auto it = by_label_.find(name);
    if (it == by_label_.end()) {
      it = by_label_.emplace(std::string(name), LabelStats()).first;
      it->second.series = static_cast<uint32_t>(by_label_.size() - 1);
    }
    current_ = &it->second;
    sample_ = nullptr;
    if (!labeled) return;
    current_->samples.insert(label.sample_id);
    if (!per_sample_) return;
    auto [s, added] = by_sample_.try_emplace(label.sample_id);
    if (added) s->second.label = name;
    sample_ = &s->second;
  }

  std::unordered_map<std::string, LabelStats, StringHash, std::equal_to<>> by_label_;
  LabelRuns labels_;
  LabelStats* current_ = nullptr;
  Timeline* timeline_;
  bool per_sample_;
  std::unordered_map<uint64_t, SampleStats> by_sample_;
  SampleStats* sample_ = nullptr;
};

struct SummaryOptions {
  std::vector<std::string> inputs, rules;
  std::vector<std::string> words;  // positional: the inputs, then the read filter's words
  std::string timeline;
  bool csv = false, json = false, samples = false;
  InputOptions in;
};

// The words given (-M's values, then the positional ones) are the inputs
// while they name files (the first always does), then the read filter
// (tcpdump's "-r FILE EXPRESSION", for several files: -M takes every word
// after it, as several files).
void SplitInputsAndFilter(SummaryOptions* o) {
  std::vector<std::string> words = std::move(o->inputs);
  words.insert(words.end(), o->words.begin(), o->words.end());
  o->inputs.clear();
  size_t i = 0;
  struct stat st;
  while (i < words.size() && (i == 0 || words[i] == "-" || stat(words[i].c_str(), &st) == 0))
    o->inputs.push_back(words[i++]);
  o->in.filter.assign(words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
}

std::string Time(int64_t ns, bool valid) { return valid ? FormatUtcNs(ns) : "-"; }

void PrintText(const SummaryTable& table) {
  printf("%-24s %10s %12s %14s  %-30s  %-30s\n", "label", "samples", "packets", "bytes", "first (UTC)", "last (UTC)");
  LabelStats total;
  size_t total_samples = 0;
  for (const auto& [name, s] : table.Sorted()) {
    printf("%-24.*s %10zu %12" PRIu64 " %14" PRIu64 "  %-30s  %-30s\n", static_cast<int>(name.size()), name.data(),
           s->samples.size(), s->packets, s->bytes, Time(s->first, s->first <= s->last).c_str(),
           Time(s->last, s->first <= s->last).c_str());
    total_samples += s->samples.size();
    total.packets += s->packets;
    total.bytes += s->bytes;
    total.first = std::min(total.first, s->first);
    total.last = std::max(total.last, s->last);
  }
  printf("%-24s %10zu %12" PRIu64 " %14" PRIu64 "  %-30s  %-30s\n", "TOTAL", total_samples, total.packets, total.bytes,
         Time(total.first, total.first <= total.last).c_str(), Time(total.last, total.first <= total.last).c_str());
}

std::string CsvTime(int64_t ns, bool valid) { return valid ? FormatUtcNs(ns) : ""; }

void PrintCsv(const SummaryTable& table) {
  fputs(CsvRow({"label", "samples", "packets", "bytes", "first", "last"}).c_str(), stdout);
  LabelStats total;
  size_t samples = 0;
  auto row = [](std::string_view name, size_t n, const LabelStats& s) {
    bool timed = s.first <= s.last;
    fputs(CsvRow({std::string(name), std::to_string(n), std::to_string(s.packets), std::to_string(s.bytes),
                  CsvTime(s.first, timed), CsvTime(s.last, timed)})
              .c_str(),
          stdout);
  };
  for (const auto& [name, s] : table.Sorted()) {
    row(name, s->samples.size(), *s);
    samples += s->samples.size();
    total.packets += s->packets;
    total.bytes += s->bytes;
    total.first = std::min(total.first, s->first);
    total.last = std::max(total.last, s->last);
  }
  row("TOTAL", samples, total);
}

void PrintSamples(const SummaryTable& table, bool csv) {
  if (csv)
    fputs(CsvRow({"sample", "label", "packets", "bytes", "first", "last"}).c_str(), stdout);
  else
    printf("%-20s %-24s %12s %14s  %-30s  %-30s\n", "sample", "label", "packets", "bytes", "first (UTC)", "last (UTC)");
  for (const auto& [id, s] : table.Samples()) {
    bool timed = s->first <= s->last;
    if (csv)
      fputs(CsvRow({std::to_string(id), s->label, std::to_string(s->packets), std::to_string(s->bytes),
                    CsvTime(s->first, timed), CsvTime(s->last, timed)})
                .c_str(),
            stdout);
    else
      printf("%-20" PRIu64 " %-24s %12" PRIu64 " %14" PRIu64 "  %-30s  %-30s\n", id, s->label.c_str(), s->packets,
             s->bytes, Time(s->first, timed).c_str(), Time(s->last, timed).c_str());
  }
}

std::string JsonTime(int64_t ns, bool valid) { return valid ? JsonString(FormatUtcNs(ns)) : "null"; }

// "packets": ..., "bytes": ..., "first": ..., "last": ..., "first_ns": ..., "last_ns": ...
std::string JsonSpan(uint64_t packets, uint64_t bytes, int64_t first, int64_t last) {
  bool timed = first <= last;
  return "\"packets\": " + std::to_string(packets) + ", \"bytes\": " + std::to_string(bytes) +
         ", \"first\": " + JsonTime(first, timed) + ", \"last\": " + JsonTime(last, timed) +
         ", \"first_ns\": " + (timed ? std::to_string(first) : "null") +
         ", \"last_ns\": " + (timed ? std::to_string(last) : "null");
}

std::string JsonStats(size_t samples, const LabelStats& s) {
  return "{\"samples\": " + std::to_string(samples) + ", " + JsonSpan(s.packets, s.bytes, s.first, s.last) + "}";
}

// {"files": [...], "labels": {label: {...}}, "total": {...}, "samples": [{...}][, "timeline": {...}]}
// Sample IDs are strings: they use all 64 bits, more than most JSON parsers keep in a number.
void PrintJson(const SummaryOptions& o, const SummaryTable& table, const std::string& timeline) {
  std::string j = "{\"files\": [";
  for (size_t i = 0; i < o.inputs.size(); ++i) j += (i ? ", " : "") + JsonString(o.inputs[i]);
  j += "],\n \"labels\": {";
  LabelStats total;
  size_t total_samples = 0, i = 0;
  for (const auto& [name, s] : table.Sorted()) {
    j += (i++ ? ",\n  " : "\n  ") + JsonString(name) + ": " + JsonStats(s->samples.size(), *s);
    total_samples += s->samples.size();
    total.packets += s->packets;
    total.bytes += s->bytes;
    total.first = std::min(total.first, s->first);
    total.last = std::max(total.last, s->last);
  }
  j += "},\n \"total\": " + JsonStats(total_samples, total) + ",\n \"samples\": [";
  i = 0;
  for (const auto& [id, s] : table.Samples())
    j += (i++ ? ",\n  " : "\n  ") + ("{\"id\": \"" + std::to_string(id) + "\", \"label\": " + JsonString(s->label) +
                                     ", " + JsonSpan(s->packets, s->bytes, s->first, s->last) + "}");
  j += "]";
  if (!timeline.empty()) j += ",\n \"timeline\": " + timeline;
  fputs((j + "}\n").c_str(), stdout);
}

// Each rule's time window, in file order, for the chart's lanes.
bool LoadWindows(const std::vector<std::string>& files, std::vector<RuleWindowSpan>* out, std::string* err) {
  if (files.empty()) return true;
  RuleSet rules;
  if (!LoadRules(files, "", &rules, err)) return false;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules.rule(i);
    std::string label = r.plugin.empty() ? r.metadata.substr(0, r.metadata.find(',')) : "plugin " + r.plugin;
    out->push_back({r.id, label, r.window.first_ns, r.window.last_ns});
  }
  return true;
}

// Draws the timeline into o.timeline (written whole or not at all) and
// returns its JSON object.
bool WriteTimeline(const SummaryOptions& o, const SummaryTable& table, const Timeline& timeline, std::string* json,
                   std::string* err) {
  std::vector<RuleWindowSpan> windows;
  if (!LoadWindows(o.rules, &windows, err)) return false;
  std::vector<TimelineSeries> series;
  uint64_t packets = 0;
  for (const auto& [name, s] : table.Sorted()) {
    if (name != kUnlabeled) series.push_back({std::string(name), s->series, s->packets, false});
    packets += s->packets;
  }
  for (const auto& [name, s] : table.Sorted())
    if (name == kUnlabeled) series.push_back({std::string(name), s->series, s->packets, true});
  // At most 400 bins, fewer for few packets (about 4 a bin), so a sparse
  // capture is not drawn as a comb of single packets.
  Timeline::View view = timeline.Render(series.size(), std::clamp<uint64_t>(packets / 4, 20, 400));
  std::string subtitle = std::to_string(packets) + " packets in " + std::to_string(o.inputs.size()) +
                         (o.inputs.size() == 1 ? " file" : " files");
  if (view.bins)
    subtitle += ", " + FormatUtcNs(view.start_ns).substr(0, 23) + "Z to " + FormatUtcNs(view.end_ns()).substr(0, 23) +
                "Z, bins of " + Timeline::WidthName(view.bin_ns);
  OutputFile out;
  if (!out.Open(o.timeline, err)) return false;
  std::string svg = TimelineSvg(view, series, windows, subtitle);
  out.Append(svg.data(), svg.size());
  if (!out.Commit(err)) return false;
  *json = TimelineJson(view, series, windows);
  return true;
}

}  // namespace

int RunSummary(const Args& args) {
  CLI::App app(
      "Counts samples, packets, captured bytes and the time span per label of pcap "
      "or pcapng files, taken together (a sample seen in two files counts once). Packets "
      "without a pcapml label count as <unlabeled>.",
      "summary");
  SummaryOptions o;
  app.add_option("-M,--input", o.inputs, "pcap or pcapng files to read ('-' for stdin; gzip or zstd too)");
  app.add_option("input", o.words,
                 "the files (as -M), then optionally a libpcap read filter, as in tcpdump -r FILE 'EXPRESSION': "
                 "only the packets it passes are counted");
  app.add_flag("--csv", o.csv, "print label,samples,packets,bytes,first,last as CSV with a final TOTAL row");
  app.add_flag("--json", o.json, "print the same numbers, every sample's (and the timeline's) as JSON");
  app.add_flag("--samples", o.samples, "list each sample: ID, label, packets, bytes, first and last time");
  app.add_option("--timeline", o.timeline,
                 "draw packets/s per label over time, unlabeled share and gaps, as an SVG file");
  app.add_option("-L,--rules", o.rules, "rules files (TOML or legacy) whose time windows --timeline draws");
  bool stats = false;
  app.add_flag("--stats", stats, "accepted like on every command; summary always prints its counts");
  AddInputOptions(app, &o.in, /*filter=*/false);
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  SplitInputsAndFilter(&o);
  if (o.inputs.empty()) {
    fprintf(stderr, "pcapml summary: give the files to read (see pcapml help summary)\n");
    return kExitUsage;
  }
  if (o.csv && o.json) {
    fprintf(stderr, "pcapml summary: --csv and --json exclude each other (see pcapml help summary)\n");
    return kExitUsage;
  }
  if (!o.rules.empty() && o.timeline.empty()) {
    fprintf(stderr, "pcapml summary: -L draws rule windows on the --timeline (see pcapml help summary)\n");
    return kExitUsage;
  }

  std::string err;
  Timeline timeline;
  SummaryTable table(o.timeline.empty() ? nullptr : &timeline, o.samples || o.json);
  uint64_t n = 0;
  for (const std::string& input : o.inputs) {
    InputOptions io = o.in;  // -c counts over all the files
    if (io.count && (io.count -= n) == 0) break;
    Input in;
    if (!in.Open(input, io, &err)) return Fail(err);
    Progress progress("summary " + input);
    Packet p;
    while (in.Next(&p)) {
      table.Add(p);
      progress.Update(in.reader().position(), in.reader().file_size(), ++n);
    }
    progress.Done();
    if (!in.Finish(&err)) return Fail(err);
  }
  std::string timeline_json;
  if (!o.timeline.empty() && !WriteTimeline(o, table, timeline, &timeline_json, &err)) return Fail(err);
  if (o.json)
    PrintJson(o, table, timeline_json);
  else if (o.samples)
    PrintSamples(table, o.csv);
  else if (o.csv)
    PrintCsv(table);
  else
    PrintText(table);
  return kExitOk;
}

}  // namespace pcapml
