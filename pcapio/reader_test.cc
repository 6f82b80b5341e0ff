#include "pcapio/reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "base/units.h"
#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

struct ReadResult {
  bool ok = false;
  std::string err;
  std::vector<Packet> packets;  // data pointers are invalid after the read
  std::vector<int64_t> times;
  std::vector<std::string> comments;
  std::vector<uint16_t> link_types;
};

ReadResult ReadAll(const std::string& path) {
  ReadResult r;
  PacketReader reader;
  if (!reader.Open(path, &r.err)) return r;
  Packet p;
  PacketReader::Status st;
  while ((st = reader.Next(&p, &r.err)) == PacketReader::Status::kPacket) {
    r.packets.push_back(p);
    r.times.push_back(p.ts_ns);
    r.comments.emplace_back(p.comment);
    r.link_types.push_back(reader.interfaces()[p.interface].link_type);
  }
  r.ok = st == PacketReader::Status::kEnd;
  return r;
}

// Packet count from a conformance file's description: EPB + SPB + PB.
int ExpectedPackets(const fs::path& txt) {
  std::ifstream in(txt);
  std::string line;
  int n = 0;
  std::regex count(R"(^\s*(EPB|SPB|PB):\s*(\d+))");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, count)) n += std::stoi(m[2]);
  return n;
}

std::vector<std::string> TsharkTimes(const std::string& path) {
  std::string cmd = "tshark -n -r '" + path + "' -T fields -e frame.time_epoch 2>/dev/null";
  std::vector<std::string> out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    out.push_back(s);
  }
  pclose(f);
  return out;
}

std::vector<fs::path> ConformanceFiles() {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(PCAPML_TESTDATA "/pcapng-conformance"))
    if (e.path().extension() == ".pcapng") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Reader, ReadsEveryConformanceFileWithTheRightPacketCount) {
  auto files = ConformanceFiles();
  ASSERT_GE(files.size(), 48u);
  for (const auto& f : files) {
    ReadResult r = ReadAll(f);
    EXPECT_TRUE(r.ok) << f << ": " << r.err;
    fs::path txt = f;
    txt.replace_extension(".txt");
    EXPECT_EQ(static_cast<int>(r.packets.size()), ExpectedPackets(txt)) << f;
  }
}

TEST(Reader, ConformanceTimestampsMatchTshark) {
  size_t checked = 0;
  for (const auto& f : ConformanceFiles()) {
    ReadResult r = ReadAll(f);
    std::vector<std::string> want = TsharkTimes(f);
    // tshark shows no time for SPBs and for custom blocks, which it lists
    // as frames too: compare the timestamped packets.
    want.erase(std::remove(want.begin(), want.end(), ""), want.end());
    std::vector<std::string> got;
    for (size_t i = 0; i < r.packets.size(); ++i)
      if (r.packets[i].has_timestamp) got.push_back(FormatEpochNs(r.times[i]));
    EXPECT_EQ(got, want) << f;
    checked += got.size();
  }
  EXPECT_GT(checked, 100u);
}

TEST(Reader, BigAndLittleEndianCorporaAgree) {
  for (const auto& f : ConformanceFiles()) {
    std::string s = f.string();
    if (s.find("output_le") == std::string::npos) continue;
    std::string be = std::regex_replace(s, std::regex("output_le"), "output_be");
    ReadResult a = ReadAll(s), b = ReadAll(be);
    EXPECT_EQ(a.times, b.times) << f;
    EXPECT_EQ(a.comments, b.comments) << f;
    EXPECT_EQ(a.link_types, b.link_types) << f;
  }
}

TEST(Reader, GivesEveryCommentOfAPacket) {
  // An EPB with two opt_comments, made by hand after a writer's SHB and IDB.
  std::string path = TempPath("comments.pcapng");
  {
    OutputFile out;
    std::string err;
    ASSERT_TRUE(out.Open(path, &err));
    PcapngWriter w(&out);
    w.WriteSectionHeader();
    w.Interface({"x", 1, 0, ""});
    uint32_t epb[] = {6, 0, 0, 0, 1, 4, 4, 0x04030201,
                      0x00050001, 0x73726966, 0x74, 0x00030001, 0x00363531, 0, 0};
    epb[1] = sizeof epb;
    epb[std::size(epb) - 1] = sizeof epb;
    out.Append(epb, sizeof epb);
    ASSERT_TRUE(out.Commit(&err)) << err;
  }
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  Packet p;
  ASSERT_EQ(reader.Next(&p, &err), PacketReader::Status::kPacket) << err;
  EXPECT_EQ(p.comment, "first");
  auto all = p.Comments();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "first");
  EXPECT_EQ(all[1], "156");
  EXPECT_EQ(p.ts_ns, 1);  // one unit of if_tsresol=9
  fs::remove(path);
}

void WriteClassicPcap(const std::string& path, uint32_t magic, bool swap) {
  auto put32 = [&](std::vector<uint8_t>* b, uint32_t v) {
    if (swap) v = __builtin_bswap32(v);
    b->insert(b->end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 4);
  };
  std::vector<uint8_t> b;
  put32(&b, magic);
  put32(&b, swap ? 0x04000200 : 0x00040002);  // version 2.4, halves swapped as u16s
  put32(&b, 0);
  put32(&b, 0);
  put32(&b, 65535);
  put32(&b, 105);
  put32(&b, 1700000000);
  put32(&b, 123456);
  put32(&b, 3);
  put32(&b, 60);
  b.insert(b.end(), {1, 2, 3});
  WriteBytes(path, b, b.size());
}

TEST(Reader, ReadsClassicPcapInBothByteOrdersAndResolutions) {
  std::string path = TempPath("classic.pcap");
  struct Case {
    uint32_t magic;
    bool swap;
    int64_t want;
  } cases[] = {{0xa1b2c3d4, false, 1700000000'123456000},
               {0xa1b2c3d4, true, 1700000000'123456000},
               {0xa1b23c4d, false, 1700000000'000123456},
               {0xa1b23c4d, true, 1700000000'000123456}};
  for (const Case& c : cases) {
    WriteClassicPcap(path, c.magic, c.swap);
    PacketReader reader;
    std::string err;
    ASSERT_TRUE(reader.Open(path, &err)) << err;
    EXPECT_EQ(reader.format(), FileFormat::kPcap);
    Packet p;
    ASSERT_EQ(reader.Next(&p, &err), PacketReader::Status::kPacket) << err;
    EXPECT_EQ(p.ts_ns, c.want);
    EXPECT_EQ(p.caplen, 3u);
    EXPECT_EQ(p.orig_len, 60u);
    EXPECT_EQ(p.data[2], 3);
    EXPECT_EQ(reader.interfaces()[0].link_type, 105);
    EXPECT_EQ(reader.Next(&p, &err), PacketReader::Status::kEnd);
  }
  fs::remove(path);
}

// Truncating a valid file anywhere must give either the complete packets
// before the cut or an error naming an offset; never a crash or a bogus packet.
TEST(Reader, TruncatedFilesGiveCompletePacketsOrAnError) {
  std::string src = TempPath("full.pcapng"), cut = TempPath("cut.pcapng");
  auto packets = SamplePackets(6);
  WriteCapture(src, packets);
  auto bytes = ReadBytes(src);
  // Offsets at which each packet's block ends.
  std::vector<size_t> ends;
  {
    PacketReader reader;
    std::string err;
    ASSERT_TRUE(reader.Open(src, &err));
    Packet p;
    while (reader.Next(&p, &err) == PacketReader::Status::kPacket) ends.push_back(reader.position());
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    WriteBytes(cut, bytes, n);
    ReadResult r = ReadAll(cut);
    size_t complete = std::count_if(ends.begin(), ends.end(), [&](size_t e) { return e <= n; });
    if (r.ok) {
      EXPECT_EQ(r.packets.size(), complete) << "cut at " << n;
    } else if (n == 0) {
      EXPECT_NE(r.err.find("empty file"), std::string::npos) << r.err;
    } else {
      EXPECT_NE(r.err.find("offset"), std::string::npos) << r.err;
      EXPECT_LE(r.packets.size(), complete) << "cut at " << n;
      for (size_t i = 0; i < r.packets.size(); ++i) EXPECT_EQ(r.comments[i], packets[i].comment);
    }
  }
  fs::remove(src);
  fs::remove(cut);
}

TEST(Reader, DamagedBlocksNameTheirOffset) {
  std::string src = TempPath("good.pcapng"), bad = TempPath("bad.pcapng");
  WriteCapture(src, SamplePackets(3));
  auto bytes = ReadBytes(src);
  // Find the first EPB (type 6) after SHB and IDB.
  uint32_t shb_len, idb_len;
  memcpy(&shb_len, &bytes[4], 4);
  memcpy(&idb_len, &bytes[shb_len + 4], 4);
  size_t epb = shb_len + idb_len;
  auto corrupt = [&](size_t at, uint32_t value) {
    auto copy = bytes;
    memcpy(&copy[at], &value, 4);
    WriteBytes(bad, copy, copy.size());
    return ReadAll(bad);
  };
  std::string where = "offset " + std::to_string(epb);
  ReadResult r = corrupt(epb + 4, 13);  // length not a multiple of 4
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  r = corrupt(epb + 4, 0x7ffffff0);  // length beyond the file
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  uint32_t epb_len;
  memcpy(&epb_len, &bytes[epb + 4], 4);
  r = corrupt(epb + epb_len - 4, epb_len + 4);  // trailer mismatch
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find("trailer"), std::string::npos) << r.err;
  r = corrupt(epb + 20, 1u << 30);  // captured length beyond the block
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  r = corrupt(epb + 8, 7);  // unknown interface
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find("interface 7"), std::string::npos) << r.err;
  fs::remove(src);
  fs::remove(bad);
}

// The in-memory path (fuzz targets) reads like the file, cut or whole.
TEST(Reader, OpenMemoryReadsLikeTheFile) {
  std::string src = TempPath("memory.pcapng");
  WriteCapture(src, SamplePackets(4));
  auto bytes = ReadBytes(src);
  for (size_t n : {bytes.size(), bytes.size() - 3, size_t{0}}) {
    WriteBytes(src, bytes, n);
    ReadResult want = ReadAll(src);
    PacketReader reader;
    std::string err;
    std::vector<std::string> comments;
    if (reader.OpenMemory(src, bytes.data(), n, &err)) {
      Packet p;
      while (reader.Next(&p, &err) == PacketReader::Status::kPacket) comments.emplace_back(p.comment);
    }
    EXPECT_EQ(comments, want.comments) << "first " << n << " bytes";
    EXPECT_EQ(err, want.err) << "first " << n << " bytes";
  }
  fs::remove(src);
}

TEST(Reader, RejectsGarbageAndEmptyFiles) {
  std::string path = TempPath("garbage");
  std::vector<uint8_t> junk(100, 'x');
  WriteBytes(path, junk, junk.size());
  ReadResult r = ReadAll(path);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find("not a pcap or pcapng file"), std::string::npos) << r.err;
  WriteBytes(path, junk, 0);
  r = ReadAll(path);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  r = ReadAll("/nonexistent/file.pcap");
  EXPECT_NE(r.err.find("/nonexistent/file.pcap"), std::string::npos);
  fs::remove(path);
}

}  // namespace
}  // namespace pcapml
