// The legacy metadata file parser (rules/legacy_rules.h) over any text: it
// either yields rules or one error naming the file and line; the rules then
// classify a few packets as the contract says (fuzz/rules_check.h).
#include "fuzz/rules_check.h"
#include "rules/legacy_rules.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RuleSet rules;
  std::string err;
  if (!ParseLegacyRules("fuzz.csv", text, "sensor", &rules, &err)) {
    FUZZ_CHECK(err.starts_with("fuzz.csv"));
    return 0;
  }
  FUZZ_CHECK(rules.size() > 0);
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules.rule(i);
    FUZZ_CHECK(r.comment.find('\n') == std::string::npos);  // lines are split at LF
  }
  fuzz::CheckClassification(&rules);
  return 0;
}
