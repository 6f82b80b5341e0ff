// Loading rules from files: TOML rules files (by the .toml extension, or
// content that starts with a [table]) and legacy metadata files, in the
// order given, into one RuleSet.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/rule.h"

namespace pcapml {

// True if the file should be read as TOML rules.
bool LooksLikeTomlRules(const std::string& path, std::string_view text);

// Appends the rules of each file, in order. Errors name the file and line.
bool LoadRules(const std::vector<std::string>& paths, const std::string& sensor_id, RuleSet* rules, std::string* err);

}  // namespace pcapml
