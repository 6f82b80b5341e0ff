// The capture service as a library: what `pcapml daemon` runs once its
// command line is parsed (cli/daemon_command.cc).
#pragma once

#include <string>
#include <vector>

#include "daemon/config.h"

namespace pcapml {

// Runs the service until SIGTERM/SIGINT, or until every source has ended
// when all sources are files. Returns the process exit status.
int RunDaemon(DaemonConfig config);

// --check-config: what the daemon checks before it captures
// (daemon/preflight.h), then loads the plugins and rules files the config
// names and compiles the rules for the sources' link types. On success
// *summary says what was found; else *problems holds one line per problem.
bool CheckDaemonConfig(const DaemonConfig& config, std::string* summary, std::vector<std::string>* problems);

}  // namespace pcapml
