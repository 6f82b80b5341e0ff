// A read-only open-addressing hash map from a fixed-size key to a run of
// rule indices, built once per rule set: one multiply and usually one probe
// per lookup, no allocation.
#pragma once

#include <cstdint>
#include <vector>

namespace pcapml {

struct RuleRun {  // rule indices pool[offset, offset + count), ascending
  uint32_t offset = 0, count = 0;
};

struct Key128 {
  uint64_t hi = 0, lo = 0;
  bool operator==(const Key128&) const = default;
};

inline uint64_t MixHash(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}
inline uint64_t KeyHash(uint64_t k) { return MixHash(k); }
inline uint64_t KeyHash(const Key128& k) { return MixHash(k.hi ^ MixHash(k.lo + 0x9e3779b97f4a7c15ULL)); }

template <typename Key>
class FlatMap {
 public:
  // Builds from (key, run) pairs with distinct keys.
  void Build(const std::vector<std::pair<Key, RuleRun>>& items) {
    size_t cap = 16;
    while (cap < items.size() * 2) cap *= 2;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (const auto& [key, run] : items) {
      size_t i = KeyHash(key) & mask_;
      while (slots_[i].run.count) i = (i + 1) & mask_;
      slots_[i] = Slot{key, run};
    }
    size_ = items.size();
  }

  // The run for key; empty if absent.
  RuleRun Find(const Key& key) const {
    if (!size_) return {};
    for (size_t i = KeyHash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.run.count) return {};
      if (s.key == key) return s.run;
    }
  }

  size_t size() const { return size_; }
  size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    Key key{};
    RuleRun run;  // count 0: empty slot
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace pcapml
