// The dns plugin's parsers: ParseDnsResponse (plugins/dns/dns_message.h)
// over the raw input, then the plugin over the input as a packet stream
// (answers learned, connections labeled, bounded tables with eviction).
#include "fuzz/plugin_harness.h"
#include "plugins/dns/dns_message.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dns::DnsAnswer answer;
  if (dns::ParseDnsResponse(data, size, &answer) == dns::DnsStatus::kAnswer) {
    FUZZ_CHECK(answer.name_size <= dns::kMaxNameLength && answer.address_count <= dns::kMaxAddresses);
    for (size_t i = 0; i < answer.address_count; ++i)
      FUZZ_CHECK(answer.addresses[i].ip_version == 4 || answer.addresses[i].ip_version == 6);
  }
  fuzz::RunPlugin(data, size,
                  {{"names", R"({ "*.example.com" = "example", "*" = "other" })"},
                   {"min_ttl", R"("1s")"},
                   {"max_addresses", "4"},
                   {"max_connections", "4"}});
  return 0;
}
