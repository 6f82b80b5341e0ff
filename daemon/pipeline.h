// The daemon's packet path on its own thread: sources -> classifier
// (run-time rules, then file rules) -> rotating sink, with counters
// published to the metrics. The event loop talks to it only through the
// thread-safe methods below.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"
#include "daemon/metrics.h"
#include "daemon/rotation.h"
#include "daemon/source.h"
#include "classify/rule_chain.h"
#include "rules/rule.h"

namespace pcapml {

class Pipeline {
 public:
  Pipeline(const DaemonConfig& config, Metrics* metrics, RotatingSink::CompletedFn on_complete);
  ~Pipeline();

  // Opens every source (before privileges are dropped).
  bool Open(std::string* err);
  // Link types of the open sources, to prepare rules for.
  std::vector<uint16_t> LinkTypes() const;
  // Starts the thread with the first rule set.
  void Start(std::unique_ptr<RuleChain> rules);
  // Hands over a new, prepared rule set; the pipeline switches between packets.
  void ReplaceRules(std::unique_ptr<RuleChain> rules);
  // Runs fn on the packet thread between two batches and returns its
  // answer (how run-time rules are added, ended and listed). Waits at most
  // two seconds; "error pipeline busy" after that.
  std::string OnPipeline(std::function<std::string(RuleSet& runtime)> fn);
  // Asks the packet thread to stop: no new packets are taken, what the
  // kernel holds is written (at most 2 s), the file is completed; with
  // hurry, it ends at its next batch without reading the rest. Finished()
  // tells when it is done.
  void RequestStop(bool hurry);
  // Stops as RequestStop(false) does and joins the thread.
  bool Stop(std::string* err);
  // True once the thread has ended: every source ended (replayed files) or stopped.
  bool Finished() const { return finished_.load(); }
  // Last published counters, for `pcapml ctl status`.
  PipelineCounts Counts() const;
  std::string current_file() const;
  int64_t heartbeat_ns() const { return heartbeat_ns_.load(); }

 private:
  void Run();
  void Handle(Source& source, size_t source_index, const SourcePacket& p, int64_t now_ns);
  // The delay line's end: counts unmatched packets, writes to the sink.
  class SinkOutput : public PacketOutput {
   public:
    explicit SinkOutput(Pipeline* p) : p_(p) {}
    void Write(const LinePacket& p, const std::string_view* comment) override;

   private:
    Pipeline* p_;
  };
  void Release();  // ends every hold (stop, rotation, new rules)
  void TakeUpdates();
  void Publish();
  int Wait(int64_t now_ns);
  void Wake();  // ends the packet thread's wait for packets (hand-over, stop)
  bool PrepareLinkType(uint16_t link_type);

  DaemonConfig config_;
  Metrics* metrics_;
  RotatingSink sink_;
  SinkOutput sink_output_{this};
  DelayLine delay_;                                  // between the rules and the sink: plugins' held packets wait here
  int64_t now_ns_ = 0;                               // wall clock of the current turn, for the sink
  int64_t newest_ts_ = INT64_MIN, newest_wall_ = 0;  // newest packet time and when it came
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::vector<int64_t>> sink_iface_;  // per source: its interface -> sink interface
  std::vector<uint16_t> prepared_;                // link types the rules are compiled for
  std::unique_ptr<RuleChain> rules_;
  RuleSet runtime_;  // run-time rules: tried before rules_
  uint64_t unmatched_ = 0;
  std::map<std::string, std::string> source_errors_;  // last logged, to log each once

  // Hand-over from the event loop.
  mutable std::mutex mu_;
  std::unique_ptr<RuleChain> next_rules_;
  struct Job {
    std::function<std::string(RuleSet&)> fn;
    std::string answer;
    bool done = false;
  };
  std::vector<std::shared_ptr<Job>> jobs_;
  std::condition_variable jobs_done_;
  std::atomic<bool> updates_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> hurry_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int64_t> heartbeat_ns_{0};
  PipelineCounts published_;
  std::string current_file_;
  std::thread thread_;
  std::string close_error_;
  int wake_fd_;  // eventfd in the packet thread's poll set: requests are served at once, not at its timeout
};

}  // namespace pcapml
