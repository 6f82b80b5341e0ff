// The process plugin's `names` table: glob patterns over the value
// label_from picks (a command name, unit, container ID, cgroup path or
// uid) to labels, e.g. { "firefox*" = "browsing", "curl" = "web",
// "*.service" = "system" }. A pattern without wildcards matches exactly and
// wins over every glob; among globs the one with the most literal
// characters wins (then the lesser pattern), so the order of the table (a
// TOML table, sorted) carries no meaning. Patterns are fnmatch(3) globs
// ('*', '?', '[...]'); matching is case-sensitive, as command names are.
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace pcapml::process {

class OwnerNames {
 public:
  bool Build(const std::vector<std::pair<std::string, std::string>>& table, std::string* err) {
    for (const auto& [pattern, label] : table) {
      if (pattern.empty()) return *err = "an empty pattern matches nothing", false;
      if (label.empty() || label.find_first_of(",\r\n") != std::string::npos)
        return *err = "label of '" + pattern + "' must be non-empty, without ',' or line breaks", false;
      if (pattern.find_first_of("*?[") == std::string::npos)
        exact_.emplace_back(pattern, label);
      else
        globs_.push_back({pattern, label, Literal(pattern)});
    }
    std::sort(exact_.begin(), exact_.end());
    std::sort(globs_.begin(), globs_.end(), [](const Glob& a, const Glob& b) {
      return a.literal != b.literal ? a.literal > b.literal : a.pattern < b.pattern;
    });
    return true;
  }

  // The label for a value, or null.
  const std::string* Find(const std::string& value) const {
    auto it = std::lower_bound(exact_.begin(), exact_.end(), value,
                               [](const auto& e, const std::string& v) { return e.first < v; });
    if (it != exact_.end() && it->first == value) return &it->second;
    for (const Glob& g : globs_)
      if (fnmatch(g.pattern.c_str(), value.c_str(), 0) == 0) return &g.label;
    return nullptr;
  }

 private:
  struct Glob {
    std::string pattern, label;
    size_t literal;
  };

  static size_t Literal(const std::string& p) {
    return static_cast<size_t>(std::count_if(p.begin(), p.end(), [](char c) { return c != '*' && c != '?'; }));
  }

  std::vector<std::pair<std::string, std::string>> exact_;
  std::vector<Glob> globs_;
};

}  // namespace pcapml::process
