#include "plugins/packet_decoder.h"

#include <algorithm>
#include <cstddef>

namespace pcapml {
namespace {

constexpr uint16_t kEtherIp = 0x0800, kEtherIp6 = 0x86dd;

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Load32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// The network header's offset and ethertype; false if the link layer is
// not one we know or carries no IP.
bool LinkLayer(uint16_t link_type, const uint8_t* d, uint32_t n, uint32_t* off, uint16_t* type) {
  switch (link_type) {
    case 1: {  // Ethernet, with any number of VLAN tags
      uint32_t o = 12;
      for (;;) {
        if (n < o + 2) return false;
        uint16_t t = Load16(d + o);
        if (t == 0x8100 || t == 0x88a8 || t == 0x9100) { o += 4; continue; }
        return *off = o + 2, *type = t, true;
      }
    }
    case 113:  // Linux cooked (SLL)
      if (n < 16) return false;
      return *off = 16, *type = Load16(d + 14), true;
    case 276:  // Linux cooked v2 (SLL2)
      if (n < 20) return false;
      return *off = 20, *type = Load16(d), true;
    case 0:    // BSD loopback: AF_ value in the capturing host's byte order
    case 108: {  // OpenBSD loopback: network byte order
      if (n < 4) return false;
      uint32_t be = Load32(d), le = uint32_t{d[3]} << 24 | uint32_t{d[2]} << 16 | uint32_t{d[1]} << 8 | d[0];
      uint32_t af = link_type == 108 ? be : std::min(be, le);
      *off = 4;
      if (af == 2) return *type = kEtherIp, true;
      if (af == 10 || af == 24 || af == 28 || af == 30) return *type = kEtherIp6, true;
      return false;
    }
    case 101: case 228: case 229:  // raw IP
      if (n < 1) return false;
      *off = 0;
      *type = (d[0] >> 4) == 6 ? kEtherIp6 : kEtherIp;
      return true;
  }
  return false;
}

// Ports, flags and payload of a TCP/UDP segment in [t, end).
void Transport(const uint8_t* t, const uint8_t* end, uint32_t claimed, plugin::Packet* p) {
  uint32_t avail = static_cast<uint32_t>(end - t), hlen;
  if (p->protocol == plugin::kProtoTcp) {
    if (avail < 20 || (t[12] >> 4) < 5) return;
    hlen = (t[12] >> 4) * 4u;
    p->tcp_seq = Load32(t + 4);
    p->tcp_flags = t[13];
  } else if (p->protocol == plugin::kProtoUdp) {
    if (avail < 8) return;
    hlen = 8;
  } else {
    return;
  }
  p->has_ports = true;
  p->src_port = Load16(t);
  p->dst_port = Load16(t + 2);
  p->payload = t + std::min(hlen, avail);
  p->payload_len = avail > hlen ? avail - hlen : 0;
  p->payload_orig_len = claimed > hlen ? claimed - hlen : 0;
}

void Ip4(const uint8_t* l3, const uint8_t* end, plugin::Packet* p) {
  if (end - l3 < 20 || (l3[0] >> 4) != 4) return;
  uint32_t ihl = (l3[0] & 0xf) * 4u, total = Load16(l3 + 2);
  if (ihl < 20 || total < ihl || end - l3 < static_cast<ptrdiff_t>(ihl)) return;
  p->ip_version = 4;
  p->protocol = l3[9];
  p->src = l3 + 12;
  p->dst = l3 + 16;
  if (Load16(l3 + 6) & 0x1fff) return;  // a later fragment: no transport header
  if (end - l3 > static_cast<ptrdiff_t>(total)) end = l3 + total;
  Transport(l3 + ihl, end, total - ihl, p);
}

void Ip6(const uint8_t* l3, const uint8_t* end, plugin::Packet* p) {
  if (end - l3 < 40 || (l3[0] >> 4) != 6) return;
  p->ip_version = 6;
  p->src = l3 + 8;
  p->dst = l3 + 24;
  uint32_t claimed = Load16(l3 + 4);
  if (end - l3 > static_cast<ptrdiff_t>(40 + claimed)) end = l3 + 40 + claimed;
  const uint8_t* h = l3 + 40;
  uint8_t next = l3[6];
  for (int i = 0; i < 8; ++i) {  // extension headers
    if (next != 0 && next != 43 && next != 60 && next != 44 && next != 51) break;
    if (end - h < 8) return p->protocol = next, void();
    uint32_t len = next == 44 ? 8 : next == 51 ? (h[1] + 2u) * 4 : (h[1] + 1u) * 8;
    if (next == 44 && (Load16(h + 2) & 0xfff8)) return p->protocol = h[0], void();  // later fragment
    next = h[0];
    if (end - h < static_cast<ptrdiff_t>(len)) return p->protocol = next, void();
    h += len;
    claimed = claimed > len ? claimed - len : 0;
  }
  p->protocol = next;
  Transport(h, end, claimed, p);
}

}  // namespace

void DecodePacket(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                  plugin::Packet* out) {
  *out = plugin::Packet{};
  out->ts_ns = ts_ns;
  out->link_type = link_type;
  out->data = data;
  out->caplen = caplen;
  out->orig_len = orig_len;
  uint32_t off;
  uint16_t type;
  if (!LinkLayer(link_type, data, caplen, &off, &type) || off > caplen) return;
  if (type == kEtherIp) Ip4(data + off, data + caplen, out);
  else if (type == kEtherIp6) Ip6(data + off, data + caplen, out);
}

}  // namespace pcapml
