#include "plugin_host/packet_view.h"

#include <gtest/gtest.h>

#include <memory>

#include "plugins/testing/test_packets.h"

namespace pcapml {
namespace {

using testing_packets::Bytes;
using testing_packets::Segment;

plugin::Packet Decode(const Bytes& b, uint16_t link_type = 1, size_t n = SIZE_MAX) {
  plugin::Packet p;
  DecodePacket(link_type, 7, b.data(), static_cast<uint32_t>(std::min(n, b.size())), 1500, &p);
  return p;
}

TEST(PacketDecoderTest, EthernetIpv4Tcp) {
  Bytes f = testing_packets::Frame({"10.0.0.1", "10.0.0.2", 40000, 443, 6, 77, 0x18, {1, 2, 3}});
  f.resize(f.size() + 6, 0xee);  // Ethernet padding is not payload
  plugin::Packet p = Decode(f);
  EXPECT_EQ(p.ts_ns, 7);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.tcp_seq, 77u);
  EXPECT_EQ(p.tcp_flags, 0x18);
  EXPECT_EQ(p.payload_len, 3u);
  EXPECT_EQ(p.payload_orig_len, 3u);
  EXPECT_EQ(p.payload[2], 3);
  EXPECT_EQ(p.dst[3], 2);
}

TEST(PacketDecoderTest, VlanTagsAndIpv6ExtensionHeaders) {
  Bytes f = testing_packets::Frame({"2001:db8::1", "2001:db8::2", 53, 5353, 17, 0, 0, {9, 9}});
  Bytes tagged(f.begin(), f.begin() + 12);
  tagged.insert(tagged.end(), {0x81, 0x00, 0x00, 0x05, 0x88, 0xa8, 0x00, 0x06});
  tagged.insert(tagged.end(), f.begin() + 12, f.end());
  // A hop-by-hop options header (8 bytes) before UDP.
  size_t ip6 = 14 + 8;
  tagged[ip6 + 6] = 0;
  Bytes hop = {17, 0, 1, 4, 0, 0, 0, 0};
  tagged.insert(tagged.begin() + static_cast<ptrdiff_t>(ip6 + 40), hop.begin(), hop.end());
  tagged[ip6 + 5] += 8;
  plugin::Packet p = Decode(tagged);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.protocol, 17);
  EXPECT_EQ(p.src_port, 53);
  EXPECT_EQ(p.payload_len, 2u);
  EXPECT_EQ(p.payload[0], 9);
}

TEST(PacketDecoderTest, CookedAndRawLinkTypes) {
  Bytes eth = testing_packets::Frame({"10.0.0.1", "10.0.0.2", 1, 2, 17, 0, 0, {5}});
  Bytes raw(eth.begin() + 14, eth.end());
  EXPECT_EQ(Decode(raw, 101).payload_len, 1u);
  EXPECT_EQ(Decode(raw, 228).src_port, 1);
  Bytes sll2(20, 0);
  sll2[0] = 0x08;
  sll2.insert(sll2.end(), raw.begin(), raw.end());
  EXPECT_EQ(Decode(sll2, 276).dst_port, 2);
  Bytes null = {2, 0, 0, 0};  // BSD loopback, AF_INET little-endian
  null.insert(null.end(), raw.begin(), raw.end());
  EXPECT_EQ(Decode(null, 0).ip_version, 4);
  EXPECT_EQ(Decode(raw, 147).ip_version, 0);  // a link type it does not know
}

TEST(PacketDecoderTest, LaterFragmentsHaveNoPorts) {
  Bytes f = testing_packets::Frame({"10.0.0.1", "10.0.0.2", 1, 2, 17, 0, 0, {5}});
  f[14 + 7] = 0x10;  // fragment offset 16
  plugin::Packet p = Decode(f);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.payload, nullptr);
}

TEST(PacketDecoderTest, EveryTruncationStaysInBounds) {
  Bytes frames[] = {testing_packets::Frame({"10.0.0.1", "10.0.0.2", 1, 2, 6, 0, 0x18, Bytes(20, 1)}),
                    testing_packets::Frame({"2001:db8::1", "2001:db8::2", 1, 2, 17, 0, 0, Bytes(20, 1)})};
  for (const Bytes& f : frames) {
    for (size_t n = 0; n <= f.size(); ++n) {
      std::unique_ptr<uint8_t[]> copy(new uint8_t[n + 1]);
      std::copy(f.begin(), f.begin() + static_cast<ptrdiff_t>(n), copy.get());
      plugin::Packet p;
      DecodePacket(1, 0, copy.get(), static_cast<uint32_t>(n), static_cast<uint32_t>(f.size()), &p);
      if (p.payload) {
        ASSERT_LE(p.payload + p.payload_len, copy.get() + n);
      }
      if (n < f.size()) {
        ASSERT_LT(p.payload_len, 20u);
      }
    }
  }
}

}  // namespace
}  // namespace pcapml
