// What the process plugin costs (Google Benchmark):
//   process_bench                       userspace: lookup per packet, upkeep per socket
//   sudo process_bench --benchmark_filter=Kernel   the eBPF programs' cost per sent datagram
// BM_Lookup: Process() on packets of N announced sockets (5-tuple hits,
//   half of them in the reverse direction), with the per-connection sample
//   key (sample = "connection") or without (sample = "label").
// BM_LookupListener: packets to a listener from N remote ports (bound-address
//   hits: the first, connected-5-tuple lookups miss).
// BM_LookupNoOwner: packets of no local socket (ports no socket has here).
// BM_Upkeep: one socket announced, attributed once and closed, in a table
//   kept full (so every announcement evicts the least recently used one).
// BM_TableMemory: resident memory per tracked socket (bytes_per_socket; run it
//   alone, --benchmark_filter=TableMemory: memory earlier benchmarks freed is reused).
// BM_KernelSendto: CPU time of one sendto() of a 64-byte datagram over
//   loopback, without the programs (attached:0) and with them attached and
//   their ring drained (attached:1); dests:1 repeats one destination (the
//   egress program compares and returns), dests:1024 changes it every
//   packet (an announcement per packet: the worst case).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "plugin_host/packet_view.h"
#include "plugins/process/process.h"

namespace pcapml::process {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;

pcapml_owner_event Connected(uint32_t i, uint8_t proto = 6) {
  pcapml_owner_event e{};
  e.kind = PCAPML_EV_CONNECTED;
  e.time_ns = i + 1;
  e.cookie = i + 1;
  e.tuple.ip_version = 4;
  e.tuple.protocol = proto;
  e.tuple.lport = static_cast<uint16_t>(1024 + i % 60000);
  e.tuple.rport = 443;
  uint8_t l[4] = {10, 0, uint8_t(i >> 16), uint8_t(i >> 8)}, r[4] = {198, 18, uint8_t(i >> 8), uint8_t(i)};
  std::memcpy(e.tuple.laddr, l, 4);
  std::memcpy(e.tuple.raddr, r, 4);
  e.owner.pid = 1000 + i % 50;
  e.owner.uid = 1000;
  std::snprintf(e.owner.comm, sizeof e.owner.comm, "prog%u", i % 50);
  return e;
}

// An Ethernet/IPv4/TCP frame of event e's 5-tuple, reversed or not.
std::vector<uint8_t> Frame(const pcapml_owner_event& e, bool reverse) {
  std::vector<uint8_t> f(64, 0);
  f[12] = 0x08, f[14] = 0x45, f[16] = 0, f[17] = 50, f[22] = 64, f[23] = 6;
  const uint8_t *src = e.tuple.laddr, *dst = e.tuple.raddr;
  uint16_t sport = e.tuple.lport, dport = e.tuple.rport;
  if (reverse) std::swap(src, dst), std::swap(sport, dport);
  std::memcpy(&f[26], src, 4);
  std::memcpy(&f[30], dst, 4);
  f[34] = uint8_t(sport >> 8), f[35] = uint8_t(sport), f[36] = uint8_t(dport >> 8), f[37] = uint8_t(dport);
  f[46] = 5 << 4, f[47] = 0x10;
  return f;
}

struct Pool {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<plugin::Packet> views;
  void Add(std::vector<uint8_t> f) { frames.push_back(std::move(f)); }
  void Decode() {
    views.resize(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) DecodePacket(1, kT0, frames[i].data(), 64, 64, &views[i]);
  }
  // The benchmark loop: p looks the pool's packets up in turn; returns how many it labeled.
  size_t LookUpAll(benchmark::State& state, ProcessLabeler& p) const {
    plugin::Label label;
    size_t i = 0, labeled = 0;
    for (auto _ : state) {
      labeled += p.Process(views[i], &label) == plugin::Result::kLabel;
      if (++i == views.size()) i = 0;
    }
    return labeled;
  }
};

void BM_Lookup(benchmark::State& state) {
  size_t n = static_cast<size_t>(state.range(0));
  Settings s;
  s.per_connection = state.range(1) != 0;
  s.fields = {Attribute::kPid, Attribute::kComm, Attribute::kUid};
  ProcessLabeler p(std::move(s));
  Pool pool;
  for (uint32_t i = 0; i < n; ++i) {
    auto e = Connected(i);
    p.OnEvent(e);
    pool.Add(Frame(e, i % 2));
  }
  pool.Decode();
  size_t labeled = pool.LookUpAll(state, p);
  if (labeled != static_cast<size_t>(state.iterations())) state.SkipWithError("a packet was not attributed");
}
BENCHMARK(BM_Lookup)->ArgsProduct({{16, 1024, 65536}, {1, 0}})->ArgNames({"sockets", "per_connection"});

void BM_LookupListener(benchmark::State& state) {
  ProcessLabeler p{Settings{}};
  auto bound = Connected(0);
  bound.kind = PCAPML_EV_BOUND;
  bound.tuple.rport = 0;
  std::memset(bound.tuple.raddr, 0, 16);
  p.OnEvent(bound);
  Pool pool;
  for (uint32_t i = 0; i < static_cast<uint32_t>(state.range(0)); ++i) {
    auto e = bound;
    e.tuple.rport = static_cast<uint16_t>(1024 + i);
    uint8_t r[4] = {198, 18, 0, 2};
    std::memcpy(e.tuple.raddr, r, 4);
    pool.Add(Frame(e, true));
  }
  pool.Decode();
  benchmark::DoNotOptimize(pool.LookUpAll(state, p));
}
BENCHMARK(BM_LookupListener)->Arg(1024)->ArgName("remote_ports");

// Packets of no local socket (a mirror of other hosts, generated traffic)
// while `sockets` are tracked: what every such packet costs.
void BM_LookupNoOwner(benchmark::State& state) {
  ProcessLabeler p{Settings{}};
  for (uint32_t i = 0; i < static_cast<uint32_t>(state.range(0)); ++i) p.OnEvent(Connected(i));
  Pool pool;
  for (uint32_t i = 0; i < 1024; ++i) {
    auto e = Connected(i);
    e.tuple.lport = 62000 + i % 3000;  // ports no tracked socket has
    e.tuple.rport = 9;
    e.tuple.laddr[0] = 172;
    pool.Add(Frame(e, i % 2));
  }
  pool.Decode();
  benchmark::DoNotOptimize(pool.LookUpAll(state, p));
}
BENCHMARK(BM_LookupNoOwner)->Arg(1024)->ArgName("sockets");

void BM_Upkeep(benchmark::State& state) {
  uint32_t n = static_cast<uint32_t>(state.range(0));
  Settings s;
  s.max_sockets = n;
  ProcessLabeler p(std::move(s));
  uint32_t i = 0;
  for (; i < n; ++i) p.OnEvent(Connected(i));
  plugin::Label label;
  for (auto _ : state) {
    auto e = Connected(i++);
    p.OnEvent(e);
    auto f = Frame(e, false);
    plugin::Packet v;
    DecodePacket(1, kT0, f.data(), 64, 64, &v);
    benchmark::DoNotOptimize(p.Process(v, &label));
    e.kind = PCAPML_EV_CLOSED;
    p.OnEvent(e);
  }
  state.counters["evicted"] = static_cast<double>(p.evicted());
}
BENCHMARK(BM_Upkeep)->Arg(65536)->ArgName("max_sockets");

size_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, rss = 0;
  in >> pages >> rss;
  return rss * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void BM_TableMemory(benchmark::State& state) {
  uint32_t n = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    size_t before = RssBytes();
    Settings s;
    s.max_sockets = n;
    ProcessLabeler p(std::move(s));
    for (uint32_t i = 0; i < n; ++i) p.OnEvent(Connected(i));
    state.counters["bytes_per_socket"] = static_cast<double>(RssBytes() - before) / n;
  }
}
BENCHMARK(BM_TableMemory)->Arg(65536)->ArgName("sockets")->Iterations(1);

void BM_KernelSendto(benchmark::State& state) {
  bool attached = state.range(0) != 0, drain = state.range(2) != 0;
  int dests = static_cast<int>(state.range(1));
  std::unique_ptr<ProcessLabeler> p;
  if (attached) {
    p = std::make_unique<ProcessLabeler>(Settings{});
    std::string err;
    if (!p->Start(&err)) return state.SkipWithError(err.c_str());
  }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  std::vector<sockaddr_in> to(static_cast<size_t>(dests));
  std::vector<int> sinks;  // never read: once full, the kernel drops what arrives (the same for both variants)
  for (int i = 0; i < dests; ++i) {
    to[i].sin_family = AF_INET;
    to[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sinks.push_back(socket(AF_INET, SOCK_DGRAM, 0));
    socklen_t len = sizeof to[i];
    bind(sinks.back(), reinterpret_cast<sockaddr*>(&to[i]), len);
    getsockname(sinks.back(), reinterpret_cast<sockaddr*>(&to[i]), &len);
  }
  char payload[64] = {};
  plugin::Label label;
  plugin::Packet none;  // not IP: Process only drains the ring
  size_t i = 0;
  for (auto _ : state) {
    sendto(s, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to[i]), sizeof to[i]);
    if (++i == to.size()) i = 0;
    if (p && drain) p->Process(none, &label);
  }
  close(s);
  for (int fd : sinks) close(fd);
  if (p) state.counters["events_lost"] = static_cast<double>(p->events_lost());
}
BENCHMARK(BM_KernelSendto)
    ->ArgsProduct({{0, 1}, {1, 1024}, {1}})
    ->Args({1, 1024, 0})
    ->ArgNames({"attached", "dests", "drained"})
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace pcapml::process

BENCHMARK_MAIN();
