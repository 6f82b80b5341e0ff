// Helpers the shipped plugins share (header-only: each plugin is its own
// library): connection and address keys, and a bounded table of per-flow
// state, least recently seen first. Entries and their buffers are reused,
// so once the table has warmed up nothing is allocated per packet.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "plugins/common/key_hash.h"
#include "plugins/pcapml_plugin.h"

namespace pcapml::plugin_common {

struct Key {
  std::array<uint8_t, 40> b{};
  bool operator==(const Key&) const = default;
};

// A bidirectional connection: protocol and the lower (address, port)
// endpoint first, as rules/flow_table.h orders them. *src_is_low says
// which endpoint sent this packet.
inline Key ConnectionKey(const plugin::Packet& p, bool* src_is_low) {
  size_t n = p.ip_version == 6 ? 16 : 4;
  int c = std::memcmp(p.src, p.dst, n);
  *src_is_low = c < 0 || (c == 0 && p.src_port <= p.dst_port);
  const uint8_t* lo = *src_is_low ? p.src : p.dst;
  const uint8_t* hi = *src_is_low ? p.dst : p.src;
  uint16_t lo_port = *src_is_low ? p.src_port : p.dst_port, hi_port = *src_is_low ? p.dst_port : p.src_port;
  Key k;
  k.b[0] = p.ip_version;
  k.b[1] = p.protocol;
  k.b[2] = static_cast<uint8_t>(lo_port >> 8), k.b[3] = static_cast<uint8_t>(lo_port);
  k.b[4] = static_cast<uint8_t>(hi_port >> 8), k.b[5] = static_cast<uint8_t>(hi_port);
  std::memcpy(&k.b[8], lo, n);
  std::memcpy(&k.b[24], hi, n);
  return k;
}

inline Key AddressKey(uint8_t ip_version, const uint8_t* addr) {
  Key k;
  k.b[0] = ip_version;
  std::memcpy(&k.b[8], addr, ip_version == 6 ? 16 : 4);
  return k;
}

// "<proto> <lowIP> <lowport> <highIP> <highport>|<start ns>": the flow
// sample-key suffix of docs/format.md (Sample IDs), as RuleSet writes it for sample = "flow".
inline void AppendConnectionSuffix(const Key& k, int64_t start_ns, std::string* out) {
  char ip[INET6_ADDRSTRLEN];
  int family = k.b[0] == 6 ? AF_INET6 : AF_INET;
  auto port = [&](int at) { return std::to_string(k.b[at] << 8 | k.b[at + 1]); };
  out->append(std::to_string(k.b[1])).push_back(' ');
  out->append(inet_ntop(family, &k.b[8], ip, sizeof ip)).append(" ").append(port(2)).push_back(' ');
  out->append(inet_ntop(family, &k.b[24], ip, sizeof ip)).append(" ").append(port(4)).push_back('|');
  out->append(std::to_string(start_ns));
}

// now_ns - then_ns, saturated: packet times come from the input and may lie
// anywhere in int64, where the plain difference overflows.
inline int64_t ElapsedNs(int64_t now_ns, int64_t then_ns) {
  int64_t d;
  if (__builtin_sub_overflow(now_ns, then_ns, &d)) return now_ns > then_ns ? INT64_MAX : INT64_MIN;
  return d;
}

// State needs a Reset() that clears it but may keep its buffers.
template <typename State>
class FlowMap {
 public:
  explicit FlowMap(size_t capacity) : capacity_(capacity ? capacity : 1) {}

  State* Find(const Key& key, int64_t now_ns) {
    if (heads_.empty()) return nullptr;
    uint32_t i = Lookup(key, Hash(key));
    if (i == kNone) return nullptr;
    Touch(i, now_ns);
    return &entries_[i].state;
  }

  // A fresh (Reset) entry for key, which must not be present. When the
  // table is full, the least recently seen entry makes room.
  State& Insert(const Key& key, int64_t now_ns) {
    if (heads_.empty()) {  // on first use: a plugin whose filter matches nothing costs no memory
      size_t buckets = 16;
      while (buckets < 2 * capacity_) buckets *= 2;
      heads_.assign(buckets, kNone);
    }
    uint32_t i;
    if (entries_.size() < capacity_) {
      i = static_cast<uint32_t>(entries_.size());
      entries_.emplace_back();
    } else if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      i = head_;
      Remove(i);
      free_.pop_back();
      ++evicted_;
    }
    Entry& e = entries_[i];
    e.key = key;
    e.hash = Hash(key);
    e.used = true;
    e.state.Reset();
    uint32_t& head = heads_[e.hash & (heads_.size() - 1)];
    e.chain = head;
    head = i;
    e.last_ns = now_ns;
    LinkLast(i);
    ++size_;
    return e.state;
  }

  // Removes the entries not seen for longer than idle_ns.
  void ExpireIdle(int64_t now_ns, int64_t idle_ns) {
    while (head_ != kNone && ElapsedNs(now_ns, entries_[head_].last_ns) > idle_ns) Remove(head_);
  }

  size_t size() const { return size_; }
  uint64_t evicted() const { return evicted_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Entry {
    Key key;
    uint64_t hash = 0;
    int64_t last_ns = 0;
    uint32_t prev = kNone, next = kNone, chain = kNone;
    bool used = false;
    State state;
  };

  static uint64_t Hash(const Key& k) { return HashKeyBytes(k.b); }

  uint32_t Lookup(const Key& key, uint64_t hash) const {
    for (uint32_t i = heads_[hash & (heads_.size() - 1)]; i != kNone; i = entries_[i].chain)
      if (entries_[i].hash == hash && entries_[i].key == key) return i;
    return kNone;
  }

  void Touch(uint32_t i, int64_t now_ns) {
    if (now_ns > entries_[i].last_ns) entries_[i].last_ns = now_ns;
    Unlink(i);
    LinkLast(i);
  }

  void Remove(uint32_t i) {
    Entry& e = entries_[i];
    uint32_t* link = &heads_[e.hash & (heads_.size() - 1)];
    while (*link != i) link = &entries_[*link].chain;
    *link = e.chain;
    Unlink(i);
    e.used = false;
    free_.push_back(i);
    --size_;
  }

  void Unlink(uint32_t i) {
    Entry& e = entries_[i];
    (e.prev == kNone ? head_ : entries_[e.prev].next) = e.next;
    (e.next == kNone ? tail_ : entries_[e.next].prev) = e.prev;
    e.prev = e.next = kNone;
  }

  void LinkLast(uint32_t i) {
    entries_[i].prev = tail_;
    (tail_ == kNone ? head_ : entries_[tail_].next) = i;
    tail_ = i;
  }

  size_t capacity_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> heads_;
  std::vector<uint32_t> free_;
  uint32_t head_ = kNone, tail_ = kNone;
  size_t size_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace pcapml::plugin_common
