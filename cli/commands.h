// The pcapml subcommands: one static table of {name, description, run}
// (ninja-style). main() is a thin wrapper around RunPcapml().
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/exit.h"

namespace CLI {
class App;
}

namespace pcapml {

using Args = std::vector<std::string>;

struct Tool {
  const char* name;
  const char* description;
  int (*run)(const Args& args);  // args after the subcommand name
};

const std::vector<Tool>& Tools();

// Entry point: subcommands, the short flag form (-D/-P/-M ...), --help,
// --version, "help <command>", "help --man" and "help --bash-completion".
int RunPcapml(int argc, char** argv);

// Parses args into app. Returns -1 to go on, else the code to exit with
// (0 after --help, kExitUsage after a usage error, printed in one line
// naming the argument at fault).
int ParseCommandLine(CLI::App& app, const Args& args);

// Runs tool without doing its work: fn gets its CLI::App, fully built (the
// options and help texts the man page and shell completion are made of).
void DescribeTool(const Tool& tool, const std::function<void(const CLI::App&)>& fn);

// The overview `pcapml --help` prints (commands, short forms, exit status).
std::string Overview();

// pcapml help --man: the manual page (roff); --bash-completion: the script.
std::string ManPage();
std::string BashCompletion();

// Tool entry points.
int RunSummary(const Args& args);
int RunLabel(const Args& args);
int RunSplit(const Args& args);
int RunSort(const Args& args);
int RunStrip(const Args& args);
int RunMerge(const Args& args);
int RunDaemonCommand(const Args& args);
int RunCtl(const Args& args);
int RunPlugins(const Args& args);
int RunCompare(const Args& args);
int RunIds(const Args& args);

}  // namespace pcapml
