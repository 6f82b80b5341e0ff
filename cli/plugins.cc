// pcapml plugins: loads plugin libraries with every load-time check the
// daemon and `label --plugin` apply, and prints what each says about
// itself: name, description, interface version, its settings table and the
// statistics it keeps.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "plugin_host/plugin_loader.h"
#include "plugin_host/plugin_set.h"

namespace pcapml {

int RunPlugins(const Args& args) {
  CLI::App app(
      "Loads each plugin library (refusing files others may write, other interface versions and\n"
      "non-plugins) and describes it: its name for `plugin = \"<name>\"` rules and [[plugin]]\n"
      "tables, every setting with its type and default, and the statistics it keeps.",
      "plugins");
  std::vector<std::string> paths;
  app.add_option("PATH", paths, "plugin libraries (.so)")->required();
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  printf("pcapml speaks plugin interface version %u\n", HostApiVersion());
  for (const std::string& path : paths) {
    LoadedPlugin p;
    std::string err;
    if (!LoadPlugin(path, "", &p, &err)) return Fail(err);
    printf("\n%s", DescribePlugin(*p.info).c_str());
    if (!p.live_only.empty()) printf("  live capture only (the daemon): %s\n", p.live_only.c_str());
    printf("  file %s\n", p.path.c_str());
  }
  return kExitOk;
}

}  // namespace pcapml
