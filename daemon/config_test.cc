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

// A "\u0000" once cut a capture filter short where it became a C string.
TEST(DaemonConfig, RefusesNulNamingTheKeysLineAndValue) {
  DaemonConfig c;
  EXPECT_EQ(Load("[[source]]\ninterface = \"eth0\"\nfilter = \"udp\\u0000 and port 99\"\n", &c),
            ":3: source 1: filter contains a NUL byte 'udp\\0 and port 99'");
  DaemonConfig d;
  EXPECT_EQ(Load("[[source]]\nfile = \"a.pcap\"\n[rules]\nfiles = [\"a.csv\", \"b\\u0000.csv\"]\n", &d),
            ":4: [rules]: files contains a NUL byte 'b\\0.csv'");
}

TEST(DaemonConfig, EveryLineEndAndABomReadAlike) {
  // "\357\273\277": a UTF-8 BOM.
  for (std::string_view text : {"[[source]]\ninterface = \"eth0\"\n[output]\nprefix = \"p\"\n",
                                "[[source]]\r\ninterface = \"eth0\"\r\n[output]\r\nprefix = \"p\"\r\n",
                                "[[source]]\rinterface = \"eth0\"\r[output]\rprefix = \"p\"\r",
                                "\357\273\277[[source]]\ninterface = \"eth0\"\n[output]\nprefix = \"p\""}) {
    DaemonConfig c;
    EXPECT_EQ(Load(text, &c), "");
    EXPECT_EQ(c.output.prefix, "p");
  }
  DaemonConfig c;
  EXPECT_EQ(Load("[[source]]\rinterface = \"eth0\"\r[output]\rprefx = \"p\"\r", &c),
            ":4: [output]: unknown key 'prefx' (expected directory, prefix, rotate_bytes, rotate_seconds, "
            "rotate_packets, max_files, max_bytes, post_rotate, fsync)");
}

}  // namespace
}  // namespace pcapml
