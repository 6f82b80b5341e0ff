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
  bool parsed = ParseLegacyRules("fuzz.csv", text, "sensor", &rules, &err);
  fuzz::CheckParsedRules(parsed, "fuzz.csv", err, &rules, "\r\n");  // lines are split at LF, CRLF and CR
  return 0;
}
