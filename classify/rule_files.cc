#include "classify/rule_files.h"

#include "base/text_file.h"
#include "rules/legacy_rules.h"
#include "rules/toml_rules.h"

namespace pcapml {

bool LooksLikeTomlRules(const std::string& path, std::string_view text) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".toml") == 0) return true;
  // A legacy line starts with a term (BPF:, TS_START:, ...); TOML rules with
  // a table header. Both use '#' comments.
  LineReader lines(text);
  for (std::string_view line; lines.Next(&line);) {
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos || line[i] == '#') continue;
    return line[i] == '[';
  }
  return false;
}

bool LoadRules(const std::vector<std::string>& paths, const std::string& sensor_id, RuleSet* rules, std::string* err) {
  for (const std::string& path : paths) {
    std::string text;
    if (!ReadTextFile(path, &text, err)) return false;
    bool ok = LooksLikeTomlRules(path, text) ? ParseTomlRules(path, text, sensor_id, rules, err)
                                             : ParseLegacyRules(path, text, sensor_id, rules, err);
    if (!ok) return false;
  }
  return true;
}

}  // namespace pcapml
