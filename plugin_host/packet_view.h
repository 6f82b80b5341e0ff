// The IP view plugins get (plugin::Packet), decoded once per packet by the
// one decoder (net/ip_packet.h) that flow rules use too. Bounds-checked
// against caplen; the payload stops where the IP header says the packet
// ends, so Ethernet padding never reads as payload.
#pragma once

#include <cstdint>

#include "plugins/pcapml_plugin.h"

namespace pcapml {

// Fills *out (every field; ip_version 0 when the packet is not IP or its
// IP header is cut short).
void DecodePacket(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                  plugin::Packet* out);

}  // namespace pcapml
