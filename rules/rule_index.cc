#include "rules/rule_index.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace pcapml {
namespace {

enum class KeyKind : uint8_t { kV4, kV6, kMac, kPort };

struct IndexKey {
  KeyKind kind;
  uint8_t depth, len;
  Key128 value;
  auto Tie() const { return std::tie(kind, depth, len, value.hi, value.lo); }
  bool operator<(const IndexKey& o) const { return Tie() < o.Tie(); }
};

// Rough share of traffic a key lets through: of two indexable sides of an
// `and`, the rule is filed under the more selective one.
uint64_t Cost(const std::vector<IndexKey>& keys) {
  uint64_t cost = 0;
  for (const IndexKey& k : keys) {
    switch (k.kind) {
      case KeyKind::kV4:
        cost += 1 + (32 - k.len);
        break;
      case KeyKind::kV6:
        cost += 1 + (128 - k.len) / 4;
        break;
      case KeyKind::kMac:
        cost += 4;
        break;
      case KeyKind::kPort:
        cost += 64;
        break;
    }
  }
  return cost;
}

constexpr uint32_t kMaxRangeKeys = 16;  // wider port ranges are not indexed

Key128 Load128(const uint8_t* p) {
  Key128 k;
  for (int i = 0; i < 8; ++i) k.hi = k.hi << 8 | p[i], k.lo = k.lo << 8 | p[i + 8];
  return k;
}

uint64_t Mac48(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = v << 8 | p[i];
  return v;
}

bool PrimitiveKeys(const Primitive& p, std::vector<IndexKey>* out) {
  switch (p.test) {
    case Test::kHost4:
      out->push_back({KeyKind::kV4, p.depth, p.prefix_len, {0, Load32(p.addr.data())}});
      return true;
    case Test::kHost6:
      out->push_back({KeyKind::kV6, p.depth, p.prefix_len, Load128(p.addr.data())});
      return true;
    case Test::kEther:
      out->push_back({KeyKind::kMac, 0, 48, {0, Mac48(p.addr.data())}});
      return true;
    case Test::kPort:
      if (uint32_t{p.high} - p.value + 1 > kMaxRangeKeys) return false;
      for (uint32_t port = p.value; port <= p.high; ++port) out->push_back({KeyKind::kPort, p.depth, 0, {0, port}});
      return true;
    default:
      return false;
  }
}

// Keys such that a packet matching the expression has one of them; false if
// there is no such finite set (then the rule is always a candidate).
bool Keys(const FilterExpr& e, uint16_t node, std::vector<IndexKey>* out) {
  const FilterNode& n = e.nodes[node];
  switch (n.op) {
    case FilterNode::kPrimitive:
      return PrimitiveKeys(e.primitives[n.a], out);
    case FilterNode::kOr:
      return Keys(e, n.a, out) && Keys(e, n.b, out);
    case FilterNode::kAnd: {
      std::vector<IndexKey> a, b;
      bool has_a = Keys(e, n.a, &a), has_b = Keys(e, n.b, &b);
      if (!has_a && !has_b) return false;
      const std::vector<IndexKey>& pick = !has_b || (has_a && Cost(a) <= Cost(b)) ? a : b;
      out->insert(out->end(), pick.begin(), pick.end());
      return true;
    }
    case FilterNode::kNot:
      return false;
  }
  return false;
}

uint32_t Mask4(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

Key128 Mask6(uint8_t len) {
  auto part = [](int bits) { return bits <= 0 ? 0 : bits >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - bits); };
  return {part(len), part(len - 64)};
}

Key128 And(const Key128& a, const Key128& m) { return {a.hi & m.hi, a.lo & m.lo}; }

}  // namespace

void IntervalIndex::Build(std::vector<std::pair<std::pair<int64_t, int64_t>, uint32_t>> windows) {
  std::sort(windows.begin(), windows.end());
  lo_.clear(), hi_.clear(), rule_.clear();
  for (const auto& [w, rule] : windows) lo_.push_back(w.first), hi_.push_back(w.second), rule_.push_back(rule);
  max_hi_.assign(lo_.size(), 0);
  auto fill = [&](auto& self, size_t b, size_t e) -> int64_t {
    if (b >= e) return std::numeric_limits<int64_t>::min();
    size_t mid = b + (e - b) / 2;
    max_hi_[mid] = std::max({hi_[mid], self(self, b, mid), self(self, mid + 1, e)});
    return max_hi_[mid];
  };
  fill(fill, 0, lo_.size());
}

void IntervalIndex::Stab(size_t begin, size_t end, int64_t ts, std::vector<uint32_t>* out) const {
  if (begin >= end) return;
  size_t mid = begin + (end - begin) / 2;
  if (max_hi_[mid] < ts) return;
  Stab(begin, mid, ts, out);
  if (lo_[mid] > ts) return;  // so does every window after it
  if (hi_[mid] >= ts) out->push_back(rule_[mid]);
  Stab(mid + 1, end, ts, out);
}

void RuleIndex::Build(const std::vector<IndexedRule>& rules) {
  std::map<IndexKey, std::vector<uint32_t>> buckets;
  std::vector<std::pair<std::pair<int64_t, int64_t>, uint32_t>> windows;
  std::vector<uint32_t> always;
  std::vector<IndexKey> keys;
  for (uint32_t i = 0; i < rules.size(); ++i) {
    const IndexedRule& r = rules[i];
    keys.clear();
    if (r.removed) continue;
    if (r.expr && Keys(*r.expr, r.expr->root, &keys)) {
      for (const IndexKey& k : keys) {
        std::vector<uint32_t>& b = buckets[k];
        if (b.empty() || b.back() != i) b.push_back(i);
      }
    } else if (r.bounded) {
      windows.push_back({{r.first_ns, r.last_ns}, i});
    } else {
      always.push_back(i);
    }
  }
  *this = RuleIndex();
  auto store = [&](const std::vector<uint32_t>& v) -> uint32_t {
    if (v.empty()) return FlatMap<uint32_t>::kEmpty;
    if (v.size() == 1) return v[0];
    runs_.push_back({static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(v.size())});
    pool_.insert(pool_.end(), v.begin(), v.end());
    return kRun | static_cast<uint32_t>(runs_.size() - 1);
  };
  // Buckets are sorted by (kind, depth, len): each group becomes one map.
  for (auto it = buckets.begin(); it != buckets.end();) {
    const IndexKey group = it->first;
    std::vector<std::pair<uint32_t, uint32_t>> items32;
    std::vector<std::pair<uint64_t, uint32_t>> items64;
    std::vector<std::pair<Key128, uint32_t>> items128;
    for (; it != buckets.end() && it->first.kind == group.kind && it->first.depth == group.depth &&
           it->first.len == group.len;
         ++it) {
      uint32_t value = store(it->second);
      if (group.kind == KeyKind::kV6)
        items128.push_back({it->first.value, value});
      else if (group.kind == KeyKind::kMac)
        items64.push_back({it->first.value.lo, value});
      else
        items32.push_back({static_cast<uint32_t>(it->first.value.lo), value});
    }
    Layer& layer = layers_[group.depth];
    if (group.kind != KeyKind::kMac) depths_ = std::max(depths_, group.depth + 1);
    switch (group.kind) {
      case KeyKind::kV4:
        layer.v4.push_back({Mask4(group.len), {}}), layer.v4.back().map.Build(items32);
        break;
      case KeyKind::kV6:
        layer.v6.push_back({Mask6(group.len), {}}), layer.v6.back().map.Build(items128);
        break;
      case KeyKind::kMac:
        macs_.Build(items64);
        break;
      case KeyKind::kPort:
        layer.ports.Build(items32);
        break;
    }
  }
  times_.Build(std::move(windows));
  always_ = store(always);
  size_t cursors = 4;
  for (const Layer& l : layers_) cursors += 2 * (l.v4.size() + l.v6.size() + 1);
  cursors_.reserve(cursors);
  time_hits_.reserve(times_.size());
}

void RuleIndex::AddLayer(const Layer& index, const HeaderLayer& l) {
  const uint8_t *src, *dst;
  if (!index.v4.empty() && Ipv4Addresses(l, &src, &dst)) {
    uint32_t a = Load32(src), b = Load32(dst);
    for (const Prefix4& p : index.v4) p.map.Prefetch(a & p.mask), p.map.Prefetch(b & p.mask);
    for (const Prefix4& p : index.v4) {
      Add(p.map.Find(a & p.mask));
      if ((a ^ b) & p.mask) Add(p.map.Find(b & p.mask));
    }
  }
  if (!index.v6.empty() && l.ethertype == kEtherIp6) {
    Key128 a = Load128(l.l3 + 8), b = Load128(l.l3 + 24);
    for (const Prefix6& p : index.v6) {
      Key128 am = And(a, p.mask), bm = And(b, p.mask);
      Add(p.map.Find(am));
      if (!(am == bm)) Add(p.map.Find(bm));
    }
  }
  uint16_t sport, dport;
  if (index.ports.size() && TransportPorts(l, kViaTcp | kViaUdp | kViaSctp, &sport, &dport)) {
    index.ports.Prefetch(dport);
    Add(index.ports.Find(sport));
    if (sport != dport) Add(index.ports.Find(dport));
  }
}

void RuleIndex::Gather(const PacketHeaders& h, int64_t ts) {
  cursors_.clear();
  for (int d = 0; d < depths_; ++d) AddLayer(layers_[d], h.layer[d]);
  if (macs_.size()) {
    uint64_t dst = Mac48(h.data), src = Mac48(h.data + 6);
    Add(macs_.Find(dst));
    if (src != dst) Add(macs_.Find(src));
  }
  if (times_.size()) {
    time_hits_.clear();
    times_.Stab(ts, &time_hits_);
    std::sort(time_hits_.begin(), time_hits_.end());
    if (!time_hits_.empty()) cursors_.push_back({time_hits_.data(), time_hits_.data() + time_hits_.size()});
  }
  if (always_ != FlatMap<uint32_t>::kEmpty) Add(&always_);
}

size_t RuleIndex::bytes() const {
  size_t n =
      pool_.capacity() * sizeof(uint32_t) + runs_.capacity() * sizeof(RuleRun) + macs_.bytes() + times_.size() * 36;
  for (const Layer& l : layers_) {
    n += l.ports.bytes();
    for (const Prefix4& p : l.v4) n += p.map.bytes();
    for (const Prefix6& p : l.v6) n += p.map.bytes();
  }
  return n;
}

}  // namespace pcapml
