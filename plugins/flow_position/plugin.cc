// The flow_position plugin's description and entry point.
#include "plugins/flow_position/flow_position.h"
#include "plugins/pcapml_plugin.h"

namespace pcapml::flow_position {
namespace {

using plugin::ConfigType;

const plugin::ConfigKey kConfig[] = {
    {"label", ConfigType::kString, "\"flow\"", "the label of every packet it labels"},
    {"max_packets", ConfigType::kInteger, "0", "label only the first N packets of each flow (0: all)"},
    {"idle_timeout", ConfigType::kDuration, "\"60s\"", "a flow silent this long ends; its 5-tuple starts a new flow"},
    {"max_flows", ConfigType::kInteger, "65536", "flows tracked at once (the least recently seen makes room)"},
};

std::unique_ptr<plugin::Instance> Create(const plugin::Config& config, std::string* err) {
  Settings s;
  if (!ReadSettings(config, &s, err)) return nullptr;
  return std::make_unique<FlowPosition>(std::move(s));
}

const plugin::PluginInfo kInfo = {
    plugin::kApiVersion,
    "flow_position",
    "labels each packet with its position in its flow (pkt, dir)",
    kConfig,
    sizeof kConfig / sizeof kConfig[0],
    Create,
};

}  // namespace
}  // namespace pcapml::flow_position

PCAPML_PLUGIN(pcapml::flow_position::kInfo)
