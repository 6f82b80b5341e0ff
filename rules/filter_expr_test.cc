#include "rules/filter_expr.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include "rules/bpf.h"
#include "rules/matcher.h"
#include "rules/test_packets.h"

namespace pcapml {
namespace {

using testing_packets::Generator;

TEST(FilterExprTest, ParsesTheSubset) {
  const char* supported[] = {"host 10.0.0.1",
                             "src host 10.0.0.1",
                             "dst 10.0.0.1",
                             "ip host 10.0.0.1",
                             "arp host 10.0.0.1",
                             "net 10.0.0.0/8",
                             "src net 10.0.0.0 mask 255.0.0.0",
                             "host 2001:db8::1",
                             "net 2001:db8::/32",
                             "ether host 00:11:22:33:44:55",
                             "ether src 00:11:22:33:44:55",
                             "port 80",
                             "tcp dst port 443",
                             "udp portrange 1000-2000",
                             "tcp",
                             "udp",
                             "icmp",
                             "ip",
                             "ip6",
                             "arp",
                             "vlan",
                             "vlan 10 and host 10.0.0.1",
                             "host 10.0.0.1 or 10.0.0.2",
                             "tcp port 80 or 443 and not 8080",
                             "not (host 10.0.0.1 || port 53)",
                             "vlan and vlan 20 and ip",
                             "host 10.0.0.1 && !port 22"};
  for (const char* s : supported) {
    FilterExpr e;
    EXPECT_TRUE(ParseFilterExpr(s, &e)) << s;
  }
  const char* left_to_libpcap[] = {"host example.com",
                                   "port http",
                                   "port 0x50",
                                   "tcp[13] & 2 != 0",
                                   "less 100",
                                   "ip proto 47",
                                   "net 10",
                                   "net 10.0.0.0",
                                   "host 1.2.3.4 or (port 80) or 5.6.7.8",
                                   "src or dst host 10.0.0.1",
                                   "vlan and vlan and vlan and ip",
                                   "icmp6",
                                   "ether proto 0x800",
                                   "host 010.0.0.1",
                                   "gateway x"};
  for (const char* s : left_to_libpcap) {
    FilterExpr e;
    EXPECT_FALSE(ParseFilterExpr(s, &e)) << s;
  }
  FilterExpr e;  // libpcap stops at a NUL: the text after it is not what it compiled
  EXPECT_FALSE(ParseFilterExpr(std::string_view("host 10.0.0.1\0 or tcp", 21), &e));
}

// Rules in the subset are not compiled unless needed: everything the parser
// accepts must be something libpcap compiles where FilterExpr is used.
TEST(FilterExprTest, SubsetAlwaysCompiles) {
  const char* seed = getenv("PCAPML_FUZZ_SEED");
  const char* rounds = getenv("PCAPML_FUZZ_ROUNDS");
  Generator g(seed ? static_cast<uint32_t>(atoi(seed)) : 99);
  int parsed = 0;
  for (int round = 0; round < (rounds ? atoi(rounds) * 20 : 3000); ++round) {
    std::string text = g.Filter(round % 2 == 0);
    FilterExpr e;
    if (!ParseFilterExpr(text, &e)) continue;
    ++parsed;
    for (uint16_t lt : {1, 101, 113, 276}) {
      if (NeedsBpf(&e, lt)) continue;
      BpfFilter bpf(text);
      std::string err;
      EXPECT_TRUE(bpf.Prepare(lt, &err)) << text << " on link type " << lt << ": " << err;
    }
  }
  EXPECT_GT(parsed, 1500);
}

TEST(FilterExprTest, AndOrHaveEqualPrecedenceLikeLibpcap) {
  // libpcap reads "a or b and c" as "(a or b) and c".
  FilterExpr e;
  ASSERT_TRUE(ParseFilterExpr("tcp or udp and port 53", &e));
  EXPECT_EQ(e.nodes[e.root].op, FilterNode::kAnd);
}

TEST(FilterExprTest, VlanShiftsEverythingAfterIt) {
  FilterExpr e;
  ASSERT_TRUE(ParseFilterExpr("vlan or ip", &e));
  EXPECT_EQ(e.primitives[1].depth, 1);
  EXPECT_EQ(e.max_depth, 1);
  EXPECT_TRUE(e.ethernet_only);
}

// PCAPML_FUZZ_SEED and PCAPML_FUZZ_ROUNDS run it longer by hand.
// The contract: on every complete packet, Evaluate equals pcap_offline_filter
// of the optimized program, for random expressions and link types.
TEST(FilterExprTest, MatchesLibpcapOnRandomPackets) {
  const char* seed = getenv("PCAPML_FUZZ_SEED");
  const char* rounds = getenv("PCAPML_FUZZ_ROUNDS");
  Generator g(seed ? static_cast<uint32_t>(atoi(seed)) : 20240601);
  const uint16_t link_types[] = {1, 1, 1, 101, 113, 276, 228, 229};
  int parsed = 0, compiled = 0, compared = 0;
  for (int round = 0; round < (rounds ? atoi(rounds) * 12 : 1500); ++round) {
    uint16_t lt = link_types[round % 8];
    std::string text = g.Filter(lt == 1);
    BpfFilter bpf(text);
    std::string err;
    if (!bpf.Prepare(lt, &err)) continue;
    ++compiled;
    FilterExpr e;
    if (!ParseFilterExpr(text, &e)) continue;
    ++parsed;
    HeaderDecoder dec;
    if (!dec.Init(lt, e.max_depth)) continue;
    for (int i = 0; i < 60; ++i) {
      std::vector<uint8_t> p = g.Packet(lt);
      PacketHeaders h;
      dec.Decode(p.data(), static_cast<uint32_t>(p.size()), &h);
      if (!h.complete) continue;
      uint32_t n = static_cast<uint32_t>(p.size());
      ASSERT_EQ(Evaluate(e, h), bpf.Matches(lt, p.data(), n, n))
          << "filter '" << text << "' link type " << lt << " packet of " << n << " bytes";
      ++compared;
    }
  }
  // The generator must exercise the subset, not just the fallback.
  EXPECT_GT(parsed, compiled * 6 / 10);
  EXPECT_GT(compared, 30000);
}

}  // namespace
}  // namespace pcapml
