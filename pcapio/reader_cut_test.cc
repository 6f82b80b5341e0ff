// A capture cut short (its writer killed mid-record) reads up to its last
// whole packet and says so (kTruncated); damage before the end stays an
// error.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "pcapio/reader.h"
#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

struct Cut {
  PacketReader::Status status;
  size_t packets = 0;
  std::string err;
};

// The first n bytes, read from memory (as a file of n bytes would be; fast enough to try every n).
Cut ReadCut(const std::vector<uint8_t>& bytes, size_t n) {
  Cut c;
  PacketReader reader;
  if (!reader.OpenMemory("cut", bytes.data(), n, &c.err)) return c.status = PacketReader::Status::kError, c;
  Packet p;
  while ((c.status = reader.Next(&p, &c.err)) == PacketReader::Status::kPacket) ++c.packets;
  return c;
}

// A classic pcap of `sizes` packets (microsecond, little-endian).
std::vector<uint8_t> ClassicPcap(const std::vector<uint32_t>& sizes) {
  std::vector<uint8_t> out(24);
  uint32_t head[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  memcpy(out.data(), head, 24);
  for (uint32_t n : sizes) {
    uint32_t rec[4] = {1700000000, 0, n, n};
    out.insert(out.end(), reinterpret_cast<uint8_t*>(rec), reinterpret_cast<uint8_t*>(rec) + 16);
    out.insert(out.end(), n, 0x45);
  }
  return out;
}

// Cut at every byte after the file header: the packets whose records are whole,
// kEnd at a record boundary, kTruncated (naming the record's offset) inside one.
void CheckEveryCut(const std::vector<uint8_t>& bytes, size_t header, const std::set<size_t>& boundaries,
                   const std::set<size_t>& packet_ends) {
  size_t cuts = 0;
  for (size_t n = header; n < bytes.size(); ++n) {
    Cut c = ReadCut(bytes, n);
    size_t complete = 0;
    for (size_t e : packet_ends) complete += e <= n;
    EXPECT_EQ(c.packets, complete) << "cut at " << n;
    if (boundaries.count(n)) {
      EXPECT_EQ(c.status, PacketReader::Status::kEnd) << "cut at " << n << ": " << c.err;
    } else {
      ++cuts;
      ASSERT_EQ(c.status, PacketReader::Status::kTruncated) << "cut at " << n << ": " << c.err;
      size_t start = *std::prev(boundaries.upper_bound(n));
      EXPECT_NE(c.err.find("cut short: the input ends inside the record at byte offset " + std::to_string(start)),
                std::string::npos)
          << c.err;
    }
  }
  EXPECT_EQ(cuts, bytes.size() - header - boundaries.size());
}

TEST(ReaderCut, PcapngCutAnywhereKeepsEveryCompletePacket) {
  std::string src = TempPath("full.pcapng");
  WriteCapture(src, SamplePackets(6));  // SHB, then IDBs and EPBs
  std::vector<uint8_t> bytes = ReadBytes(src);
  std::set<size_t> boundaries, packet_ends;
  uint32_t shb;
  memcpy(&shb, &bytes[4], 4);
  for (size_t at = shb; at < bytes.size();) {
    uint32_t type, len;
    memcpy(&type, &bytes[at], 4);
    memcpy(&len, &bytes[at + 4], 4);
    boundaries.insert(at);
    at += len;
    if (type == 6) packet_ends.insert(at);
  }
  CheckEveryCut(bytes, shb, boundaries, packet_ends);
  fs::remove(src);
}

TEST(ReaderCut, PcapCutAnywhereKeepsEveryCompletePacket) {
  std::vector<uint32_t> sizes = {60, 1, 0, 1514, 77};
  std::vector<uint8_t> bytes = ClassicPcap(sizes);
  std::set<size_t> boundaries, packet_ends;
  size_t at = 24;
  for (uint32_t n : sizes) {
    boundaries.insert(at);
    at += 16 + n;
    packet_ends.insert(at);
  }
  CheckEveryCut(bytes, 24, boundaries, packet_ends);
}

// A length that cannot be, or a trailer that disagrees, is damage wherever
// it is: an error, not a cut.
TEST(ReaderCut, DamageBeforeTheEndIsAnError) {
  std::string src = TempPath("good.pcapng");
  WriteCapture(src, SamplePackets(4));
  std::vector<uint8_t> bytes = ReadBytes(src);
  uint32_t shb, idb;
  memcpy(&shb, &bytes[4], 4);
  memcpy(&idb, &bytes[shb + 4], 4);
  size_t epb = shb + idb;
  std::vector<uint8_t> broken = bytes;
  broken[epb + 4] = 5;  // block length 5
  broken[epb + 5] = broken[epb + 6] = broken[epb + 7] = 0;
  Cut c = ReadCut(broken, broken.size());
  EXPECT_EQ(c.status, PacketReader::Status::kError) << c.err;
  EXPECT_NE(c.err.find("byte offset " + std::to_string(epb)), std::string::npos) << c.err;
  broken = bytes;
  uint32_t len;
  memcpy(&len, &bytes[epb + 4], 4);
  broken[epb + len - 4] ^= 0x10;  // trailer
  c = ReadCut(broken, broken.size());
  EXPECT_EQ(c.status, PacketReader::Status::kError) << c.err;
  EXPECT_EQ(c.packets, 0u);
  fs::remove(src);
}

}  // namespace
}  // namespace pcapml
