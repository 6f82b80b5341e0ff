// Runs one shipped plugin, as pcapml's host does (plugin_host/plugin_set.h:
// ticks, counting), over the packets of a fuzz input (fuzz/fuzz_util.h
// PacketStream), decoded by plugin_host/packet_view.h. The plugin's source is
// linked in; its entry point is the one PCAPML_PLUGIN exports. Every label
// it gives must keep the comment format, and every view must be live.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "plugin_host/packet_view.h"
#include "plugin_host/plugin_set.h"

extern "C" const pcapml::plugin::PluginInfo* PCAPML_PLUGIN_ENTRY_SYMBOL();

namespace pcapml::fuzz {

inline bool CleanText(std::string_view s, const char* forbidden) {
  return s.find_first_of(forbidden) == std::string_view::npos;
}

// Wraps the plugin's instance to check each answer before the host sees it.
class CheckedInstance : public plugin::Instance {
 public:
  explicit CheckedInstance(std::unique_ptr<plugin::Instance> inner) : inner_(std::move(inner)) {}
  plugin::Result Process(const plugin::Packet& p, plugin::Label* label) override {
    plugin::Result r = inner_->Process(p, label);
    if (r == plugin::Result::kLabel) Check(*label);
    return r;
  }
  void Tick(int64_t now_ns) override { inner_->Tick(now_ns); }

 private:
  static void Check(const plugin::Label& l) {
    Touch(l.label), Touch(l.sample_key);
    FUZZ_CHECK(!l.label.empty() && CleanText(l.label, ",\r\n"));
    FUZZ_CHECK(l.field_count <= plugin::kMaxFields);
    for (uint32_t i = 0; i < l.field_count; ++i) {
      Touch(l.fields[i].key), Touch(l.fields[i].value);
      FUZZ_CHECK(!l.fields[i].key.empty() && CleanText(l.fields[i].key, ",=\r\n"));
      FUZZ_CHECK(CleanText(l.fields[i].value, ",\r\n"));
    }
  }
  std::unique_ptr<plugin::Instance> inner_;
};

// settings: key and TOML value, as a [[plugin]] table would give them.
inline void RunPlugin(const uint8_t* data, size_t size,
                      const std::vector<std::pair<std::string, std::string>>& settings) {
  const plugin::PluginInfo* info = PCAPML_PLUGIN_ENTRY_SYMBOL();
  PluginSpec spec{info->name, "", "fuzz.toml:1", {}};
  for (const auto& [key, value] : settings) spec.settings.push_back({key, 1, key + " = " + value});
  plugin::Config config;
  std::string err;
  bool built = BuildPluginConfig(*info, spec, &config, &err);
  if (!built) fprintf(stderr, "%s\n", err.c_str());
  FUZZ_CHECK(built);
  std::unique_ptr<plugin::Instance> made = info->create(config, &err);
  FUZZ_CHECK(made != nullptr);
  PluginInstance host(LoadedPlugin{nullptr, info, "fuzz", ""}, "fuzz",
                      std::make_unique<CheckedInstance>(std::move(made)));
  PacketStream stream(data, size);
  StreamPacket sp;
  while (stream.Next(&sp)) {
    plugin::Packet p;
    DecodePacket(stream.link_type(), sp.ts_ns, sp.data, sp.size, sp.size, &p);
    if (p.ip_version) Touch(p.payload, p.payload_len);
    plugin::Label label;
    host.Process(p, &label);
  }
}

}  // namespace pcapml::fuzz
