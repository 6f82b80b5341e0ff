#include "daemon/recovery.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

struct Boundary {
  uint64_t end, packets;
};

// Where each block of a little-endian pcapng file ends, walked directly.
std::vector<Boundary> Boundaries(const std::vector<uint8_t>& b) {
  std::vector<Boundary> out;
  uint64_t at = 0, packets = 0;
  while (at < b.size()) {
    uint32_t type, len;
    memcpy(&type, &b[at], 4);
    memcpy(&len, &b[at + 4], 4);
    packets += type == 6;
    at += len;
    out.push_back({at, packets});
  }
  return out;
}

// Every cut of a file, at every byte: what is kept ends on the last block
// boundary before the cut, and the packets counted are those before it.
TEST(RecoveryTest, WholeBlocksKeepsEveryWholeBlockOfAnyCut) {
  std::string path = TempPath("recovery-cuts.pcapng");
  WriteCapture(path, SamplePackets(20));
  std::vector<uint8_t> bytes = ReadBytes(path);
  fs::remove(path);
  std::vector<Boundary> ends = Boundaries(bytes);
  ASSERT_EQ(ends.back().end, bytes.size());
  ASSERT_EQ(ends.back().packets, 20u);
  for (uint64_t n = 0; n <= bytes.size(); ++n) {
    Boundary want{0, 0};
    for (const Boundary& e : ends)
      if (e.end <= n) want = e;
    uint64_t packets = 99;
    EXPECT_EQ(WholeBlocks(bytes.data(), n, &packets), want.end) << "cut at " << n;
    EXPECT_EQ(packets, want.packets) << "cut at " << n;
  }
}

TEST(RecoveryTest, WholeBlocksStopsAtDamageAndWantsASectionHeaderFirst) {
  std::string path = TempPath("recovery-damage.pcapng");
  WriteCapture(path, SamplePackets(5));
  std::vector<uint8_t> bytes = ReadBytes(path);
  fs::remove(path);
  std::vector<Boundary> ends = Boundaries(bytes);
  uint64_t packets;
  // A block whose trailing length disagrees (a torn write): kept up to it.
  std::vector<uint8_t> torn = bytes;
  torn[ends[3].end - 1] ^= 0xff;
  EXPECT_EQ(WholeBlocks(torn.data(), torn.size(), &packets), ends[2].end);
  // Zeros where blocks should be (a crash after the size grew, before the data landed).
  std::vector<uint8_t> zeros = bytes;
  std::fill(zeros.begin() + static_cast<long>(ends[2].end), zeros.end(), 0);
  EXPECT_EQ(WholeBlocks(zeros.data(), zeros.size(), &packets), ends[2].end);
  // No section header first: nothing is whole.
  std::vector<uint8_t> headless(bytes.begin() + static_cast<long>(ends[0].end), bytes.end());
  EXPECT_EQ(WholeBlocks(headless.data(), headless.size(), &packets), 0u);
  EXPECT_EQ(packets, 0u);
}

TEST(RecoveryTest, RecoversOnlyThePrefixsPartialFiles) {
  std::string dir = TempPath("recovery-dir");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path = dir + "/whole.pcapng";
  WriteCapture(path, SamplePackets(10));
  std::vector<uint8_t> bytes = ReadBytes(path);
  fs::remove(path);
  std::vector<Boundary> ends = Boundaries(bytes);
  uint64_t cut = ends[8].end + 5;  // 5 bytes into a packet block
  WriteBytes(dir + "/t-20250101T000000Z-000002.pcapng.partial", bytes, cut);
  WriteBytes(dir + "/t-20250101T000000Z-000001.pcapng.partial", bytes, bytes.size());
  WriteBytes(dir + "/t-20250101T000000Z-000003.pcapng.partial", bytes, 10);  // half a section header
  WriteBytes(dir + "/t-20250101T000000Z-000004.pcapng.partial", bytes, bytes.size());
  WriteBytes(dir + "/t-20250101T000000Z-000004.pcapng", bytes, bytes.size());     // taken: left alone
  WriteBytes(dir + "/other-20250101T000000Z-000001.pcapng.partial", bytes, cut);  // another prefix

  std::vector<RecoveredFile> got = RecoverPartialFiles(dir, "t", true);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].path, dir + "/t-20250101T000000Z-000001.pcapng");
  EXPECT_EQ(got[0].packets, 10u);
  EXPECT_EQ(got[0].cut_bytes, 0u);
  EXPECT_EQ(got[1].path, dir + "/t-20250101T000000Z-000002.pcapng");
  EXPECT_EQ(got[1].packets, ends[8].packets);
  EXPECT_EQ(got[1].cut_bytes, 5u);
  EXPECT_EQ(fs::file_size(got[1].path), ends[8].end);
  EXPECT_EQ(got[2].path, "");
  EXPECT_EQ(got[2].error, "");
  EXPECT_FALSE(fs::exists(got[2].partial));
  EXPECT_NE(got[3].error.find("exists already"), std::string::npos);
  EXPECT_TRUE(fs::exists(got[3].partial));
  EXPECT_TRUE(fs::exists(dir + "/other-20250101T000000Z-000001.pcapng.partial"));
  EXPECT_EQ(DescribeRecovery(got[1]), "recovered " + got[1].path +
                                          " from the .partial an earlier run left: " + std::to_string(ends[8].packets) +
                                          " packets, 5 bytes of an unfinished block cut off");

  // What was recovered reads to its end.
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(got[1].path, &err)) << err;
  Packet p;
  uint64_t n = 0;
  PacketReader::Status st;
  while ((st = reader.Next(&p, &err)) == PacketReader::Status::kPacket) ++n;
  EXPECT_EQ(st, PacketReader::Status::kEnd) << err;
  EXPECT_EQ(n, ends[8].packets);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pcapml
