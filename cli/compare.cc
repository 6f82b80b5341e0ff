// pcapml compare TRUTH GUESS: how well one labeling of some traffic agrees
// with another, packet by packet (rules/label_compare.h): the confusion
// matrix of labels with the packets found in one file only, each label's
// precision and recall. Text, --csv (the same table) or --json.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "base/csv.h"
#include "cli/commands.h"
#include "rules/label_compare.h"

namespace pcapml {
namespace {

// The shortest text that reads back as the same double, always with a '.'
// or exponent so JSON readers see a float (1.0, 0.5, 0.6666666666666666).
std::string Ratio(double r) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, r);
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The report as a table of text cells: a header row, one row per truth
// label (its packets per guess label, those only in the truth file, its
// recall), then "only in guess" and "precision" rows. Labels by name.
// A ratio without packets to count is `undefined`; ratios are exact
// (shortest round-trip) or, for people, with four decimals.
std::vector<std::vector<std::string>> Table(const LabelComparison& c, const std::string& undefined, bool exact) {
  std::vector<LabelComparison::LabelScore> scores = c.Scores();
  auto score = [&](const std::string& name) -> const LabelComparison::LabelScore& {
    return *std::lower_bound(scores.begin(), scores.end(), name,
                             [](const auto& s, const std::string& n) { return s.label < n; });
  };
  auto ratio = [&](std::optional<double> r) {
    if (!r) return undefined;
    if (exact) return Ratio(*r);
    char buf[16];
    snprintf(buf, sizeof buf, "%.4f", *r);
    return std::string(buf);
  };
  std::vector<std::pair<std::string, uint32_t>> rows, cols;
  for (uint32_t i = 0; i < c.truth_labels().size(); ++i) rows.emplace_back(c.truth_labels().Name(i), i);
  for (uint32_t i = 0; i < c.guess_labels().size(); ++i) cols.emplace_back(c.guess_labels().Name(i), i);
  std::sort(rows.begin(), rows.end());
  std::sort(cols.begin(), cols.end());

  std::vector<std::vector<std::string>> t;
  t.push_back({"truth \\ guess"});
  for (const auto& [name, id] : cols) t.back().push_back(name);
  t.back().insert(t.back().end(), {"only in truth", "recall"});
  for (const auto& [name, tid] : rows) {
    t.push_back({name});
    for (const auto& [gname, gid] : cols) t.back().push_back(std::to_string(c.Cell(tid, gid)));
    t.back().insert(t.back().end(), {std::to_string(c.TruthOnly(tid)), ratio(score(name).recall)});
  }
  t.push_back({"only in guess"});
  for (const auto& [name, gid] : cols) t.back().push_back(std::to_string(c.GuessOnly(gid)));
  t.back().insert(t.back().end(), {"", ""});
  t.push_back({"precision"});
  for (const auto& [name, gid] : cols) t.back().push_back(ratio(score(name).precision));
  t.back().insert(t.back().end(), {"", ""});
  return t;
}

void PrintText(const LabelComparison& c, const std::string& truth, const std::string& guess) {
  printf("truth: %s (%" PRIu64 " packets)\nguess: %s (%" PRIu64 " packets)\n", truth.c_str(),
         c.matched() + c.truth_only(), guess.c_str(), c.matched() + c.guess_only());
  printf("joined %" PRIu64 " packets by time, length and bytes; %" PRIu64 " only in truth, %" PRIu64 " only in guess\n",
         c.matched(), c.truth_only(), c.guess_only());
  if (c.matched())
    printf("same label: %" PRIu64 " of %" PRIu64 " (%.2f%%)\n", c.agreed(), c.matched(),
           100.0 * static_cast<double>(c.agreed()) / static_cast<double>(c.matched()));
  printf("\n");
  std::vector<std::vector<std::string>> t = Table(c, "-", false);
  std::vector<size_t> width(t[0].size(), 0);
  for (const auto& row : t)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : t) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i == 0)
        line += row[i] + std::string(width[0] - row[i].size(), ' ');
      else
        line += "  " + std::string(width[i] - row[i].size(), ' ') + row[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    printf("%s\n", line.c_str());
  }
}

void PrintCsv(const LabelComparison& c) {
  for (const auto& row : Table(c, "", true)) fputs(CsvRow(row).c_str(), stdout);
}

void PrintJson(const LabelComparison& c, const std::string& truth, const std::string& guess) {
  std::string j = "{\"truth\": " + JsonString(truth) + ", \"guess\": " + JsonString(guess) + ",\n";
  j += " \"packets\": {\"joined\": " + std::to_string(c.matched()) + ", \"same_label\": " + std::to_string(c.agreed()) +
       ", \"only_in_truth\": " + std::to_string(c.truth_only()) +
       ", \"only_in_guess\": " + std::to_string(c.guess_only()) + "},\n";
  j += " \"confusion\": [";
  bool first = true;
  for (uint32_t t = 0; t < c.truth_labels().size(); ++t)
    for (uint32_t g = 0; g < c.guess_labels().size(); ++g)
      if (uint64_t n = c.Cell(t, g)) {
        j += std::string(first ? "\n" : ",\n") + "  {\"truth\": " + JsonString(c.truth_labels().Name(t)) +
             ", \"guess\": " + JsonString(c.guess_labels().Name(g)) + ", \"packets\": " + std::to_string(n) + "}";
        first = false;
      }
  j += "],\n \"only_in_truth\": {";
  first = true;
  for (uint32_t t = 0; t < c.truth_labels().size(); ++t)
    if (uint64_t n = c.TruthOnly(t)) {
      j += std::string(first ? "" : ", ") + JsonString(c.truth_labels().Name(t)) + ": " + std::to_string(n);
      first = false;
    }
  j += "},\n \"only_in_guess\": {";
  first = true;
  for (uint32_t g = 0; g < c.guess_labels().size(); ++g)
    if (uint64_t n = c.GuessOnly(g)) {
      j += std::string(first ? "" : ", ") + JsonString(c.guess_labels().Name(g)) + ": " + std::to_string(n);
      first = false;
    }
  j += "},\n \"labels\": {";
  first = true;
  for (const auto& s : c.Scores()) {
    auto ratio = [](std::optional<double> r) { return r ? Ratio(*r) : std::string("null"); };
    j += std::string(first ? "\n" : ",\n") + "  " + JsonString(s.label) + ": {\"truth\": " + std::to_string(s.truth) +
         ", \"guessed\": " + std::to_string(s.guessed) + ", \"correct\": " + std::to_string(s.correct) +
         ", \"precision\": " + ratio(s.precision) + ", \"recall\": " + ratio(s.recall) + "}";
    first = false;
  }
  j += "}}\n";
  fputs(j.c_str(), stdout);
}

}  // namespace

int RunCompare(const Args& args) {
  CLI::App app(
      "Compares two labelings of the same traffic packet by packet (joined by timestamp, length and "
      "a hash of the bytes, in any order): the confusion matrix of labels (rows: TRUTH, columns: "
      "GUESS), packets found in one file only, and each label's precision (of the packets GUESS "
      "gave it, how many TRUTH gave it) and recall (of the packets TRUTH gave it, how many GUESS "
      "gave it), over the joined packets. Packets without a label count as <unlabeled>.",
      "compare");
  std::string truth, guess;
  bool csv = false, json = false;
  app.add_option("truth", truth, "the reference labeling (pcap or pcapng)")->required();
  app.add_option("guess", guess, "the labeling to score against it")->required();
  app.add_flag("--csv", csv, "print the table as CSV (empty cells where a ratio has no packets to count)");
  app.add_flag("--json", json, "print everything as one JSON object (null where a ratio has no packets)")
      ->excludes(app.get_option("--csv"));
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;

  LabelComparison c;
  std::string err;
  if (!CompareLabelFiles(truth, guess, &c, &err)) return Fail(err);
  if (json)
    PrintJson(c, truth, guess);
  else if (csv)
    PrintCsv(c);
  else
    PrintText(c, truth, guess);
  return kExitOk;
}

}  // namespace pcapml
