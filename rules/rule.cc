#include "rules/rule.h"

#include <filesystem>

namespace pcapml {

bool RuleSet::Prepare(uint16_t link_type, std::string* err) {
  for (Rule& r : rules_) {
    std::string why;
    if (r.filter && !r.filter->Prepare(link_type, &why)) {
      *err = r.id + ": invalid BPF '" + r.filter->expression() + "' for link type " +
             std::to_string(link_type) + ": " + why;
      return false;
    }
  }
  if (input_ok_.size() != rules_.size()) input_ok_.assign(rules_.size(), 1);
  return true;
}

void RuleSet::SetInput(const std::string& path) {
  namespace fs = std::filesystem;
  input_ok_.assign(rules_.size(), 1);
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].files.empty()) continue;
    bool ok = false;
    for (const std::string& f : rules_[i].files) {
      std::error_code ec;
      ok = ok || f == path || fs::path(path).filename() == f || fs::equivalent(f, path, ec);
    }
    input_ok_[i] = ok;
  }
}

}  // namespace pcapml
