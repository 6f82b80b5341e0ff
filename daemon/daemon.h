// The capture service as a library: what `pcapml daemon` runs once its
// command line is parsed (cli/daemon_command.cc).
#pragma once

#include <string>

#include "daemon/config.h"

namespace pcapml {

// Runs the service until SIGTERM/SIGINT, or until every source has ended
// when all sources are files. Returns the process exit status.
int RunDaemon(DaemonConfig config);

// --check-config: loads the plugins and rules files the config names and
// compiles the rules. On success *summary says what was found.
bool CheckDaemonConfig(const DaemonConfig& config, std::string* summary, std::string* err);

}  // namespace pcapml
