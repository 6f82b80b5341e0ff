#include "pcapio/pcapng_writer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

TEST(PcapngWriter, RoundTripsPacketsCommentsAndInterfaces) {
  std::string path = TempPath("roundtrip.pcapng");
  auto packets = SamplePackets(50);
  WriteCapture(path, packets);
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  EXPECT_EQ(reader.user_application().substr(0, 7), "pcapml ");
  Packet p;
  size_t i = 0;
  while (reader.Next(&p, &err) == PacketReader::Status::kPacket) {
    ASSERT_LT(i, packets.size());
    const TestPacket& want = packets[i++];
    EXPECT_EQ(p.ts_ns, want.ts_ns);
    EXPECT_EQ(std::string(p.comment), want.comment);
    EXPECT_EQ(std::vector<uint8_t>(p.data, p.data + p.caplen), want.data);
    const Interface& ifc = reader.interfaces()[p.interface];
    EXPECT_EQ(ifc.link_type, want.link_type);
    EXPECT_EQ(ifc.units_per_second, 1000000000u);
    EXPECT_EQ(ifc.name, "test");
  }
  EXPECT_TRUE(err.empty()) << err;
  EXPECT_EQ(i, packets.size());
  EXPECT_EQ(reader.interfaces().size(), 2u);  // one IDB per link type
  fs::remove(path);
}

TEST(PcapngWriter, StreamsPacketsLargerThanItsBuffer) {
  std::string path = TempPath("big.pcapng");
  OutputFile out;
  std::string err;
  ASSERT_TRUE(out.Open(path, &err, 4096));
  PcapngWriter w(&out);
  w.WriteSectionHeader("hw", "a comment");
  std::vector<uint8_t> big(100001, 0xab);
  uint32_t ifc = w.Interface({"eth0", 1, 262144, "tcp"});
  w.WritePacket(ifc, 5, big.data(), static_cast<uint32_t>(big.size()), 200000, "7,big");
  ASSERT_TRUE(out.Commit(&err)) << err;
  PacketReader reader;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  Packet p;
  ASSERT_EQ(reader.Next(&p, &err), PacketReader::Status::kPacket) << err;
  EXPECT_EQ(p.caplen, big.size());
  EXPECT_EQ(p.orig_len, 200000u);
  EXPECT_EQ(p.comment, "7,big");
  EXPECT_EQ(p.ts_ns, 5);
  EXPECT_EQ(reader.interfaces()[0].filter, "tcp");
  EXPECT_EQ(reader.interfaces()[0].name, "eth0");
  fs::remove(path);
}

TEST(OutputFile, AppearsUnderItsNameOnlyWhenCommitted) {
  std::string path = TempPath("atomic.pcapng");
  {
    OutputFile out;
    std::string err;
    ASSERT_TRUE(out.Open(path, &err));
    out.Append("abc", 3);
    ASSERT_TRUE(out.Flush(&err));
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(out.temp_path()));
  }  // abandoned: the temporary file goes too
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
  OutputFile out;
  std::string err;
  ASSERT_TRUE(out.Open(path, &err));
  out.Append("abc", 3);
  ASSERT_TRUE(out.Commit(&err));
  EXPECT_EQ(fs::file_size(path), 3u);
  fs::remove(path);
}

TEST(OutputFile, ReportsAnUnwritablePath) {
  OutputFile out;
  std::string err;
  EXPECT_FALSE(out.Open("/nonexistent-dir/x.pcapng", &err));
  EXPECT_NE(err.find("/nonexistent-dir/x.pcapng"), std::string::npos);
}

}  // namespace
}  // namespace pcapml
