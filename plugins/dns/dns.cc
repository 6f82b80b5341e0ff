#include "plugins/dns/dns.h"

#include <algorithm>

namespace pcapml::dns {

using plugin::Result;

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err) {
  if (!plugin_common::ReadNamingSettings(config, s, err)) return false;
  s->min_ttl_ns = config.DurationNs("min_ttl");
  s->max_ttl_ns = config.DurationNs("max_ttl");
  s->idle_timeout_ns = config.DurationNs("idle_timeout");
  s->max_addresses = static_cast<size_t>(config.Integer("max_addresses"));
  s->max_connections = static_cast<size_t>(config.Integer("max_connections"));
  std::string lookups = config.String("lookups");
  if (lookups != "label" && lookups != "pass") return *err = "lookups must be \"label\" or \"pass\"", false;
  s->label_lookups = lookups == "label";
  if (s->max_ttl_ns <= 0 || s->min_ttl_ns > s->max_ttl_ns)
    return *err = "need 0 <= min_ttl <= max_ttl, max_ttl > 0", false;
  if (s->idle_timeout_ns <= 0) return *err = "idle_timeout must be positive", false;
  for (size_t n : {s->max_addresses, s->max_connections})
    if (n < 1 || n > (1u << 24)) return *err = "max_addresses and max_connections must be 1..16777216", false;
  return true;
}

Result Dns::Process(const plugin::Packet& p, plugin::Label* label) {
  if (p.ip_version == 0) return Result::kNoOpinion;
  if (p.has_ports && (p.src_port == 53 || p.dst_port == 53)) {
    if (p.protocol == plugin::kProtoUdp) return Udp(p, label);
    if (p.protocol == plugin::kProtoTcp) return Tcp(p, label);
  }
  bool src_is_low;
  plugin_common::Key key = plugin_common::ConnectionKey(p, &src_is_low);
  if (const Conn* c = conns_.Find(key, p.ts_ns)) return Emit(*c, label);
  const Address* a = Known(p.ip_version, p.dst, p.ts_ns);
  if (!a) a = Known(p.ip_version, p.src, p.ts_ns);
  if (!a) return Result::kNoOpinion;
  Conn& c = conns_.Insert(key, p.ts_ns);
  c.start_ns = p.ts_ns;
  c.name = a->name;
  c.label = a->label;
  if (s_.per_connection) plugin_common::AppendConnectionSuffix(key, p.ts_ns, &c.sample_key);
  return Emit(c, label);
}

// A UDP lookup: the answer is learned (and labels the lookup); a query
// waits for it.
Result Dns::Udp(const plugin::Packet& p, plugin::Label* label) {
  if (p.payload_len < p.payload_orig_len) return Result::kNoOpinion;  // cut by the snap length
  bool answer = p.src_port == 53;
  if (!answer && (!s_.label_lookups || p.payload_len < 12 || (p.payload[2] & 0x80))) return Result::kNoOpinion;
  bool named = false;
  Result r = answer ? Learn(p.payload, p.payload_len, p.ts_ns, &named) : Result::kHold;
  if (!s_.label_lookups || (answer && !named)) return r;  // the held query goes on with it
  bool src_is_low;
  plugin_common::Key key = plugin_common::ConnectionKey(p, &src_is_low);
  Conn* c = conns_.Find(key, p.ts_ns);
  if (!c) {
    c = &conns_.Insert(key, p.ts_ns);
    c->start_ns = p.ts_ns;
  }
  if (!answer) return Result::kHold;
  Name(key, *c);
  return Emit(*c, label);
}

// A TCP connection to port 53: the server's messages are reassembled and
// learned; with lookups = "label" the connection is held from its SYN to
// its first answer.
Result Dns::Tcp(const plugin::Packet& p, plugin::Label* label) {
  bool src_is_low;
  plugin_common::Key key = plugin_common::ConnectionKey(p, &src_is_low);
  uint8_t flags = p.tcp_flags & (plugin::kTcpSyn | plugin::kTcpAck);
  TcpLookup* c = tcp_.Find(key, p.ts_ns);
  if (c && flags == plugin::kTcpSyn && c->phase != TcpLookup::Phase::kWaiting) {
    c->Reset();  // the 4-tuple again: a new connection
    c->conn.start_ns = p.ts_ns;
  }
  if (!c) {
    c = &tcp_.Insert(key, p.ts_ns);
    c->conn.start_ns = p.ts_ns;
    c->server_is_low = p.src_port == 53 ? src_is_low : !src_is_low;
  }
  Result r = Result::kNoOpinion;
  if (src_is_low == c->server_is_low) {
    if (flags == (plugin::kTcpSyn | plugin::kTcpAck)) c->answers.Start(p.tcp_seq);
    if (p.payload_orig_len && c->answers.Add(p.tcp_seq, p.payload, p.payload_len, p.payload_orig_len)) {
      const uint8_t* msg;
      size_t n;
      while (c->answers.Next(&msg, &n)) {
        bool named = false;
        if (Learn(msg, n, p.ts_ns, &named) == Result::kError) r = Result::kError;
        if (c->phase != TcpLookup::Phase::kWaiting) continue;
        if (named) {
          Name(key, c->conn);
          c->phase = TcpLookup::Phase::kLabeled;
        } else {
          c->phase = TcpLookup::Phase::kPassed;  // the first answer has no name to label
        }
      }
    }
  }
  if (c->phase == TcpLookup::Phase::kLabeled && s_.label_lookups) return Emit(c->conn, label);
  if (c->phase != TcpLookup::Phase::kWaiting || !s_.label_lookups || r == Result::kError) return r;
  if ((p.tcp_flags & (plugin::kTcpFin | plugin::kTcpRst)) || c->answers.broken()) {
    c->phase = TcpLookup::Phase::kPassed;  // closed, or unreadable, before an answer
    return Result::kNoOpinion;
  }
  return Result::kHold;
}

// The lookup's connection takes the name of the answer Learn just read.
void Dns::Name(const plugin_common::Key& key, Conn& c) {
  c.name = name_;
  c.label = label_;
  c.sample_key.clear();
  if (s_.per_connection) plugin_common::AppendConnectionSuffix(key, c.start_ns, &c.sample_key);
}

// Remembers the addresses of a DNS response; *named when it answers a name
// to label (name_, label_), addresses or not.
Result Dns::Learn(const uint8_t* msg, size_t size, int64_t now_ns, bool* named) {
  DnsStatus st = ParseDnsResponse(msg, size, &answer_);
  if (st == DnsStatus::kMalformed) return Result::kError;
  if (st != DnsStatus::kAnswer) return Result::kNoOpinion;
  char buf[plugin_common::kMaxName + 1];
  std::string_view name = plugin_common::CleanName(answer_.name(), buf);
  const std::string* l = s_.names.Find(name);
  if (name.empty() || (!l && !s_.label_unknown)) return Result::kNoOpinion;
  name_.assign(name);
  label_.assign(l ? std::string_view(*l) : name);
  *named = true;
  for (size_t i = 0; i < answer_.address_count; ++i) {
    const DnsAddress& d = answer_.addresses[i];
    plugin_common::Key key = plugin_common::AddressKey(d.ip_version, d.addr);
    Address* a = addresses_.Find(key, now_ns);
    if (!a) a = &addresses_.Insert(key, now_ns);
    int64_t ttl = std::clamp<int64_t>(int64_t{d.ttl} * 1'000'000'000, s_.min_ttl_ns, s_.max_ttl_ns);
    a->expires_ns = now_ns > INT64_MAX - ttl ? INT64_MAX : now_ns + ttl;  // ttl >= 0; times come from the input
    a->name = name_;
    a->label = label_;
  }
  return Result::kNoOpinion;
}

const Dns::Address* Dns::Known(uint8_t ip_version, const uint8_t* addr, int64_t now_ns) {
  const Address* a = addresses_.Find(plugin_common::AddressKey(ip_version, addr), now_ns);
  return a && now_ns <= a->expires_ns ? a : nullptr;
}

Result Dns::Emit(const Conn& c, plugin::Label* label) const {
  label->label = c.label;
  label->sample_key = c.sample_key;
  if (!s_.name_field.empty()) {
    label->fields[0] = {s_.name_field, c.name};
    label->field_count = 1;
  }
  return Result::kLabel;
}

}  // namespace pcapml::dns
