// Flow rules (rules/flow_table.h) and plugins (plugin_host/packet_view.h)
// must see the same 5-tuple for every packet, however malformed: both read
// packets through net/ip_packet.h. Checked over every packet of the fuzz
// corpora (captures and plugin packet streams, all link types) and over the
// rule tests' random packets.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/fuzz_util.h"
#include "pcapio/reader.h"
#include "plugin_host/packet_view.h"
#include "rules/flow_table.h"
#include "rules/test_packets.h"

namespace pcapml {
namespace {

namespace fs = std::filesystem;

// Both decoders on one packet; returns whether it was IP.
bool ExpectSameTuple(uint16_t link_type, const uint8_t* data, uint32_t caplen, const std::string& where) {
  FlowKey flow;
  bool is_flow = DecodeFlow(link_type, data, caplen, &flow);
  plugin::Packet view;
  DecodePacket(link_type, 0, data, caplen, caplen, &view);
  EXPECT_EQ(is_flow, view.ip_version != 0) << where;
  if (!is_flow || view.ip_version == 0) return false;
  size_t n = view.ip_version == 4 ? 4 : 16;
  EXPECT_EQ(flow.family, view.ip_version) << where;
  EXPECT_EQ(flow.proto, view.protocol) << where;
  uint16_t sport = view.has_ports ? view.src_port : 0, dport = view.has_ports ? view.dst_port : 0;
  bool forward = memcmp(flow.addr_lo.data(), view.src, n) == 0 && flow.port_lo == sport &&
                 memcmp(flow.addr_hi.data(), view.dst, n) == 0 && flow.port_hi == dport;
  bool reverse = memcmp(flow.addr_lo.data(), view.dst, n) == 0 && flow.port_lo == dport &&
                 memcmp(flow.addr_hi.data(), view.src, n) == 0 && flow.port_hi == sport;
  EXPECT_TRUE(forward || reverse) << where;
  return true;
}

std::vector<uint8_t> ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(DecoderAgreement, EveryPacketOfTheCaptureCorpus) {
  size_t packets = 0, ip = 0;
  for (const auto& e : fs::directory_iterator(PCAPML_SOURCE_DIR "/fuzz/corpus/reader")) {
    PacketReader r;
    std::string err;
    if (!r.Open(e.path().string(), &err)) continue;
    Packet p;
    while (r.Next(&p, &err) == PacketReader::Status::kPacket) {
      ++packets;
      ip += ExpectSameTuple(r.interfaces()[p.interface].link_type, p.data, p.caplen, e.path().string());
    }
  }
  EXPECT_GT(packets, 500u);
  EXPECT_GT(ip, 50u);
}

TEST(DecoderAgreement, EveryPacketOfThePluginCorpora) {
  size_t packets = 0, ip = 0;
  for (const char* plugin : {"tls_sni", "dns", "flow_position"}) {
    for (const auto& e : fs::directory_iterator(std::string(PCAPML_SOURCE_DIR "/fuzz/corpus/") + plugin)) {
      std::vector<uint8_t> input = ReadAll(e.path());
      fuzz::PacketStream s(input.data(), input.size());
      fuzz::StreamPacket p;
      while (s.Next(&p)) {
        ++packets;
        ip += ExpectSameTuple(s.link_type(), p.data, p.size, e.path().string());
      }
    }
  }
  EXPECT_GT(packets, 1000u);
  EXPECT_GT(ip, 500u);
}

TEST(DecoderAgreement, TheRuleTestsRandomPackets) {
  testing_packets::Generator g(7);
  size_t ip = 0;
  for (int i = 0; i < 50000; ++i) {
    const uint16_t kLinks[] = {1, 101, 113, 276, 228, 229};
    uint16_t link = kLinks[g.Int(6)];
    std::vector<uint8_t> p = g.Packet(link);
    ip += ExpectSameTuple(link, p.data(), static_cast<uint32_t>(p.size()), "packet " + std::to_string(i));
  }
  EXPECT_GT(ip, 10000u);
}

}  // namespace
}  // namespace pcapml
