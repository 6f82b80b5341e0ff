// First-match classification over ordinary and plugin rules, in rule
// order (docs/format.md: Rules). All rules live in one indexed RuleSet, plugin
// rules with their filter as the rule's filter; when a plugin rule is the
// first match, its plugin is asked, and its "no opinion" (or error) hands
// the packet to the rules after it (RuleSet::ClassifyFrom). So a packet no
// plugin filter matches costs what it costs without plugins, plus one test.
//
// A plugin verdict's sample key is "<rule key>|<plugin's sample key>", or
// "<rule key>|<label>" when the plugin gives none; its comment is
// "<sampleID>,<label><rule meta><plugin fields>".
//
// Process hands packets to a DelayLine, where a plugin may hold them
// (plugin::Result::kHold): the chain settles a connection's held packets
// when its plugin answers for a later packet of it, and is the line's
// HoldOwner, classifying a released packet with the rules after the plugin
// rule that held it.
#pragma once

#include <optional>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "classify/delay_line.h"
#include "plugin_host/plugin_set.h"
#include "rules/rule.h"

namespace pcapml {

// The [[plugin]] tables of the TOML rules files among paths (relative
// paths are relative to the rules file).
bool ReadPluginTablesOfRules(const std::vector<std::string>& paths, std::vector<PluginSpec>* specs, std::string* err);

class PluginRule;

class RuleChain : public HoldOwner {
 public:
  RuleChain();
  ~RuleChain() override;
  RuleChain(RuleChain&&) noexcept;
  RuleChain& operator=(RuleChain&&) noexcept;

  // Takes the rules; every plugin rule must name an instance of plugins
  // (which must outlive the chain). The error names the rule.
  bool Build(RuleSet rules, const PluginSet& plugins, std::string* err);
  // The same; the RuleSet keeps the SampleOptions it was made with.
  bool Build(RuleSet rules, const PluginSet& plugins, SampleOptions, std::string* err) {
    return Build(std::move(rules), plugins, err);
  }

  bool Prepare(uint16_t link_type, std::string* err) { return rules_.Prepare(link_type, err); }
  void SetInput(const std::string& path) { rules_.SetInput(path); }
  // The packet's verdict, without holding (a plugin's kHold counts as no
  // opinion here).
  Verdict Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len) {
    Verdict v = rules_.Classify(link_type, ts_ns, data, caplen, orig_len);
    if (!IsPluginRule(v.rule)) return v;
    return Resolve(v, LinePacket{0, link_type, ts_ns, data, caplen, orig_len}, nullptr, false, nullptr);
  }

  // The line packets go through (Process), which this chain then owns.
  void Attach(DelayLine* line) {
    line_ = line;
    line->set_owner(this);
  }
  // Classifies p and hands it to the attached line, which writes it in
  // capture order: at once, or after the held packets before it. `first`:
  // rules tried before the chain (the daemon's run-time rules).
  void Process(const LinePacket& p, RuleSet* first = nullptr) {
    line_->Advance(p.ts_ns);
    Verdict v;
    if (first && first->size() > 0) v = first->Classify(p.link_type, p.ts_ns, p.data, p.caplen, p.orig_len);
    if (!v.rule) v = rules_.Classify(p.link_type, p.ts_ns, p.data, p.caplen, p.orig_len);
    if (IsPluginRule(v.rule)) {
      std::optional<HoldKey> held;
      v = Resolve(v, p, line_, line_->enabled(), &held);
      if (held) return line_->Hold(p, *held);
    }
    line_->Pass(p, v.rule ? &v.comment : nullptr);
  }
  // HoldOwner: the rules after plugin rule `owner` decide a released packet.
  Fate Continue(const LinePacket& p, uint32_t owner, bool may_hold) override;

  // Every rule in order (plugin rules included; their packets count the
  // packets their filter passed).
  std::vector<const Rule*> rules() const;
  size_t size() const { return rules_.size(); }
  RuleSetStats stats() const { return rules_.stats(); }
  // Distinct samples plugin rules have labeled.
  size_t plugin_samples() const;
  // The plugin instances Build was given (null before), for their counters.
  const PluginSet* plugins() const { return plugins_; }

 private:
  struct PluginRuleRef {
    const Rule* rule;
    size_t index;  // its position in rules_
    std::unique_ptr<PluginRule> plugin;
  };
  bool IsPluginRule(const Rule* rule) const {
    for (const PluginRuleRef& p : plugin_rules_)  // few: a scan in cache
      if (p.rule == rule) return true;
    return false;
  }
  Verdict Resolve(Verdict v, const LinePacket& p, DelayLine* line, bool may_hold, std::optional<HoldKey>* held);

  RuleSet rules_;
  std::vector<PluginRuleRef> plugin_rules_;  // few: found by a scan
  const PluginSet* plugins_ = nullptr;
  DelayLine* line_ = nullptr;
};

}  // namespace pcapml
