// The flow_position plugin over the input as a packet stream: the packet
// decoder (plugin_host/packet_view.h) on every link type, then per-flow
// counting with idle timeouts and a bounded, evicting flow table.
#include "fuzz/plugin_harness.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::RunPlugin(data, size, {{"max_flows", "4"}, {"max_packets", "3"}, {"idle_timeout", R"("1s")"}});
  return 0;
}
