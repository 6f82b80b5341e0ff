// pcapml ctl: the control socket's client (the protocol is in daemon/control.h).
#include <cstdio>
#include <utility>  // before asio: Boost 1.74 needs std::exchange under C++20

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include "base/json.h"
#include "cli/commands.h"

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace pcapml {
namespace {

std::string JsonValue(const std::string& v) {
  bool number = !v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos;
  return number ? v : JsonString(v);
}

// "k=v k=v ..." (a value may hold spaces: a word without '=' continues the one before) as JSON members.
std::string JsonMembers(const std::string& line, char sep) {
  std::vector<std::pair<std::string, std::string>> kv;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(sep, start);
    if (end == std::string::npos) end = line.size();
    std::string word = line.substr(start, end - start);
    size_t eq = word.find('=');
    if (eq == std::string::npos && !kv.empty())
      kv.back().second += sep + word;
    else if (eq != std::string::npos)
      kv.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    start = end + 1;
  }
  std::string out;
  for (const auto& [k, v] : kv) out += (out.empty() ? "" : ", ") + JsonString(k) + ": " + JsonValue(v);
  return out;
}

// status: "key=value" lines and one "source=... received=..." line per source.
std::string StatusJson(const std::vector<std::string>& lines) {
  std::string top, sources;
  for (const std::string& l : lines) {
    if (l.rfind("source=", 0) == 0) {
      sources += (sources.empty() ? "" : ", ") + ("{" + JsonMembers(l, ' ') + "}");
    } else if (size_t eq = l.find('='); eq != std::string::npos) {
      top += (top.empty() ? "" : ", ") + JsonString(l.substr(0, eq)) + ": " + JsonValue(l.substr(eq + 1));
    }
  }
  return "{" + top + (top.empty() ? "" : ", ") + "\"sources\": [" + sources + "]}";
}

// list: "id<TAB>label[,meta]<TAB>filter or -<TAB>sample mode<TAB>since=...<TAB>packets=N" per rule.
std::string ListJson(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    std::vector<std::string> f;
    for (size_t start = 0, tab;; start = tab + 1) {
      tab = l.find('\t', start);
      f.push_back(l.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
    }
    if (f.size() < 6) continue;
    std::string label = f[1].substr(0, f[1].find(','));
    out += (out.empty() ? "\n  " : ",\n  ") +
           ("{\"id\": " + JsonString(f[0]) + ", \"label\": " + JsonString(label) +
            ", \"metadata\": " + JsonString(f[1]) + ", \"filter\": " + (f[2] == "-" ? "null" : JsonString(f[2])) +
            ", \"sample\": " + JsonString(f[3]) + ", " + JsonMembers(f[4] + "\t" + f[5], '\t') + "}");
  }
  return "[" + out + "]";
}

}  // namespace

int RunCtl(const Args& args) {
  CLI::App app(
      "Talks to a running pcapml daemon through its control socket: add run-time rules "
      "(they label packets timestamped after they are added, before the file rules), end "
      "them, list them, or show the daemon's status.",
      "ctl");
  std::string socket_path = "/run/pcapml/control.sock";
  app.add_option("-S,--socket", socket_path, "control socket of the daemon ([control] socket)");
  app.require_subcommand(1);
  std::string id, label, filter, sample = "rule";
  std::vector<std::string> meta;
  auto* add = app.add_subcommand("add", "add a run-time rule");
  add->add_option("--id", id, "rule id (the sample key)")->required();
  add->add_option("--label", label, "label written on matching packets")->required();
  add->add_option("--filter", filter, "BPF filter (default: every packet)");
  add->add_option("--sample", sample, "sample mode: rule (one sample), flow (one per 5-tuple) or window")
      ->check(CLI::IsMember({"rule", "flow", "window"}));
  add->add_option("--meta", meta, "extra key=value metadata fields");
  std::string window;
  add->add_option("--window", window, "window length for --sample window (e.g. 60s)");
  std::string end_id;
  auto* end = app.add_subcommand("end", "end a run-time rule");
  end->add_option("id", end_id, "rule id")->required();
  bool json = false;
  auto* list = app.add_subcommand("list", "list active run-time rules");
  list->add_flag("--json", json, "print a JSON array of the rules");
  auto* status = app.add_subcommand("status", "show the daemon's counters and current file");
  status->add_flag("--json", json, "print a JSON object (sources as an array)");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;

  std::string request;
  if (add->parsed()) {
    for (const std::string& v : {id, label, filter})
      if (v.find_first_of("\t\n") != std::string::npos) return Fail("ctl: values cannot contain tabs or newlines");
    request = "add\tid=" + id + "\tlabel=" + label + "\tsample=" + sample;
    if (!filter.empty()) request += "\tfilter=" + filter;
    for (const std::string& m : meta) request += "\tmeta=" + m;
    if (!window.empty()) request += "\twindow=" + window;
  } else if (end->parsed()) {
    request = "end\t" + end_id;
  } else if (list->parsed()) {
    request = "list";
  } else if (status->parsed()) {
    request = "status";
  }
  try {
    asio::io_context io;
    stream_protocol::socket s(io);
    s.connect(stream_protocol::endpoint(socket_path));
    request += "\n";
    // A daemon that refuses or closes the connection writes why first: on a
    // failed write, that line (still readable) is the answer, not EPIPE.
    boost::system::error_code write_error;
    asio::write(s, asio::buffer(request), write_error);
    asio::streambuf buf;
    std::vector<std::string> lines;
    for (;;) {
      boost::system::error_code ec;
      size_t n = asio::read_until(s, buf, '\n', ec);
      if (ec) {
        const boost::system::error_code& shown = write_error ? write_error : ec;
        return Fail(
            "ctl: " + socket_path + ": " +
            (shown == asio::error::eof ? "the daemon closed the connection before answering" : shown.message()));
      }
      std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
      buf.consume(n);
      if (line.rfind("error ", 0) == 0) return Fail("ctl: " + line.substr(6));
      if (line == "ok") break;
      if (!json) printf("%s\n", line.c_str());
      lines.push_back(line);
    }
    if (json) printf("%s\n", (status->parsed() ? StatusJson(lines) : ListJson(lines)).c_str());
    return kExitOk;
  } catch (const std::exception& e) {
    return Fail("ctl: " + socket_path + ": " + e.what());
  }
}

}  // namespace pcapml
