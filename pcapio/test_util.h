// Helpers shared by the unit tests: temporary files and a small labeled
// capture written with PcapngWriter.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pcapio/pcapng_writer.h"
#include "pcapio/reader.h"

namespace pcapml {

struct TestPacket {
  int64_t ts_ns;
  std::vector<uint8_t> data;
  std::string comment;
  uint16_t link_type = 1;
};

inline std::string TempPath(const std::string& name) {
  return (testing::TempDir().empty() ? std::string("/tmp/") : testing::TempDir()) + "pcapml-" +
         std::to_string(getpid()) + "-" + name;
}

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(n));
}

inline std::vector<TestPacket> SamplePackets(int count) {
  std::vector<TestPacket> out;
  for (int i = 0; i < count; ++i) {
    TestPacket p;
    p.ts_ns = 1700000000'000000000 + i * 1'000'000'007LL;
    p.data.resize(14 + (i * 37) % 200);
    for (size_t j = 0; j < p.data.size(); ++j) p.data[j] = static_cast<uint8_t>(i + j);
    p.comment = i % 3 == 2 ? "" : std::to_string(1000 + i % 4) + ",label" + std::to_string(i % 4);
    p.link_type = i % 5 == 4 ? 101 : 1;
    out.push_back(p);
  }
  return out;
}

inline void WriteCapture(const std::string& path, const std::vector<TestPacket>& packets) {
  OutputFile out;
  std::string err;
  ASSERT_TRUE(out.Open(path, &err)) << err;
  PcapngWriter w(&out);
  w.WriteSectionHeader();
  for (const TestPacket& p : packets) {
    uint32_t ifc = w.Interface({"test", p.link_type, 65535, ""});
    w.WritePacket(ifc, p.ts_ns, p.data.data(), static_cast<uint32_t>(p.data.size()),
                  static_cast<uint32_t>(p.data.size()), p.comment);
  }
  ASSERT_TRUE(out.Commit(&err)) << err;
}

}  // namespace pcapml
