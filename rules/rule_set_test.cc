#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "rules/rule.h"
#include "rules/sample_id.h"
#include "rules/test_packets.h"

namespace pcapml {
namespace {

using testing_packets::Generator;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;

Rule MakeRule(const std::string& id, const std::string& filter, TimeWindow w = {}) {
  Rule r;
  r.id = r.source = id;
  r.metadata = "label-" + id;
  r.filter = filter;
  r.window = w;
  return r;
}

// The reference: every rule's BPF program tried in order.
int LinearAnswer(const std::vector<std::unique_ptr<BpfFilter>>& bpf, const std::vector<TimeWindow>& windows,
                 uint16_t lt, int64_t ts, const std::vector<uint8_t>& p) {
  uint32_t n = static_cast<uint32_t>(p.size());
  for (size_t i = 0; i < bpf.size(); ++i)
    if (windows[i].Contains(ts) && (!bpf[i] || bpf[i]->Matches(lt, p.data(), n, n))) return static_cast<int>(i);
  return -1;
}

TimeWindow RandomWindow(Generator& g) {
  TimeWindow w;
  if (g.Chance(70)) return w;
  if (g.Chance(70)) w.first_ns = kT0 + g.Int(1000) * 1'000'000LL;
  if (g.Chance(70)) w.last_ns = kT0 + (500 + g.Int(1000)) * 1'000'000LL;
  if (w.first_ns > w.last_ns) std::swap(w.first_ns, w.last_ns);
  return w;
}

// The contract of the issue: for random rule sets drawn from the supported
// grammar (plus some the fallback handles) and random packets, the first
// matching rule equals the linear pcap_offline_filter answer on every packet.
// PCAPML_FUZZ_SEED and PCAPML_FUZZ_ROUNDS run it longer by hand.
TEST(RuleSetTest, FirstMatchEqualsLinearBpf) {
  const char* seed = getenv("PCAPML_FUZZ_SEED");
  const char* rounds_env = getenv("PCAPML_FUZZ_ROUNDS");
  const int rounds = rounds_env ? atoi(rounds_env) : 120;
  Generator g(seed ? static_cast<uint32_t>(atoi(seed)) : 77);
  const uint16_t link_types[] = {1, 1, 1, 101, 113, 276, 228, 0};
  uint64_t packets = 0, matched = 0;
  for (int round = 0; round < rounds; ++round) {
    uint16_t lt = link_types[round % 8];
    RuleSet set;
    std::vector<std::unique_ptr<BpfFilter>> bpf;
    std::vector<TimeWindow> windows;
    int rules = 1 + g.Int(40);
    for (int i = 0; static_cast<int>(bpf.size()) < rules && i < rules * 3; ++i) {
      std::string filter = g.Chance(8) ? "" : g.Filter(lt == 1);
      auto prog = filter.empty() ? nullptr : std::make_unique<BpfFilter>(filter);
      std::string err;
      if (prog && !prog->Prepare(lt, &err)) continue;  // libpcap refuses it for this link type
      Rule r = MakeRule("r" + std::to_string(bpf.size()), filter, RandomWindow(g));
      windows.push_back(r.window);
      ASSERT_TRUE(set.Add(std::move(r), &err)) << err;
      bpf.push_back(std::move(prog));
    }
    std::string err;
    ASSERT_TRUE(set.Prepare(lt, &err)) << err;
    for (int i = 0; i < 400; ++i) {
      std::vector<uint8_t> p = g.Packet(lt);
      int64_t ts = kT0 + g.Int(1600) * 1'000'000LL;
      int want = LinearAnswer(bpf, windows, lt, ts, p);
      Verdict v = set.Classify(lt, ts, p.data(), static_cast<uint32_t>(p.size()), static_cast<uint32_t>(p.size()));
      int got = v.rule ? std::stoi(v.rule->id.substr(1)) : -1;
      ASSERT_EQ(got, want) << "round " << round << " link type " << lt << " packet " << i << " rule "
                           << (want >= 0 ? set.rule(want).filter : "-");
      ++packets, matched += want >= 0;
    }
  }
  EXPECT_EQ(packets, static_cast<uint64_t>(rounds) * 400);
  EXPECT_GT(matched, packets / 4);  // the pools make rules match often
  EXPECT_LT(matched, packets);
}

TEST(RuleSetTest, IndexesAnswerWithoutLinearScan) {
  RuleSet set;
  std::string err;
  for (int i = 0; i < 1000; ++i) {
    std::string host = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1";
    ASSERT_TRUE(set.Add(MakeRule("h" + std::to_string(i), "host " + host), &err)) << err;
  }
  ASSERT_TRUE(set.Add(MakeRule("net", "net 192.168.0.0/16"), &err)) << err;
  ASSERT_TRUE(set.Prepare(1, &err)) << err;
  // Ethernet + IPv4 UDP 192.168.3.4 -> 10.2.7.1
  std::vector<uint8_t> p(14 + 28, 0);
  p[12] = 0x08, p[14] = 0x45, p[14 + 9] = 17;
  const uint8_t src[] = {192, 168, 3, 4}, dst[] = {10, 2, 7, 1};
  std::copy(src, src + 4, p.begin() + 26);
  std::copy(dst, dst + 4, p.begin() + 30);
  Verdict v = set.Classify(1, kT0, p.data(), 42, 42);
  ASSERT_TRUE(v.rule);
  EXPECT_EQ(v.rule->id, "h507");  // the host rule comes before the net rule
  EXPECT_EQ(set.stats().indexed_packets, 1u);
  EXPECT_EQ(set.stats().linear_packets, 0u);
}

TEST(RuleSetTest, AddAndRemoveAtRunTime) {
  RuleSet set;
  std::string err;
  ASSERT_TRUE(set.Add(MakeRule("any-udp", "udp"), &err));
  ASSERT_TRUE(set.Prepare(1, &err));
  std::vector<uint8_t> p(14 + 28, 0);
  p[12] = 0x08, p[14] = 0x45, p[14 + 9] = 17, p[14 + 23] = 53;  // udp dst port 53
  EXPECT_EQ(set.Classify(1, kT0, p.data(), 42, 42).rule->id, "any-udp");
  EXPECT_FALSE(set.Add(MakeRule("any-udp", "tcp"), &err));
  EXPECT_NE(err.find("duplicate"), std::string::npos);
  EXPECT_FALSE(set.Add(MakeRule("bad", "hots 1.2.3.4"), &err));
  EXPECT_NE(err.find("bad"), std::string::npos);
  ASSERT_TRUE(set.Add(MakeRule("dns", "udp port 53"), &err));
  EXPECT_EQ(set.Classify(1, kT0, p.data(), 42, 42).rule->id, "any-udp");  // still first
  ASSERT_TRUE(set.Remove("any-udp"));
  EXPECT_FALSE(set.Remove("any-udp"));
  EXPECT_EQ(set.Classify(1, kT0, p.data(), 42, 42).rule->id, "dns");
  EXPECT_EQ(set.size(), 1u);
}

// The daemon's run-time rules: an empty set prepared first, rules added and
// ended while packets flow; counts survive the rebuilds.
TEST(RuleSetTest, PreparedEmptyThenAddedAndCounted) {
  RuleSet set;
  std::string err;
  ASSERT_TRUE(set.Prepare(1, &err));
  std::vector<uint8_t> p(14 + 28, 0);
  p[12] = 0x08, p[14] = 0x45, p[14 + 9] = 17, p[14 + 22] = 0x1b, p[14 + 23] = 0x58;  // udp dst port 7000
  EXPECT_FALSE(set.Classify(1, kT0, p.data(), 42, 42).rule);
  Rule r = MakeRule("run-3", "udp port 7000", {kT0, TimeWindow().last_ns});
  ASSERT_TRUE(set.Add(std::move(r), &err)) << err;
  EXPECT_FALSE(set.Classify(1, kT0 - 1, p.data(), 42, 42).rule);  // before it was added
  EXPECT_EQ(set.Classify(1, kT0, p.data(), 42, 42).rule->id, "run-3");
  ASSERT_TRUE(set.Add(MakeRule("other", "tcp"), &err)) << err;
  EXPECT_EQ(set.Classify(1, kT0 + 1, p.data(), 42, 42).rule->id, "run-3");
  EXPECT_EQ(set.Find("run-3")->packets, 2u);
  ASSERT_TRUE(set.Remove("other"));
  EXPECT_EQ(set.rule(0).packets, 2u);
}

TEST(RuleSetTest, LegacyBoundsAndComment) {
  RuleSet set;
  std::string err;
  Rule r = MakeRule("w", "");
  r.window = {kT0, kT0 + 999'999'999};
  ASSERT_TRUE(set.Add(std::move(r), &err));
  ASSERT_TRUE(set.Prepare(101, &err));
  uint8_t pkt[20] = {0x45};
  EXPECT_TRUE(set.Classify(101, kT0 + 999'999'999, pkt, 20, 20).rule);
  EXPECT_FALSE(set.Classify(101, kT0 + 1'000'000'000, pkt, 20, 20).rule);
  Verdict v = set.Classify(101, kT0, pkt, 20, 20);
  EXPECT_EQ(v.sample_id, SampleId("w"));
  EXPECT_EQ(v.comment, std::to_string(SampleId("w")) + ",label-w");
}

// Run-time rules: adds and removes interleaved with packets, on a set
// prepared first (one segment per add, merged as they grow, removed rules
// disabled in place, compacted when half are gone): the answer stays the
// linear answer over the rules still there, in the order they were added.
TEST(RuleSetTest, AddsAndRemovesAtRunTimeEqualLinearBpf) {
  Generator g(19);
  for (uint16_t lt : {uint16_t{1}, uint16_t{101}}) {
    RuleSet set;
    std::string err;
    ASSERT_TRUE(set.Prepare(lt, &err)) << err;
    std::vector<std::string> ids;
    std::vector<std::unique_ptr<BpfFilter>> bpf;
    std::vector<TimeWindow> windows;
    int next = 0;
    for (int step = 0; step < 600; ++step) {
      if (ids.empty() || g.Chance(60)) {
        std::string filter = g.Chance(8) ? "" : g.Filter(lt == 1);
        auto prog = filter.empty() ? nullptr : std::make_unique<BpfFilter>(filter);
        if (prog && !prog->Prepare(lt, &err)) continue;
        Rule r = MakeRule("r" + std::to_string(next++), filter, RandomWindow(g));
        windows.push_back(r.window);
        ids.push_back(r.id);
        ASSERT_TRUE(set.Add(std::move(r), &err)) << err;
        bpf.push_back(std::move(prog));
      } else {
        size_t k = static_cast<size_t>(g.Int(static_cast<int>(ids.size())));
        ASSERT_TRUE(set.Remove(ids[k]));
        ids.erase(ids.begin() + static_cast<ptrdiff_t>(k));
        bpf.erase(bpf.begin() + static_cast<ptrdiff_t>(k));
        windows.erase(windows.begin() + static_cast<ptrdiff_t>(k));
      }
      ASSERT_EQ(set.size(), ids.size());
      for (int i = 0; i < 20; ++i) {
        std::vector<uint8_t> p = g.Packet(lt);
        int64_t ts = kT0 + g.Int(1600) * 1'000'000LL;
        int want = LinearAnswer(bpf, windows, lt, ts, p);
        Verdict v = set.Classify(lt, ts, p.data(), static_cast<uint32_t>(p.size()), static_cast<uint32_t>(p.size()));
        ASSERT_EQ(v.rule ? v.rule->id : "-", want >= 0 ? ids[static_cast<size_t>(want)] : "-")
            << "link type " << lt << " step " << step;
      }
    }
    size_t i = 0;
    set.ForEachRule([&](const Rule& r) { EXPECT_EQ(r.id, ids[i++]); });
    EXPECT_EQ(i, ids.size());
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(set.rule(ids.size() - 1).id, ids.back());
  }
}

// An add or a remove costs the same with 10,000 rules active as with none
// (it used to rebuild every matcher: 10,000 adds took minutes).
TEST(RuleSetTest, TenThousandAddsThenRemovesTakeUnderASecondEach) {
  RuleSet set;
  std::string err;
  ASSERT_TRUE(set.Prepare(1, &err)) << err;
  const int n = 10000;
  auto filter = [](int i) {
    switch (i % 4) {
      case 0:
        return "host 198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250);
      case 1:
        return "udp port " + std::to_string(1024 + i);
      case 2:
        return std::string("tcp");
      default:
        return std::string();
    }
  };
  auto seconds = [](auto since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  };
  auto started = std::chrono::steady_clock::now();
  // Windows from when each was added; those without a filter start later (they would match everything).
  for (int i = 0; i < n; ++i) {
    TimeWindow w{i % 4 == 3 ? kT0 + 1'000'000'000'000 : kT0 + i, TimeWindow().last_ns};
    ASSERT_TRUE(set.Add(MakeRule("r" + std::to_string(i), filter(i), w), &err)) << err;
  }
  EXPECT_LT(seconds(started), 1.0);
  // Ethernet + IPv4 UDP 198.18.0.4 -> 198.18.0.9 port 1029: rule r4 (host) comes before r5 (port 1029).
  std::vector<uint8_t> p(14 + 28, 0);
  p[12] = 0x08, p[14] = 0x45, p[14 + 9] = 17, p[14 + 22] = 1029 >> 8, p[14 + 23] = 1029 & 0xff;
  const uint8_t src[] = {198, 18, 0, 4}, dst[] = {198, 18, 0, 9};
  std::copy(src, src + 4, p.begin() + 26);
  std::copy(dst, dst + 4, p.begin() + 30);
  EXPECT_EQ(set.Classify(1, kT0 + n, p.data(), 42, 42).rule->id, "r4");
  EXPECT_EQ(set.Find("r4")->packets, 1u);
  started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(set.Remove("r" + std::to_string(i)));
    if (i == 4) {
      EXPECT_EQ(set.Classify(1, kT0 + n, p.data(), 42, 42).rule->id, "r5");
    }
  }
  EXPECT_LT(seconds(started), 1.0);
  EXPECT_EQ(set.size(), 0u);
  EXPECT_FALSE(set.Classify(1, kT0 + n, p.data(), 42, 42).rule);
  EXPECT_EQ(set.index_bytes(), 0u);
}

}  // namespace
}  // namespace pcapml
