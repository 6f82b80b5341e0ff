#include "classify/delay_line.h"

#include <algorithm>
#include <cstring>

namespace pcapml {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kSpareChunks = 2;   // kept for reuse when the line empties
constexpr uint64_t kEntryCost = 64;  // counted toward hold_bytes besides the packet's bytes

// now - then without overflow (packet times come from the input).
bool OlderThan(int64_t then_ns, int64_t now_ns, int64_t limit_ns) {
  int64_t d;
  if (__builtin_sub_overflow(now_ns, then_ns, &d)) return now_ns > then_ns;
  return d > limit_ns;
}

}  // namespace

size_t HoldKeyHash::operator()(const HoldKey& k) const {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ k.owner;
  for (size_t i = 0; i < k.conn.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, &k.conn[i], 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return static_cast<size_t>(h);
}

DelayLine::DelayLine(HoldLimits limits, PacketOutput* out) : limits_(limits), out_(out), ring_(64) {}

DelayLine::~DelayLine() = default;

// Calls into the line nest (Release asks the owner, which may decide or
// release other holds); only the outermost call writes packets out, so an
// entry being settled is never popped under its caller.
class DelayLine::Depth {
 public:
  explicit Depth(DelayLine* line) : line_(line) { ++line_->depth_; }
  ~Depth() {
    if (--line_->depth_ == 0) line_->Drain();
  }

 private:
  DelayLine* line_;
};

uint8_t* DelayLine::Allocate(size_t n, uint64_t* chunk) {
  if (chunks_.empty() || chunks_.back().size - chunks_.back().used < n) {
    Chunk c;
    if (n <= kChunkBytes && !spare_.empty()) {
      c = std::move(spare_.back());
      spare_.pop_back();
    } else {
      c.size = std::max(n, kChunkBytes);
      c.bytes.reset(new uint8_t[c.size]);
    }
    c.used = 0;
    c.id = next_chunk_++;
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  *chunk = c.id;
  uint8_t* at = c.bytes.get() + c.used;
  c.used += n;
  return at;
}

std::string_view DelayLine::Store(std::string_view s) {
  if (s.empty()) return {};
  uint64_t chunk;
  uint8_t* at = Allocate(s.size(), &chunk);
  std::memcpy(at, s.data(), s.size());
  return std::string_view(reinterpret_cast<const char*>(at), s.size());
}

DelayLine::Entry& DelayLine::Push(const LinePacket& p) {
  if (tail_ - head_ == ring_.size()) {
    std::vector<Entry> bigger(ring_.size() * 2);
    for (uint64_t s = head_; s < tail_; ++s) bigger[s & (bigger.size() - 1)] = at(s);
    ring_.swap(bigger);
  }
  Entry& e = at(tail_++);
  e = Entry{};
  e.p = p;
  uint8_t* copy = Allocate(p.caplen, &e.chunk);
  if (p.caplen) std::memcpy(copy, p.data, p.caplen);
  e.p.data = copy;
  bytes_ += p.caplen + kEntryCost;
  return e;
}

void DelayLine::SetReady(Entry& e, const std::string_view* comment) {
  e.group = kNoGroup;
  e.next = kNoSeq;
  e.matched = comment != nullptr;
  e.comment = comment ? Store(*comment) : std::string_view();
}

void DelayLine::Pass(const LinePacket& p, const std::string_view* comment) {
  if (empty() && depth_ == 0) {
    out_->Write(p, comment);
    return;
  }
  Depth d(this);
  SetReady(Push(p), comment);
  Enforce();
}

void DelayLine::Hold(const LinePacket& p, const HoldKey& key) {
  Depth d(this);
  Push(p);
  Join(tail_ - 1, key);
  Enforce();
}

void DelayLine::Decide(const HoldKey& key, std::string_view comment) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  Depth d(this);
  uint32_t g = it->second;
  index_.erase(it);
  std::string_view stored = Store(comment);
  for (uint64_t s = groups_[g].first; s != kNoSeq;) {
    Entry& e = at(s);
    s = e.next;
    e.group = kNoGroup, e.next = kNoSeq, e.matched = true, e.comment = stored;
    ++counts_.labeled;
  }
  free_groups_.push_back(g);
}

void DelayLine::Release(const HoldKey& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  Depth d(this);
  uint32_t g = it->second;
  index_.erase(it);
  EndGroup(g, End::kPassed);
}

// Hands each packet of group g (already out of the index) to the owner, in
// order. The slot is freed only afterwards: its entries still name it while
// the owner's answers may open other groups.
void DelayLine::EndGroup(uint32_t g, End how) {
  bool may_hold = how == End::kPassed && !flushing_;
  for (uint64_t s = groups_[g].first; s != kNoSeq;) {
    Entry* e = &at(s);
    uint64_t seq = s;
    s = e->next;
    ++(how == End::kPassed ? counts_.passed : how == End::kLimit ? counts_.limit : counts_.flushed);
    Fate f = owner_ ? owner_->Continue(e->p, groups_[g].key.owner, may_hold) : Fate{};
    e = &at(seq);  // the ring does not move during a hold's end (nothing is pushed), but be plain about it
    if (f.kind == Fate::Kind::kHold && may_hold) {
      e->group = kNoGroup, e->next = kNoSeq;
      Join(seq, f.key);
    } else {
      SetReady(*e, f.kind == Fate::Kind::kWrite ? &f.comment : nullptr);
    }
  }
  free_groups_.push_back(g);
}

// Entry seq (in the line) joins the hold under key, which keeps its
// packets in capture order.
void DelayLine::Join(uint64_t seq, const HoldKey& key) {
  auto [it, fresh] = index_.try_emplace(key, kNoGroup);
  if (fresh) {
    if (free_groups_.empty()) free_groups_.push_back(static_cast<uint32_t>(groups_.size())), groups_.emplace_back();
    it->second = free_groups_.back();
    free_groups_.pop_back();
    groups_[it->second] = Group{key, seq, seq};
  } else if (Group& g = groups_[it->second]; seq > g.last) {
    at(g.last).next = seq;
    g.last = seq;
  } else {
    // A released packet held again, older than what its new owner holds.
    if (seq < g.first) {
      at(seq).next = g.first;
      g.first = seq;
    } else {
      uint64_t s = g.first;
      while (at(s).next != kNoSeq && at(s).next < seq) s = at(s).next;
      at(seq).next = at(s).next;
      at(s).next = seq;
      if (at(seq).next == kNoSeq) g.last = seq;
    }
  }
  at(seq).group = it->second;
  ++counts_.held;
}

void DelayLine::Advance(int64_t now_ns) {
  if (now_ns > now_ns_) now_ns_ = now_ns;
  if (empty()) return;
  Depth d(this);
  while (!empty()) {
    Entry& front = at(head_);
    if (front.group == kNoGroup) {
      Drain();
      continue;
    }
    if (!OlderThan(front.p.ts_ns, now_ns_, limits_.hold_ns)) break;
    uint32_t g = front.group;
    index_.erase(groups_[g].key);
    EndGroup(g, End::kLimit);
  }
}

// While the queued bytes exceed the limit, the oldest hold ends.
void DelayLine::Enforce() {
  for (;;) {
    Drain();
    if (bytes_ <= limits_.hold_bytes || empty()) return;
    uint32_t g = at(head_).group;
    index_.erase(groups_[g].key);
    EndGroup(g, End::kLimit);
  }
}

void DelayLine::Flush() {
  if (empty()) return;
  Depth d(this);
  flushing_ = true;
  for (uint64_t s = head_; s < tail_; ++s) {
    if (at(s).group == kNoGroup) continue;
    uint32_t g = at(s).group;
    index_.erase(groups_[g].key);
    EndGroup(g, End::kFlushed);
  }
  flushing_ = false;
}

void DelayLine::Drain() {
  while (!empty() && at(head_).group == kNoGroup) {
    Entry& e = at(head_);
    out_->Write(e.p, e.matched ? &e.comment : nullptr);
    PopFront();
  }
}

void DelayLine::PopFront() {
  bytes_ -= at(head_).p.caplen + kEntryCost;
  ++head_;
  auto recycle = [&] {
    Chunk c = std::move(chunks_.front());
    chunks_.pop_front();
    if (c.size == kChunkBytes && spare_.size() < kSpareChunks) spare_.push_back(std::move(c));
  };
  if (empty()) {
    while (!chunks_.empty()) recycle();
    return;
  }
  uint64_t front_chunk = at(head_).chunk;
  while (chunks_.size() > 1 && chunks_.front().id < front_chunk) recycle();
}

}  // namespace pcapml
