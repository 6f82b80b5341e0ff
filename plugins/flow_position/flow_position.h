// flow_position: labels the packets of each flow (bidirectional 5-tuple)
// with their place in it: field pkt (1, 2, ...) and dir (fwd: the way the
// first packet went, rev: back). With max_packets = N only a flow's first
// N packets get an opinion ("the first N packets of each flow" datasets).
// It shows the per-flow state and timeout API: a flow silent for
// idle_timeout ends, and the same 5-tuple then starts a new one.
#pragma once

#include <charconv>
#include <string>

#include "plugins/common/flow_map.h"
#include "plugins/pcapml_plugin.h"

namespace pcapml::flow_position {

struct Settings {
  std::string label = "flow";
  uint64_t max_packets = 0;  // 0: every packet
  int64_t idle_timeout_ns = 60'000'000'000;
  size_t max_flows = 65536;
};

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err);

class FlowPosition : public plugin::Instance {
 public:
  explicit FlowPosition(Settings s) : s_(std::move(s)), flows_(s_.max_flows) {}
  plugin::Result Process(const plugin::Packet& p, plugin::Label* label) override;
  void Tick(int64_t now_ns) override { flows_.ExpireIdle(now_ns, s_.idle_timeout_ns); }
  size_t flows() const { return flows_.size(); }

 private:
  struct Flow {
    uint64_t packets = 0;
    int64_t last_ns = 0;
    bool first_from_low = false;
    std::string sample_key;
    void Reset() { packets = 0, sample_key.clear(); }
  };

  Settings s_;
  plugin_common::FlowMap<Flow> flows_;
  char pkt_[24];
};

}  // namespace pcapml::flow_position
