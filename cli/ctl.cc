// pcapml ctl: the control socket's client (the protocol is in daemon/control.h).
#include <cstdio>
#include <utility>  // before asio: Boost 1.74 needs std::exchange under C++20

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include "cli/commands.h"

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace pcapml {

int RunCtl(const Args& args) {
  CLI::App app("Talks to a running pcapml daemon through its control socket: add run-time rules "
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
  auto* list = app.add_subcommand("list", "list active run-time rules");
  auto* status = app.add_subcommand("status", "show the daemon's counters and current file");
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
      if (line == "ok") return kExitOk;
      if (line.rfind("error ", 0) == 0) return Fail("ctl: " + line.substr(6));
      printf("%s\n", line.c_str());
    }
  } catch (const std::exception& e) {
    return Fail("ctl: " + socket_path + ": " + e.what());
  }
}

}  // namespace pcapml
