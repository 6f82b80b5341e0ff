// Loading plugin libraries with Boost.DLL, from configured paths only, with
// every check done at load time (as Zeek does it): the file and its
// directories must not be writable by anyone but their owner and root; the
// interface version is read from the file before any of its code runs, and
// the dynamic linker refuses a stale plugin again (RTLD_NOW and the
// versioned host symbol); the name it reports must be the configured one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "plugins/pcapml_plugin.h"

namespace boost::dll {
class shared_library;
}

namespace pcapml {

struct LoadedPlugin {
  std::shared_ptr<boost::dll::shared_library> library;  // keeps the code mapped
  const plugin::PluginInfo* info = nullptr;
  std::string path;  // canonical
  // Non-empty: the plugin labels live capture only, and this says why
  // (PluginInfo::live_only).
  std::string live_only;
};

struct LoadOptions {
  // Off only in a test, to show that the dynamic linker refuses a plugin
  // of another interface version by itself.
  bool read_version_first = true;
};

// The interface version this pcapml speaks.
uint32_t HostApiVersion();

// Fails if path, or a directory above it, is writable by group or others
// (directories with the sticky bit, like /tmp, excepted).
bool CheckPluginPermissions(const std::string& path, std::string* err);

// Loads and checks the plugin at path. expected_name empty: any name.
// Errors start with the path.
bool LoadPlugin(const std::string& path, const std::string& expected_name, LoadedPlugin* out, std::string* err,
                LoadOptions options = {});

}  // namespace pcapml
