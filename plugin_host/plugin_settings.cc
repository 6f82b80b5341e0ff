#include "plugin_host/plugin_settings.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "base/units.h"

#ifndef PCAPML_PLUGIN_INSTALL_DIR
#define PCAPML_PLUGIN_INSTALL_DIR "/usr/local/lib/pcapml/plugins"
#endif

namespace fs = std::filesystem;

namespace pcapml {
namespace {

using plugin::ConfigType;
using plugin::ConfigValue;

int Line(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// A TOML basic string: keys are always written this way, because toml++
// 3.3 writes a key holding a ' as a literal key that does not parse back
// (found by fuzz_toml_rules).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04X", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void WriteValue(const toml::node& value, std::string* out) {
  if (const toml::table* t = value.as_table()) {
    *out += "{";
    bool first = true;
    for (auto&& [k, v] : *t) {
      *out += first ? " " : ", ";
      first = false;
      *out += Quoted(k.str()) + " = ";
      WriteValue(v, out);
    }
    *out += first ? "}" : " }";
  } else if (const toml::array* a = value.as_array()) {
    *out += "[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) *out += ", ";
      WriteValue(*a->get(i), out);
    }
    *out += "]";
  } else if (const toml::value<std::string>* str = value.as_string()) {
    *out += Quoted(str->get());
  } else {  // numbers, booleans, dates and times: toml++ writes them as TOML
    std::ostringstream text;
    value.visit([&](const auto& v) { text << v; });
    *out += text.str();
  }
}

// The setting as a one-key TOML document, so defaults (TOML text) and user
// values take one validation path.
std::string AsToml(std::string_view key, const toml::node& value) {
  std::string out = Quoted(key) + " = ";
  WriteValue(value, &out);
  return out;
}

bool ReadOne(const toml::table& t, const std::string& file, const std::string& base_dir, PluginSpec* spec,
             std::string* err) {
  spec->source = file + ":" + std::to_string(Line(t));
  auto fail = [&](const toml::node& n, const std::string& what) {
    *err = file + ":" + std::to_string(Line(n)) + ": [[plugin]]" + (spec->name.empty() ? "" : " '" + spec->name + "'") +
           ": " + what;
    return false;
  };
  const toml::node* name = t.get("name");
  if (!name || !name->is_string() || name->as_string()->get().empty())
    return fail(name ? *name : static_cast<const toml::node&>(t), "needs name = \"<plugin name>\"");
  spec->name = name->as_string()->get();
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (key == "name") continue;
    if (key == "path") {
      if (!v.is_string() || v.as_string()->get().empty()) return fail(v, "path must be a non-empty string");
      fs::path p(v.as_string()->get());
      spec->path =
          p.is_absolute() || base_dir.empty() ? p.string() : (fs::path(base_dir) / p).lexically_normal().string();
      continue;
    }
    spec->settings.push_back({key, Line(v), AsToml(key, v)});
  }
  return true;
}

bool ToValue(const toml::node& n, ConfigValue* v, std::string* why) {
  switch (v->type) {
    case ConfigType::kString:
      if (!n.is_string()) return *why = "must be a string", false;
      v->text = n.as_string()->get();
      return true;
    case ConfigType::kInteger:
      if (!n.is_integer() || n.as_integer()->get() < 0) return *why = "must be a non-negative integer", false;
      v->number = n.as_integer()->get();
      return true;
    case ConfigType::kBool:
      if (!n.is_boolean()) return *why = "must be true or false", false;
      v->number = n.as_boolean()->get();
      return true;
    case ConfigType::kDuration: {
      std::string text = n.is_integer()  ? std::to_string(n.as_integer()->get())
                         : n.is_string() ? n.as_string()->get()
                                         : "";
      if (text.empty() || !ParseDuration(text, &v->number, why) || v->number < 0)
        return *why = "must be a duration such as \"30s\"", false;
      return true;
    }
    case ConfigType::kStringList:
      if (!n.is_array()) return *why = "must be a list of strings", false;
      for (const toml::node& e : *n.as_array()) {
        if (!e.is_string()) return *why = "must be a list of strings", false;
        v->list.push_back(e.as_string()->get());
      }
      return true;
    case ConfigType::kStringMap:
      if (!n.is_table()) return *why = "must be a table of \"key\" = \"value\" strings", false;
      for (auto&& [k, e] : *n.as_table()) {
        if (!e.is_string()) return *why = "must be a table of \"key\" = \"value\" strings", false;
        v->map.emplace_back(std::string(k.str()), e.as_string()->get());
      }
      std::sort(v->map.begin(), v->map.end());
      return true;
  }
  return *why = "has a type pcapml does not know", false;
}

// Parses "key = value" TOML text into v.
bool ParseValue(const std::string& key, const std::string& text, ConfigValue* v, std::string* why) {
  try {
    toml::table t = toml::parse(text);
    const toml::node* n = t.get(key);
    if (!n) return *why = "missing", false;
    return ToValue(*n, v, why);
  } catch (const toml::parse_error& e) {
    return *why = std::string(e.description()), false;
  }
}

}  // namespace

std::string InstalledPluginDir() { return PCAPML_PLUGIN_INSTALL_DIR; }

bool ReadPluginTables(const toml::node& node, const std::string& file, const std::string& base_dir,
                      std::vector<PluginSpec>* specs, std::string* err) {
  const toml::array* a = node.as_array();
  if (!a || !a->is_array_of_tables())
    return *err = file + ":" + std::to_string(Line(node)) + ": plugin must be [[plugin]] tables", false;
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
