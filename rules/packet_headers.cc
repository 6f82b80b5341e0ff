#include "rules/packet_headers.h"

#include <algorithm>

namespace pcapml {
namespace {

// Bytes after the network header start that FilterExpr may read for this
// protocol: the IPv4 header and the ports after its IHL (libpcap reads them
// without checking IHL), the IPv6 header plus ports or the byte behind a
// fragment header, the ARP addresses. 0 if the byte needed to tell is missing.
uint32_t NetworkBytesNeeded(uint16_t ethertype, const uint8_t* l3, uint32_t avail) {
  switch (ethertype) {
    case kEtherIp:
      if (avail < 1) return 1;
      return std::max<uint32_t>(20, (l3[0] & 0xf) * 4u + 4);
    case kEtherIp6:
      return 44;
    case kEtherArp:
    case kEtherRarp:
      return 28;
    default:
      return 0;
  }
}

}  // namespace

bool HeadersSupported(uint16_t link_type) {
  HeaderDecoder d;
  return d.Init(link_type, 0);
}

bool HeaderDecoder::Init(uint16_t link_type, int max_depth) {
  switch (link_type) {
    case 1:
      kind_ = Kind::kEthernet;
      break;  // LINKTYPE_ETHERNET
    case 101:
      kind_ = Kind::kRawIp;
      break;  // LINKTYPE_RAW
    case 113:
      kind_ = Kind::kSll;
      break;  // LINKTYPE_LINUX_SLL
    case 276:
      kind_ = Kind::kSll2;
      break;  // LINKTYPE_LINUX_SLL2
    // Not LINKTYPE_IPV4/IPV6 (228/229): libpcap's optimizer miscompiles some
    // expressions there (it drops a load after its "always true" link test),
    // and the contract is what libpcap does.
    default:
      return false;
  }
  if (max_depth > kMaxVlanDepth || (max_depth > 0 && kind_ != Kind::kEthernet)) return false;
  max_depth_ = max_depth;
  return true;
}

void HeaderDecoder::Decode(const uint8_t* data, uint32_t caplen, PacketHeaders* out) const {
  out->data = data;
  out->caplen = caplen;
  out->complete = false;
  for (int d = 0; d <= max_depth_; ++d) {
    HeaderLayer& l = out->layer[d];
    uint32_t off = 0, link_need = 0;
    switch (kind_) {
      case Kind::kEthernet:
        off = 14 + 4 * d;
        link_need = off + 2;  // a vlan id at this depth is read from here
        if (caplen < link_need) return;
        l.ethertype = Load16(data + 12 + 4 * d);
        break;
      case Kind::kSll:
        off = link_need = 16;
        if (caplen < link_need) return;
        l.ethertype = Load16(data + 14);
        break;
      case Kind::kSll2:
        off = link_need = 20;
        if (caplen < link_need) return;
        l.ethertype = Load16(data);
        break;
      case Kind::kRawIp:  // libpcap tests the version nibble
        if (caplen < 1) return;
        l.ethertype = (data[0] & 0xf0) == 0x40 ? kEtherIp : (data[0] & 0xf0) == 0x60 ? kEtherIp6 : 0;
        break;
    }
    l.l3 = data + off;
    if (caplen < off) return;
    uint32_t need = NetworkBytesNeeded(l.ethertype, l.l3, caplen - off);
    if (caplen - off < need) return;
  }
  out->complete = true;
}

}  // namespace pcapml
