#include "rules/label.h"

#include <charconv>

namespace pcapml {
namespace {

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view FirstField(std::string_view s) { return s.substr(0, s.find(',')); }

// Older releases: "s=<id>,proc=<x>,..." with the label in proc= or label=.
bool ParseLegacy(std::string_view c, SampleLabel* out) {
  size_t comma = c.find(',');
  if (!ParseU64(c.substr(2, comma == std::string_view::npos ? c.npos : comma - 2), &out->sample_id)) return false;
  out->metadata = comma == std::string_view::npos ? std::string_view() : c.substr(comma + 1);
  out->name = {};
  std::string_view rest = out->metadata;
  while (!rest.empty()) {
    std::string_view field = FirstField(rest);
    for (std::string_view key : {"proc=", "label="}) {
      if (field.substr(0, key.size()) == key && out->name.empty()) out->name = field.substr(key.size());
    }
    rest.remove_prefix(std::min(rest.size(), field.size() + 1));
  }
  return true;
}

}  // namespace

bool ParseLabel(std::string_view c, SampleLabel* out) {
  if (c.size() > 2 && c[0] == 's' && c[1] == '=') return ParseLegacy(c, out);
  size_t comma = c.find(',');
  if (comma == std::string_view::npos) {
    out->metadata = {};
    out->name = {};
    return ParseU64(c, &out->sample_id);
  }
  if (!ParseU64(c.substr(0, comma), &out->sample_id)) return false;
  out->metadata = c.substr(comma + 1);
  out->name = FirstField(out->metadata);
  return true;
}

std::string FormatLabel(uint64_t sample_id, std::string_view metadata) {
  std::string s = std::to_string(sample_id);
  s += ',';
  s += metadata;
  return s;
}

std::string FileSafe(std::string_view label) {
  std::string out;
  for (char ch : label.substr(0, 100)) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-';
    out += ok ? ch : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "unlabeled";
  return out;
}

}  // namespace pcapml
