#include "rules/matcher.h"

#include <algorithm>

namespace pcapml {

LinkMatcher::LinkMatcher(uint16_t link_type, std::vector<MatchRule> rules)
    : link_type_(link_type), rules_(std::move(rules)) {
  bool ethernet = link_type == 1;
  int depth = 0;
  for (MatchRule& r : rules_) {
    if (r.expr && r.expr->ethernet_only && !ethernet) r.expr = nullptr;  // BPF knows what it means there
    if (r.expr) depth = std::max<int>(depth, r.expr->max_depth);
  }
  native_ = decoder_.Init(link_type, depth);
  std::vector<IndexedRule> indexed(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) {
    const MatchRule& r = rules_[i];
    indexed[i] = {native_ ? r.expr : nullptr, r.window.first_ns, r.window.last_ns, r.window.bounded()};
  }
  if (native_) index_.Build(indexed);
}

int32_t LinkMatcher::Match(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                           const char* enabled) {
  if (native_) {
    PacketHeaders h;
    decoder_.Decode(data, caplen, &h);
    if (h.complete) {
      ++indexed_;
      return index_.FirstMatch(h, ts_ns, [&](uint32_t i) {
        const MatchRule& r = rules_[i];
        if (!enabled[i] || !r.window.Contains(ts_ns)) return false;
        if (r.expr) return Evaluate(*r.expr, h);
        return !r.bpf || r.bpf->Matches(link_type_, data, caplen, orig_len);
      });
    }
  }
  ++linear_;
  return Linear(ts_ns, data, caplen, orig_len, enabled);
}

int32_t LinkMatcher::Linear(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                            const char* enabled) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const MatchRule& r = rules_[i];
    if (!enabled[i] || !r.window.Contains(ts_ns)) continue;
    if (!r.bpf || r.bpf->Matches(link_type_, data, caplen, orig_len)) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace pcapml
