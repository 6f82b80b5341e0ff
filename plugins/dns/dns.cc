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
  if (s->max_ttl_ns <= 0 || s->min_ttl_ns > s->max_ttl_ns) return *err = "need 0 <= min_ttl <= max_ttl, max_ttl > 0", false;
  if (s->idle_timeout_ns <= 0) return *err = "idle_timeout must be positive", false;
  for (size_t n : {s->max_addresses, s->max_connections})
    if (n < 1 || n > (1u << 24)) return *err = "max_addresses and max_connections must be 1..16777216", false;
  return true;
}

Result Dns::Process(const plugin::Packet& p, plugin::Label* label) {
  if (p.ip_version == 0) return Result::kNoOpinion;
  if (p.protocol == plugin::kProtoUdp && p.has_ports && p.src_port == 53) return Learn(p);
  bool src_is_low;
  plugin_common::Key key = plugin_common::ConnectionKey(p, &src_is_low);
  if (const Conn* c = conns_.Find(key, p.ts_ns)) return Emit(*c, label);
  const Address* a = Known(p.ip_version, p.dst, p.ts_ns);
  if (!a) a = Known(p.ip_version, p.src, p.ts_ns);
  if (!a) return Result::kNoOpinion;
  Conn& c = conns_.Insert(key, p.ts_ns);
  c.name = a->name;
  c.label = a->label;
  if (s_.per_connection) plugin_common::AppendConnectionSuffix(key, p.ts_ns, &c.sample_key);
  return Emit(c, label);
}

// Remembers the addresses of a DNS response.
Result Dns::Learn(const plugin::Packet& p) {
  if (p.payload_len < p.payload_orig_len) return Result::kNoOpinion;  // cut by the snap length
  DnsStatus st = ParseDnsResponse(p.payload, p.payload_len, &answer_);
  if (st == DnsStatus::kMalformed) return Result::kError;
  if (st != DnsStatus::kAnswer || answer_.address_count == 0) return Result::kNoOpinion;
  char buf[plugin_common::kMaxName + 1];
  std::string_view name = plugin_common::CleanName(answer_.name(), buf);
  const std::string* l = s_.names.Find(name);
  if (name.empty() || (!l && !s_.label_unknown)) return Result::kNoOpinion;
  for (size_t i = 0; i < answer_.address_count; ++i) {
    const DnsAddress& d = answer_.addresses[i];
    plugin_common::Key key = plugin_common::AddressKey(d.ip_version, d.addr);
    Address* a = addresses_.Find(key, p.ts_ns);
    if (!a) a = &addresses_.Insert(key, p.ts_ns);
    int64_t ttl = std::clamp<int64_t>(int64_t{d.ttl} * 1'000'000'000, s_.min_ttl_ns, s_.max_ttl_ns);
    a->expires_ns = p.ts_ns > INT64_MAX - ttl ? INT64_MAX : p.ts_ns + ttl;  // ttl >= 0; times come from the input
    a->name.assign(name);
    a->label.assign(l ? std::string_view(*l) : name);
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
