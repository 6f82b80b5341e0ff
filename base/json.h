// JSON text for scripts (summary --json): strings quoted per RFC 8259.
#pragma once

#include <string>
#include <string_view>

namespace pcapml {

// `s` as a JSON string literal, quotes included. Bytes that are not valid
// UTF-8 (labels come from files) become U+FFFD, so the output always parses.
std::string JsonString(std::string_view s);

}  // namespace pcapml
