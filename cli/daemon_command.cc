// pcapml daemon: the command line of the capture service (daemon/daemon.h).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "daemon/daemon.h"

namespace pcapml {

int RunDaemonCommand(const Args& args) {
  CLI::App app(
      "Captures from interfaces and/or replays files, labels every packet with the rules "
      "(run-time rules first, then the rules files; first match wins), and writes rotating "
      "labeled pcapng files. Metrics at /metrics, SIGHUP reloads the rules, SIGTERM/SIGINT "
      "complete the current file and exit.",
      "daemon");
  std::string config_path, check_path, metrics_listen;
  app.add_option("-c,--config", config_path, "configuration file (TOML; see config/pcapml.toml)");
  app.add_option("--check-config", check_path, "validate a configuration file and its rules, then exit");
  auto* listen = app.add_option("--metrics-listen", metrics_listen,
                                "ADDRESS:PORT for the metrics instead of the config's [metrics] listen "
                                "(\"\" turns them off)");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  if (config_path.empty() == check_path.empty()) {
    fprintf(stderr, "pcapml daemon: give --config FILE or --check-config FILE (see pcapml help daemon)\n");
    return kExitUsage;
  }
  DaemonConfig config;
  std::string err;
  if (!LoadDaemonConfig(check_path.empty() ? config_path : check_path, &config, &err)) return Fail(err);
  if (listen->count()) {
    config.metrics_listen = metrics_listen;
    config.metrics_listen_key = config.origins["metrics.listen"] = "--metrics-listen";
  }
  if (!check_path.empty()) {
    std::string summary;
    std::vector<std::string> problems;
    if (!CheckDaemonConfig(config, &summary, &problems)) {
      for (const std::string& p : problems) Fail(p);
      return kExitFailure;
    }
    printf("%s: ok: %s\n", check_path.c_str(), summary.c_str());
    return kExitOk;
  }
  return RunDaemon(std::move(config));
}

}  // namespace pcapml
