// The delay line in front of the writer: packets leave it in capture order,
// but a packet a plugin holds (plugin::Result::kHold) waits there until the
// plugin decides its connection, and every packet after it waits behind it.
// When the plugin labels a later packet of the connection, the held ones
// take that label; when it gives up, or a limit ends the hold, they go on
// to the rules after the plugin rule (HoldOwner::Continue, the rule chain).
//
// Limits: a hold ends when the held packet has waited `hold_ns` of packet
// time, or when the queued packets exceed `hold_bytes` (oldest hold first).
// Flush ends every hold (end of input, stop, rotation, new rules).
//
// The empty line passes packets straight through (no copy). Queued packets
// are copied into chunks reused in FIFO order: after warm-up nothing is
// allocated per packet, except one table node per held connection.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pcapml {

// A packet as the line takes and gives it back.
struct LinePacket {
  uint32_t interface = 0;  // the output's interface id
  uint16_t link_type = 0;
  int64_t ts_ns = 0;
  const uint8_t* data = nullptr;
  uint32_t caplen = 0, orig_len = 0;
};

// Where packets leave the line, in capture order. comment null: no rule
// matched the packet.
class PacketOutput {
 public:
  virtual ~PacketOutput() = default;
  virtual void Write(const LinePacket& p, const std::string_view* comment) = 0;
};

// Which hold a packet is in: the plugin rule holding it (`owner`, the rule
// chain's number for it) and the packet's connection (ConnectionBytes).
struct HoldKey {
  uint32_t owner = 0;
  std::array<uint8_t, 40> conn{};
  bool operator==(const HoldKey&) const = default;
};

struct HoldKeyHash {
  size_t operator()(const HoldKey& k) const;
};

// Where a packet goes once its hold ended undecided.
struct Fate {
  enum class Kind : uint8_t { kWrite, kUnmatched, kHold } kind = Kind::kUnmatched;
  std::string_view comment;  // kWrite; valid until the owner classifies again
  HoldKey key;               // kHold: held again, by a later plugin rule
};

// Decides what a packet whose hold ended goes to: the rules after `owner`.
// may_hold false: no plugin may hold it again (limits, flush).
class HoldOwner {
 public:
  virtual ~HoldOwner() = default;
  virtual Fate Continue(const LinePacket& p, uint32_t owner, bool may_hold) = 0;
};

// How holds ended; each packet held counts once in `held` and once more in
// one of the others when its hold ends (a packet held again by a later
// plugin rule counts twice).
struct HoldCounts {
  uint64_t held = 0;     // packets held
  uint64_t labeled = 0;  // the plugin labeled their connection
  uint64_t passed = 0;   // the plugin gave up on their connection
  uint64_t limit = 0;    // waited `hold` or pushed out by `hold_bytes`
  uint64_t flushed = 0;  // released by Flush (end of input, stop, rotation, new rules)
};

struct HoldLimits {
  int64_t hold_ns = 2'000'000'000;  // 0: holding is off
  uint64_t hold_bytes = 64ull << 20;
};

class DelayLine {
 public:
  DelayLine(HoldLimits limits, PacketOutput* out);
  ~DelayLine();

  void set_owner(HoldOwner* owner) { owner_ = owner; }
  bool enabled() const { return limits_.hold_ns > 0; }
  bool empty() const { return head_ == tail_; }
  // True while some connection is held.
  bool holding() const { return !index_.empty(); }
  bool Holds(const HoldKey& key) const { return holding() && index_.count(key); }

  // A packet with its verdict (comment null: unmatched): written at once if
  // nothing waits, else queued.
  void Pass(const LinePacket& p, const std::string_view* comment);
  // A packet held under key.
  void Hold(const LinePacket& p, const HoldKey& key);
  // The packets held under key take this comment.
  void Decide(const HoldKey& key, std::string_view comment);
  // The packets held under key go on (the owner gave up on them).
  void Release(const HoldKey& key);
  // Packet time has reached now_ns: holds older than the limit end.
  void Advance(int64_t now_ns);
  // Ends every hold and writes everything queued.
  void Flush();

  const HoldCounts& counts() const { return counts_; }
  size_t packets() const { return static_cast<size_t>(tail_ - head_); }
  uint64_t bytes() const { return bytes_; }
  // Newest packet time seen (the clock limits are measured on).
  int64_t now_ns() const { return now_ns_; }

 private:
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  static constexpr uint64_t kNoSeq = UINT64_MAX;
  struct Entry {
    LinePacket p;               // p.data points into a chunk
    uint64_t chunk = 0;         // the chunk holding its bytes
    uint64_t next = kNoSeq;     // next entry of its group
    uint32_t group = kNoGroup;  // held: its group; else ready
    bool matched = false;
    std::string_view comment;  // ready and matched: in a chunk
  };
  struct Group {
    HoldKey key;
    uint64_t first = kNoSeq, last = kNoSeq;
  };
  struct Chunk {
    uint64_t id = 0;
    std::unique_ptr<uint8_t[]> bytes;
    size_t size = 0, used = 0;
  };
  enum class End : uint8_t { kPassed, kLimit, kFlushed };
  class Depth;

  Entry& Push(const LinePacket& p);
  uint8_t* Allocate(size_t n, uint64_t* chunk);
  std::string_view Store(std::string_view s);
  void SetReady(Entry& e, const std::string_view* comment);
  void EndGroup(uint32_t g, End how);
  void Join(uint64_t seq, const HoldKey& key);
  void Drain();
  void PopFront();
  void Enforce();
  Entry& at(uint64_t seq) { return ring_[seq & (ring_.size() - 1)]; }

  HoldLimits limits_;
  PacketOutput* out_;
  HoldOwner* owner_ = nullptr;
  std::vector<Entry> ring_;  // power-of-two size; entry seq at [seq & mask]
  uint64_t head_ = 0, tail_ = 0;
  std::vector<Group> groups_;
  std::vector<uint32_t> free_groups_;
  std::unordered_map<HoldKey, uint32_t, HoldKeyHash> index_;  // active holds
  std::deque<Chunk> chunks_;                                  // in use, oldest first
  std::vector<Chunk> spare_;
  uint64_t next_chunk_ = 0;
  uint64_t bytes_ = 0;
  int64_t now_ns_ = INT64_MIN;
  int depth_ = 0;  // nested calls in progress (see Depth)
  bool flushing_ = false;
  HoldCounts counts_;
};

}  // namespace pcapml
