// The legacy metadata file (docs/format.md: Rules), one rule per line:
//   <traffic_filter>,<metadata>[,<hash_key>]
//   traffic_filter := term ('|' term)*
//   term := BPF:<expr> | TS_START:<epoch> | TS_END:<epoch> | FILE:<path>
// Lines end in LF, CRLF or CR (base/text_file.h); a fourth field is an error,
// as is a NUL byte anywhere, or bytes that are not UTF-8 in a filter or metadata.
#pragma once

#include <string>
#include <string_view>

#include "rules/rule.h"

namespace pcapml {

// Parses `text` (the contents of `path`) into rules appended to *rules.
// `sensor_id`, when set, prefixes every sample key as "<sensor_id>/".
// Errors name the file, line and offending text.
bool ParseLegacyRules(const std::string& path, std::string_view text, const std::string& sensor_id, RuleSet* rules,
                      std::string* err);

}  // namespace pcapml
