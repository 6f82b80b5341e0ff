// The plugin instances of one run (daemon or `pcapml label`), each with the
// counters the framework keeps for it (Fluent Bit: every plugin gets the
// same metrics for free): packets in, labeled, no opinion, errors, held;
// and the plugin's own statistics, when it has some.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugin_host/plugin_loader.h"
#include "plugin_host/plugin_settings.h"

namespace pcapml {

// Answers by kind: in = labeled + no_opinion + errors + held. A held packet
// the plugin is asked about again (handed on to a later plugin rule) counts
// again there.
struct PluginCounts {
  uint64_t in = 0, labeled = 0, no_opinion = 0, errors = 0, held = 0;
};

class PluginInstance {
 public:
  PluginInstance(LoadedPlugin library, std::string source, std::unique_ptr<plugin::Instance> instance)
      : library_(std::move(library)), source_(std::move(source)), instance_(std::move(instance)) {}

  const char* name() const { return library_.info->name; }
  const std::string& path() const { return library_.path; }
  const std::string& source() const { return source_; }
  const plugin::PluginInfo& info() const { return *library_.info; }
  const PluginCounts& counts() const { return counts_; }
  // The plugin's own statistics (PluginInfo::stats) as it reports them now,
  // one value per row of its table; empty if it has none. On the packet
  // thread, between packets: the plugin may update itself first (const as
  // far as the framework's counts go).
  std::vector<uint64_t> Stats() const;

  // Runs the plugin on one packet and counts the answer. A label that
  // breaks the comment format (',' or a line break) counts as an error.
  plugin::Result Process(const plugin::Packet& packet, plugin::Label* label) {
    if (packet.ts_ns >= next_tick_) Tick(packet.ts_ns);
    ++counts_.in;
    *label = plugin::Label{};
    plugin::Result r = instance_->Process(packet, label);
    if (r == plugin::Result::kLabel && !ValidLabel(*label)) r = plugin::Result::kError;
    switch (r) {
      case plugin::Result::kLabel:
        ++counts_.labeled;
        break;
      case plugin::Result::kError:
        ++counts_.errors;
        break;
      case plugin::Result::kHold:
        ++counts_.held;
        break;
      case plugin::Result::kNoOpinion:
        ++counts_.no_opinion;
        break;
      default:
        ++counts_.errors, r = plugin::Result::kError;  // a value this pcapml does not know
    }
    return r;
  }

 private:
  void Tick(int64_t now_ns);
  static bool ValidLabel(const plugin::Label& label);

  LoadedPlugin library_;  // declared first: unloaded after the instance is gone
  std::string source_;
  std::unique_ptr<plugin::Instance> instance_;
  int64_t next_tick_ = std::numeric_limits<int64_t>::min();
  PluginCounts counts_;
};

class PluginSet {
 public:
  // Loads each plugin and creates its instance, in order. A plugin name or
  // file given twice is refused; errors name where it was configured.
  // live_capture: the packets come from live interfaces (the daemon without
  // replayed files); else a plugin that labels live capture only is refused
  // before it is created.
  bool Load(const std::vector<PluginSpec>& specs, std::string* err, bool live_capture = false);
  PluginInstance* Find(std::string_view name) const;
  size_t size() const { return instances_.size(); }
  const PluginInstance& at(size_t i) const { return *instances_[i]; }

 private:
  std::vector<std::unique_ptr<PluginInstance>> instances_;
};

// "  name (type, default ...): description" lines of a plugin's config
// table, then "  statistic name (counter|gauge): description" lines.
std::string DescribePlugin(const plugin::PluginInfo& info);

}  // namespace pcapml
