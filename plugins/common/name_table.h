// Server names to labels, shared by the tls_sni and dns plugins:
//   "www.example.com" = "example"   exactly this name
//   "*.example.com"   = "example"   any name below example.com (not itself)
//   "*"               = "other"     any name
// An exact pattern wins over wildcards, a longer wildcard over a shorter one,
// so the order of the table (a TOML table, sorted) carries no meaning.
// Names compare case-insensitively; lookups allocate nothing.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/pcapml_plugin.h"

namespace pcapml::plugin_common {

constexpr size_t kMaxName = 255;

// Lower case, and every byte outside [a-z0-9._-] as '_': a name from the
// wire can then serve as a label (no ',' or line break) and a key.
inline std::string_view CleanName(std::string_view name, char (&buf)[kMaxName + 1]) {
  size_t n = std::min(name.size(), kMaxName);
  for (size_t i = 0; i < n; ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    buf[i] = ok ? c : '_';
  }
  return std::string_view(buf, n);
}

class NameTable {
 public:
  // False and *err naming the pattern if a pattern or label is unusable.
  bool Build(const std::vector<std::pair<std::string, std::string>>& patterns, std::string* err) {
    for (const auto& [pattern, label] : patterns) {
      if (label.empty() || label.find_first_of(",\r\n") != std::string::npos)
        return *err = "label of '" + pattern + "' must be non-empty, without ',' or line breaks", false;
      std::string p = Lower(pattern);
      if (p == "*") {
        any_ = label;
      } else if (p.starts_with("*.") && p.size() > 2 && p.find('*', 1) == std::string::npos) {
        suffix_.emplace_back(p.substr(1), label);  // ".example.com"
      } else if (!p.empty() && p.find('*') == std::string::npos) {
        exact_.emplace_back(p, label);
      } else {
        return *err = "pattern '" + pattern + "' must be a name, '*.<domain>' or '*'", false;
      }
    }
    std::sort(exact_.begin(), exact_.end());
    std::sort(suffix_.begin(), suffix_.end());
    return true;
  }

  // The label for a name already lower-cased (CleanName), or null.
  const std::string* Find(std::string_view name) const {
    if (const std::string* l = Search(exact_, name)) return l;
    for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1))
      if (const std::string* l = Search(suffix_, name.substr(dot))) return l;
    return any_.empty() ? nullptr : &any_;
  }

  bool empty() const { return exact_.empty() && suffix_.empty() && any_.empty(); }

 private:
  using Entries = std::vector<std::pair<std::string, std::string>>;

  static std::string Lower(std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  }

  static const std::string* Search(const Entries& v, std::string_view key) {
    auto it = std::lower_bound(v.begin(), v.end(), key, [](const auto& e, std::string_view k) { return e.first < k; });
    return it != v.end() && it->first == key ? &it->second : nullptr;
  }

  Entries exact_, suffix_;
  std::string any_;
};

// The settings both name plugins take: names (the table above), unknown =
// "name" | "ignore", sample = "connection" | "label", name_field.
struct NamingSettings {
  NameTable names;
  bool label_unknown = true;   // unknown = "name": a name the table lacks labels as itself
  bool per_connection = true;  // sample = "connection": one sample per connection
  std::string name_field;      // also write the name as this field; "" = no
};

// The `unknown` and `sample` settings every naming plugin takes.
inline bool ReadUnknownAndSample(const plugin::Config& config, bool* label_unknown, bool* per_connection,
                                 std::string* err) {
  std::string unknown = config.String("unknown"), sample = config.String("sample");
  if (unknown != "name" && unknown != "ignore") return *err = "unknown must be \"name\" or \"ignore\"", false;
  if (sample != "connection" && sample != "label") return *err = "sample must be \"connection\" or \"label\"", false;
  *label_unknown = unknown == "name";
  *per_connection = sample == "connection";
  return true;
}

inline bool ReadNamingSettings(const plugin::Config& config, NamingSettings* s, std::string* err) {
  if (!s->names.Build(config.Map("names"), err)) return *err = "names: " + *err, false;
  if (!ReadUnknownAndSample(config, &s->label_unknown, &s->per_connection, err)) return false;
  s->name_field = config.String("name_field");
  if (s->name_field.find_first_of(",=\r\n") != std::string::npos)
    return *err = "name_field must not contain ',', '=' or line breaks", false;
  return true;
}

}  // namespace pcapml::plugin_common
