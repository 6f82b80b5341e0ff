#include "rules/flow_table.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "rules/rule.h"
#include "rules/sample_id.h"

namespace pcapml {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000, kSecond = 1'000'000'000;

// Ethernet (optionally 802.1Q-tagged) + IPv4 + TCP/UDP ports.
std::vector<uint8_t> Ipv4Packet(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t proto = 6,
                                bool vlan = false) {
  std::vector<uint8_t> p(12, 0x02);
  if (vlan) p.insert(p.end(), {0x81, 0x00, 0x00, 0x0a});
  p.insert(p.end(), {0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, proto, 0, 0});
  size_t ip = p.size() - 12;
  p.resize(p.size() + 8 + 20);
  inet_pton(AF_INET, src, p.data() + ip + 12);
  inet_pton(AF_INET, dst, p.data() + ip + 16);
  p[ip + 20] = static_cast<uint8_t>(sport >> 8), p[ip + 21] = static_cast<uint8_t>(sport);
  p[ip + 22] = static_cast<uint8_t>(dport >> 8), p[ip + 23] = static_cast<uint8_t>(dport);
  return p;
}

TEST(FlowTableTest, DecodesBothDirectionsToOneKey) {
  FlowKey a, b, c;
  auto out = Ipv4Packet("10.0.0.2", 443, "10.0.0.1", 40000, 6, true);
  auto back = Ipv4Packet("10.0.0.1", 40000, "10.0.0.2", 443);
  ASSERT_TRUE(DecodeFlow(1, out.data(), static_cast<uint32_t>(out.size()), &a));
  ASSERT_TRUE(DecodeFlow(1, back.data(), static_cast<uint32_t>(back.size()), &b));
  EXPECT_EQ(a, b);
  std::string suffix;
  AppendFlowSuffix(a, 42, &suffix);
  EXPECT_EQ(suffix, "6 10.0.0.1 40000 10.0.0.2 443|42");
  // Raw IPv6 with a hop-by-hop header before UDP.
  std::vector<uint8_t> v6(40 + 8 + 8, 0);
  v6[0] = 0x60, v6[6] = 0, v6[40] = 17, v6[48] = 0x13, v6[49] = 0x88, v6[51] = 53;
  inet_pton(AF_INET6, "2001:db8::2", v6.data() + 8);
  inet_pton(AF_INET6, "2001:db8::1", v6.data() + 24);
  ASSERT_TRUE(DecodeFlow(101, v6.data(), static_cast<uint32_t>(v6.size()), &c));
  suffix.clear();
  AppendFlowSuffix(c, 7, &suffix);
  EXPECT_EQ(suffix, "17 2001:db8::1 53 2001:db8::2 5000|7");
  std::vector<uint8_t> arp(42, 0);
  arp[12] = 0x08, arp[13] = 0x06;
  EXPECT_FALSE(DecodeFlow(1, arp.data(), 42, &c));
}

RuleSet FlowRules(size_t max_flows = 1000) {
  RuleSet set(SampleOptions{max_flows});
  RuleSpec spec;
  spec.id = "web";
  spec.label = "browsing";
  spec.filter = "tcp or arp";
  spec.sample = SampleMode::kFlow;
  spec.idle_timeout_ns = 30 * kSecond;
  Rule r;
  std::string err;
  EXPECT_TRUE(BuildRule(spec, "", &r, &err)) << err;
  EXPECT_TRUE(set.Add(std::move(r), &err)) << err;
  EXPECT_TRUE(set.Prepare(1, &err)) << err;
  return set;
}

uint64_t SampleOf(RuleSet& set, const std::vector<uint8_t>& p, int64_t ts) {
  Verdict v = set.Classify(1, ts, p.data(), static_cast<uint32_t>(p.size()), static_cast<uint32_t>(p.size()));
  EXPECT_TRUE(v.rule);
  EXPECT_EQ(v.comment, std::to_string(v.sample_id) + ",browsing");
  return v.sample_id;
}

TEST(FlowTableTest, OneSamplePerConnectionUntilIdle) {
  RuleSet set = FlowRules();
  auto out = Ipv4Packet("10.0.0.1", 40000, "10.0.0.2", 443);
  auto back = Ipv4Packet("10.0.0.2", 443, "10.0.0.1", 40000);
  auto other = Ipv4Packet("10.0.0.1", 40001, "10.0.0.2", 443);
  uint64_t first = SampleOf(set, out, kT0);
  EXPECT_EQ(first, SampleId("web|6 10.0.0.1 40000 10.0.0.2 443|" + std::to_string(kT0)));
  EXPECT_EQ(SampleOf(set, back, kT0 + 10 * kSecond), first);
  EXPECT_EQ(SampleOf(set, out, kT0 + 39 * kSecond), first);  // 29 s of silence: same flow
  uint64_t second = SampleOf(set, other, kT0 + 40 * kSecond);
  EXPECT_NE(second, first);
  // The first connection's 5-tuple after 31 s of silence: a new sample.
  uint64_t reused = SampleOf(set, back, kT0 + 70 * kSecond);
  EXPECT_NE(reused, first);
  EXPECT_EQ(reused, SampleId("web|6 10.0.0.1 40000 10.0.0.2 443|" + std::to_string(kT0 + 70 * kSecond)));
  // Non-IP packets of a flow rule keep the rule's own sample.
  std::vector<uint8_t> arp(42, 0);
  arp[12] = 0x08, arp[13] = 0x06;
  EXPECT_EQ(SampleOf(set, arp, kT0 + 71 * kSecond), SampleId("web"));
  EXPECT_EQ(set.stats().flows.started, 3u);
  EXPECT_EQ(set.stats().flows.expired, 1u);
}

TEST(FlowTableTest, TableIsBoundedAndCountsEvictions) {
  RuleSet set = FlowRules(2);
  for (uint16_t port = 1; port <= 5; ++port) SampleOf(set, Ipv4Packet("10.0.0.1", port, "10.0.0.2", 80), kT0);
  FlowStats s = set.stats().flows;
  EXPECT_EQ(s.started, 5u);
  EXPECT_EQ(s.evicted, 3u);
  EXPECT_EQ(s.active, 2u);
  // Many flows through a small table: slots are reused, lookups stay right.
  RuleSet big = FlowRules(64);
  std::vector<uint64_t> ids;
  for (uint16_t port = 1; port <= 64; ++port)
    ids.push_back(SampleOf(big, Ipv4Packet("10.0.0.1", port, "10.0.0.2", 80), kT0));
  for (uint16_t port = 1; port <= 64; ++port)
    EXPECT_EQ(SampleOf(big, Ipv4Packet("10.0.0.2", 80, "10.0.0.1", port), kT0 + 1), ids[port - 1]);
  EXPECT_EQ(big.stats().flows.evicted, 0u);
}

// One rule, sample = "window" of 60 s, matching every packet.
RuleSet WindowRules(SampleOptions options) {
  RuleSet set(options);
  RuleSpec spec;
  spec.id = "all";
  spec.label = "x";
  spec.sample = SampleMode::kWindow;
  spec.window_ns = 60 * kSecond;
  Rule r;
  std::string err;
  EXPECT_TRUE(BuildRule(spec, "s", &r, &err)) << err;
  EXPECT_TRUE(set.Add(std::move(r), &err)) << err;
  EXPECT_TRUE(set.Prepare(1, &err)) << err;
  return set;
}

TEST(FlowTableTest, WindowSamplesAlignToTheEpoch) {
  RuleSet set = WindowRules(SampleOptions{.count_windows = true});
  uint8_t p[14] = {};
  int64_t start = (kT0 / (60 * kSecond)) * 60 * kSecond;
  auto id = [&](int64_t ts) { return set.Classify(1, ts, p, 14, 14).sample_id; };
  EXPECT_EQ(id(start + 1), SampleId("s/all|" + std::to_string(start)));
  EXPECT_EQ(id(start + 60 * kSecond - 1), id(start));
  EXPECT_EQ(id(start + 60 * kSecond), SampleId("s/all|" + std::to_string(start + 60 * kSecond)));
  EXPECT_EQ(id(start + 2), id(start));  // back to a window seen before: not a new sample
  EXPECT_EQ(set.stats().window_samples, 2u);
}

// The daemon's rule sets keep no window IDs (they would grow for months) but label alike.
TEST(FlowTableTest, WindowsUncountedLabelAlike) {
  RuleSet counted = WindowRules(SampleOptions{.count_windows = true});
  RuleSet uncounted = WindowRules(SampleOptions{});
  uint8_t p[14] = {};
  for (int64_t ts = kT0; ts < kT0 + 3600 * kSecond; ts += 7 * kSecond)
    ASSERT_EQ(uncounted.Classify(1, ts, p, 14, 14).sample_id, counted.Classify(1, ts, p, 14, 14).sample_id);
  EXPECT_EQ(counted.stats().window_samples, 60u + (kT0 % (60 * kSecond) != 0));
  EXPECT_EQ(uncounted.stats().window_samples, 0u);
}

}  // namespace
}  // namespace pcapml
