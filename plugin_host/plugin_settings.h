// Plugin instances as users configure them: `[[plugin]]` tables (name,
// path, and the plugin's own keys) in the daemon config or a TOML rules
// file, or `--plugin PATH` on the command line. The plugin's own keys are
// checked against its config table only once the plugin is loaded.
#pragma once

#include <string>
#include <toml++/toml.h>
#include <vector>

#include "plugins/pcapml_plugin.h"
#include "plugin_host/plugin_spec.h"

namespace pcapml {

// The directory pcapml installs its plugins to (<prefix>/lib/pcapml/plugins).
std::string InstalledPluginDir();

// Reads a `plugin` node ([[plugin]] tables) of the TOML file `file`;
// relative paths are relative to base_dir.
bool ReadPluginTables(const toml::node& node, const std::string& file, const std::string& base_dir,
                      std::vector<PluginSpec>* specs, std::string* err);

// Checks the settings against the plugin's config table (unknown keys and
// wrong types are errors naming the key) and fills in the defaults.
bool BuildPluginConfig(const plugin::PluginInfo& info, const PluginSpec& spec, plugin::Config* config,
                       std::string* err);

// "string", "duration", ...: for help texts.
const char* ConfigTypeName(plugin::ConfigType type);

}  // namespace pcapml
