#include "plugin_host/packet_view.h"

#include <algorithm>

#include "net/bytes.h"
#include "net/ip_packet.h"

namespace pcapml {
namespace {

// Flags, sequence number and payload of a TCP segment or UDP datagram whose
// header is captured whole.
void Transport(const IpPacket& ip, plugin::Packet* p) {
  const uint8_t* t = ip.transport;
  if (!t) return;
  uint32_t avail = static_cast<uint32_t>(ip.end - t), hlen;
  if (ip.protocol == kProtoTcp) {
    if (avail < 20 || (t[12] >> 4) < 5) return;
    hlen = (t[12] >> 4) * 4u;
    p->tcp_seq = Load32(t + 4);
    p->tcp_flags = t[13];
  } else if (ip.protocol == kProtoUdp) {
    if (avail < 8) return;
    hlen = 8;
  } else {
    return;
  }
  p->payload = t + std::min(hlen, avail);
  p->payload_len = avail > hlen ? avail - hlen : 0;
  p->payload_orig_len = ip.transport_claimed > hlen ? ip.transport_claimed - hlen : 0;
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
  IpPacket ip;
  if (!DecodeIpPacket(link_type, data, caplen, &ip)) return;
  out->ip_version = ip.version;
  out->protocol = ip.protocol;
  out->src = ip.src;
  out->dst = ip.dst;
  out->has_ports = ip.has_ports;
  out->src_port = ip.src_port;
  out->dst_port = ip.dst_port;
  Transport(ip, out);
}

}  // namespace pcapml
