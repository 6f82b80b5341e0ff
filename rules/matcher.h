// First-match classification for one link type. Packets whose headers
// decode completely go through the rule indexes, and candidate rules in the
// FilterExpr subset are evaluated natively; other rules run their BPF
// program. Packets of link types without a decoder, or whose headers are cut
// short by the snap length (where BPF's early exit matters), are matched
// linearly with BPF. Either way the answer is the linear BPF answer.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "rules/bpf.h"
#include "rules/filter_expr.h"
#include "rules/packet_headers.h"
#include "rules/rule_index.h"

namespace pcapml {

struct TimeWindow {
  int64_t first_ns = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t last_ns = std::numeric_limits<int64_t>::max();   // inclusive
  bool Contains(int64_t ts_ns) const { return ts_ns >= first_ns && ts_ns <= last_ns; }
  bool bounded() const {
    return first_ns != std::numeric_limits<int64_t>::min() || last_ns != std::numeric_limits<int64_t>::max();
  }
};

struct Rule;

struct MatchRule {
  const FilterExpr* expr = nullptr;  // evaluated natively when set
  BpfFilter* bpf = nullptr;          // null: the rule has no filter
  TimeWindow window;
  // What a match answers (null: a removed rule keeping its place; the
  // caller disables it, and it is never a candidate):
  Rule* rule = nullptr;
  uint64_t sample_id = 0;
  std::string_view comment;  // must outlive the matcher
  uint8_t sample_mode = 0;
};

// Whether a rule must run BPF on this link type (else FilterExpr answers).
bool NeedsBpf(const FilterExpr* expr, uint16_t link_type);

class LinkMatcher {
 public:
  // A matched rule's answer, in the cache line after its test data: with
  // thousands of rules, memory latency, not computation, is the cost of a
  // packet, so a match costs one pair of adjacent lines.
  struct Hit {
    Rule* rule;
    uint64_t sample_id;
    uint64_t packets;  // matched through this matcher
    uint32_t index;    // the rule's position
    uint16_t comment_len;
    uint8_t sample_mode;
    bool external;  // the comment did not fit in text: text holds a pointer to it
    char text[32];
    std::string_view comment() const {
      const char* p = text;
      if (external) memcpy(&p, text, sizeof p);
      return {p, comment_len};
    }
  };

  // Rules that NeedsBpf must have their bpf prepared for link_type; the
  // others are compiled only if a packet too short to decode needs them.
  LinkMatcher(uint16_t link_type, const std::vector<MatchRule>& rules);

  // The first rule that matches, or null; rules with enabled[i] == 0 are
  // skipped (FILE: terms naming another input).
  Hit* Match(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len, const char* enabled) {
    int32_t i = MatchIndex(ts_ns, data, caplen, orig_len, enabled);
    if (i < 0) return nullptr;
    Hit& l = slots_[static_cast<size_t>(i)].hit;
    ++l.packets;
    return &l;
  }

  uint16_t link_type() const { return link_type_; }
  size_t size() const { return slots_.size(); }
  uint64_t packets(size_t rule) const { return slots_[rule].hit.packets; }
  uint64_t indexed_packets() const { return indexed_; }
  uint64_t linear_packets() const { return linear_; }
  const RuleIndex& index() const { return index_; }

 private:
  struct alignas(64) Slot {
    TimeWindow window;
    Primitive primitive;  // kPrimitive: the whole filter
    enum Kind : uint8_t { kAll, kPrimitive, kExpr, kBpf } kind = kAll;
    alignas(64) Hit hit;
  };

  int32_t MatchIndex(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len, const char* enabled);
  int32_t Linear(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len, const char* enabled);
  bool Test(uint32_t i, int64_t ts_ns, const PacketHeaders& h, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
            const char* enabled) const {
    const Slot& r = slots_[i];
    if (!enabled[i] || !r.window.Contains(ts_ns)) return false;
    switch (r.kind) {
      case Slot::kAll:
        return true;
      case Slot::kPrimitive:
        return TestPrimitive(r.primitive, h);
      case Slot::kExpr:
        return Evaluate(*rules_[i].expr, h);
      case Slot::kBpf:
        return rules_[i].bpf->Matches(link_type_, data, caplen, orig_len);
    }
    return false;
  }

  uint16_t link_type_;
  std::vector<MatchRule> rules_;
  std::vector<Slot> slots_;
  bool native_ = false;  // headers of this link type decode
  HeaderDecoder decoder_;
  RuleIndex index_;
  uint64_t indexed_ = 0, linear_ = 0;
};

}  // namespace pcapml
