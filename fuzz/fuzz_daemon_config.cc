// The daemon config loader (daemon/config.h) over any file: a validated
// config or one error naming the file and line.
#include "daemon/config.h"
#include "fuzz/fuzz_util.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::MemoryFile file(data, size);
  DaemonConfig config;
  std::string err;
  if (!LoadDaemonConfig(file.path(), &config, &err)) {
    FUZZ_CHECK(err.starts_with(file.path() + ":"));
    return 0;
  }
  // What the loader promises about a config it accepts.
  FUZZ_CHECK(!config.sources.empty());
  for (const SourceConfig& s : config.sources) {
    FUZZ_CHECK(s.interface.empty() != s.file.empty());
    FUZZ_CHECK(s.snaplen >= 1 && s.snaplen <= 262144 && s.speed > 0);
  }
  FUZZ_CHECK(!config.output.prefix.empty() && config.output.prefix.find('/') == std::string::npos);
  return 0;
}
