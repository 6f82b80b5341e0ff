#include "plugins/process/process.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "plugins/common/name_table.h"

namespace pcapml::process {

using plugin::Result;

namespace {

int64_t ClockNs(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A value from the host as label or field: no ',' or line break (nor other
// control characters) survives.
std::string Clean(std::string_view v) {
  std::string out(v);
  for (char& c : out)
    if (c == ',' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return out;
}

bool ParseAttribute(const std::string& name, Attribute* out) {
  for (size_t i = 0; i < std::size(kAttributeNames); ++i)
    if (name == kAttributeNames[i]) return *out = static_cast<Attribute>(i), true;
  return false;
}

Tuple FromEvent(const pcapml_tuple& t) {
  Tuple out;
  out.ip_version = t.ip_version;
  out.protocol = t.protocol;
  out.lport = t.lport;
  out.rport = t.rport;
  std::memcpy(out.laddr.data(), t.laddr, 16);
  std::memcpy(out.raddr.data(), t.raddr, 16);
  return out;
}

bool Wildcard(const std::array<uint8_t, 16>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err) {
  std::string from = config.String("label_from");
  if (!ParseAttribute(from, &s->label_from) || s->label_from == Attribute::kPid || s->label_from == Attribute::kTid)
    return *err = "label_from must be \"comm\", \"exe\", \"unit\", \"container\", \"cgroup\" or \"uid\", not \"" +
                  from + "\"",
           false;
  if (!s->names.Build(config.Map("names"), err)) return *err = "names: " + *err, false;
  if (!plugin_common::ReadUnknownAndSample(config, &s->label_unknown, &s->per_connection, err)) return false;
  s->fields.clear();
  for (const std::string& f : config.List("fields")) {
    Attribute a;
    if (!ParseAttribute(f, &a))
      return *err = "fields: unknown field \"" + f + "\" (pid, tid, comm, exe, uid, cgroup, unit, container)", false;
    if (std::find(s->fields.begin(), s->fields.end(), a) != s->fields.end())
      return *err = "fields: \"" + f + "\" is listed twice", false;
    s->fields.push_back(a);
  }
  s->grace_ns = config.DurationNs("grace");
  s->idle_timeout_ns = config.DurationNs("idle_timeout");
  int64_t sockets = config.Integer("max_sockets"), conns = config.Integer("max_connections");
  int64_t ring = config.Integer("ring_bytes");
  if (s->grace_ns < 0) return *err = "grace must not be negative", false;
  if (s->idle_timeout_ns <= 0) return *err = "idle_timeout must be positive", false;
  if (sockets < 1 || sockets > (1 << 24)) return *err = "max_sockets must be 1..16777216", false;
  if (conns < 1 || conns > (1 << 24)) return *err = "max_connections must be 1..16777216", false;
  if (ring < 65536 || ring > (1 << 30) || (ring & (ring - 1)))
    return *err = "ring_bytes must be a power of two from 65536 to 1073741824", false;
  s->max_sockets = static_cast<size_t>(sockets);
  s->max_connections = static_cast<size_t>(conns);
  s->ring_bytes = static_cast<uint32_t>(ring);
  s->cgroup_root = config.String("cgroup_root");
  return true;
}

size_t ProcessLabeler::AddrHash::operator()(const Addr& x) const {
  uint64_t a, b;
  std::memcpy(&a, x.a.data(), 8);
  std::memcpy(&b, x.a.data() + 8, 8);
  return static_cast<size_t>((a * 0x9e3779b97f4a7c15ull) ^ (b + x.v) * 0xff51afd7ed558ccdull);
}

ProcessLabeler::ProcessLabeler(Settings s)
    : s_(std::move(s)), sockets_(s_.max_sockets, s_.grace_ns), conns_(s_.max_connections) {
  sockets_.SetLocalCheck([](const void* self, uint8_t v,
                            const uint8_t* addr) { return static_cast<const ProcessLabeler*>(self)->IsLocal(v, addr); },
                         this);
}

ProcessLabeler::~ProcessLabeler() = default;

bool ProcessLabeler::Start(std::string* err) {
  netns_ = OwnNetnsCookie(err);
  if (!netns_) return false;
  if (!cgroups_.Open(s_.cgroup_root, err)) return false;
  boot_to_wall_ns_ = ClockNs(CLOCK_REALTIME) - ClockNs(CLOCK_BOOTTIME);
  if (ifaddrs * list; getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      if (i->ifa_addr->sa_family == AF_INET)
        AddLocalAddress(4, reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr));
      else if (i->ifa_addr->sa_family == AF_INET6)
        AddLocalAddress(6, reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr.s6_addr);
    }
    freeifaddrs(list);
  }
  bpf_ = std::make_unique<BpfOwners>();
  auto handler = [](void* self, const pcapml_owner_event& e) { static_cast<ProcessLabeler*>(self)->OnEvent(e); };
  if (!bpf_->Start(netns_, s_.ring_bytes, cgroups_.fd(), handler, this, err)) return false;
  // The programs run from here on; what they report replaces what the scan
  // finds (the scan goes in first, the ring is read after it).
  std::vector<ExistingSocket> existing;
  if (!ListSockets(&existing, err)) return false;
  FindProcesses(&existing);
  for (const ExistingSocket& e : existing) AddExisting(e);
  bpf_->Drain();
  return true;
}

void ProcessLabeler::AddLocalAddress(uint8_t ip_version, const uint8_t* addr) {
  Addr a{ip_version, {}};
  std::memcpy(a.a.data(), addr, ip_version == 6 ? 16 : 4);
  if (local_.size() < 65536) local_.insert(a);
}

bool ProcessLabeler::IsLocal(uint8_t ip_version, const uint8_t* addr) const {
  if (ip_version == 4 && addr[0] == 127) return true;
  Addr a{ip_version, {}};
  std::memcpy(a.a.data(), addr, ip_version == 6 ? 16 : 4);
  return local_.count(a) > 0;
}

void ProcessLabeler::AddExisting(const ExistingSocket& s) {
  Owner o;
  o.pid = s.pid;
  o.uid = s.uid;
  o.cgroup_id = s.cgroup_id;
  o.comm = s.comm;
  // Older than anything announced later; of a loopback pair found at start,
  // the accepting end is the younger, so the connecting end owns both directions.
  Announce(s.tuple, s.cookie, s.accepted ? 1 : 0, o, /*keep_existing=*/true);
}

void ProcessLabeler::OnEvent(const pcapml_owner_event& e) {
  if (netns_ && e.netns != netns_) return;
  Tuple t = FromEvent(e.tuple);
  int64_t wall = static_cast<int64_t>(e.time_ns) + boot_to_wall_ns_;
  switch (e.kind) {
    case PCAPML_EV_CONNECTED:
    case PCAPML_EV_BOUND: {
      if (!Wildcard(t.laddr)) AddLocalAddress(t.ip_version, t.laddr.data());
      Owner o;
      o.pid = e.owner.pid;
      o.tid = e.owner.tid;
      o.uid = e.owner.uid;
      o.cgroup_id = e.owner.cgroup_id;
      o.comm.assign(e.owner.comm, strnlen(e.owner.comm, sizeof e.owner.comm));
      // Announced at the event's time: of two local ends, the first to speak.
      Announce(t, e.cookie, static_cast<int64_t>(e.time_ns) + 2, o, false);
      break;
    }
    case PCAPML_EV_CLOSED:
      sockets_.Close(t, wall);
      break;
    case PCAPML_EV_RELEASED:
      sockets_.CloseCookie(e.cookie, wall);
      break;
  }
}

void ProcessLabeler::Announce(const Tuple& t, uint64_t cookie, int64_t announced, const Owner& o, bool keep_existing) {
  if (t.protocol != plugin::kProtoTcp && t.protocol != plugin::kProtoUdp) return;
  if (auto* entry = sockets_.Add(t, cookie, announced, keep_existing)) Resolve(o, &entry->value);
}

std::string ProcessLabeler::Value(Attribute a, const Owner& o, const std::string* cgroup) {
  switch (a) {
    case Attribute::kPid:
      return o.pid ? std::to_string(o.pid) : "";
    case Attribute::kTid:
      return o.tid ? std::to_string(o.tid) : "";
    case Attribute::kComm:
      return Clean(o.comm);
    case Attribute::kUid:
      return std::to_string(o.uid);
    case Attribute::kCgroup:
      return cgroup ? Clean(*cgroup) : "";
    case Attribute::kUnit:
      return cgroup ? Clean(UnitOf(*cgroup)) : "";
    case Attribute::kContainer:
      return cgroup ? std::string(ContainerOf(*cgroup)) : "";
    case Attribute::kExe: {
      if (!o.pid) return "";
      char buf[4096];
      ssize_t n = readlink(("/proc/" + std::to_string(o.pid) + "/exe").c_str(), buf, sizeof buf);
      return n > 0 ? Clean(std::string_view(buf, static_cast<size_t>(n))) : "";
    }
  }
  return "";
}

// Once per socket: the label and fields every packet of it gets.
void ProcessLabeler::Resolve(const Owner& o, Verdict* v) {
  const std::string* cgroup = o.cgroup_id ? cgroups_.Path(o.cgroup_id) : nullptr;
  v->opinion = false;
  v->values.clear();
  v->field_count = 0;
  std::string from = Value(s_.label_from, o, cgroup);
  if (from.empty()) return;  // no such thing (not in a container, no unit): later rules decide
  const std::string* named = s_.names.Find(from);
  if (!named && !s_.label_unknown) return;
  v->label = named ? *named : from;
  v->opinion = true;
  for (Attribute a : s_.fields) {
    std::string value = a == s_.label_from ? from : Value(a, o, cgroup);
    if (value.empty() || v->field_count == plugin::kMaxFields) continue;
    uint8_t i = v->field_count++;
    v->field_key[i] = a;
    v->field_begin[i] = static_cast<uint16_t>(v->values.size());
    v->field_len[i] = static_cast<uint16_t>(std::min<size_t>(value.size(), 4096));
    v->values.append(value, 0, v->field_len[i]);
  }
}

Result ProcessLabeler::Process(const plugin::Packet& p, plugin::Label* label) {
  if (bpf_) bpf_->Drain();
  if (!p.has_ports || (p.protocol != plugin::kProtoTcp && p.protocol != plugin::kProtoUdp)) return Result::kNoOpinion;
  const auto* e = sockets_.Find(p);
  if (!e) return ++unattributed_, Result::kNoOpinion;
  if (!e->value.opinion) return Result::kNoOpinion;
  const Verdict& v = e->value;
  label->label = v.label;
  for (uint8_t i = 0; i < v.field_count; ++i)
    label->fields[i] = {kAttributeNames[static_cast<size_t>(v.field_key[i])],
                        std::string_view(v.values).substr(v.field_begin[i], v.field_len[i])};
  label->field_count = v.field_count;
  if (!s_.per_connection) return Result::kLabel;
  bool src_is_low;
  plugin_common::Key key = plugin_common::ConnectionKey(p, &src_is_low);
  Conn* c = conns_.Find(key, p.ts_ns);
  if (!c) c = &conns_.Insert(key, p.ts_ns);
  if (c->serial != e->serial) {  // a new connection, or a new socket on its 5-tuple
    c->serial = e->serial;
    c->sample_key.clear();
    plugin_common::AppendConnectionSuffix(key, p.ts_ns, &c->sample_key);
  }
  label->sample_key = c->sample_key;
  return Result::kLabel;
}

void ProcessLabeler::Tick(int64_t now_ns) {
  if (bpf_) bpf_->Drain();
  sockets_.Expire(now_ns);
  conns_.ExpireIdle(now_ns, s_.idle_timeout_ns);
}

// Reads the ring first: the sockets announced since the last packet count
// (and a quiet rule filter does not leave the ring to fill up).
void ProcessLabeler::Stats(uint64_t* values) {
  static_assert(std::size(kStats) == 6);
  if (bpf_) bpf_->Drain();
  values[0] = sockets_.size();
  values[1] = sockets_.evicted();
  values[2] = events_lost();
  values[3] = unattributed_;
  values[4] = conns_.size();
  values[5] = conns_.evicted();
}

}  // namespace pcapml::process
