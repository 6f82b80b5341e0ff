#include "net/ip_packet.h"

#include <algorithm>
#include <cstddef>

#include "net/bytes.h"

namespace pcapml {
namespace {

bool IsIp6Family(uint32_t af) { return af == 10 || af == 24 || af == 28 || af == 30; }  // Linux, BSDs, Darwin

bool HasPorts(uint8_t proto) { return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp; }

void Ports(const uint8_t* t, const uint8_t* end, IpPacket* p) {
  p->transport = t;
  if (!HasPorts(p->protocol) || end - t < 4) return;
  p->has_ports = true;
  p->src_port = Load16(t);
  p->dst_port = Load16(t + 2);
}

bool Ip4(const uint8_t* l3, const uint8_t* end, IpPacket* p) {
  if (end - l3 < 20 || (l3[0] >> 4) != 4) return false;
  uint32_t ihl = (l3[0] & 0xf) * 4u, total = Load16(l3 + 2);
  if (ihl < 20 || end - l3 < static_cast<ptrdiff_t>(ihl)) return false;
  p->version = 4;
  p->protocol = l3[9];
  p->src = l3 + 12;
  p->dst = l3 + 16;
  if (total >= ihl && end - l3 > static_cast<ptrdiff_t>(total)) end = l3 + total;
  p->end = end;
  p->transport_claimed = total >= ihl ? total - ihl : static_cast<uint32_t>(end - l3) - ihl;
  if (Load16(l3 + 6) & 0x1fff) return true;  // a later fragment: no transport header
  Ports(l3 + ihl, end, p);
  return true;
}

bool Ip6(const uint8_t* l3, const uint8_t* end, IpPacket* p) {
  if (end - l3 < 40 || (l3[0] >> 4) != 6) return false;
  p->version = 6;
  p->src = l3 + 8;
  p->dst = l3 + 24;
  uint32_t claimed = Load16(l3 + 4);
  if (claimed && end - l3 > 40 + static_cast<ptrdiff_t>(claimed)) end = l3 + 40 + claimed;
  if (!claimed) claimed = static_cast<uint32_t>(end - l3) - 40;  // jumbogram or offloaded
  p->end = end;
  const uint8_t* h = l3 + 40;
  uint8_t next = l3[6];
  for (int i = 0; i < 8; ++i) {  // hop-by-hop, routing, fragment, destination options, AH
    if (next != 0 && next != 43 && next != 60 && next != 44 && next != 51) break;
    if (end - h < 8) return p->protocol = next, true;
    uint32_t len = next == 44 ? 8 : next == 51 ? (h[1] + 2u) * 4 : (h[1] + 1u) * 8;
    if (next == 44 && (Load16(h + 2) & 0xfff8)) return p->protocol = h[0], true;  // a later fragment
    next = h[0];
    if (end - h < static_cast<ptrdiff_t>(len)) return p->protocol = next, true;
    h += len;
    claimed = claimed > len ? claimed - len : 0;
  }
  p->protocol = next;
  p->transport_claimed = claimed;
  Ports(h, end, p);
  return true;
}

}  // namespace

bool FindIpHeader(uint16_t link_type, const uint8_t* d, uint32_t n, uint32_t* off, uint16_t* type) {
  switch (link_type) {
    case 1: {  // Ethernet
      uint32_t o = 12;
      for (;;) {
        if (n < o + 2) return false;
        uint16_t t = Load16(d + o);
        if (!IsVlanTpid(t)) {
          *off = o + 2, *type = t;
          break;
        }
        o += 4;
      }
      break;
    }
    case 113:  // Linux cooked (SLL)
      if (n < 16) return false;
      *off = 16, *type = Load16(d + 14);
      break;
    case 276:  // Linux cooked v2 (SLL2)
      if (n < 20) return false;
      *off = 20, *type = Load16(d);
      break;
    case 0:      // BSD loopback
    case 108: {  // OpenBSD loopback
      if (n < 4) return false;
      uint32_t af = link_type == 108 ? Load32(d) : std::min(Load32(d), Load32Le(d));
      *off = 4;
      *type = af == 2 ? kEtherIp : IsIp6Family(af) ? kEtherIp6 : 0;
      break;
    }
    case 101:
    case 228:
    case 229:  // raw IP
      if (n < 1) return false;
      *off = 0;
      *type = (d[0] >> 4) == 4 ? kEtherIp : (d[0] >> 4) == 6 ? kEtherIp6 : 0;
      break;
    default:
      return false;
  }
  return (*type == kEtherIp || *type == kEtherIp6) && *off <= n;
}

bool DecodeIpPacket(uint16_t link_type, const uint8_t* data, uint32_t caplen, IpPacket* out) {
  uint32_t off;
  uint16_t type;
  if (!FindIpHeader(link_type, data, caplen, &off, &type)) return false;
  IpPacket p;
  bool ok = type == kEtherIp ? Ip4(data + off, data + caplen, &p) : Ip6(data + off, data + caplen, &p);
  if (ok) *out = p;
  return ok;
}

}  // namespace pcapml
