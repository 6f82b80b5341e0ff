// Indexes that find, for one packet, the few rules that can match it, in rule
// order: a rule whose filter implies "some address/MAC/port of the packet is
// one of these keys" is filed under its keys (hash tables per prefix length,
// per vlan depth); a rule with only a time window goes into an interval
// index; every other rule is always a candidate. The caller tests candidates
// in ascending order and stops at the first that matches, which gives
// exactly the linear first-match answer because every rule that can match
// is a candidate.
#pragma once

#include <cstdint>
#include <vector>

#include "rules/filter_expr.h"
#include "rules/flat_map.h"
#include "rules/packet_headers.h"

namespace pcapml {

struct IndexedRule {
  const FilterExpr* expr = nullptr;   // null: the rule runs BPF or has no filter
  int64_t first_ns = 0, last_ns = 0;  // its time window, inclusive
  bool bounded = false;               // the window excludes some time
  bool removed = false;               // never a candidate (a removed rule keeping its place)
};

// Rules whose windows contain a given time, by stabbing query over windows
// sorted by start (an implicit interval tree: O(log n + hits)).
class IntervalIndex {
 public:
  void Build(std::vector<std::pair<std::pair<int64_t, int64_t>, uint32_t>> windows);
  // Appends the rules whose window contains ts to *out (unordered).
  void Stab(int64_t ts, std::vector<uint32_t>* out) const { Stab(0, lo_.size(), ts, out); }
  size_t size() const { return lo_.size(); }

 private:
  void Stab(size_t begin, size_t end, int64_t ts, std::vector<uint32_t>* out) const;
  std::vector<int64_t> lo_, hi_, max_hi_;  // max_hi_[mid]: largest hi in the subtree at mid
  std::vector<uint32_t> rule_;
};

class RuleIndex {
 public:
  void Build(const std::vector<IndexedRule>& rules);

  // Calls test(rule) on candidates in ascending order until it returns true;
  // returns that rule or -1. prefetch(rule) is called first on the first
  // candidate of each index hit. headers must be complete to max_depth().
  template <typename Test, typename Prefetch>
  int32_t FirstMatch(const PacketHeaders& h, int64_t ts, Test&& test, Prefetch&& prefetch) {
    Gather(h, ts);
    for (const Cursor& c : cursors_) prefetch(*c.p);
    if (cursors_.size() == 1) {
      for (const uint32_t* p = cursors_[0].p; p != cursors_[0].end; ++p)
        if (test(*p)) return static_cast<int32_t>(*p);
      return -1;
    }
    for (;;) {
      uint32_t best = UINT32_MAX;
      for (const Cursor& c : cursors_)
        if (c.p != c.end && *c.p < best) best = *c.p;
      if (best == UINT32_MAX) return -1;
      if (test(best)) return static_cast<int32_t>(best);
      for (Cursor& c : cursors_)
        if (c.p != c.end && *c.p == best) ++c.p;
    }
  }

  int max_depth() const { return depths_ - 1; }  // -1: no address/port index
  size_t windowed_count() const { return times_.size(); }
  size_t bytes() const;

 private:
  struct Prefix4 {
    uint32_t mask;
    FlatMap<uint32_t> map;
  };
  struct Prefix6 {
    Key128 mask;
    FlatMap<Key128> map;
  };
  struct Layer {
    std::vector<Prefix4> v4;  // one per prefix length in use
    std::vector<Prefix6> v6;
    FlatMap<uint32_t> ports;
  };
  // A map value: one rule's index, or kRun | an index into runs_.
  static constexpr uint32_t kRun = 0x80000000;
  struct RuleRun {  // pool_[offset, offset + count), ascending
    uint32_t offset = 0, count = 0;
  };
  struct Cursor {
    const uint32_t* p;
    const uint32_t* end;
  };

  void Gather(const PacketHeaders& h, int64_t ts);
  void Add(const uint32_t* value) {
    if (!value) return;
    if (!(*value & kRun)) return cursors_.push_back({value, value + 1});
    const RuleRun& run = runs_[*value & ~kRun];
    cursors_.push_back({pool_.data() + run.offset, pool_.data() + run.offset + run.count});
  }
  void AddLayer(const Layer& index, const HeaderLayer& l);

  Layer layers_[kMaxVlanDepth + 1];
  int depths_ = 0;
  FlatMap<uint64_t> macs_;
  IntervalIndex times_;
  uint32_t always_ = FlatMap<uint32_t>::kEmpty;  // a map value, kEmpty if none
  std::vector<RuleRun> runs_;
  std::vector<uint32_t> pool_;
  // Per-packet scratch, sized at Build: no allocation while matching.
  std::vector<Cursor> cursors_;
  std::vector<uint32_t> time_hits_;
};

}  // namespace pcapml
