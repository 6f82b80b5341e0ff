// pcapml daemon: the event loop around the pipeline. Boost.Asio
// runs signals, timers, the control socket and post-rotate commands; the
// packet path runs on the pipeline's own thread.
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "base/units.h"
#include "base/clock.h"
#include "base/exit.h"
#include "classify/rule_files.h"
#include "daemon/control.h"
#include "daemon/control_requests.h"
#include "daemon/daemon.h"
#include "daemon/disk_budget.h"
#include "daemon/pipeline.h"
#include "daemon/preflight.h"
#include "daemon/recovery.h"

namespace asio = boost::asio;

namespace pcapml {
namespace {

// After a second SIGTERM/SIGINT, how long the packet thread has to complete
// the current file before the daemon exits without it (leaving the
// .partial for the next start to recover).
constexpr auto kHurryLimit = std::chrono::seconds(1);

// Loads the rules files of the config (legacy or TOML) into *rules; plugin
// rules use the instances of plugins (configured in the daemon config only).
bool LoadRuleFiles(const DaemonConfig& config, const PluginSet& plugins, RuleChain* rules, std::string* err) {
  RuleSet set;
  std::vector<PluginSpec> in_rules;
  if (!LoadRules(config.rule_files, config.sensor_id, &set, err) ||
      !ReadPluginTablesOfRules(config.rule_files, &in_rules, err))
    return false;
  if (!in_rules.empty())  // SIGHUP reloads rules, not plugins: they belong to the config
    return *err = in_rules[0].source + ": the daemon takes [[plugin]] tables from its config (" + config.path +
                  "), not from rules files",
           false;
  return rules->Build(std::move(set), plugins, {}, err);
}

void Log(const std::string& message) { fprintf(stderr, "pcapml daemon: %s\n", message.c_str()); }

// Plugins that attribute packets as they happen (process) need every source
// to be live: a replayed file's packets have no sockets behind them now.
bool AllLive(const DaemonConfig& c) {
  for (const SourceConfig& s : c.sources)
    if (s.interface.empty()) return false;
  return !c.sources.empty();
}

// Drops root for the configured user once the capture handles are open.
// Under systemd the unit's User= and capabilities do this instead.
bool DropPrivileges(const DaemonConfig& c, std::string* err) {
  if (!GivesOutputToUser(c)) return true;
  struct passwd* pw = getpwnam(c.user.c_str());
  if (!pw) return *err = "user '" + c.user + "' does not exist", false;
  // The user must be able to write the files it will rotate.
  if (chown(c.output.directory.c_str(), pw->pw_uid, pw->pw_gid) != 0)
    return *err = "output directory " + c.output.directory + ": cannot give it to user '" + c.user +
                  "': " + strerror(errno),
           false;
  if (setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
    return *err = "cannot drop privileges to user '" + c.user + "'", false;
  return true;
}

class Daemon {
 public:
  explicit Daemon(DaemonConfig config)
      : config_(std::move(config)), signals_(io_), children_(io_, SIGCHLD), tick_(io_), hurry_limit_(io_) {}

  int Run() {
    // Fixed thresholds: glibc's dynamic ones rise to the largest block freed
    // (MiBs of rule indexes), and memory below them is never given back.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    std::string err;
    // First of what the daemon holds: a second instance stops here, before it
    // opens captures or the metrics port. Requests wait until the loop runs.
    if (!config_.control_socket.empty()) {
      control_ =
          std::make_unique<ControlServer>(io_, [this](const auto& requests) { return requests_->Answer(requests); });
      if (!control_->Start(config_.control_socket, &err)) return Fail(err);
    }
    // Then refuse what cannot work (a missing interface, output directory, a
    // taken metrics port, a disk budget the disk cannot hold ...), each problem one line naming its key.
    std::vector<std::string> problems = CheckEnvironment(config_);
    for (const std::string& p : problems) Fail(p);
    if (!problems.empty()) return kExitFailure;
    // While the daemon still has its privileges: a plugin may load kernel
    // programs when it is created (process).
    if (!plugins_.Load(config_.plugins, &err, AllLive(config_))) return Fail(err);
    auto rules = LoadRules(&err);
    if (!rules) return Fail(err);
    // Before the sink counts what the output directory keeps.
    RecoverEarlierFiles();
    pipeline_ = std::make_unique<Pipeline>(
        config_, &metrics_, [this](const std::string& path) { asio::post(io_, [this, path] { PostRotate(path); }); });
    requests_ = std::make_unique<ControlRequests>(config_.sensor_id, pipeline_.get(), &metrics_, Log);
    if (!metrics_.Start(config_.metrics_listen, config_.metrics_listen_key, &err) || !pipeline_->Open(&err))
      return Fail(err);
    metrics_.SetRotateSeconds(config_.output.rotate_seconds);
    metrics_.SetMaxBytes(config_.output.max_bytes);
    if (!Prepare(rules.get(), &err)) return Fail(err);
    if (!DropPrivileges(config_, &err)) return Fail(err);
    file_rules_ = rules->size();
    requests_->SetFileRules(file_rules_);
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
  std::unique_ptr<RuleChain> LoadRules(std::string* err) {
    auto rules = std::make_unique<RuleChain>();
    if (!LoadRuleFiles(config_, plugins_, rules.get(), err)) return nullptr;
    return rules;
  }

  bool Prepare(RuleChain* rules, std::string* err) {
    for (uint16_t lt : pipeline_->LinkTypes())
      if (!rules->Prepare(lt, err)) return false;
    return true;
  }

  // Files an earlier run left as .partial (it was killed) are completed
  // before this run writes, and handed to post_rotate like any other.
  void RecoverEarlierFiles() {
    uint64_t recovered = 0;
    for (const RecoveredFile& r :
         RecoverPartialFiles(config_.output.directory, config_.output.prefix, config_.output.fsync)) {
      Log(DescribeRecovery(r));
      if (r.path.empty()) continue;
      ++recovered;
      asio::post(io_, [this, path = r.path] { PostRotate(path); });
    }
    metrics_.CountRecovered(recovered);
  }

  void WaitSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      std::string name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      if (sig == SIGHUP) {
        if (!stopping_) Reload();
      } else if (!stopping_) {
        Log("stopping on " + name + ": capture stopped, writing what the kernel holds");
        Shutdown();
      } else {
        Hurry(name);
      }
      WaitSignal();
    });
  }

  void WaitChild() {
    children_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
          Log("post_rotate command (pid " + std::to_string(pid) + ") failed");
      WaitChild();
    });
  }

  void Tick() {
    tick_.expires_after(std::chrono::milliseconds(stopping_ ? 10 : 100));
    tick_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (pipeline_->Finished()) {
        if (!stopping_) Log("all sources ended"), sd_notify(0, "STOPPING=1");
        Stopped();
        return;
      }
      uint64_t usec = 0;
      if (sd_watchdog_enabled(0, &usec) > 0 &&
          WallClockNs() - pipeline_->heartbeat_ns() < static_cast<int64_t>(usec) * 1000)
        sd_notify(0, "WATCHDOG=1");
      uint64_t free_bytes = 0, size_bytes = 0;
      std::string err;
      if (FileSystemSpace(config_.output.directory, &free_bytes, &size_bytes, &err))
        metrics_.SetFileSystem(free_bytes, size_bytes);
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
      requests_->SetFileRules(file_rules_);
      Log("rules reloaded: " + std::to_string(file_rules_) + " rule(s)");
    } else {
      metrics_.CountReload(false);
      Log("reload failed, keeping the " + std::to_string(file_rules_) + " rule(s) in force: " + err);
    }
    sd_notify(0, "READY=1");
  }

  // Asks the packet thread to stop; Tick() sees it finish (Stopped()).
  // The event loop goes on meanwhile, so a second signal is heard.
  void Shutdown() {
    stopping_ = true;
    sd_notify(0, "STOPPING=1");
    pipeline_->RequestStop(false);
    tick_.cancel();
    Tick();
  }

  // A second SIGTERM/SIGINT: no more draining; the current file is completed
  // with what was read. If even that takes longer than kHurryLimit (a stuck
  // disk), exit without it: the next start recovers its .partial.
  void Hurry(const std::string& name) {
    if (hurrying_) return;
    hurrying_ = true;
    Log("second " + name + ": stopping now, without reading what the kernel still holds");
    pipeline_->RequestStop(true);
    hurry_limit_.expires_after(kHurryLimit);
    hurry_limit_.async_wait([this](boost::system::error_code ec) {
      if (ec || pipeline_->Finished()) return;
      std::string file = pipeline_->current_file();
      Log("the current file was not completed within 1 s; exiting" +
          (file.empty() ? std::string() : ": " + file + ".partial is recovered at the next start"));
      _exit(kExitFailure);
    });
  }

  void Stopped() {
    std::string err;
    if (!pipeline_->Stop(&err)) {
      Log("could not complete the last file: " + err);
      exit_code_ = kExitFailure;
    }
    hurry_limit_.cancel();
    const PipelineCounts c = pipeline_->Counts();
    uint64_t received = 0, kernel = 0, unread = 0;
    for (const SourceCounts& sc : c.sources)
      received += sc.received, kernel += sc.kernel_drops + sc.iface_drops, unread += sc.unread;
    Log("stopped: " + std::to_string(c.written) + " packets written, " + std::to_string(c.unmatched) + " unmatched, " +
        std::to_string(received) + " received, " + std::to_string(kernel) + " dropped by the kernel, " +
        std::to_string(c.dropped_output) + " dropped at output, " + std::to_string(unread) + " left unread, " +
        std::to_string(c.files_completed) + " file(s) completed");
    for (const PluginCountsRow& p : c.plugins) {
      std::string line = "plugin " + p.name + ": " + std::to_string(p.labeled + p.no_opinion + p.errors + p.held) +
                         " packets in, " + std::to_string(p.labeled) + " labeled, " + std::to_string(p.no_opinion) +
                         " no opinion, " + std::to_string(p.errors) + " errors, " + std::to_string(p.held) + " held";
      for (size_t k = 0; k < p.stats.size(); ++k)
        line += (k ? ", " : "; ") + p.stats[k].name + "=" + std::to_string(p.stats[k].value);
      Log(line);
    }
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

  DaemonConfig config_;
  asio::io_context io_;
  asio::signal_set signals_, children_;
  asio::steady_timer tick_, hurry_limit_;
  Metrics metrics_;
  PluginSet plugins_;  // before pipeline_: its rules use the instances until it is gone
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<ControlRequests> requests_;  // before control_, which hands it requests
  std::unique_ptr<ControlServer> control_;
  size_t file_rules_ = 0;
  bool stopping_ = false, hurrying_ = false;
  int exit_code_ = kExitOk;
};

}  // namespace

int RunDaemon(DaemonConfig config) { return Daemon(std::move(config)).Run(); }

bool CheckDaemonConfig(const DaemonConfig& config, std::string* summary, std::vector<std::string>* problems) {
  *problems = CheckEnvironment(config);
  PluginSet plugins;
  RuleChain rules;
  std::string err;
  if (!plugins.Load(config.plugins, &err, AllLive(config)) || !LoadRuleFiles(config, plugins, &rules, &err)) {
    problems->push_back(err);
    return false;
  }
  std::vector<uint16_t> link_types = ExpectedLinkTypes(config);
  if (link_types.empty()) link_types.push_back(1);  // a file without packets: Ethernet, as the daemon would
  for (uint16_t lt : link_types)
    if (!rules.Prepare(lt, &err)) problems->push_back(err);
  *summary = std::to_string(config.sources.size()) + " source(s), " + std::to_string(rules.size()) + " rule(s)";
  return problems->empty();
}

}  // namespace pcapml
