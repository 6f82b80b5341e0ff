// Deterministic sample identifiers (docs/format.md: Sample IDs): the first 8 bytes of
// SHA-256(key) read as a big-endian uint64.
#pragma once

#include <cstdint>
#include <string_view>

namespace pcapml {

uint64_t SampleId(std::string_view key);

}  // namespace pcapml
