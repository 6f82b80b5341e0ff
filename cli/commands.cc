#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "version.h"

namespace pcapml {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

const Tool* FindTool(const std::string& name) {
  for (const Tool& t : Tools())
    if (name == t.name) return &t;
  return nullptr;
}

void PrintUsage(FILE* out) { fputs(Overview().c_str(), out); }

const Tool* Closest(const std::string& name) {
  const Tool* best = nullptr;
  size_t best_d = 3;
  for (const Tool& t : Tools()) {
    size_t d = EditDistance(name, t.name);
    if (d < best_d) best_d = d, best = &t;
  }
  return best;
}

int UnknownCommand(const std::string& name) {
  const Tool* best = Closest(name);
  fprintf(stderr, "pcapml: unknown command '%s'%s%s%s (see pcapml --help)\n", name.c_str(),
          best ? ", did you mean '" : "", best ? best->name : "", best ? "'?" : "");
  return kExitUsage;
}

// CLI11's help, with "pcapml" in the usage line and an option that is also
// the positional argument (-M,--input,input) marked required once, under
// Positionals.
class Formatter : public CLI::Formatter {
 public:
  std::string make_option(const CLI::Option* opt, bool is_positional) const override {
    if (is_positional || !opt->get_positional()) return CLI::Formatter::make_option(opt, is_positional);
    std::stringstream out;
    CLI::detail::format_help(out, make_option_name(opt, false) + " " + opt->get_type_name(),
                             "the same as " + opt->get_name(true) + ", as an option", column_width_);
    return out.str();
  }
};

void UseFormatter(CLI::App& app) {
  app.formatter(std::make_shared<Formatter>());
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) UseFormatter(*sub);
}

// Set while DescribeTool runs a tool: ParseCommandLine hands the app over instead of parsing.
const std::function<void(const CLI::App&)>* describe = nullptr;

bool Has(const Args& args, const char* flag) { return std::find(args.begin(), args.end(), flag) != args.end(); }

// Maps the short flag form onto a subcommand; returns "" if args are not in it.
std::string SeedCommand(Args* args) {
  if (Has(*args, "-D") || Has(*args, "-P")) return "label";
  if (!Has(*args, "-M")) return "";
  auto drop = [&](const char* flag) { args->erase(std::find(args->begin(), args->end(), flag)); };
  if (Has(*args, "-O")) return "split";
  if (Has(*args, "-s")) return drop("-s"), "sort";
  if (Has(*args, "-p")) return drop("-p"), "strip";
  if (Has(*args, "-W")) return "merge";
  return "summary";
}

int Dispatch(const Tool& tool, const Args& args) {
  try {
    return tool.run(args);
  } catch (const std::exception& e) {
    return Fail(std::string(tool.name) + ": " + e.what());
  }
}

}  // namespace

const std::vector<Tool>& Tools() {
  static const std::vector<Tool> kTools = {
      {"label", "label a directory of pcaps (one sample per file) or one capture (rules)", RunLabel},
      {"daemon", "capture or replay, label and write rotating pcapng files as a service", RunDaemonCommand},
      {"ctl", "add and end run-time rules of a running daemon, show its status", RunCtl},
      {"summary", "count samples, packets and bytes per label of a pcap or pcapng file", RunSummary},
      {"split", "write one pcap per sample plus metadata.csv (-M in -O dir/)", RunSplit},
      {"sort", "sort by sampleID, then time, within a memory budget (-M in -s -W out)", RunSort},
      {"compare", "score one labeling against another: confusion matrix, precision and recall per label", RunCompare},
      {"strip", "write the packets without labels, as pcap or pcapng (-M in -p -W out)", RunStrip},
      {"merge", "merge pcap/pcapng files in time order, labels and interfaces kept (-W out in...)", RunMerge},
      {"ids", "list sampleIDs, or split them into train/val/test lists stable as files are added", RunIds},
      {"plugins", "load plugin libraries with every check and describe them and their settings", RunPlugins},
  };
  return kTools;
}

int ParseCommandLine(CLI::App& app, const Args& args) {
  UseFormatter(app);
  if (describe) return (*describe)(app), kExitOk;
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    fputs(app.help("pcapml").c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // CLI11 checks required options before it reports the arguments it did not expect, and takes the value
    // of an unknown option for a positional: name the unknown option, the cause, first.
    std::string what = e.what();
    std::vector<std::string> extra = app.remaining(true);
    auto unknown =
        std::find_if(extra.begin(), extra.end(), [](const std::string& a) { return a.size() > 1 && a[0] == '-'; });
    if (unknown != extra.end())
      what = "unknown option " + *unknown;
    else if (!extra.empty())
      what = "unexpected argument '" + extra[0] + "'";
    fprintf(stderr, "pcapml %s: %s (see pcapml help %s)\n", app.get_name().c_str(), what.c_str(),
            app.get_name().c_str());
    return kExitUsage;
  }
  return -1;
}

void DescribeTool(const Tool& tool, const std::function<void(const CLI::App&)>& fn) {
  describe = &fn;
  tool.run({});
  describe = nullptr;
}

std::string Overview() {
  std::string s = "pcapml " PCAPML_VERSION
                  ": labeled network-traffic datasets in standard pcapng\n\n"
                  "usage: pcapml <command> [options]     (pcapml help <command> for its options)\n\n"
                  "commands:\n";
  char line[256];
  for (const Tool& t : Tools()) snprintf(line, sizeof line, "  %-10s %s\n", t.name, t.description), s += line;
  return s +
         "\nshort forms:\n"
         "  pcapml -D dataset/ -L labels.txt -W dataset.pcapng     label a directory\n"
         "  pcapml -P trace.pcap -L metadata.csv -W labeled.pcapng  label one capture\n"
         "  pcapml -M labeled.pcapng -O output_dir/                 split to pcaps + metadata.csv\n"
         "  pcapml -M labeled.pcapng -s -W sorted.pcapng            sort by sampleID, then time\n"
         "  pcapml -M labeled.pcapng -p -W plain.pcap               strip labels\n"
         "  pcapml -M a.pcapng b.pcapng -W merged.pcapng            merge in time order\n"
         "  pcapml -M labeled.pcapng                                summary\n\n"
         "exit status: 0 success, 1 the job failed, 2 bad command line\n";
}

int RunPcapml(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    PrintUsage(args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version" || args[0] == "-V" || args[0] == "version") {
    printf("pcapml %s\n", PCAPML_VERSION);
    return kExitOk;
  }
  if (args[0] == "help") {
    if (args.size() < 2) return PrintUsage(stdout), kExitOk;
    if (args[1] == "--man") return fputs(ManPage().c_str(), stdout), kExitOk;
    if (args[1] == "--bash-completion") return fputs(BashCompletion().c_str(), stdout), kExitOk;
    const Tool* t = FindTool(args[1]);
    if (!t) return UnknownCommand(args[1]);
    return Dispatch(*t, {"--help"});
  }
  if (args[0][0] == '-') {
    std::string name = SeedCommand(&args);
    if (name.empty()) {
      fprintf(stderr, "pcapml: unknown option '%s' (see pcapml --help)\n", args[0].c_str());
      return kExitUsage;
    }
    return Dispatch(*FindTool(name), args);
  }
  const Tool* tool = FindTool(args[0]);
  if (!tool) return UnknownCommand(args[0]);
  return Dispatch(*tool, Args(args.begin() + 1, args.end()));
}

}  // namespace pcapml
