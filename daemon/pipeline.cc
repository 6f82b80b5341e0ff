#include "daemon/pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "base/units.h"
#include "base/clock.h"

namespace pcapml {
namespace {

constexpr int kBatch = 256;                // packets per source per turn
constexpr int64_t kPublishNs = 100000000;  // counters to metrics every 100 ms
// On stop, what the kernel holds is read for at most this long (systemd's
// TimeoutStopSec is 90 s by default); the rest is counted as unread.
constexpr int64_t kDrainLimitNs = 2000000000;

}  // namespace

Pipeline::Pipeline(const DaemonConfig& config, Metrics* metrics, RotatingSink::CompletedFn on_complete)
    : config_(config),
      metrics_(metrics),
      sink_(config.output, config.sensor_id, std::move(on_complete)),
      delay_(config.hold, &sink_output_),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Pipeline::~Pipeline() {
  std::string err;
  Stop(&err);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Pipeline::Wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
  }  // EAGAIN: the counter is already non-zero, the thread wakes anyway
}

bool Pipeline::Open(std::string* err) {
  for (const SourceConfig& c : config_.sources) {
    auto s = MakeSource(c);
    if (!s->Open(err)) return false;
    sources_.push_back(std::move(s));
    sink_iface_.emplace_back();
  }
  return true;
}

std::vector<uint16_t> Pipeline::LinkTypes() const {
  std::vector<uint16_t> out;
  for (const auto& s : sources_)
    for (const InterfaceKey& k : s->Interfaces())
      if (std::find(out.begin(), out.end(), k.link_type) == out.end()) out.push_back(k.link_type);
  return out;
}

void Pipeline::Start(std::unique_ptr<RuleChain> rules) {
  rules_ = std::move(rules);
  rules_->Attach(&delay_);
  prepared_ = LinkTypes();
  std::string err;
  for (uint16_t lt : prepared_) runtime_.Prepare(lt, &err);  // empty: cannot fail
  thread_ = std::thread([this] { Run(); });
}

void Pipeline::ReplaceRules(std::unique_ptr<RuleChain> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  next_rules_ = std::move(rules);
  updates_.store(true);
  Wake();
}

std::string Pipeline::OnPipeline(std::function<std::string(RuleSet&)> fn) {
  auto job = std::make_shared<Job>();
  job->fn = std::move(fn);
  std::unique_lock<std::mutex> lock(mu_);
  if (finished_.load()) return "error the daemon is stopping";
  jobs_.push_back(job);
  updates_.store(true);
  Wake();
  if (!jobs_done_.wait_for(lock, std::chrono::seconds(2), [&] { return job->done; }))
    return "error pipeline busy, try again";
  return job->answer;
}

void Pipeline::TakeUpdates() {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_rules_) {
    Release();  // held packets go on under the rules that held them
    rules_ = std::move(next_rules_);
    rules_->Attach(&delay_);
    prepared_ = LinkTypes();
  }
  for (auto& job : jobs_) {
    job->answer = job->fn(runtime_);
    job->done = true;
  }
  if (!jobs_.empty()) jobs_done_.notify_all();
  jobs_.clear();
  updates_.store(false);
}

// A file source may bring a link type the rules were not prepared for.
bool Pipeline::PrepareLinkType(uint16_t link_type) {
  std::string err;
  if (!rules_->Prepare(link_type, &err) || !runtime_.Prepare(link_type, &err)) {
    fprintf(stderr, "pcapml daemon: %s; packets of link type %u stay unmatched\n", err.c_str(), link_type);
    return false;
  }
  prepared_.push_back(link_type);
  return true;
}

void Pipeline::Handle(Source& source, size_t index, const SourcePacket& p, int64_t now_ns) {
  std::vector<int64_t>& map = sink_iface_[index];
  if (p.interface >= map.size()) map.resize(p.interface + 1, -1);
  if (map[p.interface] < 0) {
    std::vector<InterfaceKey> keys = source.Interfaces();
    map[p.interface] = sink_.Interface(keys[p.interface]);
    if (std::find(prepared_.begin(), prepared_.end(), p.link_type) == prepared_.end()) PrepareLinkType(p.link_type);
  }
  now_ns_ = now_ns;
  if (p.ts_ns > newest_ts_) newest_ts_ = p.ts_ns, newest_wall_ = now_ns;
  if (!delay_.empty() && sink_.RotationDue(p.ts_ns)) Release();  // no hold spans two files
  rules_->Process(
      LinePacket{static_cast<uint32_t>(map[p.interface]), p.link_type, p.ts_ns, p.data, p.caplen, p.orig_len},
      &runtime_);
}

void Pipeline::SinkOutput::Write(const LinePacket& p, const std::string_view* comment) {
  if (!comment) {
    ++p_->unmatched_;
    if (!p_->config_.keep_unmatched) return;
  }
  p_->sink_.Write(p.interface, p.ts_ns, p.data, p.caplen, p.orig_len, comment ? *comment : "", p_->now_ns_);
}

void Pipeline::Release() {
  if (!delay_.empty()) delay_.Flush();
}

int Pipeline::Wait(int64_t now_ns) {
  std::vector<pollfd> fds;
  std::vector<Source*> polled;
  int64_t timeout_ns = 50000000;
  if (wake_fd_ >= 0) fds.push_back({wake_fd_, POLLIN, 0}), polled.push_back(nullptr);
  for (const auto& s : sources_) {
    if (s->fd() >= 0) fds.push_back({s->fd(), POLLIN, 0}), polled.push_back(s.get());
    if (int64_t due = s->DueNs(); due > 0) timeout_ns = std::min(timeout_ns, std::max<int64_t>(due - now_ns, 0));
  }
  if (timeout_ns < 1000000) {  // sub-millisecond waits for paced replay
    timespec ts{0, static_cast<long>(timeout_ns)};
    nanosleep(&ts, nullptr);
    return 0;
  }
  int n = poll(fds.data(), fds.size(), static_cast<int>(timeout_ns / 1000000));
  for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
    if (!polled[i]) {  // the wake-up: reset the counter
      uint64_t count;
      if (fds[i].revents & POLLIN && read(wake_fd_, &count, sizeof count) < 0) {}
    } else if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      polled[i]->OnPollError(now_ns);
    }
  }
  return n;
}

void Pipeline::Publish() {
  for (const std::string& line : sink_.TakeLogLines()) fprintf(stderr, "pcapml daemon: %s\n", line.c_str());
  PipelineCounts c;
  for (const auto& s : sources_) {
    s->UpdateStats();
    const SourceStats& st = s->stats();
    c.sources.push_back({s->name(), st.received, st.kernel_drops, st.iface_drops, st.reopened, st.unread});
    if (std::string e = s->LastError(); !e.empty() && e != source_errors_[s->name()]) {
      fprintf(stderr, "pcapml daemon: %s\n", e.c_str());
    }
    source_errors_[s->name()] = s->LastError();
  }
  const SinkStats& k = sink_.stats();
  c.written = k.packets_written;
  c.unmatched = unmatched_;
  c.bytes_written = k.bytes_written;
  c.files_completed = k.files_completed;
  c.dropped_output = k.dropped_output;
  c.bytes_kept = k.bytes_kept;
  c.files_removed = k.files_removed;
  for (size_t i = 0; rules_ && rules_->plugins() && i < rules_->plugins()->size(); ++i) {
    const PluginInstance& in = rules_->plugins()->at(i);
    PluginCountsRow row{in.name(),          in.counts().labeled, in.counts().no_opinion,
                        in.counts().errors, in.counts().held,    {}};
    std::vector<uint64_t> values = in.Stats();
    for (size_t j = 0; j < values.size(); ++j)
      row.stats.push_back({in.info().stats[j].name, in.info().stats[j].kind == plugin::StatKind::kGauge, values[j]});
    c.plugins.push_back(std::move(row));
  }
  const HoldCounts& h = delay_.counts();
  c.held = {h.labeled, h.passed, h.limit, h.flushed};
  if (metrics_) metrics_->Publish(c);
  std::lock_guard<std::mutex> lock(mu_);
  published_ = std::move(c);
  current_file_ = sink_.current_path();
}

PipelineCounts Pipeline::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

std::string Pipeline::current_file() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_file_;
}

// Until every source is done: a stop (SIGTERM) makes the sources take
// nothing new and read on only what the kernel already holds, for at most
// kDrainLimitNs; a second stop (Hurry) ends at the next batch.
void Pipeline::Run() {
  int64_t next_publish = 0, stop_ns = 0;
  for (;;) {
    if (updates_.load()) TakeUpdates();
    int64_t now = WallClockNs();
    heartbeat_ns_.store(now);
    if (stop_.load() && stop_ns == 0) {
      stop_ns = now;
      for (const auto& s : sources_) s->StopCapture(now);
    }
    if (hurry_.load() || (stop_ns && now - stop_ns >= kDrainLimitNs)) break;
    int got = 0;
    bool all_done = true;
    for (size_t i = 0; i < sources_.size(); ++i) {
      Source& s = *sources_[i];
      auto handle = [&](const SourcePacket& p) { Handle(s, i, p, now); };
      if (!s.Done()) got += s.Poll(kBatch, handle, now);
      all_done = all_done && s.Done();
    }
    if (now >= next_publish) {
      now_ns_ = now;
      // On a quiet link packet time stands still: let it run with the wall
      // clock since the newest packet, so a hold and a period still end.
      int64_t clock = now;
      if (newest_ts_ != INT64_MIN)
        clock = newest_ts_ > INT64_MAX - (now - newest_wall_) ? INT64_MAX : newest_ts_ + (now - newest_wall_);
      if (!delay_.empty()) {
        delay_.Advance(clock);
        if (sink_.TickRotates(clock) || sink_.FullDue()) Release();
      }
      sink_.Tick(now, clock);
      Publish();
      next_publish = now + kPublishNs;
    }
    if (all_done) break;
    if (got == 0) Wait(now);
  }
  // What the kernel took and no one read: none after a full drain.
  if (stop_ns)
    for (const auto& s : sources_) s->CountUnread();
  now_ns_ = WallClockNs();
  Release();  // everything held is written, in order, before the file completes
  if (!sink_.Close(&close_error_)) fprintf(stderr, "pcapml daemon: %s\n", close_error_.c_str());
  for (const auto& s : sources_)
    if (std::string r = s->Report(); !r.empty()) fprintf(stderr, "pcapml daemon: %s\n", r.c_str());
  Publish();
  std::lock_guard<std::mutex> lock(mu_);
  finished_.store(true);
  for (auto& job : jobs_) job->answer = "error the daemon is stopping", job->done = true;
  jobs_done_.notify_all();
}

void Pipeline::RequestStop(bool hurry) {
  if (hurry) hurry_.store(true);
  stop_.store(true);
  Wake();
}

bool Pipeline::Stop(std::string* err) {
  RequestStop(false);
  if (thread_.joinable()) thread_.join();
  *err = close_error_;
  return close_error_.empty();
}

}  // namespace pcapml
