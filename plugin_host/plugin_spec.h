// A plugin instance as a user configured it: a [[plugin]] table (name,
// path, and the plugin's own keys) of the daemon config or a TOML rules
// file, or --plugin PATH. Plain data, so configs can hold it cheaply;
// plugin_settings.h reads and checks it.
#pragma once

#include <string>
#include <vector>

namespace pcapml {

struct PluginSetting {
  std::string key;
  int line = 0;
  std::string toml;  // "key = value" as TOML text, reparsed when validated
};

struct PluginSpec {
  std::string name;    // empty: whatever the file calls itself (--plugin PATH)
  std::string path;    // empty: the installed plugin directory
  std::string source;  // "file:line" of the table, or "--plugin PATH"
  std::vector<PluginSetting> settings;
};

}  // namespace pcapml
