// Packets for the plugin tests: Ethernet + IPv4/IPv6 + TCP/UDP with a
// payload, and their decoded plugin view.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

#include "plugin_host/packet_view.h"

namespace pcapml::testing_packets {

using Bytes = std::vector<uint8_t>;

inline void Put16(Bytes* b, size_t at, uint16_t v) { (*b)[at] = v >> 8, (*b)[at + 1] = v & 0xff; }
inline void Put32(Bytes* b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

struct Segment {
  std::string src = "10.0.0.1", dst = "10.0.0.2";
  uint16_t sport = 40000, dport = 443;
  uint8_t proto = 6;  // 6 TCP, 17 UDP
  uint32_t seq = 1000;
  uint8_t flags = 0x18;  // PSH|ACK
  Bytes payload;
};

// Ethernet, then IPv4 or IPv6 (by the address form), then TCP or UDP.
inline Bytes Frame(const Segment& s) {
  bool v6 = s.src.find(':') != std::string::npos;
  size_t l3 = 14, l4 = l3 + (v6 ? 40 : 20), thl = s.proto == 6 ? 20 : 8;
  Bytes b(l4 + thl, 0);
  Put16(&b, 12, v6 ? 0x86dd : 0x0800);
  if (v6) {
    b[l3] = 0x60;
    Put16(&b, l3 + 4, static_cast<uint16_t>(thl + s.payload.size()));
    b[l3 + 6] = s.proto;
    b[l3 + 7] = 64;
    inet_pton(AF_INET6, s.src.c_str(), &b[l3 + 8]);
    inet_pton(AF_INET6, s.dst.c_str(), &b[l3 + 24]);
  } else {
    b[l3] = 0x45;
    Put16(&b, l3 + 2, static_cast<uint16_t>(20 + thl + s.payload.size()));
    b[l3 + 8] = 64;
    b[l3 + 9] = s.proto;
    inet_pton(AF_INET, s.src.c_str(), &b[l3 + 12]);
    inet_pton(AF_INET, s.dst.c_str(), &b[l3 + 16]);
  }
  Put16(&b, l4, s.sport);
  Put16(&b, l4 + 2, s.dport);
  if (s.proto == 6) {
    Put32(&b, l4 + 4, s.seq);
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = s.flags;
  } else {
    Put16(&b, l4 + 4, static_cast<uint16_t>(8 + s.payload.size()));
  }
  b.insert(b.end(), s.payload.begin(), s.payload.end());
  return b;
}

// A frame and its decoded view (which points into the frame).
struct TestPacket {
  Bytes frame;
  plugin::Packet view;
};

inline TestPacket Decoded(const Segment& s, int64_t ts_ns) {
  TestPacket t{Frame(s), {}};
  DecodePacket(1, ts_ns, t.frame.data(), static_cast<uint32_t>(t.frame.size()), static_cast<uint32_t>(t.frame.size()),
               &t.view);
  return t;
}

}  // namespace pcapml::testing_packets
