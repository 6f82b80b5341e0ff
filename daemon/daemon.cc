// pcapml daemon: the event loop around the pipeline (DESIGN §5). Boost.Asio
// runs signals, timers, the control socket and post-rotate commands; the
// packet path runs on the pipeline's own thread.
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "base/units.h"
#include "daemon/control.h"
#include "daemon/pipeline.h"
#include "daemon/tools.h"
#include "rules/sample_id.h"

extern char** environ;

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace pcapml {
namespace {

void Log(const std::string& message) { fprintf(stderr, "pcapml daemon: %s\n", message.c_str()); }

// Drops root for the configured user once the capture handles are open.
// Under systemd the unit's User= and capabilities do this instead.
bool DropPrivileges(const DaemonConfig& c, std::string* err) {
  if (getuid() != 0 || c.user.empty() || getenv("INVOCATION_ID")) return true;
  struct passwd* pw = getpwnam(c.user.c_str());
  if (!pw) return *err = "user '" + c.user + "' does not exist", false;
  std::error_code ec;
  fs::path dir(c.output.directory);
  if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {}  // best effort: the directory must stay writable
  if (setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
    return *err = "cannot drop privileges to user '" + c.user + "'", false;
  return true;
}

class Daemon {
 public:
  explicit Daemon(DaemonConfig config) : config_(std::move(config)), signals_(io_), children_(io_, SIGCHLD), tick_(io_) {}

  int Run() {
    std::string err;
    auto rules = LoadRules(&err);
    if (!rules) return Fail(err);
    std::error_code ec;
    fs::create_directories(config_.output.directory, ec);
    if (!fs::is_directory(config_.output.directory))
      return Fail("output directory " + config_.output.directory + ": " + (ec ? ec.message() : "not a directory"));
    pipeline_ = std::make_unique<Pipeline>(config_, &metrics_, [this](const std::string& path) {
      asio::post(io_, [this, path] { PostRotate(path); });
    });
    if (!metrics_.Start(config_.metrics_listen, &err) || !pipeline_->Open(&err)) return Fail(err);
    if (!Prepare(rules.get(), &err)) return Fail(err);
    if (!config_.control_socket.empty()) {
      control_ = std::make_unique<ControlServer>(io_, [this](const std::vector<std::string>& f) { return Control(f); });
      if (!control_->Start(config_.control_socket, &err)) return Fail(err);
    }
    if (!DropPrivileges(config_, &err)) return Fail(err);
    file_rules_ = rules->size();
    metrics_.SetRulesLoaded(file_rules_);
    pipeline_->Start(std::move(rules));
    signals_.add(SIGHUP);
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    WaitSignal();
    WaitChild();
    Tick();
    Log("ready: " + std::to_string(config_.sources.size()) + " source(s), " + std::to_string(file_rules_) +
        " rule(s), writing to " + config_.output.directory +
        (config_.metrics_listen.empty() ? "" : ", metrics at http://" + config_.metrics_listen + "/metrics"));
    sd_notify(0, "READY=1");
    io_.run();
    io_.restart();
    io_.poll();  // post-rotate commands of the last files
    return exit_code_;
  }

 private:
  std::unique_ptr<RuleSet> LoadRules(std::string* err) {
    auto rules = std::make_unique<RuleSet>();
    if (!LoadRuleFiles(config_, rules.get(), err)) return nullptr;
    return rules;
  }

  bool Prepare(RuleSet* rules, std::string* err) {
    for (uint16_t lt : pipeline_->LinkTypes())
      if (!rules->Prepare(lt, err)) return false;
    return true;
  }

  void WaitSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        Reload();
        WaitSignal();
      } else {
        Log(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        Shutdown();
      }
    });
  }

  void WaitChild() {
    children_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Log("post_rotate command (pid " + std::to_string(pid) + ") failed");
      WaitChild();
    });
  }

  void Tick() {
    tick_.expires_after(std::chrono::milliseconds(100));
    tick_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (pipeline_->Finished()) {
        Log("all sources ended");
        Shutdown();
        return;
      }
      uint64_t usec = 0;
      if (sd_watchdog_enabled(0, &usec) > 0 &&
          WallClockNs() - pipeline_->heartbeat_ns() < static_cast<int64_t>(usec) * 1000)
        sd_notify(0, "WATCHDOG=1");
      Tick();
    });
  }

  void Reload() {
    sd_notify(0, "RELOADING=1");
    std::string err;
    auto rules = LoadRules(&err);
    if (rules && Prepare(rules.get(), &err)) {
      file_rules_ = rules->size();
      pipeline_->ReplaceRules(std::move(rules));
      metrics_.CountReload(true);
      metrics_.SetRulesLoaded(file_rules_ + ActiveRuntime());
      Log("rules reloaded: " + std::to_string(file_rules_) + " rule(s)");
    } else {
      metrics_.CountReload(false);
      Log("reload failed, keeping the " + std::to_string(file_rules_) + " rule(s) in force: " + err);
    }
    sd_notify(0, "READY=1");
  }

  void Shutdown() {
    if (stopping_) return;
    stopping_ = true;
    sd_notify(0, "STOPPING=1");
    std::string err;
    if (!pipeline_->Stop(&err)) {
      Log("could not complete the last file: " + err);
      exit_code_ = kExitFailure;
    }
    const PipelineCounts c = pipeline_->Counts();
    Log("stopped: " + std::to_string(c.written) + " packets written, " + std::to_string(c.unmatched) +
        " unmatched, " + std::to_string(c.files_completed) + " file(s) completed");
    io_.stop();
  }

  void PostRotate(const std::string& path) {
    if (config_.output.post_rotate.empty()) return;
    std::vector<std::string> words;
    for (std::string w : config_.output.post_rotate) {
      for (size_t at; (at = w.find("{path}")) != std::string::npos;) w.replace(at, 6, path);
      words.push_back(w);
    }
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
      Log("cannot run post_rotate command " + words[0]);
  }

  size_t ActiveRuntime() const {
    int64_t now = WallClockNs();
    size_t n = 0;
    for (const auto& r : runtime_) n += r->end_ns > now;
    return n;
  }

  std::vector<std::string> Control(const std::vector<std::string>& f);
  std::vector<std::string> AddRule(const std::vector<std::string>& f);
  std::vector<std::string> EndRule(const std::string& id);
  void PublishRuntime();

  DaemonConfig config_;
  asio::io_context io_;
  asio::signal_set signals_, children_;
  asio::steady_timer tick_;
  Metrics metrics_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<ControlServer> control_;
  RuntimeRuleList runtime_;
  size_t file_rules_ = 0;
  bool stopping_ = false;
  int exit_code_ = kExitOk;
};

std::vector<std::string> Daemon::Control(const std::vector<std::string>& f) {
  const std::string& cmd = f[0];
  if (cmd == "add") return AddRule(f);
  if (cmd == "end" && f.size() == 2) return EndRule(f[1]);
  if (cmd == "list") {
    std::vector<std::string> out;
    int64_t now = WallClockNs();
    for (const auto& r : runtime_)
      if (r->end_ns > now)
        out.push_back(r->id + "\t" + r->label + "\t" + (r->filter_text.empty() ? "-" : r->filter_text) + "\t" +
                      r->sample + "\tsince=" + FormatUtcNs(r->start_ns) + "\tpackets=" + std::to_string(r->packets.load()));
    out.push_back("ok");
    return out;
  }
  if (cmd == "status") {
    PipelineCounts c = pipeline_->Counts();
    std::vector<std::string> out = {
        "pid=" + std::to_string(getpid()), "file=" + pipeline_->current_file(),
        "rules=" + std::to_string(file_rules_), "runtime_rules=" + std::to_string(ActiveRuntime()),
        "written=" + std::to_string(c.written), "unmatched=" + std::to_string(c.unmatched),
        "bytes_written=" + std::to_string(c.bytes_written), "files_completed=" + std::to_string(c.files_completed),
        "dropped_output=" + std::to_string(c.dropped_output)};
    for (const SourceCounts& s : c.sources)
      out.push_back("source=" + s.name + " received=" + std::to_string(s.received) + " kernel_drops=" +
                    std::to_string(s.kernel_drops) + " interface_drops=" + std::to_string(s.iface_drops));
    out.push_back("ok");
    return out;
  }
  std::string shown = cmd.substr(0, 40);
  for (char& ch : shown)
    if (!isprint(static_cast<unsigned char>(ch))) ch = '?';
  return {"error unknown request '" + shown + "' (expected add, end, list or status)"};
}

std::vector<std::string> Daemon::AddRule(const std::vector<std::string>& f) {
  auto r = std::make_shared<RuntimeRule>();
  std::string meta;
  for (size_t i = 1; i < f.size(); ++i) {
    size_t eq = f[i].find('=');
    std::string key = f[i].substr(0, eq), value = eq == std::string::npos ? "" : f[i].substr(eq + 1);
    if (key == "id") r->id = value;
    else if (key == "label") r->label = value;
    else if (key == "filter") r->filter_text = value;
    else if (key == "sample") r->sample = value;
    else if (key == "meta") meta += "," + value;
    else return {"error unknown field '" + key.substr(0, 40) + "'"};
  }
  if (r->id.empty() || r->label.empty()) return {"error add needs id= and label="};
  if (r->label.find(',') != std::string::npos) return {"error label cannot contain ','"};
  if (r->sample != "rule") return {"error sample mode '" + r->sample + "' is not supported for run-time rules"};
  int64_t now = WallClockNs();
  for (const auto& other : runtime_)
    if (other->id == r->id && other->end_ns > now) return {"error rule '" + r->id + "' is already active"};
  if (!r->filter_text.empty()) {
    r->filter = std::make_shared<BpfFilter>(r->filter_text);
    std::string err;
    for (uint16_t lt : pipeline_->LinkTypes())
      if (!r->filter->Prepare(lt, &err)) return {"error invalid filter '" + r->filter_text + "': " + err};
  }
  r->sample_id = SampleId((config_.sensor_id.empty() ? "" : config_.sensor_id + "/") + r->id);
  r->comment = std::to_string(r->sample_id) + "," + r->label + meta;
  r->start_ns = now;
  runtime_.insert(runtime_.begin(), r);  // newest first: it is the most specific
  PublishRuntime();
  Log("run-time rule '" + r->id + "' added: label " + r->label + (r->filter_text.empty() ? "" : ", filter " + r->filter_text));
  return {"sample_id=" + std::to_string(r->sample_id), "ok"};
}

std::vector<std::string> Daemon::EndRule(const std::string& id) {
  int64_t now = WallClockNs();
  for (const auto& r : runtime_) {
    if (r->id == id && r->end_ns > now) {
      r->end_ns = now;
      PublishRuntime();
      Log("run-time rule '" + id + "' ended after " + std::to_string(r->packets.load()) + " packets");
      return {"packets=" + std::to_string(r->packets.load()), "ok"};
    }
  }
  return {"error no active rule '" + id.substr(0, 80) + "'"};
}

// Rules ended over a minute ago can no longer match a late packet: drop them.
void Daemon::PublishRuntime() {
  int64_t horizon = WallClockNs() - 60'000'000'000;
  std::erase_if(runtime_, [&](const auto& r) { return r->end_ns < horizon; });
  pipeline_->SetRuntimeRules(std::make_shared<RuntimeRuleList>(runtime_));
  metrics_.SetRulesLoaded(file_rules_ + ActiveRuntime());
}

}  // namespace

int RunDaemon(const Args& args) {
  CLI::App app("Captures from interfaces and/or replays files, labels every packet with the rules "
               "(run-time rules first, then the rules files; first match wins), and writes rotating "
               "labeled pcapng files. Metrics at /metrics, SIGHUP reloads the rules, SIGTERM/SIGINT "
               "complete the current file and exit.",
               "daemon");
  std::string config_path, check_path;
  app.add_option("-c,--config", config_path, "configuration file (TOML; see config/pcapml.toml)");
  app.add_option("--check-config", check_path, "validate a configuration file and its rules, then exit");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  if (config_path.empty() == check_path.empty()) {
    fprintf(stderr, "pcapml daemon: give --config FILE or --check-config FILE (see pcapml help daemon)\n");
    return kExitUsage;
  }
  DaemonConfig config;
  std::string err;
  if (!LoadDaemonConfig(check_path.empty() ? config_path : check_path, &config, &err)) return Fail(err);
  if (!check_path.empty()) {
    RuleSet rules;
    if (!LoadRuleFiles(config, &rules, &err) || !rules.Prepare(1, &err)) return Fail(err);
    printf("%s: ok: %zu source(s), %zu rule(s)\n", check_path.c_str(), config.sources.size(), rules.size());
    return kExitOk;
  }
  return Daemon(std::move(config)).Run();
}

}  // namespace pcapml
