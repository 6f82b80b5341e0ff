#include "rules/flow_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "rules/flat_map.h"
#include "rules/packet_headers.h"

namespace pcapml {
namespace {

bool IsVlanTpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

// now_ns - then_ns, saturated: packet times come from the input and may lie
// anywhere in int64, where the plain difference overflows.
int64_t ElapsedNs(int64_t now_ns, int64_t then_ns) {
  int64_t d;
  if (__builtin_sub_overflow(now_ns, then_ns, &d)) return now_ns > then_ns ? INT64_MAX : INT64_MIN;
  return d;
}

// The network header's offset and protocol (as an ethertype); false if the
// link layer is unknown or the packet is not IP.
bool FindNetwork(uint16_t link_type, const uint8_t* d, uint32_t n, uint32_t* off, uint16_t* ethertype) {
  switch (link_type) {
    case 1:  // Ethernet, skipping 802.1Q/802.1ad tags
      if (n < 14) return false;
      *ethertype = Load16(d + 12);
      *off = 14;
      for (int tags = 0; IsVlanTpid(*ethertype) && tags < 4; ++tags, *off += 4) {
        if (n < *off + 4) return false;
        *ethertype = Load16(d + *off + 2);
      }
      break;
    case 113:
      if (n < 16) return false;
      *off = 16, *ethertype = Load16(d + 14);
      break;  // Linux SLL
    case 276:
      if (n < 20) return false;
      *off = 20, *ethertype = Load16(d);
      break;   // Linux SLL2
    case 0:    // BSD loopback: address family in the capturing host's byte order
    case 108:  // OpenBSD loopback: network byte order
    {
      if (n < 4) return false;
      uint32_t be = Load32(d), le = d[0] | d[1] << 8 | d[2] << 16 | uint32_t{d[3]} << 24;
      auto is6 = [](uint32_t f) { return f == 10 || f == 24 || f == 28 || f == 30; };
      *off = 4;
      *ethertype = be == 2 || le == 2 ? kEtherIp : is6(be) || is6(le) ? kEtherIp6 : 0;
      break;
    }
    case 101:
    case 228:
    case 229:  // raw IP
      if (n < 1) return false;
      *off = 0;
      *ethertype = (d[0] >> 4) == 4 ? kEtherIp : (d[0] >> 4) == 6 ? kEtherIp6 : 0;
      break;
    default:
      return false;
  }
  return *ethertype == kEtherIp || *ethertype == kEtherIp6;
}

bool HasPorts(uint8_t proto) { return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp; }

bool DecodeIpv4(const uint8_t* ip, uint32_t n, FlowKey* k, uint16_t ports[2]) {
  if (n < 20 || (ip[0] >> 4) != 4) return false;
  uint32_t ihl = (ip[0] & 0xf) * 4u;
  if (ihl < 20 || n < ihl) return false;
  k->family = 4;
  k->proto = ip[9];
  memcpy(k->addr_lo.data(), ip + 12, 4);
  memcpy(k->addr_hi.data(), ip + 16, 4);
  bool first_fragment = (Load16(ip + 6) & 0x1fff) == 0;
  if (first_fragment && HasPorts(k->proto) && n >= ihl + 4)
    ports[0] = Load16(ip + ihl), ports[1] = Load16(ip + ihl + 2);
  return true;
}

bool DecodeIpv6(const uint8_t* ip, uint32_t n, FlowKey* k, uint16_t ports[2]) {
  if (n < 40 || (ip[0] >> 4) != 6) return false;
  k->family = 6;
  memcpy(k->addr_lo.data(), ip + 8, 16);
  memcpy(k->addr_hi.data(), ip + 24, 16);
  uint8_t nh = ip[6];
  uint32_t off = 40;
  bool first_fragment = true;
  // Hop-by-hop, routing, fragment, destination options, AH.
  for (int hops = 0; hops < 8 && (nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51); ++hops) {
    if (n < off + 8) break;
    uint32_t len = nh == 44 ? 8 : nh == 51 ? (ip[off + 1] + 2u) * 4 : (ip[off + 1] + 1u) * 8;
    if (nh == 44) first_fragment = (Load16(ip + off + 2) & 0xfff8) == 0;
    nh = ip[off];
    off += len;
  }
  k->proto = nh;
  if (first_fragment && HasPorts(nh) && n >= off + 4)
    ports[0] = Load16(ip + off), ports[1] = Load16(ip + off + 2);
  return true;
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
  uint32_t off;
  uint16_t ethertype;
  if (!FindNetwork(link_type, data, caplen, &off, &ethertype) || caplen < off) return false;
  FlowKey k;
  k.rule = key->rule;
  uint16_t ports[2] = {0, 0};
  bool ok = ethertype == kEtherIp ? DecodeIpv4(data + off, caplen - off, &k, ports)
                                  : DecodeIpv6(data + off, caplen - off, &k, ports);
  if (!ok) return false;
  k.port_lo = ports[0], k.port_hi = ports[1];
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
