// Per-packet classification cost by rule count and kind (Google Benchmark):
//   pcapml_bench --benchmark_filter=Classify
// Each iteration classifies one packet of a pool of 64Ki Ethernet/IPv4 TCP
// packets between 65536 hosts of 198.18.0.0/16 and 198.19.0.0/16 with
// random ports. Rule sets end with a catch-all so every packet is labeled.
// Counters: rss_MiB is the process's resident memory after building the
// rule set (process-wide: memory earlier benchmarks freed may still count),
// index_KiB what the indexes hold. BM_LinearBpf is the old cost.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "rules/rule.h"
#include "rules/toml_rules.h"

namespace pcapml {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr size_t kPacketLen = 64, kPackets = 1 << 16;

std::vector<uint8_t> MakePackets() {
  std::vector<uint8_t> buf(kPackets * kPacketLen, 0);
  std::mt19937 rng(1);
  for (size_t i = 0; i < kPackets; ++i) {
    uint8_t* f = buf.data() + i * kPacketLen;
    f[12] = 0x08, f[14] = 0x45, f[22] = 64, f[23] = 6;
    uint32_t a = rng() & 0xffff, b = rng() & 0xffff, ports = rng();
    uint8_t src[4] = {198, 18, uint8_t(a >> 8), uint8_t(a)}, dst[4] = {198, 19, uint8_t(b >> 8), uint8_t(b)};
    std::copy(src, src + 4, f + 26), std::copy(dst, dst + 4, f + 30);
    uint16_t sport = 1024 + ports % 60000, dport = 1024 + (ports >> 16) % 60000;
    f[34] = uint8_t(sport >> 8), f[35] = uint8_t(sport), f[36] = uint8_t(dport >> 8), f[37] = uint8_t(dport);
  }
  return buf;
}

const std::vector<uint8_t>& Packets() {
  static const std::vector<uint8_t> packets = MakePackets();
  return packets;
}

std::string Ip(int net, uint32_t host) {
  return "198." + std::to_string(net) + "." + std::to_string(host >> 8 & 255) + "." + std::to_string(host & 255);
}

// Filter of rule i of n for a kind: hosts, ports, /28 prefixes, or a mix
// with time windows. The last rule matches everything.
std::string Filter(const std::string& kind, int i, int n, TimeWindow* window) {
  if (i == n - 1) return "ip";
  uint32_t spread = static_cast<uint32_t>(i) * 10007u;
  std::string k = kind;
  if (kind == "mixed") k = i % 3 == 0 ? "host" : i % 3 == 1 ? "prefix" : "window";
  if (k == "host") return "host " + Ip(18, spread & 0xffff);
  if (k == "port") return "port " + std::to_string(1024 + spread % 60000);
  if (k == "prefix") return "net " + Ip(19, (spread & 0xfff) << 4) + "/28";
  window->first_ns = kT0 + int64_t{i} * 1'000'000'000;  // a second each, mostly not now
  window->last_ns = window->first_ns + 999'999'999;
  return "tcp";
}

long RssKiB() {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f) fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void BM_Classify(benchmark::State& state, const std::string& kind) {
  int n = static_cast<int>(state.range(0));
  const std::vector<uint8_t>& packets = Packets();
  RuleSet set;
  std::string err;
  for (int i = 0; i < n; ++i) {
    Rule r;
    r.id = r.source = "r" + std::to_string(i);
    r.metadata = r.id;
    r.filter = Filter(kind, i, n, &r.window);
    if (!set.Add(std::move(r), &err)) return state.SkipWithError(err.c_str());
  }
  if (!set.Prepare(1, &err)) return state.SkipWithError(err.c_str());
  size_t i = 0;
  uint64_t matched = 0;
  for (auto _ : state) {
    const uint8_t* p = packets.data() + (i++ & (kPackets - 1)) * kPacketLen;
    Verdict v = set.Classify(1, kT0 + int64_t(i & 0xffff) * 100'000'000, p, kPacketLen, kPacketLen);
    matched += v.rule != nullptr;
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rss_MiB"] = static_cast<double>(RssKiB()) / 1024;
  state.counters["index_KiB"] = static_cast<double>(set.index_bytes()) / 1024;
  state.counters["linear_pct"] = 100.0 * set.stats().linear_packets / std::max<uint64_t>(1, state.iterations());
  if (matched != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a packet matched no rule");
}

// The old cost: every rule's BPF program in order until one matches.
void BM_LinearBpf(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  const std::vector<uint8_t>& packets = Packets();
  std::vector<std::unique_ptr<BpfFilter>> filters;
  std::string err;
  TimeWindow unused;
  for (int i = 0; i < n; ++i) {
    filters.push_back(std::make_unique<BpfFilter>(Filter("host", i, n, &unused)));
    if (!filters.back()->Prepare(1, &err)) return state.SkipWithError(err.c_str());
  }
  size_t i = 0;
  for (auto _ : state) {
    const uint8_t* p = packets.data() + (i++ & (kPackets - 1)) * kPacketLen;
    for (auto& f : filters)
      if (f->Matches(1, p, kPacketLen, kPacketLen)) break;
  }
  state.SetItemsProcessed(state.iterations());
}

// Parsing and preparing a 10,000-rule TOML file of host and prefix rules.
void BM_LoadTomlRules(benchmark::State& state) {
  std::string text;
  int n = static_cast<int>(state.range(0));
  TimeWindow unused;
  for (int i = 0; i < n; ++i)
    text += "[[rule]]\nid = \"r" + std::to_string(i) + "\"\nlabel = \"l" + std::to_string(i) + "\"\nfilter = \"" +
            Filter(i % 2 ? "host" : "prefix", i, n, &unused) + "\"\n\n";
  for (auto _ : state) {
    RuleSet set;
    std::string err;
    if (!ParseTomlRules("bench.toml", text, "", &set, &err) || !set.Prepare(1, &err))
      return state.SkipWithError(err.c_str());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK_CAPTURE(BM_Classify, host, std::string("host"))->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_Classify, port, std::string("port"))->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_Classify, prefix, std::string("prefix"))->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_Classify, mixed, std::string("mixed"))->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_LinearBpf)->Arg(1)->Arg(100)->Arg(1000);
BENCHMARK(BM_LoadTomlRules)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pcapml

BENCHMARK_MAIN();
