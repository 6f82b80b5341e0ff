// The process plugin without its eBPF programs: the events they send are
// made here and fed in, packets are real frames decoded as pcapml does.
// bpf_owners.cc and the programs themselves run in tests/e2e/test_process.py.
#include "plugins/process/process.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "plugins/testing/test_packets.h"

namespace pcapml::process {
namespace {

using plugin::Result;
using testing_packets::Segment;

constexpr int64_t kSecond = 1'000'000'000, kT0 = 1'700'000'000 * kSecond;

pcapml_owner_event Event(uint32_t kind, const std::string& laddr, uint16_t lport, const std::string& raddr,
                         uint16_t rport, uint8_t proto, uint32_t pid, const char* comm, int64_t boot_ns,
                         uint64_t cookie = 0) {
  pcapml_owner_event e{};
  e.kind = kind;
  e.time_ns = static_cast<uint64_t>(boot_ns);
  e.cookie = cookie;
  bool v6 = laddr.find(':') != std::string::npos;
  e.tuple.ip_version = v6 ? 6 : 4;
  e.tuple.protocol = proto;
  e.tuple.lport = lport;
  e.tuple.rport = rport;
  inet_pton(v6 ? AF_INET6 : AF_INET, laddr.c_str(), e.tuple.laddr);
  if (!raddr.empty()) inet_pton(v6 ? AF_INET6 : AF_INET, raddr.c_str(), e.tuple.raddr);
  e.owner.pid = pid;
  e.owner.tid = pid + 1;
  e.owner.uid = 1000;
  e.owner.cgroup_id = 0;
  snprintf(e.owner.comm, sizeof e.owner.comm, "%s", comm);
  return e;
}

struct Seen {
  Result result = Result::kNoOpinion;
  std::string label, key;
  std::map<std::string, std::string> fields;
};

Seen Feed(ProcessLabeler& p, const Segment& s, int64_t at) {
  auto t = testing_packets::Decoded(s, at);
  plugin::Label l;
  Seen out;
  out.result = p.Process(t.view, &l);
  if (out.result != Result::kLabel) return out;
  out.label = l.label;
  out.key = l.sample_key;
  for (uint32_t i = 0; i < l.field_count; ++i) out.fields[std::string(l.fields[i].key)] = l.fields[i].value;
  return out;
}

Segment Tcp(const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport) {
  return Segment{src, dst, sport, dport, 6, 1, 0x10, {}};
}

Segment Reverse(Segment s) {
  std::swap(s.src, s.dst);
  std::swap(s.sport, s.dport);
  return s;
}

// Event times are CLOCK_BOOTTIME; with this offset boot time 0 is kT0.
std::unique_ptr<ProcessLabeler> Make(Settings s = {}) {
  auto p = std::make_unique<ProcessLabeler>(std::move(s));
  p->set_boot_to_wall_ns(kT0);
  return p;
}

TEST(ProcessLabeler, LoopbackConnectionBelongsToTheEndThatConnected) {
  auto p = Make();
  // The server binds and listens, the client connects (its SYN announces it),
  // then the accepted socket, which inherits the server's owner, sends.
  p->OnEvent(Event(PCAPML_EV_BOUND, "0.0.0.0", 8000, "", 0, 6, 100, "python3", 10));
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "127.0.0.1", 40000, "127.0.0.1", 8000, 6, 200, "curl", 20));
  Segment syn = Tcp("127.0.0.1", 40000, "127.0.0.1", 8000);
  Seen a = Feed(*p, syn, kT0 + 21);
  Seen b = Feed(*p, Reverse(syn), kT0 + 22);  // SYN-ACK: the listener is bound to that port, the client connected
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "127.0.0.1", 8000, "127.0.0.1", 40000, 6, 100, "python3", 30));
  Seen c = Feed(*p, Reverse(syn), kT0 + 31);
  Seen d = Feed(*p, syn, kT0 + 32);
  for (const Seen* s : {&a, &b, &c, &d}) {
    EXPECT_EQ(s->result, Result::kLabel);
    EXPECT_EQ(s->label, "curl");
    EXPECT_EQ(s->fields.at("pid"), "200");
    EXPECT_EQ(s->fields.at("comm"), "curl");
    EXPECT_EQ(s->fields.at("uid"), "1000");
    EXPECT_EQ(s->key, a.key);
  }
  EXPECT_EQ(a.key, "6 127.0.0.1 8000 127.0.0.1 40000|" + std::to_string(kT0 + 21));
  EXPECT_EQ(a.fields.count("unit"), 0u);  // no cgroup known: no unit field
}

TEST(ProcessLabeler, ListenerOwnsInboundConnectionsFromElsewhere) {
  auto p = Make();
  uint8_t local[4] = {198, 18, 0, 1};
  p->AddLocalAddress(4, local);
  p->OnEvent(Event(PCAPML_EV_BOUND, "0.0.0.0", 8000, "", 0, 6, 100, "python3", 10));
  Segment in1 = Tcp("198.18.0.2", 50000, "198.18.0.1", 8000), in2 = Tcp("198.18.0.2", 50001, "198.18.0.1", 8000);
  Seen a = Feed(*p, in1, kT0 + 20), b = Feed(*p, Reverse(in1), kT0 + 21), c = Feed(*p, in2, kT0 + 22);
  EXPECT_EQ(a.label, "python3");
  EXPECT_EQ(b.label, "python3");
  EXPECT_EQ(c.label, "python3");
  EXPECT_EQ(a.key, b.key);
  EXPECT_NE(a.key, c.key);  // one sample per connection
  // Another host's port that happens to be bound here (wildcard) is not this socket.
  p->OnEvent(Event(PCAPML_EV_BOUND, "0.0.0.0", 50002, "", 0, 6, 300, "other", 30));
  EXPECT_EQ(Feed(*p, Tcp("198.18.0.2", 50002, "198.18.0.9", 80), kT0 + 40).result, Result::kNoOpinion);
  // A socket bound to another port: no opinion.
  EXPECT_EQ(Feed(*p, Tcp("198.18.0.2", 50000, "198.18.0.1", 9000), kT0 + 41).result, Result::kNoOpinion);
}

TEST(ProcessLabeler, UnconnectedUdpAnnouncesEachDestination) {
  auto p = Make();
  p->OnEvent(Event(PCAPML_EV_BOUND, "127.0.0.1", 9999, "", 0, 17, 100, "receiver", 10));
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "127.0.0.1", 41000, "127.0.0.1", 9999, 17, 200, "sender", 20, 7));
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "127.0.0.1", 41000, "127.0.0.1", 9998, 17, 200, "sender", 21, 7));
  Segment d1{"127.0.0.1", "127.0.0.1", 41000, 9999, 17, 0, 0, {'x'}};
  Segment d2{"127.0.0.1", "127.0.0.1", 41000, 9998, 17, 0, 0, {'x'}};
  EXPECT_EQ(Feed(*p, d1, kT0 + 22).label, "sender");
  EXPECT_EQ(Feed(*p, d2, kT0 + 23).label, "sender");
  // The receiver answers (announcing its own 5-tuple, later): still the sender's.
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "127.0.0.1", 9999, "127.0.0.1", 41000, 17, 100, "receiver", 30));
  EXPECT_EQ(Feed(*p, Reverse(d1), kT0 + 31).label, "sender");
  // Releasing the socket (cookie 7) ends both its 5-tuples after the grace period.
  p->OnEvent(Event(PCAPML_EV_RELEASED, "0.0.0.0", 0, "", 0, 0, 0, "", 40 * kSecond, 7));
  EXPECT_EQ(Feed(*p, d2, kT0 + 99 * kSecond).label, "sender");
  EXPECT_EQ(Feed(*p, d2, kT0 + 101 * kSecond).result, Result::kNoOpinion);
  // d1 falls back to the receiver's announcement of the reverse 5-tuple.
  EXPECT_EQ(Feed(*p, d1, kT0 + 101 * kSecond).label, "receiver");
}

TEST(ProcessLabeler, ClosedSocketKeepsItsPacketsForTheGracePeriod) {
  Settings s;
  s.grace_ns = 5 * kSecond;
  auto p = Make(std::move(s));
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", 40000, "10.0.0.2", 443, 6, 200, "curl", kSecond));
  p->OnEvent(Event(PCAPML_EV_CLOSED, "10.0.0.1", 40000, "10.0.0.2", 443, 6, 0, "", 10 * kSecond));
  Segment fin = Tcp("10.0.0.2", 443, "10.0.0.1", 40000);
  EXPECT_EQ(Feed(*p, fin, kT0 + 15 * kSecond).label, "curl");
  EXPECT_EQ(p->sockets(), 1u);
  EXPECT_EQ(Feed(*p, fin, kT0 + 15 * kSecond + 1).result, Result::kNoOpinion);
  p->Tick(kT0 + 16 * kSecond);
  EXPECT_EQ(p->sockets(), 0u);
  // A listener's close (its bound address) works the same way.
  p->OnEvent(Event(PCAPML_EV_BOUND, "10.0.0.1", 80, "", 0, 6, 100, "nginx", 20 * kSecond));
  p->OnEvent(Event(PCAPML_EV_CLOSED, "10.0.0.1", 80, "", 0, 6, 0, "", 21 * kSecond));
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.2", 5000, "10.0.0.1", 80), kT0 + 22 * kSecond).label, "nginx");
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.2", 5000, "10.0.0.1", 80), kT0 + 27 * kSecond).result, Result::kNoOpinion);
}

TEST(ProcessLabeler, ANewSocketOnThe5TupleIsANewOwnerAndSample) {
  auto p = Make();
  Segment s = Tcp("10.0.0.1", 40000, "10.0.0.2", 443);
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", 40000, "10.0.0.2", 443, 6, 200, "curl", 1));
  Seen a = Feed(*p, s, kT0 + 2);
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", 40000, "10.0.0.2", 443, 6, 300, "wget", 3));
  Seen b = Feed(*p, s, kT0 + 4);
  EXPECT_EQ(a.label, "curl");
  EXPECT_EQ(b.label, "wget");
  EXPECT_NE(a.key, b.key);
}

TEST(ProcessLabeler, Ipv6AndIpv4OnAnIpv6WildcardListener) {
  auto p = Make();
  p->OnEvent(Event(PCAPML_EV_BOUND, "::", 8080, "", 0, 6, 100, "server", 1));
  uint8_t v4[4] = {198, 18, 0, 1};
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  p->AddLocalAddress(4, v4);
  p->AddLocalAddress(6, v6);
  EXPECT_EQ(Feed(*p, Tcp("2001:db8::2", 5000, "2001:db8::1", 8080), kT0).label, "server");
  EXPECT_EQ(Feed(*p, Tcp("198.18.0.2", 5000, "198.18.0.1", 8080), kT0).label, "server");
}

TEST(ProcessLabeler, NamesUnknownFieldsAndSampleSettings) {
  Settings s;
  std::string err;
  ASSERT_TRUE(s.names.Build({{"python*", "web-server"}}, &err)) << err;
  s.label_unknown = false;
  s.per_connection = false;
  s.fields = {Attribute::kComm, Attribute::kTid, Attribute::kExe};
  auto p = Make(std::move(s));
  // Our own pid: its exe is readable.
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", 1, "10.0.0.2", 2, 6, getpid(), "python3", 1));
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", 3, "10.0.0.2", 4, 6, 200, "curl", 1));
  Seen a = Feed(*p, Tcp("10.0.0.1", 1, "10.0.0.2", 2), kT0);
  EXPECT_EQ(a.label, "web-server");
  EXPECT_EQ(a.key, "");  // one sample per label
  EXPECT_EQ(a.fields.at("comm"), "python3");
  EXPECT_EQ(a.fields.at("tid"), std::to_string(getpid() + 1));
  EXPECT_EQ(a.fields.at("exe"), std::filesystem::read_symlink("/proc/self/exe").string());
  EXPECT_EQ(a.fields.count("pid"), 0u);
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 3, "10.0.0.2", 4), kT0).result, Result::kNoOpinion);  // unknown = "ignore"
}

TEST(ProcessLabeler, LabelByUnitOrContainerFromTheCgroupPath) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("pcapml-process-cg-" + std::to_string(getpid()));
  fs::remove_all(root);
  std::string id(64, 'a');
  fs::create_directories(root / "system.slice" / "nginx.service");
  fs::create_directories(root / "system.slice" / ("docker-" + id + ".scope"));
  auto ino = [&](const fs::path& d) {
    struct stat st;
    stat(d.c_str(), &st);
    return static_cast<uint64_t>(st.st_ino);
  };
  for (Attribute from : {Attribute::kUnit, Attribute::kContainer}) {
    Settings s;
    s.label_from = from;
    s.fields = {Attribute::kCgroup, Attribute::kUnit, Attribute::kContainer};
    auto p = Make(std::move(s));
    std::string err;
    ASSERT_TRUE(p->cgroups().Open(root.string(), &err)) << err;
    auto e = Event(PCAPML_EV_CONNECTED, "10.0.0.1", 1, "10.0.0.2", 2, 6, 10, "nginx", 1);
    e.owner.cgroup_id = ino(root / "system.slice" / "nginx.service");
    p->OnEvent(e);
    e = Event(PCAPML_EV_CONNECTED, "10.0.0.1", 3, "10.0.0.2", 4, 6, 11, "app", 1);
    e.owner.cgroup_id = ino(root / "system.slice" / ("docker-" + id + ".scope"));
    p->OnEvent(e);
    Seen a = Feed(*p, Tcp("10.0.0.1", 1, "10.0.0.2", 2), kT0), b = Feed(*p, Tcp("10.0.0.1", 3, "10.0.0.2", 4), kT0);
    if (from == Attribute::kUnit) {
      EXPECT_EQ(a.label, "nginx.service");
      EXPECT_EQ(a.fields.at("cgroup"), "/system.slice/nginx.service");
      EXPECT_EQ(a.fields.count("container"), 0u);
      EXPECT_EQ(b.label, "docker-" + id + ".scope");
    } else {
      EXPECT_EQ(a.result, Result::kNoOpinion);  // not in a container: later rules decide
      EXPECT_EQ(b.label, id);
      EXPECT_EQ(b.fields.at("container"), id);
    }
  }
  fs::remove_all(root);
}

TEST(ProcessLabeler, FullTableEvictsTheLeastRecentlyUsed) {
  Settings s;
  s.max_sockets = 2;
  auto p = Make(std::move(s));
  for (uint16_t port : {1, 2, 3}) {
    p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", port, "10.0.0.2", 80, 6, port, "c", port));
    if (port == 2) Feed(*p, Tcp("10.0.0.1", 1, "10.0.0.2", 80), kT0);  // 1 used more recently than 2
  }
  EXPECT_EQ(p->sockets(), 2u);
  EXPECT_EQ(p->evicted(), 1u);
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 1, "10.0.0.2", 80), kT0).result, Result::kLabel);
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 2, "10.0.0.2", 80), kT0).result, Result::kNoOpinion);
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 3, "10.0.0.2", 80), kT0).result, Result::kLabel);
}

// What pcapml exports (pcapml_plugin_counter_total, pcapml_plugin_gauge):
// the rows of kStats, in order.
std::map<std::string, uint64_t> StatsOf(ProcessLabeler& p) {
  uint64_t values[std::size(kStats)] = {};
  p.Stats(values);
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < std::size(kStats); ++i) out[kStats[i].name] = values[i];
  return out;
}

TEST(ProcessLabeler, StatisticsCountWhatTheBoundedTablesDropAndWhatNoSocketOwns) {
  Settings s;
  s.max_sockets = 2;
  s.max_connections = 1;
  auto p = Make(std::move(s));
  std::map<std::string, uint64_t> want = {{"sockets_tracked", 0},     {"sockets_evicted", 0},
                                          {"events_lost", 0},         {"packets_unattributed", 0},
                                          {"connections_tracked", 0}, {"connections_evicted", 0}};
  EXPECT_EQ(StatsOf(*p), want);
  for (uint16_t port : {1, 2, 3})
    p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", port, "10.0.0.2", 80, 6, port, "c", port));
  want["sockets_tracked"] = 2, want["sockets_evicted"] = 1;
  EXPECT_EQ(StatsOf(*p), want);
  // Socket 1 was evicted: its packet and another host's are not attributed.
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 1, "10.0.0.2", 80), kT0).result, Result::kNoOpinion);
  EXPECT_EQ(Feed(*p, Segment{"10.0.0.7", "10.0.0.8", 5000, 53, 17, 1, 0, {}}, kT0).result, Result::kNoOpinion);
  want["packets_unattributed"] = 2;
  EXPECT_EQ(StatsOf(*p), want);
  // Sockets 2 and 3 label; one sample key fits, so the second connection evicts the first.
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 2, "10.0.0.2", 80), kT0).result, Result::kLabel);
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.1", 3, "10.0.0.2", 80), kT0).result, Result::kLabel);
  want["connections_tracked"] = 1, want["connections_evicted"] = 1;
  EXPECT_EQ(StatsOf(*p), want);
  // Closed sockets leave the table after their grace.
  p->OnEvent(Event(PCAPML_EV_CLOSED, "10.0.0.1", 2, "10.0.0.2", 80, 6, 2, "c", 10));
  p->Tick(kT0 + 10 + Settings{}.grace_ns + kSecond);
  want["sockets_tracked"] = 1;
  EXPECT_EQ(StatsOf(*p), want);
}

TEST(ProcessLabeler, FoundAtStartYieldsToAnnouncements) {
  auto p = Make();
  ExistingSocket client, server;
  client.tuple = {4, 6, 40000, 8000, {127, 0, 0, 1}, {127, 0, 0, 1}};
  client.pid = 50;
  client.comm = "old-client";
  server.tuple = {4, 6, 8000, 40000, {127, 0, 0, 1}, {127, 0, 0, 1}};
  server.accepted = true;
  server.pid = 60;
  server.comm = "old-server";
  p->AddExisting(server);
  p->AddExisting(client);
  Segment s = Tcp("127.0.0.1", 8000, "127.0.0.1", 40000);
  EXPECT_EQ(Feed(*p, s, kT0).label, "old-client");
  EXPECT_EQ(Feed(*p, Reverse(s), kT0).label, "old-client");
  // What the programs report for a 5-tuple replaces what the scan found.
  ExistingSocket other;
  other.tuple = {4, 6, 40001, 443, {10, 0, 0, 1}, {10, 0, 0, 2}};
  other.pid = 80;
  other.comm = "old";
  p->AddExisting(other);
  p->OnEvent(Event(PCAPML_EV_CONNECTED, "10.0.0.1", 40001, "10.0.0.2", 443, 6, 70, "new", 5));
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.2", 443, "10.0.0.1", 40001), kT0).label, "new");
  // ... but the scan does not replace an announcement.
  p->AddExisting(other);
  EXPECT_EQ(Feed(*p, Tcp("10.0.0.2", 443, "10.0.0.1", 40001), kT0).label, "new");
}

TEST(ProcessLabeler, ScanFindsThisProcessSockets) {
  int listener = socket(AF_INET, SOCK_STREAM, 0), client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  int accepted = accept(listener, nullptr, nullptr);
  sockaddr_in c{};
  getsockname(client, reinterpret_cast<sockaddr*>(&c), &len);
  std::vector<ExistingSocket> found;
  std::string err;
  ASSERT_TRUE(ListSockets(&found, &err)) << err;
  FindProcesses(&found);
  int seen = 0;
  for (const ExistingSocket& s : found) {
    if (s.tuple.ip_version != 4 || s.tuple.protocol != 6) continue;
    bool is_listener = IsBound(s.tuple) && s.tuple.lport == ntohs(a.sin_port);
    bool is_client = s.tuple.lport == ntohs(c.sin_port) && s.tuple.rport == ntohs(a.sin_port);
    bool is_accepted = s.tuple.lport == ntohs(a.sin_port) && s.tuple.rport == ntohs(c.sin_port);
    if (!is_listener && !is_client && !is_accepted) continue;
    ++seen;
    EXPECT_EQ(s.pid, static_cast<uint32_t>(getpid()));
    EXPECT_FALSE(s.comm.empty());
    EXPECT_EQ(s.uid, getuid());
    EXPECT_NE(s.cookie, 0u);
    EXPECT_EQ(s.accepted, is_accepted);
  }
  EXPECT_EQ(seen, 3);
  close(accepted);
  close(client);
  close(listener);
}

TEST(ProcessLabeler, SettingsAreChecked) {
  auto config = [](std::vector<std::pair<std::string, std::string>> strings) {
    plugin::Config c;
    auto add = [&](const char* k, plugin::ConfigType t, std::string text, int64_t n = 0) {
      plugin::ConfigValue v;
      v.key = k, v.type = t, v.text = std::move(text), v.number = n;
      c.values.push_back(v);
    };
    add("label_from", plugin::ConfigType::kString, "comm");
    add("unknown", plugin::ConfigType::kString, "name");
    add("sample", plugin::ConfigType::kString, "connection");
    add("grace", plugin::ConfigType::kDuration, "", 60 * kSecond);
    add("idle_timeout", plugin::ConfigType::kDuration, "", 300 * kSecond);
    add("max_sockets", plugin::ConfigType::kInteger, "", 65536);
    add("max_connections", plugin::ConfigType::kInteger, "", 65536);
    add("ring_bytes", plugin::ConfigType::kInteger, "", 1 << 22);
    plugin::ConfigValue fields;
    fields.key = "fields", fields.type = plugin::ConfigType::kStringList, fields.list = {"pid", "unit"};
    c.values.push_back(fields);
    for (auto& [k, v] : strings)
      for (auto& cv : c.values)
        if (cv.key == k) cv.text = v, cv.list = {v};
    return c;
  };
  Settings s;
  std::string err;
  EXPECT_TRUE(ReadSettings(config({}), &s, &err)) << err;
  EXPECT_EQ(s.fields, (std::vector<Attribute>{Attribute::kPid, Attribute::kUnit}));
  EXPECT_FALSE(ReadSettings(config({{"label_from", "browser"}}), &s, &err));
  EXPECT_NE(err.find("label_from"), std::string::npos) << err;
  EXPECT_NE(err.find("browser"), std::string::npos) << err;
  EXPECT_FALSE(ReadSettings(config({{"label_from", "pid"}}), &s, &err));
  EXPECT_FALSE(ReadSettings(config({{"unknown", "drop"}}), &s, &err));
  EXPECT_FALSE(ReadSettings(config({{"fields", "user"}}), &s, &err));
  EXPECT_NE(err.find("user"), std::string::npos) << err;
  plugin::Config ring = config({});
  for (auto& v : ring.values)
    if (v.key == "ring_bytes") v.number = 100000;
  EXPECT_FALSE(ReadSettings(ring, &s, &err));
  EXPECT_NE(err.find("ring_bytes"), std::string::npos) << err;
}

}  // namespace
}  // namespace pcapml::process
