// The hash of a fixed-size binary key (connection tuples) for the plugins'
// open-addressed tables: one multiply-xorshift step per 8 bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pcapml::plugin_common {

template <size_t N>
uint64_t HashKeyBytes(const std::array<uint8_t, N>& b) {
  static_assert(N % 8 == 0, "the key is hashed 8 bytes at a time");
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < N; i += 8) {
    uint64_t w;
    std::memcpy(&w, &b[i], 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return h;
}

}  // namespace pcapml::plugin_common
