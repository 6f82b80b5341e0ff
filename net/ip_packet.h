// The one decoder from a link-layer frame to its IP endpoints and transport
// header. Flow rules (rules/flow_table.h) and the packet view plugins get
// (plugin_host/packet_view.h) both read packets through it, so a flow rule
// and a plugin always see the same 5-tuple for one packet.
// (rules/packet_headers.h is different on purpose: it reproduces libpcap's
// fixed-offset reading for filter semantics.)
#pragma once

#include <cstdint>

namespace pcapml {

// Link layers: Ethernet (any number of 802.1Q/802.1ad tags skipped), Linux
// SLL (113) and SLL2 (276), BSD loopback (0: the address family in the
// capturing host's byte order, either is taken), OpenBSD loopback (108:
// network byte order), raw IP (101, 228, 229: the version nibble decides).
// Returns false if the link type is not one of these, the frame is too
// short, or it carries no IPv4/IPv6; otherwise *offset is where the IP
// header starts and *ethertype is kEtherIp or kEtherIp6.
bool FindIpHeader(uint16_t link_type, const uint8_t* data, uint32_t caplen, uint32_t* offset, uint16_t* ethertype);

struct IpPacket {
  uint8_t version = 0;           // 4 or 6
  uint8_t protocol = 0;          // the transport protocol, after IPv6 extension headers
  const uint8_t* src = nullptr;  // 4 or 16 bytes
  const uint8_t* dst = nullptr;
  // TCP, UDP and SCTP first fragments whose first 4 transport bytes are captured.
  bool has_ports = false;
  uint16_t src_port = 0, dst_port = 0;
  // The transport header (null for later fragments and when an extension
  // header is cut short) and the end of the IP packet as captured: the IP
  // length clips Ethernet padding off (unless it claims less than its own
  // header, as segmentation-offloaded packets captured on the host do).
  const uint8_t* transport = nullptr;
  const uint8_t* end = nullptr;
  uint32_t transport_claimed = 0;  // transport bytes the IP header says were sent
};

// Decodes the IP header behind the link layer. False (and *out untouched
// past its defaults) when there is none or it is cut short: an IPv4 header
// needs its full IHL captured, an IPv6 header its 40 bytes.
bool DecodeIpPacket(uint16_t link_type, const uint8_t* data, uint32_t caplen, IpPacket* out);

}  // namespace pcapml
