#include "plugin_host/plugin_set.h"

#include <algorithm>
#include <filesystem>

namespace pcapml {
namespace {

constexpr int64_t kTickNs = 1'000'000'000;

bool CleanText(std::string_view s, const char* forbidden) {
  return s.find_first_of(forbidden) == std::string_view::npos;
}

std::string PathOf(const PluginSpec& spec) {
  if (!spec.path.empty()) return spec.path;
  return (std::filesystem::path(InstalledPluginDir()) / (spec.name + ".so")).string();
}

}  // namespace

void PluginInstance::Tick(int64_t now_ns) {
  instance_->Tick(now_ns);
  // Timestamps come from the input and may be near the end of int64.
  next_tick_ =
      now_ns > std::numeric_limits<int64_t>::max() - kTickNs ? std::numeric_limits<int64_t>::max() : now_ns + kTickNs;
}

std::vector<uint64_t> PluginInstance::Stats() const {
  std::vector<uint64_t> values(info().stats_size);
  if (!values.empty()) instance_->Stats(values.data());
  return values;
}

bool PluginInstance::ValidLabel(const plugin::Label& l) {
  if (l.label.empty() || !CleanText(l.label, ",\r\n") || l.field_count > plugin::kMaxFields) return false;
  for (uint32_t i = 0; i < l.field_count; ++i)
    if (l.fields[i].key.empty() || !CleanText(l.fields[i].key, ",=\r\n") || !CleanText(l.fields[i].value, ",\r\n"))
      return false;
  return true;
}

// A [[plugin]] table without a path gives the settings of the plugin a
// --plugin PATH (a spec without a name) loaded; failing that, the plugin
// comes from the installed directory.
bool PluginSet::Load(const std::vector<PluginSpec>& specs, std::string* err, bool live_capture) {
  struct Pending {
    LoadedPlugin lib;
    const PluginSpec* spec;  // settings and source
    bool from_path_only;     // --plugin PATH, not yet given settings
  };
  std::vector<Pending> pending;
  auto load = [&](const PluginSpec& spec) {
    LoadedPlugin lib;
    if (!LoadPlugin(PathOf(spec), spec.name, &lib, err)) return *err = spec.source + ": " + *err, false;
    pending.push_back({std::move(lib), &spec, spec.name.empty()});
    return true;
  };
  for (const PluginSpec& spec : specs)
    if ((!spec.path.empty() || spec.name.empty()) && !load(spec)) return false;
  for (const PluginSpec& spec : specs) {
    if (!spec.path.empty() || spec.name.empty()) continue;
    auto cli = std::find_if(pending.begin(), pending.end(),
                            [&](const Pending& p) { return p.from_path_only && spec.name == p.lib.info->name; });
    if (cli != pending.end())
      *cli = {std::move(cli->lib), &spec, false};
    else if (!load(spec))
      return false;
  }
  for (size_t i = 0; i < pending.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (pending[j].lib.path == pending[i].lib.path ||
          std::string_view(pending[j].lib.info->name) == pending[i].lib.info->name)
        return *err = pending[i].spec->source + ": plugin '" + pending[i].lib.info->name + "' (" + pending[i].lib.path +
                      ") is loaded twice (first by " + pending[j].spec->source + ")",
               false;
  for (const Pending& p : pending)
    if (!live_capture && !p.lib.live_only.empty())
      return *err = p.spec->source + ": plugin '" + p.lib.info->name +
                    "' works only in the daemon capturing live interfaces: " + p.lib.live_only,
             false;
  for (Pending& p : pending) {
    plugin::Config config;
    if (!BuildPluginConfig(*p.lib.info, *p.spec, &config, err)) return false;
    std::string why;
    std::unique_ptr<plugin::Instance> instance = p.lib.info->create(config, &why);
    if (!instance) return *err = p.spec->source + ": plugin '" + p.lib.info->name + "': " + why, false;
    instances_.push_back(std::make_unique<PluginInstance>(std::move(p.lib), p.spec->source, std::move(instance)));
  }
  return true;
}

PluginInstance* PluginSet::Find(std::string_view name) const {
  for (const auto& i : instances_)
    if (name == i->name()) return i.get();
  return nullptr;
}

std::string DescribePlugin(const plugin::PluginInfo& info) {
  std::string out = std::string(info.name) + ": " + info.description + "\n";
  out += "  interface version " + std::to_string(info.api_version) + "\n";
  if (!info.config_size) out += "  no settings\n";
  for (size_t i = 0; i < info.config_size; ++i) {
    const plugin::ConfigKey& k = info.config[i];
    out += std::string("  ") + k.key + " (" + ConfigTypeName(k.type) + ", default " + k.default_value +
           "): " + k.description + "\n";
  }
  for (size_t i = 0; i < info.stats_size; ++i)
    out += std::string("  statistic ") + info.stats[i].name + " (" +
           (info.stats[i].kind == plugin::StatKind::kGauge ? "gauge" : "counter") + "): " + info.stats[i].description +
           "\n";
  return out;
}

}  // namespace pcapml
