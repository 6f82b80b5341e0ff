// Loads of big-endian (network order) fields, and the protocol numbers the
// decoders share.
#pragma once

#include <cstdint>

namespace pcapml {

inline uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline uint32_t Load32Le(const uint8_t* p) {
  return uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0];
}

constexpr uint16_t kEtherIp = 0x0800, kEtherIp6 = 0x86dd, kEtherArp = 0x0806, kEtherRarp = 0x8035;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoSctp = 132, kProtoIp6Fragment = 44;

// 802.1Q, 802.1ad and the older QinQ tag protocol identifiers.
inline bool IsVlanTpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

}  // namespace pcapml
