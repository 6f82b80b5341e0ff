// Prometheus metrics: prometheus-cpp's registry, served in its text format by
// daemon/http_endpoint.h. The pipeline keeps plain counters and publishes them
// here periodically, so the packet path pays nothing per packet.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace pcapml {

class HttpEndpoint;

// Absolute values as the pipeline counts them.
struct SourceCounts {
  std::string name;
  uint64_t received = 0, kernel_drops = 0, iface_drops = 0, reopened = 0;
  uint64_t unread = 0;  // left in the kernel when a stop cut the drain short
};

// One of a plugin's own statistics (PluginInfo::stats), as last read.
struct PluginStatRow {
  std::string name;
  bool gauge = false;  // else a counter
  uint64_t value = 0;
};

// What the framework counted for one plugin instance (packets in = the
// sum) and what the plugin counts itself.
struct PluginCountsRow {
  std::string name;
  uint64_t labeled = 0, no_opinion = 0, errors = 0, held = 0;
  std::vector<PluginStatRow> stats;
};

// How held packets left the delay line (classify/delay_line.h HoldCounts).
struct HeldCountsRow {
  uint64_t labeled = 0, passed = 0, limit = 0, flushed = 0;
};

struct PipelineCounts {
  std::vector<SourceCounts> sources;
  std::vector<PluginCountsRow> plugins;
  HeldCountsRow held;
  uint64_t written = 0, unmatched = 0, bytes_written = 0, files_completed = 0, dropped_output = 0;
  uint64_t bytes_kept = 0, files_removed = 0;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  // Serves /metrics on ADDRESS:PORT (e.g. "127.0.0.1:9431"); "" serves
  // nothing. key names where listen came from, for the error.
  bool Start(const std::string& listen, const std::string& key, std::string* err);
  void Publish(const PipelineCounts& n);
  void SetRulesLoaded(size_t n);
  // Counts the reload and sets pcapml_config_last_reload_successful.
  void CountReload(bool ok);
  // .partial files of an earlier run completed at start.
  void CountRecovered(uint64_t files);
  // The rotation period (0: none), for alerts on files that stop completing.
  void SetRotateSeconds(int64_t seconds);
  // The disk budget ([output] max_bytes, 0: none) and the output file system's state.
  void SetMaxBytes(uint64_t bytes);
  void SetFileSystem(uint64_t free_bytes, uint64_t size_bytes);
  // The port actually bound (for listen ports of 0).
  int port() const;

 private:
  void Add(prometheus::Counter& c, uint64_t now, uint64_t* last);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<HttpEndpoint> endpoint_;
  prometheus::Family<prometheus::Counter>* received_;
  prometheus::Family<prometheus::Counter>* dropped_;
  prometheus::Family<prometheus::Counter>* reopened_;
  prometheus::Family<prometheus::Counter>* plugin_packets_;
  prometheus::Family<prometheus::Counter>* plugin_counters_;
  prometheus::Family<prometheus::Gauge>* plugin_gauges_;
  prometheus::Family<prometheus::Counter>* held_;
  prometheus::Counter *written_, *unmatched_, *bytes_, *files_, *files_removed_, *reload_ok_, *reload_fail_,
      *recovered_;
  prometheus::Gauge *rules_, *last_reload_ok_, *last_completed_, *rotate_seconds_;
  prometheus::Gauge *bytes_kept_, *max_bytes_, *fs_free_, *fs_size_;
  std::map<std::string, uint64_t> last_;  // last published value per series
};

}  // namespace pcapml
