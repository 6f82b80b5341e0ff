// One packet's headers as libpcap's filter code sees them: the link-layer
// protocol field and the network header, at each vlan depth (libpcap reads
// fixed offsets, shifted by 4 per `vlan` keyword, whatever the packet holds).
// Decoded once per packet; FilterExpr evaluation and the rule indexes read it.
#pragma once

#include <cstdint>

#include "net/bytes.h"

namespace pcapml {

constexpr int kMaxVlanDepth = 2;

struct HeaderLayer {
  uint16_t ethertype = 0;       // what libpcap's link-layer protocol test compares
  const uint8_t* l3 = nullptr;  // the network header at this depth
};

struct PacketHeaders {
  const uint8_t* data = nullptr;  // the link-layer header
  uint32_t caplen = 0;
  // Every byte a FilterExpr may read at the decoded depths is captured. When
  // false, libpcap's BPF may stop early on a short packet: use BPF.
  bool complete = false;
  HeaderLayer layer[kMaxVlanDepth + 1];
};

// The IPv4 (or ARP/RARP protocol) addresses libpcap's `host` reads; false
// if the layer carries none.
inline bool Ipv4Addresses(const HeaderLayer& l, const uint8_t** src, const uint8_t** dst) {
  if (l.ethertype == kEtherIp) return *src = l.l3 + 12, *dst = l.l3 + 16, true;
  if (l.ethertype == kEtherArp || l.ethertype == kEtherRarp) return *src = l.l3 + 14, *dst = l.l3 + 24, true;
  return false;
}

// Transport protocol bits for `port` (as Primitive::via: tcp 1, udp 2, sctp 4).
inline uint8_t PortProtoBit(uint8_t proto) {
  return proto == kProtoTcp ? 1 : proto == kProtoUdp ? 2 : proto == kProtoSctp ? 4 : 0;
}

// The TCP/UDP/SCTP ports libpcap's `port` reads (IPv4: first fragments only;
// IPv6: directly after the fixed header); false if there are none.
inline bool TransportPorts(const HeaderLayer& l, uint8_t via_mask, uint16_t* sport, uint16_t* dport) {
  const uint8_t* t;
  if (l.ethertype == kEtherIp6) {
    if (!(PortProtoBit(l.l3[6]) & via_mask)) return false;
    t = l.l3 + 40;
  } else if (l.ethertype == kEtherIp) {
    if (!(PortProtoBit(l.l3[9]) & via_mask) || (Load16(l.l3 + 6) & 0x1fff)) return false;
    t = l.l3 + (l.l3[0] & 0xf) * 4;
  } else {
    return false;
  }
  *sport = Load16(t);
  *dport = Load16(t + 2);
  return true;
}

// Decodes the headers of one link type.
class HeaderDecoder {
 public:
  // False if the link type's layout is not known here (use BPF for it).
  // max_depth > 0 (vlan) is Ethernet only.
  bool Init(uint16_t link_type, int max_depth);
  void Decode(const uint8_t* data, uint32_t caplen, PacketHeaders* out) const;
  bool ethernet() const { return kind_ == Kind::kEthernet; }
  int max_depth() const { return max_depth_; }

 private:
  enum class Kind { kEthernet, kSll, kSll2, kRawIp };
  Kind kind_ = Kind::kEthernet;
  int max_depth_ = 0;
};

// Whether FilterExpr can read this link type at all.
bool HeadersSupported(uint16_t link_type);

}  // namespace pcapml
