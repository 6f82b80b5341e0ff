#include "plugin_host/plugin_loader.h"

#include <sys/stat.h>

#include <boost/dll/shared_library.hpp>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "plugin_host/elf_symbol.h"

// The host's half of the version handshake: every plugin references the
// marker of the version it was built for; the binaries export it with
// --dynamic-list (plugin_host/host_symbols.list).
extern "C" {
__attribute__((visibility("default"), used)) extern const uint32_t PCAPML_PLUGIN_HOST_SYMBOL =
    PCAPML_PLUGIN_API_VERSION;
}

namespace fs = std::filesystem;

namespace pcapml {
namespace {

const char kVersionSymbol[] = "pcapml_plugin_api_version";

std::string VersionMismatch(uint32_t plugin_version) {
  return "built against plugin API version " + std::to_string(plugin_version) + ", but this pcapml speaks version " +
         std::to_string(HostApiVersion()) + "; rebuild the plugin with this pcapml's pcapml_plugin.h";
}

// The version a stale plugin asked for, from the dynamic linker's
// "undefined symbol: pcapml_host_v<N>"; 0 if the message is about something else.
uint32_t WantedHostVersion(const std::string& dlerror) {
  static const std::string kMarker = "undefined symbol: pcapml_host_v";
  size_t at = dlerror.find(kMarker);
  if (at == std::string::npos) return 0;
  const char* p = dlerror.data() + at + kMarker.size();
  uint32_t v = 0;
  std::from_chars(p, dlerror.data() + dlerror.size(), v);
  return v;
}

bool Open(const std::string& path, boost::dll::shared_library* lib, std::string* err) {
  try {
    // RTLD_NOW: every reference binds here, so a stale plugin fails now.
    lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    return true;
  } catch (const std::exception& e) {
    std::string what = e.what();
    static const std::string kPrefix = "(dlerror system message: ";
    if (size_t at = what.find(kPrefix); at != std::string::npos)
      what = what.substr(at + kPrefix.size(), what.size() - at - kPrefix.size() - 1);
    if (uint32_t v = WantedHostVersion(what)) return *err = path + ": " + VersionMismatch(v), false;
    return *err = path + ": cannot load: " + what, false;
  }
}

// A statistic's name becomes a label value of pcapml_plugin_counter_total
// and pcapml_plugin_gauge and a word of --stats: kept to what any metrics
// system takes as a name.
bool ValidStatName(const char* name) {
  size_t n = name ? strnlen(name, plugin::kMaxStatName + 1) : 0;
  if (n == 0 || n > plugin::kMaxStatName || name[0] < 'a' || name[0] > 'z') return false;
  for (size_t k = 0; k < n; ++k)
    if (!((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= '0' && name[k] <= '9') || name[k] == '_')) return false;
  return true;
}

bool CheckStats(const plugin::PluginInfo& i, const std::string& path, std::string* err) {
  if (i.stats_size > plugin::kMaxStats)
    return *err = path + ": its statistics table has " + std::to_string(i.stats_size) + " rows (at most " +
                  std::to_string(plugin::kMaxStats) + ")",
           false;
  if (i.stats_size && !i.stats) return *err = path + ": its statistics table is missing", false;
  for (size_t k = 0; k < i.stats_size; ++k) {
    const plugin::StatKey& s = i.stats[k];
    std::string row = path + ": row " + std::to_string(k + 1) + " of its statistics table";
    if (!ValidStatName(s.name))
      return *err = row + " is named '" + (s.name ? std::string(s.name).substr(0, 60) : "") + "': names are 1 to " +
                    std::to_string(plugin::kMaxStatName) + " of a-z, 0-9 and '_', starting with a letter",
             false;
    if (s.kind != plugin::StatKind::kCounter && s.kind != plugin::StatKind::kGauge)
      return *err = row + " (" + s.name + ") is neither a counter nor a gauge", false;
    if (!s.description) return *err = row + " (" + s.name + ") has no description", false;
    for (size_t j = 0; j < k; ++j)
      if (std::string_view(i.stats[j].name) == s.name) return *err = row + " repeats the name '" + s.name + "'", false;
  }
  return true;
}

// Identity checks once the code is mapped.
bool Describe(const boost::dll::shared_library& lib, const std::string& path, const std::string& expected_name,
              const plugin::PluginInfo** info, std::string* err) {
  std::string entry = "pcapml_plugin_v" + std::to_string(HostApiVersion());
  if (!lib.has(kVersionSymbol) || !lib.has(entry))
    return *err = path + ": not a pcapml plugin (it exports no " + entry + ")", false;
  if (uint32_t v = lib.get<const uint32_t>(kVersionSymbol); v != HostApiVersion())
    return *err = path + ": " + VersionMismatch(v), false;
  const plugin::PluginInfo* i = lib.get<const plugin::PluginInfo*()>(entry)();
  if (!i || i->api_version != HostApiVersion() || !i->name || !*i->name || !i->create || (i->config_size && !i->config))
    return *err = path + ": the plugin describes itself incompletely (name, create or config table missing)", false;
  for (size_t k = 0; k < i->config_size; ++k)
    if (!i->config[k].key || !i->config[k].default_value || !i->config[k].description)
      return *err = path + ": row " + std::to_string(k + 1) + " of its config table is incomplete", false;
  if (!CheckStats(*i, path, err)) return false;
  if (!expected_name.empty() && expected_name != i->name)
    return *err = path + ": the plugin calls itself '" + i->name + "', not '" + expected_name + "' as configured",
           false;
  *info = i;
  return true;
}

}  // namespace

uint32_t HostApiVersion() { return PCAPML_PLUGIN_HOST_SYMBOL; }

bool CheckPluginPermissions(const std::string& path, std::string* err) {
  std::error_code ec;
  fs::path p = fs::canonical(path, ec);
  if (ec) return *err = path + ": " + ec.message(), false;
  for (fs::path at = p;; at = at.parent_path()) {
    struct stat st;
    if (stat(at.c_str(), &st) != 0) return *err = path + ": cannot stat " + at.string(), false;
    if (at == p && !S_ISREG(st.st_mode)) return *err = path + ": not a regular file", false;
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir)
      return *err = path + ": refusing to load a plugin: " + at.string() +
                    " is writable by users other than its owner (chmod go-w " + at.string() + ")",
             false;
    if (at == at.root_path() || at.parent_path() == at) break;
  }
  return true;
}

bool LoadPlugin(const std::string& path, const std::string& expected_name, LoadedPlugin* out, std::string* err,
                LoadOptions options) {
  if (!CheckPluginPermissions(path, err)) return false;
  std::error_code ec;
  std::string canonical = fs::canonical(path, ec).string();
  if (ec) return *err = path + ": " + ec.message(), false;
  if (options.read_version_first) {
    uint32_t version = 0;
    std::string why;
    switch (ReadElfUint32(canonical, kVersionSymbol, &version, &why)) {
      case ElfSymbolStatus::kNotElf:
        return *err = path + ": not a plugin: " + why, false;
      case ElfSymbolStatus::kMissing:
        return *err = path + ": not a pcapml plugin (it exports no " + kVersionSymbol + ")", false;
      case ElfSymbolStatus::kFound:
        if (version != HostApiVersion()) return *err = path + ": " + VersionMismatch(version), false;
    }
  }
  auto lib = std::make_shared<boost::dll::shared_library>();
  if (!Open(canonical, lib.get(), err)) return false;
  const plugin::PluginInfo* info = nullptr;
  if (!Describe(*lib, path, expected_name, &info, err)) return false;
  *out = {std::move(lib), info, canonical, info->live_only ? info->live_only : ""};
  return true;
}

}  // namespace pcapml
