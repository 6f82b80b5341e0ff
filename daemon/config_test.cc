#include "daemon/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pcapml {
namespace {

// Loads `text` as a config file; the error, or "" when it loads.
std::string Load(std::string_view text, DaemonConfig* config) {
  std::string path = testing::TempDir() + "pcapml-config-" + std::to_string(getpid()) + ".toml";
  std::ofstream(path, std::ios::binary) << text;
  std::string err;
  bool ok = LoadDaemonConfig(path, config, &err);
  std::filesystem::remove(path);
  EXPECT_EQ(ok, err.empty()) << err;
  return err.empty() ? "" : err.substr(path.size());  // from ":<line>: ..."
}

TEST(DaemonConfig, EveryLineEndAndABomReadAlike) {
  for (std::string_view text : {"[[source]]\ninterface = \"eth0\"\n[output]\nprefix = \"p\"\n",
                                "[[source]]\r\ninterface = \"eth0\"\r\n[output]\r\nprefix = \"p\"\r\n",
                                "[[source]]\rinterface = \"eth0\"\r[output]\rprefix = \"p\"\r",
                                "\xEF\xBB\xBF[[source]]\ninterface = \"eth0\"\n[output]\nprefix = \"p\""}) {
    DaemonConfig c;
    EXPECT_EQ(Load(text, &c), "");
    EXPECT_EQ(c.output.prefix, "p");
  }
  DaemonConfig c;
  EXPECT_EQ(Load("[[source]]\rinterface = \"eth0\"\r[output]\rprefx = \"p\"\r", &c),
            ":4: [output]: unknown key 'prefx'");
}

}  // namespace
}  // namespace pcapml
