#include "plugins/flow_position/flow_position.h"

namespace pcapml::flow_position {

using plugin::Result;

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err) {
  s->label = config.String("label");
  if (s->label.empty() || s->label.find_first_of(",\r\n") != std::string::npos)
    return *err = "label must be non-empty, without ',' or line breaks", false;
  s->max_packets = static_cast<uint64_t>(config.Integer("max_packets"));
  s->idle_timeout_ns = config.DurationNs("idle_timeout");
  s->max_flows = static_cast<size_t>(config.Integer("max_flows"));
  if (s->idle_timeout_ns <= 0) return *err = "idle_timeout must be positive", false;
  if (s->max_flows < 1 || s->max_flows > (1u << 24)) return *err = "max_flows must be 1..16777216", false;
  return true;
}

Result FlowPosition::Process(const plugin::Packet& p, plugin::Label* label) {
  if (p.ip_version == 0) return Result::kNoOpinion;
  bool src_is_low;
  plugin_common::Key key = plugin_common::ConnectionKey(p, &src_is_low);
  Flow* f = flows_.Find(key, p.ts_ns);
  if (f && plugin_common::ElapsedNs(p.ts_ns, f->last_ns) > s_.idle_timeout_ns)
    f->Reset();  // ended before Tick removed it
  if (!f) f = &flows_.Insert(key, p.ts_ns);
  if (f->packets == 0) {
    f->first_from_low = src_is_low;
    plugin_common::AppendConnectionSuffix(key, p.ts_ns, &f->sample_key);
  }
  f->last_ns = p.ts_ns;
  uint64_t n = ++f->packets;
  if (s_.max_packets && n > s_.max_packets) return Result::kNoOpinion;
  auto [end, ec] = std::to_chars(pkt_, pkt_ + sizeof pkt_, n);
  label->label = s_.label;
  label->fields[0] = {"pkt", std::string_view(pkt_, static_cast<size_t>(end - pkt_))};
  label->fields[1] = {"dir", src_is_low == f->first_from_low ? "fwd" : "rev"};
  label->field_count = 2;
  label->sample_key = f->sample_key;
  return Result::kLabel;
}

}  // namespace pcapml::flow_position
