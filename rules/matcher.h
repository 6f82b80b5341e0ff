// First-match classification for one link type. Packets whose headers
// decode completely go through the rule indexes, and candidate rules in the
// FilterExpr subset are evaluated natively; other rules run their BPF
// program. Packets of link types without a decoder, or whose headers are cut
// short by the snap length (where BPF's early exit matters), are matched
// linearly with BPF. Either way the answer is the linear BPF answer.
#pragma once

#include <cstdint>
#include <limits>
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

struct MatchRule {
  const FilterExpr* expr = nullptr;  // evaluated natively when set
  const BpfFilter* bpf = nullptr;    // null: the rule has no filter
  TimeWindow window;
};

class LinkMatcher {
 public:
  // Every bpf must be prepared for link_type.
  LinkMatcher(uint16_t link_type, std::vector<MatchRule> rules);

  // Index of the first rule that matches, or -1; rules with enabled[i] == 0
  // are skipped (FILE: terms naming another input).
  int32_t Match(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len, const char* enabled);

  uint16_t link_type() const { return link_type_; }
  uint64_t indexed_packets() const { return indexed_; }
  uint64_t linear_packets() const { return linear_; }
  const RuleIndex& index() const { return index_; }

 private:
  int32_t Linear(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                 const char* enabled) const;

  uint16_t link_type_;
  std::vector<MatchRule> rules_;
  bool native_ = false;  // headers of this link type decode
  HeaderDecoder decoder_;
  RuleIndex index_;
  uint64_t indexed_ = 0, linear_ = 0;
};

}  // namespace pcapml
