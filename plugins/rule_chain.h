// First-match classification over ordinary and plugin rules, in rule
// order (DESIGN §3, §5). A RuleSet is cut into stages at each plugin rule:
// runs of ordinary rules stay one indexed RuleSet each, and a plugin rule
// becomes a stage that runs its filter (and time window) first and calls
// the plugin only for packets that pass. A plugin's "no opinion" or error
// moves on to the next stage. Without plugin rules the chain is the one
// RuleSet it was given.
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

#include "plugins/plugin_set.h"
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

  // Takes the rules of *rules; every plugin rule must name an instance of
  // plugins (which must outlive the chain). The error names the rule.
  bool Build(RuleSet rules, const PluginSet& plugins, SampleOptions options, std::string* err);

  bool Prepare(uint16_t link_type, std::string* err);
  void SetInput(const std::string& path);
  Verdict Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len);

  // Every rule in order (plugin rules included; their packets count the
  // packets their filter passed).
  std::vector<const Rule*> rules() const;
  size_t size() const;
  // Counters of the ordinary rules' sets, summed.
  RuleSetStats stats() const;
  // Distinct samples plugin rules have labeled.
  size_t plugin_samples() const;
  // The plugin instances Build was given (null before), for their counters.
  const PluginSet* plugins() const { return plugins_; }

 private:
  struct Stage {
    std::unique_ptr<RuleSet> rules;     // a run of ordinary rules, or
    std::unique_ptr<PluginRule> plugin;  // one plugin rule
  };
  std::vector<Stage> stages_;
  const PluginSet* plugins_ = nullptr;
};

}  // namespace pcapml
