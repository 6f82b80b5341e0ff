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
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "plugin_host/plugin_set.h"
#include "rules/rule.h"

namespace pcapml {

// The [[plugin]] tables of the TOML rules files among paths (relative
// paths are relative to the rules file).
bool ReadPluginTablesOfRules(const std::vector<std::string>& paths, std::vector<PluginSpec>* specs,
                             std::string* err);

class PluginRule;

class RuleChain {
 public:
  RuleChain();
  ~RuleChain();
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
  Verdict Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len) {
    Verdict v = rules_.Classify(link_type, ts_ns, data, caplen, orig_len);
    for (const PluginRuleRef& p : plugin_rules_)  // few: a scan in cache
      if (p.rule == v.rule) return AskPlugins(v, link_type, ts_ns, data, caplen, orig_len);
    return v;
  }

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
  Verdict AskPlugins(Verdict v, uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                     uint32_t orig_len);

  RuleSet rules_;
  std::vector<PluginRuleRef> plugin_rules_;  // few: found by a scan
  const PluginSet* plugins_ = nullptr;
};

}  // namespace pcapml
