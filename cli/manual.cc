// The manual page and the bash completion script, generated from the same
// command table and CLI11 help texts that `pcapml help <command>` prints
// (CMake runs `pcapml help --man` and `pcapml help --bash-completion` at
// build time; `cmake --install` installs both).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "version.h"

namespace pcapml {
namespace {

// Text for roff: backslashes and hyphens escaped, no line starting a request.
std::string Roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  return out;
}

std::string OptionNames(const CLI::Option& o) {
  std::string names;
  for (const std::string& s : o.get_snames()) names += (names.empty() ? "-" : ", -") + s;
  for (const std::string& l : o.get_lnames()) names += (names.empty() ? "--" : ", --") + l;
  return names;
}

std::string Usage(const CLI::App& app, const std::string& name) {
  std::string usage = CLI::Formatter().make_usage(&app, name);
  if (usage.rfind("Usage: ", 0) == 0) usage = usage.substr(7);
  while (!usage.empty() && usage.back() == '\n') usage.pop_back();
  return usage;
}

void ManCommand(const CLI::App& app, const std::string& name, std::string* out) {
  // A description laid out in lines (label's two modes) keeps its lines.
  const std::string& about = app.get_description();
  bool lines = about.find('\n') != std::string::npos;
  *out +=
      ".SS \"" + Roff(Usage(app, name)) + "\"\n" + (lines ? ".nf\n" : "") + Roff(about) + "\n" + (lines ? ".fi\n" : "");
  for (const CLI::Option* o : app.get_options()) {
    std::string type = o->get_type_size() != 0 ? o->get_type_name() : "";
    if (o->nonpositional())
      *out += ".TP\n.B \"" + Roff(OptionNames(*o)) + "\"" + (type.empty() ? "" : " \\fI" + Roff(type) + "\\fR") + "\n";
    else
      *out += ".TP\n.I " + Roff(o->get_name(true)) + "\n";
    std::string text = o->get_description();
    if (o->nonpositional() && o->get_positional()) text = "the same as " + o->get_name(true) + ", as an option";
    *out += Roff(text) + "\n";
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    ManCommand(*sub, name + " " + sub->get_name(), out);
}

// Every word an option of app answers to.
std::string OptionWords(const CLI::App& app) {
  std::string words;
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& s : o->get_snames()) words += " -" + s;
    for (const std::string& l : o->get_lnames()) words += " --" + l;
  }
  return words.empty() ? "" : words.substr(1);
}

}  // namespace

std::string ManPage() {
  std::string out = ".TH PCAPML 1 \"\" \"pcapml " PCAPML_VERSION
                    "\" \"User Commands\"\n"
                    ".SH NAME\npcapml \\- labeled network\\-traffic datasets in standard pcapng\n"
                    ".SH SYNOPSIS\n.B pcapml\n.I command\n[\\fIoptions\\fR]\n.br\n.B pcapml help\n"
                    "[\\fIcommand\\fR]\n.SH DESCRIPTION\n" +
                    Roff(
                        "pcapml builds labeled network-traffic datasets: every packet it writes is an Enhanced "
                        "Packet Block of a standard pcapng file whose comment says which sample the packet "
                        "belongs to and what is known about it (<sampleID>,<label>[,key=value...]). tcpdump, "
                        "tshark and Wireshark read the files as they are. It labels a directory of captures or "
                        "one capture with rules, captures and labels live as a daemon, and splits, sorts, strips "
                        "and summarises labeled files.") +
                    "\n.SH COMMANDS\n";
  for (const Tool& t : Tools())
    DescribeTool(t, [&](const CLI::App& app) { ManCommand(app, std::string("pcapml ") + t.name, &out); });
  out += ".SH SHORT FORMS\n";
  const char* forms[][2] = {{"pcapml -D dataset/ -L labels.txt -W dataset.pcapng", "label a directory"},
                            {"pcapml -P trace.pcap -L metadata.csv -W labeled.pcapng", "label one capture"},
                            {"pcapml -M labeled.pcapng -O output_dir/", "split"},
                            {"pcapml -M labeled.pcapng -s -W sorted.pcapng", "sort"},
                            {"pcapml -M labeled.pcapng -p -W plain.pcap", "strip"},
                            {"pcapml -M a.pcapng b.pcapng -W merged.pcapng", "merge"},
                            {"pcapml -M labeled.pcapng", "summary"}};
  for (const auto& f : forms) out += ".TP\n.B \"" + Roff(f[0]) + "\"\n" + Roff(f[1]) + "\n";
  out +=
      ".SH EXIT STATUS\n.TP\n0\nsuccess\n.TP\n1\nthe job failed (one line on standard error names the file, "
      "line or byte offset at fault)\n.TP\n2\nbad command line\n"
      ".SH FILES\n.TP\n.I /etc/pcapml/pcapml.toml\nthe example daemon configuration, every key documented\n"
      ".SH SEE ALSO\n.BR tcpdump (8),\n.BR tshark (1),\n.BR pcap\\-filter (7)\n";
  return out;
}

std::string BashCompletion() {
  std::string commands, cases;
  for (const Tool& t : Tools()) {
    commands += std::string(commands.empty() ? "" : " ") + t.name;
    DescribeTool(t, [&](const CLI::App& app) {
      std::string subs, sub_cases;
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        subs += (subs.empty() ? "" : " ") + sub->get_name();
        sub_cases += "        " + sub->get_name() + ") words=\"" + OptionWords(*sub) + "\" ;;\n";
      }
      cases += "    " + std::string(t.name) + ")\n      words=\"" + OptionWords(app) + "\"\n";
      if (!subs.empty())
        cases +=
            "      sub=\"\"\n      for w in \"${COMP_WORDS[@]:2:COMP_CWORD-2}\"; do\n"
            "        case \" " +
            subs +
            " \" in *\" $w \"*) sub=$w ;; esac\n      done\n"
            "      case $sub in\n" +
            sub_cases + "        *) words=\"$words " + subs + "\" ;;\n      esac\n";
      cases += "      ;;\n";
    });
  }
  return "# bash completion for pcapml " PCAPML_VERSION
         " (generated by pcapml help --bash-completion)\n"
         "_pcapml() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} words sub w\n"
         "  COMPREPLY=()\n"
         "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
         "    COMPREPLY=($(compgen -W \"" +
         commands +
         " help --help --version\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case ${COMP_WORDS[1]} in\n"
         "    help)\n"
         "      [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"" +
         commands +
         "\" -- \"$cur\"))\n"
         "      return ;;\n" +
         cases +
         "    *) return ;;\n"
         "  esac\n"
         "  # Options (and ctl's requests) by their words; anything else is a file name (complete -o default).\n"
         "  if [[ $cur == -* ]] || [[ ${COMP_WORDS[1]} == ctl && -z $sub ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o default -F _pcapml pcapml\n";
}

}  // namespace pcapml
