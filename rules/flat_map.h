// A read-only open-addressing hash map from a fixed-size key to a 32-bit
// value, built once per rule set: one multiply and usually one cache line
// per lookup, no allocation. Slots are small (8 bytes for 32-bit keys) so
// that the tables of thousands of rules stay in cache.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace pcapml {

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
inline uint64_t KeyHash(uint32_t k) { return MixHash(k); }
inline uint64_t KeyHash(uint64_t k) { return MixHash(k); }
inline uint64_t KeyHash(const Key128& k) { return MixHash(k.hi ^ MixHash(k.lo + 0x9e3779b97f4a7c15ULL)); }

template <typename Key>
class FlatMap {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;  // not a valid value

  // Builds from (key, value) pairs with distinct keys.
  void Build(const std::vector<std::pair<Key, uint32_t>>& items) {
    size_t cap = 16;
    while (cap < items.size() + items.size() / 2) cap *= 2;  // load <= 2/3
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (const auto& [key, value] : items) {
      size_t i = KeyHash(key) & mask_;
      while (slots_[i].value != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Slot{key, value};
    }
    size_ = items.size();
  }

  // The value for key, stable until the next Build; null if absent.
  const uint32_t* Find(const Key& key) const {
    if (!size_) return nullptr;
    for (size_t i = KeyHash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return nullptr;
      if (s.key == key) return &s.value;
    }
  }

  // Starts loading key's slot, so that several lookups wait for memory at once.
  void Prefetch(const Key& key) const {
    if (size_) __builtin_prefetch(&slots_[KeyHash(key) & mask_]);
  }

  size_t size() const { return size_; }
  size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    Key key{};
    uint32_t value = kEmpty;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace pcapml
