// The TOML rules loader (rules/toml_rules.h) over any text: rules or one
// error naming the file and line. The rules then classify a few packets as
// the contract says (fuzz/rules_check.h), and [[plugin]] tables go through
// the plugin settings reader and validation (plugin_host/plugin_settings.h)
// against a config table with every setting type.
#include <toml++/toml.h>

#include "fuzz/rules_check.h"
#include "plugin_host/plugin_settings.h"
#include "rules/toml_rules.h"

using namespace pcapml;

namespace {

using plugin::ConfigType;

const plugin::ConfigKey kConfig[] = {
    {"text", ConfigType::kString, "\"x\"", ""},   {"count", ConfigType::kInteger, "3", ""},
    {"flag", ConfigType::kBool, "false", ""},     {"timeout", ConfigType::kDuration, "\"5m\"", ""},
    {"names", ConfigType::kStringList, "[]", ""}, {"table", ConfigType::kStringMap, "{}", ""},
};

std::unique_ptr<plugin::Instance> Create(const plugin::Config&, std::string*) { return nullptr; }

const plugin::PluginInfo kInfo = {plugin::kApiVersion, "fuzz", "", kConfig, std::size(kConfig), Create};

void CheckPluginTables(std::string_view text) {
  const std::string path = "fuzz.toml";
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error&) {
    return;
  }
  const toml::node* tables = doc.get("plugin");
  if (!tables) return;
  std::vector<PluginSpec> specs;
  std::string err;
  if (!ReadPluginTables(*tables, "fuzz.toml", "/etc/pcapml", &specs, &err)) {
    FUZZ_CHECK(err.starts_with("fuzz.toml"));
    return;
  }
  for (const PluginSpec& spec : specs) {
    // Each setting is kept as TOML text (key = value), which must read back.
    for (const PluginSetting& s : spec.settings) {
      bool reads = true;
      try {
        toml::table t = toml::parse(s.toml);
        reads = t.get(s.key) != nullptr;
      } catch (const toml::parse_error&) {
        reads = false;
      }
      if (!reads) fprintf(stderr, "setting text that does not read back: %s\n", s.toml.c_str());
      FUZZ_CHECK(reads);
    }
    plugin::Config config;
    if (!BuildPluginConfig(kInfo, spec, &config, &err)) continue;
    FUZZ_CHECK(config.values.size() == std::size(kConfig));  // every key, defaults filled in
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckPluginTables(text);
  RuleSet rules;
  std::string err;
  bool parsed = ParseTomlRules("fuzz.toml", text, "sensor", &rules, &err);
  fuzz::CheckParsedRules(parsed, "fuzz.toml", err, &rules, "\r\n");
  return 0;
}
