// Classifies the fixed packets with a fuzzed RuleSet and checks the answer
// against the contract (docs/format.md: Rules): the first rule, in order, whose FILE
// terms allow the input, whose time window holds the packet and whose BPF
// filter (libpcap) matches it. The RuleSet's indexes and native filter
// evaluation must never change that answer.
#pragma once

#include "base/text_file.h"
#include "fuzz/fixed_packets.h"
#include "fuzz/fuzz_util.h"
#include "rules/rule.h"

namespace pcapml::fuzz {

inline int LinearAnswer(const RuleSet& rules, const FixedPacket& p, const std::string& input) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules.rule(i);
    bool file_ok = r.files.empty();
    for (const std::string& f : r.files) file_ok |= f == input;
    if (!file_ok || !r.window.Contains(p.ts_ns)) continue;
    if (r.filter.empty()) return static_cast<int>(i);
    BpfFilter bpf(r.filter);
    std::string why;
    FUZZ_CHECK(bpf.Prepare(1, &why));
    uint32_t n = static_cast<uint32_t>(p.bytes.size());
    if (bpf.Matches(1, p.bytes.data(), n, n)) return static_cast<int>(i);
  }
  return -1;
}

inline void CheckClassification(RuleSet* rules) {
  const std::string input = "fuzz.pcap";
  rules->SetInput(input);
  std::string err;
  if (!rules->Prepare(1, &err)) return;  // a filter meant for another link layer
  for (const FixedPacket& p : FixedPackets()) {
    uint32_t n = static_cast<uint32_t>(p.bytes.size());
    Verdict v = rules->Classify(1, p.ts_ns, p.bytes.data(), n, n);
    int want = LinearAnswer(*rules, p, input);
    FUZZ_CHECK(want < 0 ? v.rule == nullptr : v.rule == &rules->rule(static_cast<size_t>(want)));
    if (v.rule) Touch(v.comment);
  }
}

// What both rules file targets check of a parse of `file`: an error names the
// file; otherwise there are rules, no comment holds one of `breaks` (the line
// ends the parser splits at), a NUL or bytes that are not UTF-8, no filter a
// NUL, and they classify as the contract says.
inline void CheckParsedRules(bool parsed, std::string_view file, const std::string& err, RuleSet* rules,
                             std::string_view breaks) {
  if (!parsed) {
    FUZZ_CHECK(err.starts_with(file));
    return;
  }
  FUZZ_CHECK(rules->size() > 0);
  for (size_t i = 0; i < rules->size(); ++i) {
    const Rule& r = rules->rule(i);
    FUZZ_CHECK(r.comment.find_first_of(breaks) == std::string::npos && TextProblem(r.comment).empty());
    FUZZ_CHECK(TextProblem(r.filter).empty());
  }
  CheckClassification(rules);
}

}  // namespace pcapml::fuzz
