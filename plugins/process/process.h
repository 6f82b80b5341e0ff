// process: labels every packet of this host's sockets by the program that
// owns the socket: its command name, systemd unit, container, cgroup or
// uid, with pid, comm, exe, uid, cgroup, unit and container as fields. The
// eBPF programs (bpf_owners.h) say who owns each socket as it gets its
// addresses; sockets that existed before the start come from sock_diag and
// /proc (existing_sockets.h). Live capture in the daemon only: after the
// fact no owner is known.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "plugins/common/flow_map.h"
#include "plugins/pcapml_plugin.h"
#include "plugins/process/bpf_owners.h"
#include "plugins/process/cgroups.h"
#include "plugins/process/existing_sockets.h"
#include "plugins/process/owner_names.h"
#include "plugins/process/socket_table.h"

namespace pcapml::process {

enum class Attribute : uint8_t { kPid, kTid, kComm, kExe, kUid, kCgroup, kUnit, kContainer };

// Names as settings and fields spell them, in Attribute order.
inline constexpr const char* kAttributeNames[] = {"pid", "tid", "comm", "exe", "uid", "cgroup", "unit", "container"};

// The plugin's statistics (PluginInfo::stats), in the order Stats writes them.
inline constexpr plugin::StatKey kStats[] = {
    {"sockets_tracked", plugin::StatKind::kGauge,
     "sockets in the table now: open ones, and closed ones within their grace (at most max_sockets)"},
    {"sockets_evicted", plugin::StatKind::kCounter,
     "sockets the full table dropped to make room, least recently used first (raise max_sockets); their later "
     "packets are not attributed"},
    {"events_lost", plugin::StatKind::kCounter,
     "socket announcements the eBPF programs dropped because the ring was full (raise ring_bytes); their "
     "sockets are not attributed"},
    {"packets_unattributed", plugin::StatKind::kCounter,
     "TCP and UDP packets that reached the rule and matched no socket of this host (another host's, forwarded, "
     "evicted or lost)"},
    {"connections_tracked", plugin::StatKind::kGauge, "connections whose sample key is kept now (max_connections)"},
    {"connections_evicted", plugin::StatKind::kCounter,
     "connections whose sample key the full table dropped (raise max_connections); a connection seen again "
     "starts a new sample"},
};

struct Settings {
  Attribute label_from = Attribute::kComm;
  OwnerNames names;
  bool label_unknown = true;   // unknown = "name": a value the table lacks labels as itself
  bool per_connection = true;  // sample = "connection"
  std::vector<Attribute> fields = {Attribute::kPid, Attribute::kComm, Attribute::kUid, Attribute::kUnit,
                                   Attribute::kContainer};
  int64_t grace_ns = 60'000'000'000;
  int64_t idle_timeout_ns = 300'000'000'000;
  size_t max_sockets = 65536, max_connections = 65536;
  uint32_t ring_bytes = 4u << 20;
  std::string cgroup_root;  // "": the cgroup2 mount (or a private one)
};

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err);

// Who owns a socket, as the eBPF programs or the start-time scan saw it.
struct Owner {
  uint32_t pid = 0, tid = 0, uid = 0;  // pid 0: unknown (a socket found at start no readable process holds)
  uint64_t cgroup_id = 0;              // 0: unknown
  std::string comm;
};

// A socket's answer, worked out once when the socket is announced.
struct Verdict {
  bool opinion = false;
  std::string label;
  std::string values;  // the field values, one after another
  uint8_t field_count = 0;
  Attribute field_key[plugin::kMaxFields];
  uint16_t field_begin[plugin::kMaxFields], field_len[plugin::kMaxFields];
};

class ProcessLabeler : public plugin::Instance {
 public:
  explicit ProcessLabeler(Settings s);
  ~ProcessLabeler() override;

  // Loads and attaches the eBPF programs and takes in the sockets that
  // exist already. Privileged; one line naming what is missing on failure.
  bool Start(std::string* err);

  plugin::Result Process(const plugin::Packet& p, plugin::Label* label) override;
  void Tick(int64_t now_ns) override;
  void Stats(uint64_t* values) override;

  // What the eBPF programs report (Start wires them here; tests call it).
  void OnEvent(const pcapml_owner_event& e);
  // A socket found at start (announced before anything the programs report).
  void AddExisting(const ExistingSocket& s);
  // Addresses of this host, for sockets bound to the wildcard address.
  void AddLocalAddress(uint8_t ip_version, const uint8_t* addr);
  bool IsLocal(uint8_t ip_version, const uint8_t* addr) const;
  // Where the cgroup paths come from (tests: a directory tree of their own).
  CgroupTree& cgroups() { return cgroups_; }
  // CLOCK_BOOTTIME of the events plus this is packet (wall clock) time.
  void set_boot_to_wall_ns(int64_t ns) { boot_to_wall_ns_ = ns; }

  size_t sockets() const { return sockets_.size(); }
  uint64_t evicted() const { return sockets_.evicted(); }
  uint64_t events_lost() const { return bpf_ ? bpf_->events_lost() : 0; }
  uint64_t unattributed() const { return unattributed_; }

 private:
  struct Conn {
    uint64_t serial = 0;
    std::string sample_key;
    void Reset() { serial = 0, sample_key.clear(); }
  };
  struct Addr {
    uint8_t v;
    std::array<uint8_t, 16> a;
    bool operator==(const Addr&) const = default;
  };
  struct AddrHash {
    size_t operator()(const Addr& x) const;
  };

  void Resolve(const Owner& o, Verdict* v);
  std::string Value(Attribute a, const Owner& o, const std::string* cgroup);
  void Announce(const Tuple& t, uint64_t cookie, int64_t announced, const Owner& o, bool keep_existing);

  Settings s_;
  SocketTable<Verdict> sockets_;
  plugin_common::FlowMap<Conn> conns_;
  CgroupTree cgroups_;
  std::unique_ptr<BpfOwners> bpf_;
  uint64_t netns_ = 0;
  int64_t boot_to_wall_ns_ = 0;
  std::unordered_set<Addr, AddrHash> local_;
  uint64_t unattributed_ = 0;
};

}  // namespace pcapml::process
