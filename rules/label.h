// The label on the wire (docs/format.md: The label): "<sampleID>,<metadata>" in a packet's
// opt_comment, plus the comment forms older pcapml versions wrote.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pcapml {

struct Label {
  uint64_t sample_id = 0;
  std::string_view metadata;  // everything after the sampleID's comma
  std::string_view label;     // the first field of the metadata
};

// Parses a comment; false if it is not a pcapml label (e.g. empty, or a
// free-text comment from another tool). Views point into `comment`.
bool ParseLabel(std::string_view comment, Label* out);

// Formats "<sampleID>,<metadata>".
std::string FormatLabel(uint64_t sample_id, std::string_view metadata);

// Makes a label safe as part of a file name: keeps [A-Za-z0-9._-], maps
// everything else to '_', never empty, at most 100 bytes.
std::string FileSafe(std::string_view label);

}  // namespace pcapml
