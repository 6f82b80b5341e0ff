#include "plugins/rule_chain.h"

#include <charconv>
#include <filesystem>
#include <functional>

#include "plugins/packet_decoder.h"
#include "rules/legacy_rules.h"
#include "rules/rules_file.h"
#include "rules/sample_id.h"

namespace pcapml {

// The sample IDs of recent sample keys: SHA-256 runs once per new key, not
// per packet. Direct-mapped; a slot's key buffer is reused, so a warm cache
// allocates nothing.
class SampleIdCache {
 public:
  uint64_t Get(std::string_view key, bool* is_new) {
    size_t h = std::hash<std::string_view>{}(key);
    Slot& s = slots_[h % kSlots];
    *is_new = !(s.used && s.hash == h && s.key == key);
    if (*is_new) s.used = true, s.hash = h, s.id = SampleId(key), s.key.assign(key);
    return s.id;
  }

 private:
  static constexpr size_t kSlots = 4096;
  struct Slot {
    bool used = false;
    size_t hash = 0;
    uint64_t id = 0;
    std::string key;
  };
  std::vector<Slot> slots_ = std::vector<Slot>(kSlots);
};

// One plugin rule: its own one-rule RuleSet is the pre-filter.
class PluginRule {
 public:
  PluginRule(RuleSet filter, PluginInstance* instance)
      : filter_(std::move(filter)), instance_(instance), key_(filter_.rule(0).key + "|"),
        prefix_(key_.size()) {}

  RuleSet& filter() { return filter_; }
  size_t samples() const { return samples_.size(); }

  Verdict Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len) {
    Verdict v = filter_.Classify(link_type, ts_ns, data, caplen, orig_len);
    if (!v.rule) return v;
    DecodePacket(link_type, ts_ns, data, caplen, orig_len, &packet_);
    plugin::Label l;
    if (instance_->Process(packet_, &l) != plugin::Result::kLabel) return {};
    key_.resize(prefix_);
    key_.append(l.sample_key.empty() ? l.label : l.sample_key);
    bool is_new;
    v.sample_id = cache_.Get(key_, &is_new);
    if (is_new) samples_.insert(v.sample_id);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v.sample_id);
    comment_.assign(digits, end);
    comment_.push_back(',');
    comment_.append(l.label).append(v.rule->metadata);  // the rule's ",key=value" meta
    for (uint32_t i = 0; i < l.field_count; ++i)
      comment_.append(",").append(l.fields[i].key).append("=").append(l.fields[i].value);
    v.comment = comment_;
    return v;
  }

 private:
  RuleSet filter_;
  PluginInstance* instance_;
  plugin::Packet packet_;
  std::string key_;  // "<rule key>|" then the packet's part
  size_t prefix_;
  SampleIdCache cache_;
  std::string comment_;
  std::unordered_set<uint64_t> samples_;
};

bool ReadPluginTablesOfRules(const std::vector<std::string>& paths, std::vector<PluginSpec>* specs,
                             std::string* err) {
  for (const std::string& path : paths) {
    std::string text;
    if (!ReadTextFile(path, &text, err)) return false;
    if (!LooksLikeTomlRules(path, text)) continue;
    toml::table doc;
    try {
      doc = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
      return *err = path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()), false;
    }
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (const toml::node* n = doc.get("plugin"); n && !ReadPluginTables(*n, path, dir, specs, err)) return false;
  }
  return true;
}

RuleChain::RuleChain() = default;
RuleChain::~RuleChain() = default;
RuleChain::RuleChain(RuleChain&&) noexcept = default;
RuleChain& RuleChain::operator=(RuleChain&&) noexcept = default;

bool RuleChain::Build(RuleSet rules, const PluginSet& plugins, SampleOptions options, std::string* err) {
  stages_.clear();
  plugins_ = &plugins;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules.rule(i);
    if (r.plugin.empty()) {
      if (stages_.empty() || !stages_.back().rules) stages_.push_back({std::make_unique<RuleSet>(options), nullptr});
      if (!stages_.back().rules->Add(r, err)) return false;
      continue;
    }
    PluginInstance* instance = plugins.Find(r.plugin);
    if (!instance)
      return *err = DescribeRule(r) + ": no plugin '" + r.plugin +
                    "' is loaded (give a [[plugin]] table or --plugin PATH)",
             false;
    RuleSet filter(SampleOptions{1});
    if (!filter.Add(r, err)) return false;
    stages_.push_back({nullptr, std::make_unique<PluginRule>(std::move(filter), instance)});
  }
  return true;
}

bool RuleChain::Prepare(uint16_t link_type, std::string* err) {
  for (Stage& s : stages_)
    if (!(s.rules ? s.rules->Prepare(link_type, err) : s.plugin->filter().Prepare(link_type, err))) return false;
  return true;
}

void RuleChain::SetInput(const std::string& path) {
  for (Stage& s : stages_) (s.rules ? *s.rules : s.plugin->filter()).SetInput(path);
}

Verdict RuleChain::Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                            uint32_t orig_len) {
  for (Stage& s : stages_) {
    Verdict v = s.rules ? s.rules->Classify(link_type, ts_ns, data, caplen, orig_len)
                        : s.plugin->Classify(link_type, ts_ns, data, caplen, orig_len);
    if (v.rule) return v;
  }
  return {};
}

std::vector<const Rule*> RuleChain::rules() const {
  std::vector<const Rule*> out;
  for (const Stage& s : stages_) {
    const RuleSet& set = s.rules ? *s.rules : s.plugin->filter();
    for (size_t i = 0; i < set.size(); ++i) out.push_back(&set.rule(i));
  }
  return out;
}

size_t RuleChain::size() const { return rules().size(); }

RuleSetStats RuleChain::stats() const {
  RuleSetStats sum;
  for (const Stage& s : stages_) {
    if (!s.rules) continue;
    RuleSetStats st = s.rules->stats();
    sum.indexed_packets += st.indexed_packets;
    sum.linear_packets += st.linear_packets;
    sum.flows.started += st.flows.started;
    sum.flows.expired += st.flows.expired;
    sum.flows.evicted += st.flows.evicted;
    sum.flows.active += st.flows.active;
    sum.window_samples += st.window_samples;
  }
  return sum;
}

size_t RuleChain::plugin_samples() const {
  size_t n = 0;
  for (const Stage& s : stages_)
    if (s.plugin) n += s.plugin->samples();
  return n;
}

}  // namespace pcapml
