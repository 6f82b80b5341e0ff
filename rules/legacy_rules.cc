#include "rules/legacy_rules.h"

#include "base/units.h"

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/text_file.h"

namespace pcapml {
namespace {

constexpr const char* kEpochForms =
    ": expected seconds since the epoch, optionally with a fraction of up to 9 digits (1714550400 or "
    "1714550400.25)";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct LineContext {
  const std::string& path;
  size_t line;
  std::string* err;
  bool Fail(const std::string& what, std::string_view text) const {
    *err = path + ":" + std::to_string(line) + ": " + what + " " + Quoted(text);
    return false;
  }
  // Text written into comments or handed to libpcap must be UTF-8 without NUL.
  bool Text(const std::string& what, std::string_view text) const {
    std::string problem = TextProblem(text);
    return problem.empty() || Fail(what + " " + problem, text);
  }
};

bool ParseTerm(std::string_view term, Rule* rule, const LineContext& ctx) {
  size_t colon = term.find(':');
  if (colon == std::string_view::npos) return ctx.Fail("term without ':'", term);
  std::string_view kind = Trim(term.substr(0, colon)), value = term.substr(colon + 1);
  if (kind == "BPF") {
    if (Trim(value).empty()) return ctx.Fail("empty BPF term", term);
    if (!ctx.Text("BPF filter", Trim(value))) return false;
    if (!rule->filter.empty()) return ctx.Fail("second BPF term in one rule (join them with 'and')", term);
    rule->filter = std::string(Trim(value));
  } else if (kind == "TS_START") {
    if (!ParseEpochBound(Trim(value), false, &rule->window.first_ns))
      return ctx.Fail("invalid TS_START time", value), *ctx.err += kEpochForms, false;
  } else if (kind == "TS_END") {
    if (!ParseEpochBound(Trim(value), true, &rule->window.last_ns))
      return ctx.Fail("invalid TS_END time", value), *ctx.err += kEpochForms, false;
  } else if (kind == "FILE") {
    if (Trim(value).empty()) return ctx.Fail("empty FILE term", term);
    // A path may be any bytes but NUL (it would cut the name short).
    if (value.find('\0') != std::string_view::npos) return ctx.Fail("FILE path contains a NUL byte", value);
    rule->files.emplace_back(Trim(value));
  } else {
    return ctx.Fail("unknown term (expected BPF, TS_START, TS_END or FILE)", term);
  }
  return true;
}

bool ParseLine(std::string_view line, const std::string& sensor_id, Rule* rule, const LineContext& ctx) {
  size_t c1 = line.find(',');
  if (c1 == std::string_view::npos) return ctx.Fail("expected <filter>,<metadata>", line);
  std::string_view filter = line.substr(0, c1), rest = line.substr(c1 + 1);
  size_t c2 = rest.find(',');
  std::string_view metadata = c2 == std::string_view::npos ? rest : rest.substr(0, c2);
  std::string_view hash_key = c2 == std::string_view::npos ? std::string_view() : rest.substr(c2 + 1);
  if (Trim(metadata).empty()) return ctx.Fail("empty metadata", line);
  if (hash_key.find(',') != std::string_view::npos)
    return ctx.Fail("too many fields (expected <filter>,<metadata>[,<hash_key>])", line);
  if (!ctx.Text("metadata", metadata)) return false;  // the hash key is only hashed: any bytes do
  size_t start = 0;
  while (start <= filter.size()) {
    size_t bar = filter.find('|', start);
    std::string_view term = filter.substr(start, bar == std::string_view::npos ? bar : bar - start);
    if (!ParseTerm(term, rule, ctx)) return false;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (rule->window.first_ns > rule->window.last_ns) return ctx.Fail("TS_START after TS_END", filter);
  // The metadata field is written as-is: a hash_key only changes the sampleID.
  rule->metadata = std::string(metadata);
  std::string key = sensor_id.empty() ? "" : sensor_id + "/";
  key += hash_key.empty() ? line : hash_key;
  SetSampleKey(rule, std::move(key));
  rule->id = rule->source = ctx.path + ":" + std::to_string(ctx.line);
  return true;
}

}  // namespace

bool ParseLegacyRules(const std::string& path, std::string_view text, const std::string& sensor_id, RuleSet* rules,
                      std::string* err) {
  size_t before = rules->size();
  LineReader lines(text);
  for (std::string_view line; lines.Next(&line);) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    Rule rule;
    if (!ParseLine(line, sensor_id, &rule, LineContext{path, lines.line_number(), err})) return false;
    // Add checks the BPF syntax; its error starts with "<path>:<line>".
    if (!rules->Add(std::move(rule), err)) return false;
  }
  if (rules->size() == before) {
    *err = path + ": no rules";
    return false;
  }
  return true;
}

}  // namespace pcapml
