// The host's sockets as the process plugin knows them, and which one a
// captured packet belongs to. Lookup follows the kernel's own order: a
// connected socket's 5-tuple first, then a socket bound to the local address
// and port, then one bound to the wildcard address of that port. A packet
// is tried both ways round (its source as the local end, then its
// destination); when both ends are sockets of this host (loopback), the one
// that announced itself first wins: the end that initiated the connection,
// so both directions carry one owner.
//
// Bounded: at most `capacity` sockets; the least recently used makes room
// (counted as evicted). A closed socket stays for `grace` of packet time so
// its FIN, RST and late retransmissions are still attributed. Entries are
// reused, so once warm nothing is allocated. Header-only: the plugin is its
// own library.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "plugins/common/key_hash.h"
#include "plugins/pcapml_plugin.h"

namespace pcapml::process {

inline constexpr int64_t kOpen = std::numeric_limits<int64_t>::max();

// One end of a socket: version 4 or 6, the protocol, local and remote
// address and port. A bound socket has a zero remote end; the wildcard
// address is all zeros.
struct Tuple {
  uint8_t ip_version = 0, protocol = 0;
  uint16_t lport = 0, rport = 0;
  std::array<uint8_t, 16> laddr{}, raddr{};
};

struct SocketKey {
  std::array<uint8_t, 40> b{};
  bool operator==(const SocketKey&) const = default;
};

// kind 1: a connected 5-tuple; 2: a bound local address and port.
inline SocketKey MakeKey(uint8_t kind, uint8_t ip_version, uint8_t protocol, const uint8_t* laddr, uint16_t lport,
                         const uint8_t* raddr, uint16_t rport) {
  SocketKey k;
  size_t n = ip_version == 6 ? 16 : 4;
  k.b[0] = kind, k.b[1] = ip_version, k.b[2] = protocol;
  k.b[4] = static_cast<uint8_t>(lport >> 8), k.b[5] = static_cast<uint8_t>(lport);
  k.b[6] = static_cast<uint8_t>(rport >> 8), k.b[7] = static_cast<uint8_t>(rport);
  if (laddr) std::memcpy(&k.b[8], laddr, n);
  if (raddr) std::memcpy(&k.b[24], raddr, n);
  return k;
}

inline SocketKey ConnectedKey(const Tuple& t) {
  return MakeKey(1, t.ip_version, t.protocol, t.laddr.data(), t.lport, t.raddr.data(), t.rport);
}
inline SocketKey BoundKey(const Tuple& t) {
  return MakeKey(2, t.ip_version, t.protocol, t.laddr.data(), t.lport, nullptr, 0);
}
inline bool IsBound(const Tuple& t) { return t.rport == 0; }

template <typename Value>
class SocketTable {
 public:
  struct Entry {
    SocketKey key;
    uint64_t cookie = 0;        // the socket's cookie (0: unknown)
    int64_t announced = 0;      // when the socket announced this key (any clock, compared only with each other)
    int64_t closed_ns = kOpen;  // packet time (ns since the epoch) it closed
    uint64_t serial = 0;        // distinct for every insertion: a new socket on the same 5-tuple is a new owner
    Value value;
  };

  // `is_local(version, address)`: whether an address is this host's, for
  // matching wildcard-bound sockets (a remote peer's port that happens to
  // be bound here is not that socket).
  using IsLocal = bool (*)(const void* ctx, uint8_t ip_version, const uint8_t* addr);

  SocketTable(size_t capacity, int64_t grace_ns) : capacity_(capacity ? capacity : 1), grace_ns_(grace_ns) {}

  void SetLocalCheck(IsLocal is_local, const void* ctx) { is_local_ = is_local, local_ctx_ = ctx; }

  // Adds the socket at t (connected or bound by IsBound), replacing an
  // entry with the same key (a new socket reusing its 5-tuple). With
  // keep_existing, an entry already there stays (sockets found at start
  // yield to what the eBPF programs report). Returns the entry to fill in,
  // or null when kept.
  Entry* Add(const Tuple& t, uint64_t cookie, int64_t announced, bool keep_existing = false) {
    SocketKey key = IsBound(t) ? BoundKey(t) : ConnectedKey(t);
    uint64_t h = Hash(key);
    Prepare();
    uint32_t i = Lookup(key, h);
    if (i != kNone) {
      if (keep_existing) return nullptr;
      UnlinkCookie(i);
    } else {
      i = Allocate();
      Entry& e = slots_[i].entry;
      e.key = key;
      slots_[i].hash = h;
      uint32_t& head = heads_[h & (heads_.size() - 1)];
      slots_[i].chain = head;
      head = i;
      ++size_;
      if (uint32_t* n = PortCount(t.protocol, t.lport)) ++*n;
    }
    Slot& s = slots_[i];
    s.entry.cookie = cookie;
    s.entry.announced = announced;
    s.entry.closed_ns = kOpen;
    s.entry.serial = ++serial_;
    LinkCookie(i);
    Touch(i);
    return &s.entry;
  }

  // The socket at t closed at closed_ns (packet time). A later close of the
  // same entry keeps the first.
  void Close(const Tuple& t, int64_t closed_ns) {
    if (heads_.empty()) return;
    SocketKey key = IsBound(t) ? BoundKey(t) : ConnectedKey(t);
    uint32_t i = Lookup(key, Hash(key));
    if (i != kNone) CloseEntry(i, closed_ns);
  }

  // Every entry of the socket with this cookie closed.
  void CloseCookie(uint64_t cookie, int64_t closed_ns) {
    if (heads_.empty() || !cookie) return;
    for (uint32_t i = cookie_heads_[CookieBucket(cookie)]; i != kNone; i = slots_[i].cookie_next)
      if (slots_[i].entry.cookie == cookie) CloseEntry(i, closed_ns);
  }

  // The socket a packet belongs to at its time, or null. An end whose port
  // no tracked socket has locally is not looked up at all: most packets of
  // no local socket cost two array reads.
  const Entry* Find(const plugin::Packet& p) {
    if (heads_.empty() || !p.has_ports || (p.ip_version != 4 && p.ip_version != 6)) return nullptr;
    const uint32_t* src_n = PortCount(p.protocol, p.src_port);
    const uint32_t* dst_n = PortCount(p.protocol, p.dst_port);
    bool src_local = src_n && *src_n, dst_local = dst_n && *dst_n;
    if (!src_local && !dst_local) return nullptr;
    uint8_t v = p.ip_version, proto = p.protocol;
    uint32_t out = src_local ? Live(MakeKey(1, v, proto, p.src, p.src_port, p.dst, p.dst_port), p.ts_ns) : kNone;
    uint32_t in = dst_local ? Live(MakeKey(1, v, proto, p.dst, p.dst_port, p.src, p.src_port), p.ts_ns) : kNone;
    uint32_t i = Older(out, in);
    if (i == kNone)
      i = Older(src_local ? FindBound(v, proto, p.src, p.src_port, p.ts_ns) : kNone,
                dst_local ? FindBound(v, proto, p.dst, p.dst_port, p.ts_ns) : kNone);
    if (i == kNone) return nullptr;
    Touch(i);
    return &slots_[i].entry;
  }

  // Drops the sockets whose grace period ended by packet time now_ns.
  void Expire(int64_t now_ns) {
    for (uint32_t i = closed_head_; i != kNone;) {
      uint32_t next = slots_[i].closed_next;
      if (Expired(slots_[i].entry, now_ns)) Remove(i);
      i = next;
    }
  }

  size_t size() const { return size_; }
  uint64_t evicted() const { return evicted_; }
  size_t capacity() const { return capacity_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Slot {
    Entry entry;
    uint64_t hash = 0;
    uint32_t chain = kNone;                             // hash bucket
    uint32_t prev = kNone, next = kNone;                // least recently used first
    uint32_t cookie_next = kNone, cookie_prev = kNone;  // same cookie bucket
    uint32_t closed_next = kNone, closed_prev = kNone;  // closed entries
    bool closed_linked = false;
  };

  static uint64_t Hash(const SocketKey& k) { return plugin_common::HashKeyBytes(k.b); }

  size_t CookieBucket(uint64_t cookie) const {
    return ((cookie * 0x9e3779b97f4a7c15ull) >> 20) & (cookie_heads_.size() - 1);
  }

  // Memory on first use: a plugin that sees no socket costs none.
  void Prepare() {
    if (!heads_.empty()) return;
    size_t buckets = 16;
    while (buckets < 2 * capacity_) buckets *= 2;
    heads_.assign(buckets, kNone);
    cookie_heads_.assign(buckets, kNone);
    port_counts_.assign(2 * 65536, 0);
  }

  // How many tracked sockets have this local port (TCP and UDP only).
  uint32_t* PortCount(uint8_t protocol, uint16_t port) {
    if (port_counts_.empty() || (protocol != 6 && protocol != 17)) return nullptr;
    return &port_counts_[(protocol == 17 ? 65536u : 0u) + port];
  }

  bool Expired(const Entry& e, int64_t now_ns) const {
    return e.closed_ns != kOpen && now_ns - e.closed_ns > grace_ns_ && now_ns > e.closed_ns;
  }

  uint32_t Lookup(const SocketKey& key, uint64_t hash) const {
    for (uint32_t i = heads_[hash & (heads_.size() - 1)]; i != kNone; i = slots_[i].chain)
      if (slots_[i].hash == hash && slots_[i].entry.key == key) return i;
    return kNone;
  }

  // The entry for key if it still owns packets at now_ns.
  uint32_t Live(const SocketKey& key, int64_t now_ns) const {
    uint32_t i = Lookup(key, Hash(key));
    return i != kNone && !Expired(slots_[i].entry, now_ns) ? i : kNone;
  }

  // A socket bound to this address and port, or to the wildcard address of
  // the port (IPv4 also on an IPv6 wildcard socket, which takes both) when
  // the address is this host's.
  uint32_t FindBound(uint8_t v, uint8_t proto, const uint8_t* addr, uint16_t port, int64_t now_ns) const {
    uint32_t i = Live(MakeKey(2, v, proto, addr, port, nullptr, 0), now_ns);
    if (i != kNone || (is_local_ && !is_local_(local_ctx_, v, addr))) return i;
    i = Live(MakeKey(2, v, proto, nullptr, port, nullptr, 0), now_ns);
    if (i == kNone && v == 4) i = Live(MakeKey(2, 6, proto, nullptr, port, nullptr, 0), now_ns);
    return i;
  }

  uint32_t Older(uint32_t a, uint32_t b) const {
    if (a == kNone) return b;
    if (b == kNone) return a;
    return slots_[b].entry.announced < slots_[a].entry.announced ? b : a;
  }

  uint32_t Allocate() {
    if (slots_.size() < capacity_) {
      slots_.emplace_back();
      return static_cast<uint32_t>(slots_.size() - 1);
    }
    if (free_.empty()) {
      // Prefer a closed entry in its grace period, then the least recently used.
      uint32_t victim = closed_head_ != kNone ? closed_head_ : lru_head_;
      Remove(victim);
      ++evicted_;
    }
    uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }

  void CloseEntry(uint32_t i, int64_t closed_ns) {
    Slot& s = slots_[i];
    if (s.entry.closed_ns != kOpen) return;
    s.entry.closed_ns = closed_ns;
    s.closed_prev = closed_tail_;
    s.closed_next = kNone;
    (closed_tail_ == kNone ? closed_head_ : slots_[closed_tail_].closed_next) = i;
    closed_tail_ = i;
    s.closed_linked = true;
  }

  void UnlinkClosed(uint32_t i) {
    Slot& s = slots_[i];
    if (!s.closed_linked) return;
    (s.closed_prev == kNone ? closed_head_ : slots_[s.closed_prev].closed_next) = s.closed_next;
    (s.closed_next == kNone ? closed_tail_ : slots_[s.closed_next].closed_prev) = s.closed_prev;
    s.closed_linked = false;
  }

  void LinkCookie(uint32_t i) {
    if (!slots_[i].entry.cookie) return;
    uint32_t& head = cookie_heads_[CookieBucket(slots_[i].entry.cookie)];
    slots_[i].cookie_prev = kNone;
    slots_[i].cookie_next = head;
    if (head != kNone) slots_[head].cookie_prev = i;
    head = i;
  }

  void UnlinkCookie(uint32_t i) {
    Slot& s = slots_[i];
    if (s.entry.cookie) {
      uint32_t& head = cookie_heads_[CookieBucket(s.entry.cookie)];
      (s.cookie_prev == kNone ? head : slots_[s.cookie_prev].cookie_next) = s.cookie_next;
      if (s.cookie_next != kNone) slots_[s.cookie_next].cookie_prev = s.cookie_prev;
    }
    s.cookie_next = s.cookie_prev = kNone;
    UnlinkClosed(i);
  }

  void Remove(uint32_t i) {
    Slot& s = slots_[i];
    if (uint32_t* n = PortCount(s.entry.key.b[2], static_cast<uint16_t>(s.entry.key.b[4] << 8 | s.entry.key.b[5])))
      --*n;
    uint32_t* link = &heads_[s.hash & (heads_.size() - 1)];
    while (*link != i) link = &slots_[*link].chain;
    *link = s.chain;
    UnlinkCookie(i);
    UnlinkLru(i);
    free_.push_back(i);
    --size_;
  }

  void Touch(uint32_t i) {
    UnlinkLru(i);
    slots_[i].prev = lru_tail_;
    slots_[i].next = kNone;
    (lru_tail_ == kNone ? lru_head_ : slots_[lru_tail_].next) = i;
    lru_tail_ = i;
  }

  void UnlinkLru(uint32_t i) {
    Slot& s = slots_[i];
    if (s.prev == kNone && lru_head_ != i) return;  // not linked
    (s.prev == kNone ? lru_head_ : slots_[s.prev].next) = s.next;
    (s.next == kNone ? lru_tail_ : slots_[s.next].prev) = s.prev;
    s.prev = s.next = kNone;
  }

  size_t capacity_;
  int64_t grace_ns_;
  IsLocal is_local_ = nullptr;
  const void* local_ctx_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<uint32_t> heads_, cookie_heads_, free_, port_counts_;
  uint32_t lru_head_ = kNone, lru_tail_ = kNone, closed_head_ = kNone, closed_tail_ = kNone;
  size_t size_ = 0;
  uint64_t serial_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace pcapml::process
