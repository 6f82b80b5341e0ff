// The rule model shared by every rules format: a packet gets the label of
// the first rule that matches it (DESIGN §3).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "rules/bpf.h"

namespace pcapml {

struct Packet;

struct TimeWindow {
  int64_t first_ns = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t last_ns = std::numeric_limits<int64_t>::max();   // inclusive
  bool Contains(int64_t ts_ns) const { return ts_ns >= first_ns && ts_ns <= last_ns; }
};

struct Rule {
  std::string id;        // names the rule in errors and stats ("file:line" for legacy rules)
  std::string metadata;  // "<label>[,key=value...]"
  std::string key;       // sample key: the sampleID is SHA-256 of it (DESIGN §2)
  uint64_t sample_id = 0;
  std::string comment;   // "<sampleID>,<metadata>", written on every packet of the rule
  std::unique_ptr<BpfFilter> filter;  // null: every packet
  TimeWindow window;
  std::vector<std::string> files;  // FILE: terms; empty = any input
  uint64_t packets = 0;  // matched so far
};

class RuleSet {
 public:
  void Add(Rule rule) { rules_.push_back(std::move(rule)); }

  // Compiles every filter for link_type; the error names the rule.
  bool Prepare(uint16_t link_type, std::string* err);

  // Tells rules with FILE: terms which input the next packets come from.
  void SetInput(const std::string& path);

  // The first matching rule, or null. Prepare(link_type) must have succeeded.
  Rule* Match(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
              uint32_t orig_len) {
    for (size_t i = 0; i < rules_.size(); ++i) {
      Rule& r = rules_[i];
      if (!input_ok_[i] || !r.window.Contains(ts_ns)) continue;
      if (r.filter && !r.filter->Matches(link_type, data, caplen, orig_len)) continue;
      ++r.packets;
      return &r;
    }
    return nullptr;
  }

  size_t size() const { return rules_.size(); }
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
  std::vector<char> input_ok_;
};

}  // namespace pcapml
