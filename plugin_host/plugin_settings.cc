#include "plugin_host/plugin_settings.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "base/text_file.h"
#include "base/toml_table.h"

#ifndef PCAPML_PLUGIN_INSTALL_DIR
#define PCAPML_PLUGIN_INSTALL_DIR "/usr/local/lib/pcapml/plugins"
#endif

namespace fs = std::filesystem;

namespace pcapml {
namespace {

using plugin::ConfigType;
using plugin::ConfigValue;

bool ReadOne(const toml::table& t, const std::string& file, const std::string& base_dir, PluginSpec* spec,
             std::string* err) {
  spec->source = file + ":" + std::to_string(TomlLine(t));
  TomlTable r(t, file, "[[plugin]]", err);
  const toml::node* name = r.Use("name");
  if (!name || !name->is_string() || name->as_string()->get().empty())
    return r.Fail(name, "needs name = \"<plugin name>\"");
  spec->name = name->as_string()->get();
  r.set_context("[[plugin]]", spec->name);
  std::string path;
  if (const toml::node* p = t.get("path"); p && (!p->is_string() || p->as_string()->get().empty()))
    return r.Fail(p, "path must be a non-empty string");
  if (!r.String("path", &path)) return false;
  if (!path.empty())
    spec->path = fs::path(path).is_absolute() || base_dir.empty()
                     ? path
                     : (fs::path(base_dir) / path).lexically_normal().string();
  // The rest are the plugin's own settings, checked once it is loaded.
  for (std::string_view key : r.Others()) {
    const toml::node& value = *t.get(key);
    spec->settings.push_back({std::string(key), TomlLine(value), TomlKeyValue(key, value)});
  }
  return true;
}

// The strings a value holds: a NUL byte or bytes that are not UTF-8 would
// reach the plugin (and from it, labels) cut short or unreadable.
bool CheckText(const ConfigValue& v, std::string* why) {
  auto bad = [&](const std::string& s, const char* what) {
    std::string problem = TextProblem(s);
    if (!problem.empty()) *why = std::string(what) + " " + problem;
    return !problem.empty();
  };
  if (bad(v.text, "value")) return false;
  for (const std::string& s : v.list)
    if (bad(s, "entry")) return false;
  for (const auto& [key, value] : v.map)
    if (bad(key, "key") || bad(value, "value")) return false;
  return true;
}

bool ToTypedValue(const toml::node& n, ConfigValue* v, std::string* why) {
  switch (v->type) {
    case ConfigType::kString:
      return TomlToString(n, &v->text, why);
    case ConfigType::kInteger:
      return TomlToInteger(n, 0, std::numeric_limits<int64_t>::max(), &v->number, why);
    case ConfigType::kBool: {
      bool b = false;
      if (!TomlToBool(n, &b, why)) return false;
      v->number = b;
      return true;
    }
    case ConfigType::kDuration:
      return TomlToDuration(n, &v->number, why);
    case ConfigType::kStringList:
      return TomlToStringList(n, &v->list, why);
    case ConfigType::kStringMap:
      if (!TomlToStringMap(n, &v->map, why)) return false;
      std::sort(v->map.begin(), v->map.end());
      return true;
  }
  return *why = "has a type pcapml does not know", false;
}

bool ToValue(const toml::node& n, ConfigValue* v, std::string* why) {
  return ToTypedValue(n, v, why) && CheckText(*v, why);
}

// Parses "key = value" TOML text into v.
bool ParseValue(const std::string& key, const std::string& text, ConfigValue* v, std::string* why) {
  toml::table t;
  std::string err;
  size_t line;
  if (!ParseTomlText("", text, &t, &err, &line)) return *why = err.substr(std::to_string(line).size() + 3), false;
  const toml::node* n = t.get(key);
  if (!n) return *why = "missing", false;
  return ToValue(*n, v, why);
}

}  // namespace

std::string InstalledPluginDir() { return PCAPML_PLUGIN_INSTALL_DIR; }

bool ReadPluginTables(const toml::node& node, const std::string& file, const std::string& base_dir,
                      std::vector<PluginSpec>* specs, std::string* err) {
  const toml::array* a = node.as_array();
  if (!a || !a->is_array_of_tables())
    return *err = file + ":" + std::to_string(TomlLine(node)) + ": plugin must be [[plugin]] tables", false;
  for (const toml::node& n : *a) {
    PluginSpec spec;
    if (!ReadOne(*n.as_table(), file, base_dir, &spec, err)) return false;
    specs->push_back(std::move(spec));
  }
  return true;
}

bool BuildPluginConfig(const plugin::PluginInfo& info, const PluginSpec& spec, plugin::Config* config,
                       std::string* err) {
  std::string prefix = spec.source + ": plugin '" + info.name + "'";
  std::vector<const PluginSetting*> given;
  for (const PluginSetting& s : spec.settings) {
    auto known = std::find_if(info.config, info.config + info.config_size,
                              [&](const plugin::ConfigKey& k) { return s.key == k.key; });
    if (known == info.config + info.config_size) {
      std::string keys;
      for (size_t i = 0; i < info.config_size; ++i) keys += std::string(i ? ", " : "") + info.config[i].key;
      std::string where = spec.source.substr(0, spec.source.rfind(':') + 1) + std::to_string(s.line);
      *err = where + ": plugin '" + info.name + "' has no setting '" + s.key + "' (" +
             (keys.empty() ? "it takes none" : "known: " + keys) + ")";
      return false;
    }
    given.push_back(&s);
  }
  config->values.clear();
  for (size_t i = 0; i < info.config_size; ++i) {
    const plugin::ConfigKey& k = info.config[i];
    ConfigValue v;
    v.key = k.key;
    v.type = k.type;
    auto it = std::find_if(given.begin(), given.end(), [&](const PluginSetting* s) { return s->key == k.key; });
    std::string why;
    if (it != given.end()) {
      if (!ParseValue(k.key, (*it)->toml, &v, &why)) {
        std::string where = spec.source.substr(0, spec.source.rfind(':') + 1) + std::to_string((*it)->line);
        return *err = where + ": plugin '" + info.name + "': " + k.key + " " + why, false;
      }
    } else if (!ParseValue(k.key, std::string(k.key) + " = " + k.default_value, &v, &why)) {
      return *err = prefix + ": its default for " + k.key + " is broken: " + why, false;
    }
    config->values.push_back(std::move(v));
  }
  return true;
}

const char* ConfigTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      return "string";
    case ConfigType::kInteger:
      return "integer";
    case ConfigType::kBool:
      return "bool";
    case ConfigType::kDuration:
      return "duration";
    case ConfigType::kStringList:
      return "list of strings";
    case ConfigType::kStringMap:
      return "table of strings";
  }
  return "?";
}

}  // namespace pcapml
