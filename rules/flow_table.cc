#include "rules/flow_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "rules/flat_map.h"
#include "net/ip_packet.h"

namespace pcapml {
namespace {

// now_ns - then_ns, saturated: packet times come from the input and may lie
// anywhere in int64, where the plain difference overflows.
int64_t ElapsedNs(int64_t now_ns, int64_t then_ns) {
  int64_t d;
  if (__builtin_sub_overflow(now_ns, then_ns, &d)) return now_ns > then_ns ? INT64_MAX : INT64_MIN;
  return d;
}

uint64_t HashKey(const FlowKey& k) {
  uint64_t a, b, c, d;
  memcpy(&a, k.addr_lo.data(), 8), memcpy(&b, k.addr_lo.data() + 8, 8);
  memcpy(&c, k.addr_hi.data(), 8), memcpy(&d, k.addr_hi.data() + 8, 8);
  uint64_t h = MixHash(uint64_t{k.rule} << 32 | uint64_t{k.proto} << 8 | k.family);
  h = MixHash(h ^ a ^ (uint64_t{k.port_lo} << 16 | k.port_hi));
  h = MixHash(h ^ b ^ MixHash(c ^ MixHash(d)));
  return h;
}

}  // namespace

bool DecodeFlow(uint16_t link_type, const uint8_t* data, uint32_t caplen, FlowKey* key) {
  IpPacket ip;
  if (!DecodeIpPacket(link_type, data, caplen, &ip)) return false;
  FlowKey k;
  k.rule = key->rule;
  k.family = ip.version;
  k.proto = ip.protocol;
  memcpy(k.addr_lo.data(), ip.src, ip.version == 4 ? 4 : 16);
  memcpy(k.addr_hi.data(), ip.dst, ip.version == 4 ? 4 : 16);
  if (ip.has_ports) k.port_lo = ip.src_port, k.port_hi = ip.dst_port;
  // Canonical order: the lower (address, port) endpoint first.
  if (std::tie(k.addr_hi, k.port_hi) < std::tie(k.addr_lo, k.port_lo)) {
    std::swap(k.addr_lo, k.addr_hi);
    std::swap(k.port_lo, k.port_hi);
  }
  *key = k;
  return true;
}

void AppendFlowSuffix(const FlowKey& key, int64_t start_ns, std::string* out) {
  char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
  int af = key.family == 4 ? AF_INET : AF_INET6;
  inet_ntop(af, key.addr_lo.data(), lo, sizeof lo);
  inet_ntop(af, key.addr_hi.data(), hi, sizeof hi);
  char buf[160];
  int n = snprintf(buf, sizeof buf, "%u %s %u %s %u|%lld", key.proto, lo, key.port_lo, hi, key.port_hi,
                   static_cast<long long>(start_ns));
  out->append(buf, static_cast<size_t>(n));
}

FlowTable::Flow& FlowTable::Touch(const FlowKey& key, int64_t ts_ns, int64_t idle_ns, bool* is_new) {
  // Flows idle for longer than their timeout end here (oldest first).
  while (head_ != kNone && ElapsedNs(ts_ns, flows_[head_].last_ns) > flows_[head_].idle_ns) {
    Remove(head_);
    ++stats_.expired;
  }
  uint64_t hash = HashKey(key);
  uint32_t f = Find(key, hash);
  if (f != kNone && ElapsedNs(ts_ns, flows_[f].last_ns) > idle_ns) {  // idle, not yet swept
    Remove(f);
    ++stats_.expired;
    f = kNone;
  }
  *is_new = f == kNone;
  if (f == kNone) {
    f = Allocate(ts_ns);
    Flow& fl = flows_[f];
    fl.key = key, fl.hash = hash, fl.start_ns = fl.last_ns = ts_ns;
    Insert(f);
    ++stats_.active;
  } else {
    Unlink(f);
  }
  LinkLast(f);
  Flow& fl = flows_[f];
  fl.idle_ns = idle_ns;
  fl.last_ns = std::max(fl.last_ns, ts_ns);
  if (*is_new) ++stats_.started;
  return fl;
}

void FlowTable::ForgetRule(uint32_t rule) {
  for (uint32_t f = head_; f != kNone;) {
    uint32_t next = flows_[f].next;
    if (flows_[f].key.rule == rule) Remove(f);
    f = next;
  }
}

uint32_t FlowTable::Find(const FlowKey& key, uint64_t hash) const {
  if (slots_.empty()) return kNone;
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t f = slots_[i];
    if (f == kNone) return kNone;
    if (flows_[f].hash == hash && flows_[f].key == key) return f;
  }
}

uint32_t FlowTable::Allocate(int64_t ts_ns) {
  if (free_.empty() && flows_.size() >= max_flows_) {
    Remove(head_);  // the least recently seen flow, still active: count it
    ++stats_.evicted;
  }
  if (!free_.empty()) {
    uint32_t f = free_.back();
    free_.pop_back();
    return f;
  }
  flows_.emplace_back();
  return static_cast<uint32_t>(flows_.size() - 1);
}

void FlowTable::Remove(uint32_t f) {
  size_t mask = slots_.size() - 1, i = flows_[f].hash & mask;
  while (slots_[i] != f) i = (i + 1) & mask;
  // Backward-shift deletion keeps every probe sequence unbroken.
  for (size_t j = i;;) {
    j = (j + 1) & mask;
    if (slots_[j] == kNone) break;
    size_t home = flows_[slots_[j]].hash & mask;
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) slots_[i] = slots_[j], i = j;
  }
  slots_[i] = kNone;
  Unlink(f);
  free_.push_back(f);
  --stats_.active;
}

void FlowTable::Unlink(uint32_t f) {
  Flow& fl = flows_[f];
  (fl.prev == kNone ? head_ : flows_[fl.prev].next) = fl.next;
  (fl.next == kNone ? tail_ : flows_[fl.next].prev) = fl.prev;
  fl.prev = fl.next = kNone;
}

void FlowTable::LinkLast(uint32_t f) {
  flows_[f].prev = tail_;
  flows_[f].next = kNone;
  (tail_ == kNone ? head_ : flows_[tail_].next) = f;
  tail_ = f;
}

void FlowTable::Insert(uint32_t f) {
  if ((stats_.active + 1) * 2 > slots_.size()) Grow();
  size_t mask = slots_.size() - 1, i = flows_[f].hash & mask;
  while (slots_[i] != kNone) i = (i + 1) & mask;
  slots_[i] = f;
}

void FlowTable::Grow() {
  std::vector<uint32_t> old = std::move(slots_);
  slots_.assign(std::max<size_t>(1024, old.size() * 2), kNone);
  size_t mask = slots_.size() - 1;
  for (uint32_t f : old) {
    if (f == kNone) continue;
    size_t i = flows_[f].hash & mask;
    while (slots_[i] != kNone) i = (i + 1) & mask;
    slots_[i] = f;
  }
}

}  // namespace pcapml
