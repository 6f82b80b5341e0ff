#include "rules/matcher.h"

#include <algorithm>

namespace pcapml {

bool NeedsBpf(const FilterExpr* expr, uint16_t link_type) {
  return !expr || !HeadersSupported(link_type) || (expr->ethernet_only && link_type != 1);
}

LinkMatcher::LinkMatcher(uint16_t link_type, const std::vector<MatchRule>& rules)
    : link_type_(link_type), rules_(rules) {
  bool ethernet = link_type == 1;
  int depth = 0;
  for (MatchRule& r : rules_) {
    if (r.expr && r.expr->ethernet_only && !ethernet) r.expr = nullptr;  // BPF knows what it means there
    if (r.expr) depth = std::max<int>(depth, r.expr->max_depth);
  }
  native_ = decoder_.Init(link_type, depth);
  slots_.resize(rules_.size());
  std::vector<IndexedRule> indexed(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) {
    const MatchRule& r = rules_[i];
    Slot& s = slots_[i];
    s.window = r.window;
    s.kind = !r.bpf ? Slot::kAll : !native_ || !r.expr ? Slot::kBpf : Slot::kExpr;
    if (s.kind == Slot::kExpr && r.expr->nodes.size() == 1) {
      s.kind = Slot::kPrimitive;
      s.primitive = r.expr->primitives[0];
    }
    Hit& l = s.hit;
    l = Hit{r.rule, r.sample_id, 0, static_cast<uint32_t>(i), 0, r.sample_mode, false, {}};
    l.comment_len = static_cast<uint16_t>(std::min<size_t>(r.comment.size(), UINT16_MAX));
    l.external = r.comment.size() > sizeof l.text;
    if (l.external) {
      const char* p = r.comment.data();
      memcpy(l.text, &p, sizeof p);
    } else {
      memcpy(l.text, r.comment.data(), r.comment.size());
    }
    indexed[i] = {native_ ? r.expr : nullptr, r.window.first_ns, r.window.last_ns, r.window.bounded(), !r.rule};
  }
  if (native_) index_.Build(indexed);
}

int32_t LinkMatcher::MatchIndex(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                                const char* enabled) {
  if (native_) {
    PacketHeaders h;
    decoder_.Decode(data, caplen, &h);
    if (h.complete) {
      ++indexed_;
      return index_.FirstMatch(
          h, ts_ns, [&](uint32_t i) { return Test(i, ts_ns, h, data, caplen, orig_len, enabled); },
          [&](uint32_t i) {
            __builtin_prefetch(&slots_[i]);
            __builtin_prefetch(&slots_[i].hit);
          });
    }
  }
  ++linear_;
  return Linear(ts_ns, data, caplen, orig_len, enabled);
}

int32_t LinkMatcher::Linear(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                            const char* enabled) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const MatchRule& r = rules_[i];
    if (!enabled[i] || !r.window.Contains(ts_ns)) continue;
    std::string err;  // a filter in the subset always compiles
    if (r.bpf && !r.bpf->prepared(link_type_)) r.bpf->Prepare(link_type_, &err);
    if (!r.bpf || r.bpf->Matches(link_type_, data, caplen, orig_len)) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace pcapml
