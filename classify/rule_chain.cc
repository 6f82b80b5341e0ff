#include "classify/rule_chain.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <functional>

#include "plugin_host/packet_view.h"
#include "base/text_file.h"
#include "base/toml_table.h"
#include "classify/rule_files.h"
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

// The plugin side of one plugin rule: asks the instance and turns its label
// into the packet's sample and comment.
class PluginRule {
 public:
  PluginRule(const Rule& rule, PluginInstance* instance)
      : instance_(instance), key_(rule.key + "|"), prefix_(key_.size()) {}

  size_t samples() const { return samples_.size(); }

  // The plugin's answer; on kLabel *v is completed (v->rule is this rule,
  // matched by its filter).
  plugin::Result Ask(Verdict* v, const LinePacket& p) {
    DecodePacket(p.link_type, p.ts_ns, p.data, p.caplen, p.orig_len, &packet_);
    plugin::Label l;
    plugin::Result r = instance_->Process(packet_, &l);
    if (r != plugin::Result::kLabel) return r;
    key_.resize(prefix_);
    key_.append(l.sample_key.empty() ? l.label : l.sample_key);
    bool is_new;
    v->sample_id = cache_.Get(key_, &is_new);
    if (is_new) samples_.insert(v->sample_id);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v->sample_id);
    comment_.assign(digits, end);
    comment_.push_back(',');
    comment_.append(l.label).append(v->rule->metadata);  // the rule's ",key=value" meta
    for (uint32_t i = 0; i < l.field_count; ++i)
      comment_.append(",").append(l.fields[i].key).append("=").append(l.fields[i].value);
    v->comment = comment_;
    return r;
  }

  // The connection of the packet last asked about (plugin::Result::kHold):
  // IP version, protocol, then the lower (address, port) endpoint first.
  HoldKey Connection(uint32_t owner) const {
    HoldKey k;
    k.owner = owner;
    const plugin::Packet& p = packet_;
    if (p.ip_version == 0) return k;
    size_t n = p.ip_version == 6 ? 16 : 4;
    int c = std::memcmp(p.src, p.dst, n);
    bool src_low = c < 0 || (c == 0 && p.src_port <= p.dst_port);
    uint16_t lo_port = src_low ? p.src_port : p.dst_port, hi_port = src_low ? p.dst_port : p.src_port;
    k.conn[0] = p.ip_version;
    k.conn[1] = p.protocol;
    k.conn[2] = static_cast<uint8_t>(lo_port >> 8), k.conn[3] = static_cast<uint8_t>(lo_port);
    k.conn[4] = static_cast<uint8_t>(hi_port >> 8), k.conn[5] = static_cast<uint8_t>(hi_port);
    std::memcpy(&k.conn[8], src_low ? p.src : p.dst, n);
    std::memcpy(&k.conn[24], src_low ? p.dst : p.src, n);
    return k;
  }

 private:
  PluginInstance* instance_;
  plugin::Packet packet_;
  std::string key_;  // "<rule key>|" then the packet's part
  size_t prefix_;
  SampleIdCache cache_;
  std::string comment_;
  std::unordered_set<uint64_t> samples_;
};

bool ReadPluginTablesOfRules(const std::vector<std::string>& paths, std::vector<PluginSpec>* specs, std::string* err) {
  for (const std::string& path : paths) {
    std::string text;
    if (!ReadTextFile(path, &text, err)) return false;
    if (!LooksLikeTomlRules(path, text)) continue;
    toml::table doc;
    if (!ParseTomlText(path, text, &doc, err)) return false;
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (const toml::node* n = doc.get("plugin"); n && !ReadPluginTables(*n, path, dir, specs, err)) return false;
  }
  return true;
}

RuleChain::RuleChain() = default;
RuleChain::~RuleChain() = default;
RuleChain::RuleChain(RuleChain&&) noexcept = default;
RuleChain& RuleChain::operator=(RuleChain&&) noexcept = default;

bool RuleChain::Build(RuleSet rules, const PluginSet& plugins, std::string* err) {
  rules_ = std::move(rules);
  plugin_rules_.clear();
  plugins_ = &plugins;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_.rule(i);
    if (r.plugin.empty()) continue;
    PluginInstance* instance = plugins.Find(r.plugin);
    if (!instance)
      return *err = DescribeRule(r) + ": no plugin '" + r.plugin +
                    "' is loaded (give a [[plugin]] table or --plugin PATH)",
             false;
    plugin_rules_.push_back({&r, i, std::make_unique<PluginRule>(r, instance)});
  }
  return true;
}

// v's rule matched first. While it is a plugin rule, its plugin decides:
// its label, or (no opinion, error) the first match among the rules after
// it. With a line, the plugin may hold the packet instead (*held set; only
// when may_hold), and its answer settles what the line holds of the
// packet's connection under this rule: a label labels the held packets, any
// other answer but kHold sends them on, before this packet goes on.
Verdict RuleChain::Resolve(Verdict v, const LinePacket& p, DelayLine* line, bool may_hold,
                           std::optional<HoldKey>* held) {
  while (v.rule) {
    auto r = std::find_if(plugin_rules_.begin(), plugin_rules_.end(),
                          [&](const PluginRuleRef& x) { return x.rule == v.rule; });
    if (r == plugin_rules_.end()) return v;
    plugin::Result answer = r->plugin->Ask(&v, p);
    if (line && (answer == plugin::Result::kHold || line->holding())) {
      HoldKey key = r->plugin->Connection(static_cast<uint32_t>(r - plugin_rules_.begin()));
      if (answer == plugin::Result::kHold && may_hold) {
        *held = key;
        return Verdict{};
      }
      if (answer == plugin::Result::kLabel) {
        line->Decide(key, v.comment);
        return v;
      }
      line->Release(key);  // the held packets reach the rules after this one before this packet does
    } else if (answer == plugin::Result::kLabel) {
      return v;
    }
    v = rules_.ClassifyFrom(r->index + 1, p.link_type, p.ts_ns, p.data, p.caplen, p.orig_len);
  }
  return v;
}

Fate RuleChain::Continue(const LinePacket& p, uint32_t owner, bool may_hold) {
  Verdict v = rules_.ClassifyFrom(plugin_rules_[owner].index + 1, p.link_type, p.ts_ns, p.data, p.caplen, p.orig_len);
  std::optional<HoldKey> held;
  if (IsPluginRule(v.rule)) v = Resolve(v, p, line_, may_hold, &held);
  if (held) return Fate{Fate::Kind::kHold, {}, *held};
  return v.rule ? Fate{Fate::Kind::kWrite, v.comment, {}} : Fate{};
}

std::vector<const Rule*> RuleChain::rules() const {
  std::vector<const Rule*> out;
  for (size_t i = 0; i < rules_.size(); ++i) out.push_back(&rules_.rule(i));
  return out;
}

size_t RuleChain::plugin_samples() const {
  size_t n = 0;
  for (const PluginRuleRef& p : plugin_rules_) n += p.plugin->samples();
  return n;
}

}  // namespace pcapml
