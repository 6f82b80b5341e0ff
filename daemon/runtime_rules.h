// Rules added at run time through the control socket (`pcapml ctl add`):
// they apply to packets timestamped after they were added, until `end`, and
// come before the file rules. The list is an immutable snapshot swapped by
// the control thread; the pipeline only reads it.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "rules/bpf.h"

namespace pcapml {

struct RuntimeRule {
  std::string id, label, filter_text, sample = "rule";
  std::shared_ptr<BpfFilter> filter;  // null: every packet
  int64_t start_ns = 0;
  int64_t end_ns = std::numeric_limits<int64_t>::max();
  uint64_t sample_id = 0;
  std::string comment;
  std::atomic<uint64_t> packets{0};
};

using RuntimeRuleList = std::vector<std::shared_ptr<RuntimeRule>>;

// The first run-time rule matching the packet, or null. Filters must have
// been prepared for link_type.
inline RuntimeRule* MatchRuntime(const RuntimeRuleList& rules, uint16_t link_type, int64_t ts_ns,
                                 const uint8_t* data, uint32_t caplen, uint32_t orig_len) {
  for (const auto& r : rules) {
    if (ts_ns < r->start_ns || ts_ns > r->end_ns) continue;
    if (r->filter && !r->filter->Matches(link_type, data, caplen, orig_len)) continue;
    r->packets.store(r->packets.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return r.get();
  }
  return nullptr;
}

}  // namespace pcapml
