// The tls_sni plugin's parsers: ParseClientHello (plugins/tls_sni/
// client_hello.h) over the raw input, then the plugin over the input as a
// packet stream (reassembly of ClientHellos across segments, connection
// table with eviction).
#include "fuzz/plugin_harness.h"
#include "plugins/tls_sni/client_hello.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uint8_t scratch[tls_sni::kMaxHello];
  std::string_view name;
  if (tls_sni::ParseClientHello(data, size, scratch, &name) == tls_sni::HelloStatus::kFound) {
    auto* p = reinterpret_cast<const uint8_t*>(name.data());
    bool in_data = p >= data && p + name.size() <= data + size;
    bool in_scratch = p >= scratch && p + name.size() <= scratch + sizeof scratch;
    FUZZ_CHECK(in_data || in_scratch);
    fuzz::Touch(name);
  }
  fuzz::RunPlugin(data, size,
                  {{"names", R"({ "*.example.com" = "example", "www.test" = "test" })"},
                   {"max_connections", "4"},
                   {"max_hello_bytes", "1024"}});
  return 0;
}
