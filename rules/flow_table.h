// Per-flow samples (sample = "flow"): a bidirectional 5-tuple, decoded from
// Ethernet (with any 802.1Q/802.1ad tags), Linux SLL/SLL2, raw IP and BSD
// loopback, and a bounded table of the flows in progress. A flow idle longer
// than its rule's timeout ends: the same 5-tuple then starts a new sample.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace pcapml {

// A canonical bidirectional flow: the lower (address, port) endpoint first.
struct FlowKey {
  uint32_t rule = 0;   // the rule's serial: flows of different rules are different samples
  uint8_t family = 0;  // 4 or 6
  uint8_t proto = 0;   // IP protocol; ports are 0 unless TCP, UDP or SCTP
  uint16_t port_lo = 0, port_hi = 0;
  std::array<uint8_t, 16> addr_lo{}, addr_hi{};
  bool operator==(const FlowKey&) const = default;
};

// Fills *key (but not key->rule) from an IPv4/IPv6 packet; false if the
// packet is not IP. IPv6 extension headers are skipped; IPv4 and IPv6
// fragments other than the first carry no ports (ports 0).
bool DecodeFlow(uint16_t link_type, const uint8_t* data, uint32_t caplen, FlowKey* key);

// The documented sample-key suffix of a flow:
//   "<proto> <lowIP> <lowport> <highIP> <highport>|<flow start, ns since the epoch>"
// e.g. "6 10.0.0.1 40000 10.0.0.2 443|1700000000123456789".
void AppendFlowSuffix(const FlowKey& key, int64_t start_ns, std::string* out);

struct FlowStats {
  uint64_t started = 0;  // flows (samples) begun
  uint64_t expired = 0;  // removed after their idle timeout
  uint64_t evicted = 0;  // removed while active because the table was full
  uint64_t active = 0;
};

class FlowTable {
 public:
  struct Flow {
    FlowKey key;
    uint64_t hash = 0;
    int64_t start_ns = 0, last_ns = 0, idle_ns = 0;
    uint64_t sample_id = 0;
    std::string comment;                  // "<sampleID>,<metadata>", its buffer reused by later flows
    uint32_t prev = kNone, next = kNone;  // least recently seen first
  };

  explicit FlowTable(size_t max_flows) : max_flows_(max_flows ? max_flows : 1) {}

  // The flow of this packet. *is_new when it starts here (unseen, or idle
  // for longer than idle_ns): the caller then sets sample_id and comment.
  Flow& Touch(const FlowKey& key, int64_t ts_ns, int64_t idle_ns, bool* is_new);

  // Forgets every flow of one rule (the rule was removed).
  void ForgetRule(uint32_t rule);

  const FlowStats& stats() const { return stats_; }
  size_t max_flows() const { return max_flows_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t Find(const FlowKey& key, uint64_t hash) const;
  uint32_t Allocate(int64_t ts_ns);
  void Remove(uint32_t flow);
  void Unlink(uint32_t flow);
  void LinkLast(uint32_t flow);
  void Insert(uint32_t flow);
  void Grow();

  size_t max_flows_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> slots_;  // open addressing over flow indices
  uint32_t head_ = kNone, tail_ = kNone;
  FlowStats stats_;
};

}  // namespace pcapml
