// pcapml summary: per label, the number of samples, packets, captured bytes
// and the first and last timestamp.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "base/csv.h"
#include "base/progress.h"
#include "base/units.h"
#include "cli/commands.h"
#include "pcapio/reader.h"
#include "rules/label.h"

namespace pcapml {
namespace {

constexpr std::string_view kUnlabeled = "<unlabeled>";

struct LabelStats {
  std::unordered_set<uint64_t> samples;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t first = INT64_MAX;
  int64_t last = INT64_MIN;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

class SummaryTable {
 public:
  void Add(const Packet& p) {
    // Consecutive packets usually carry the same comment: skip the parse.
    if (current_ == nullptr || p.comment != last_comment_) Switch(p.comment);
    LabelStats& s = *current_;
    ++s.packets;
    s.bytes += p.caplen;
    if (p.has_timestamp) {
      s.first = std::min(s.first, p.ts_ns);
      s.last = std::max(s.last, p.ts_ns);
    }
  }

  // Sorted by label for a deterministic report.
  std::map<std::string_view, const LabelStats*> Sorted() const {
    std::map<std::string_view, const LabelStats*> out;
    for (const auto& [name, stats] : by_label_) out[name] = &stats;
    return out;
  }

 private:
  void Switch(std::string_view comment) {
    last_comment_.assign(comment.data(), comment.size());
    Label label;
    bool labeled = ParseLabel(comment, &label);
    std::string_view name = labeled ? label.label : kUnlabeled;
    auto it = by_label_.find(name);
    if (it == by_label_.end()) it = by_label_.emplace(std::string(name), LabelStats()).first;
    current_ = &it->second;
    if (labeled) current_->samples.insert(label.sample_id);
  }

  std::unordered_map<std::string, LabelStats, StringHash, std::equal_to<>> by_label_;
  std::string last_comment_;
  LabelStats* current_ = nullptr;
};

std::string Time(int64_t ns, bool valid) { return valid ? FormatUtcNs(ns) : "-"; }

void PrintText(const SummaryTable& table) {
  printf("%-24s %10s %12s %14s  %-30s  %-30s\n", "label", "samples", "packets", "bytes",
         "first (UTC)", "last (UTC)");
  LabelStats total;
  size_t total_samples = 0;
  for (const auto& [name, s] : table.Sorted()) {
    printf("%-24.*s %10zu %12" PRIu64 " %14" PRIu64 "  %-30s  %-30s\n", static_cast<int>(name.size()),
           name.data(), s->samples.size(), s->packets, s->bytes,
           Time(s->first, s->first <= s->last).c_str(), Time(s->last, s->first <= s->last).c_str());
    total_samples += s->samples.size();
    total.packets += s->packets;
    total.bytes += s->bytes;
    total.first = std::min(total.first, s->first);
    total.last = std::max(total.last, s->last);
  }
  printf("%-24s %10zu %12" PRIu64 " %14" PRIu64 "  %-30s  %-30s\n", "TOTAL", total_samples,
         total.packets, total.bytes, Time(total.first, total.first <= total.last).c_str(),
         Time(total.last, total.first <= total.last).c_str());
}

void PrintCsv(const SummaryTable& table) {
  fputs(CsvRow({"label", "samples", "packets", "bytes"}).c_str(), stdout);
  uint64_t samples = 0, packets = 0, bytes = 0;
  for (const auto& [name, s] : table.Sorted()) {
    fputs(CsvRow({std::string(name), std::to_string(s->samples.size()), std::to_string(s->packets),
                  std::to_string(s->bytes)})
              .c_str(),
          stdout);
    samples += s->samples.size();
    packets += s->packets;
    bytes += s->bytes;
  }
  fputs(CsvRow({"TOTAL", std::to_string(samples), std::to_string(packets), std::to_string(bytes)})
            .c_str(),
        stdout);
}

}  // namespace

int RunSummary(const Args& args) {
  CLI::App app("Counts samples, packets, captured bytes and the time span per label of a pcap "
               "or pcapng file. Packets without a pcapml label count as <unlabeled>.",
               "summary");
  std::string input;
  bool csv = false;
  app.add_option("-M,--input,input", input, "pcap or pcapng file to read ('-' for stdin)")->required();
  app.add_flag("--csv", csv, "print label,samples,packets,bytes as CSV with a final TOTAL row");
  bool stats = false;
  app.add_flag("--stats", stats, "accepted like on every command; summary always prints its counts");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;

  PacketReader reader;
  std::string err;
  if (!reader.Open(input, &err)) return Fail(err);
  SummaryTable table;
  Progress progress("summary " + input);
  Packet p;
  uint64_t n = 0;
  PacketReader::Status st;
  while ((st = reader.Next(&p, &err)) == PacketReader::Status::kPacket) {
    table.Add(p);
    progress.Update(reader.position(), reader.file_size(), ++n);
  }
  progress.Done();
  if (st == PacketReader::Status::kError) return Fail(err);
  csv ? PrintCsv(table) : PrintText(table);
  return kExitOk;
}

}  // namespace pcapml
