#include "pcapio/reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
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
    uint32_t epb[] = {6, 0, 0, 0, 1, 4, 4, 0x04030201, 0x00050001, 0x73726966, 0x74, 0x00030001, 0x00363531, 0, 0};
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

struct Seen {
  uint64_t offset;
  uint32_t interface;
  int64_t ts_ns;
  std::string comment;
  std::vector<uint8_t> data;
  uint64_t end;
};

Seen Copy(const Packet& p) {
  return {
      p.offset,           p.interface, p.ts_ns, std::string(p.comment), std::vector<uint8_t>(p.data, p.data + p.caplen),
      p.offset + p.length};
}

void ExpectSame(const Seen& a, const Seen& b) {
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.interface, b.interface);
  EXPECT_EQ(a.ts_ns, b.ts_ns);
  EXPECT_EQ(a.comment, b.comment);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.end, b.end);
}

// The sampler's read pass: packets read again by offset, in any order, while
// Next() goes on where it was. The file is larger than the reader's buffer.
TEST(Reader, ReadAtReadsAgainWhatNextReadAndNextGoesOn) {
  std::string path = TempPath("readat.pcapng");
  WriteCapture(path, SamplePackets(12000));
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  std::vector<Seen> seen;
  Packet p;
  while (reader.Next(&p, &err) == PacketReader::Status::kPacket) {
    seen.push_back(Copy(p));
    EXPECT_EQ(seen.back().end, reader.position());
  }
  ASSERT_TRUE(err.empty()) << err;
  ASSERT_GT(reader.file_size(), 1u << 20);  // more than the reader's buffer
  PacketReader again;
  ASSERT_TRUE(again.Open(path, &err)) << err;
  std::mt19937 rnd(7);
  for (size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(again.Next(&p, &err), PacketReader::Status::kPacket) << err;
    ExpectSame(Copy(p), seen[i]);
    if (i % 97 == 0) {  // a few packets read before (some still in Next()'s buffer), one with a read-ahead hint
      for (int k = 0; k < 3; ++k) {
        const Seen& back = seen[k == 2 ? i - std::min<size_t>(i, 5) : rnd() % (i + 1)];
        ASSERT_EQ(again.ReadAt(back.offset, back.interface, k == 0 ? 0 : 4096, &p, &err), PacketReader::Status::kPacket)
            << err;
        ExpectSame(Copy(p), back);
        EXPECT_EQ(again.position(), seen[i].end);  // Next() goes on from there
      }
    }
  }
  EXPECT_EQ(again.Next(&p, &err), PacketReader::Status::kEnd);
  // After the end too, and in reverse.
  for (size_t i = seen.size(); i-- > 0;) {
    ASSERT_EQ(again.ReadAt(seen[i].offset, seen[i].interface, 0, &p, &err), PacketReader::Status::kPacket) << err;
    ExpectSame(Copy(p), seen[i]);
  }
  fs::remove(path);
}

TEST(Reader, ReadAtRefusesWhatIsNoLongerAPacket) {
  std::string path = TempPath("readat-bad.pcapng");
  WriteCapture(path, SamplePackets(3));
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  Packet p;
  ASSERT_EQ(reader.Next(&p, &err), PacketReader::Status::kPacket) << err;
  uint64_t first = p.offset;
  // The IDB before the packet, the section header, the middle of a block, the end of the file.
  for (uint64_t at : {first - 20, uint64_t{0}, first + 4, reader.file_size()}) {
    EXPECT_EQ(reader.ReadAt(at, p.interface, 0, &p, &err), PacketReader::Status::kError) << at;
    EXPECT_EQ(reader.error_offset(), at) << err;
  }
  EXPECT_EQ(reader.ReadAt(first, 99, 0, &p, &err), PacketReader::Status::kError);
  ASSERT_EQ(reader.ReadAt(first, 0, 0, &p, &err), PacketReader::Status::kPacket) << err;
  fs::remove(path);
}

TEST(Reader, ErrorOffsetNamesTheOptionRunningPastItsBlock) {
  std::string path = TempPath("option.pcapng");
  {
    OutputFile out;
    std::string err;
    ASSERT_TRUE(out.Open(path, &err));
    PcapngWriter w(&out);
    w.WriteSectionHeader();
    w.Interface({"x", 1, 0, ""});
    // An EPB of 4 data bytes whose opt_comment claims 200 bytes of the 8 left.
    uint32_t epb[] = {6, 0, 0, 0, 1, 4, 4, 0x04030201, 0x00c80001, 0x73726966, 0};
    epb[1] = epb[std::size(epb) - 1] = sizeof epb;
    out.Append(epb, sizeof epb);
    ASSERT_TRUE(out.Commit(&err)) << err;
  }
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  uint64_t epb = reader.file_size() - 44;
  Packet p;
  EXPECT_EQ(reader.Next(&p, &err), PacketReader::Status::kError);
  EXPECT_EQ(reader.error_offset(), epb + 32);
  EXPECT_NE(err.find("option 1 of 200 bytes runs past the end of its packet block at byte offset " +
                     std::to_string(epb + 32)),
            std::string::npos)
      << err;
  fs::remove(path);
}

// Two if_tsresol and two if_name: the first of each counts, as for the Python
// reader.
TEST(Reader, TheFirstOfEachInterfaceOptionCounts) {
  std::string path = TempPath("first-option.pcapng");
  std::vector<uint32_t> words = {0x0A0D0D0A, 28,         0x1A2B3C4D, 1,          0xFFFFFFFF, 0xFFFFFFFF, 28,  // SHB
                                 1,          56,         1,          0,          0x00010009, 3,          0x00010009,
                                 9,          0x00010002, 'a',        0x00010002, 'b',        0,          56,  // IDB
                                 6,          32,         0,          0,          5,          0,          0,
                                 32};  // EPB at time 5
  std::vector<uint8_t> bytes(reinterpret_cast<uint8_t*>(words.data()),
                             reinterpret_cast<uint8_t*>(words.data() + words.size()));
  WriteBytes(path, bytes, bytes.size());
  PacketReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(path, &err)) << err;
  Packet p;
  ASSERT_EQ(reader.Next(&p, &err), PacketReader::Status::kPacket) << err;
  EXPECT_EQ(reader.interfaces()[0].units_per_second, 1000u);
  EXPECT_EQ(reader.interfaces()[0].name, "a");
  EXPECT_EQ(p.ts_ns, 5000000);
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

// Hand-made pcapng and pcap files, little-endian, for damage no writer makes.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& U16(uint16_t v) { return Raw(&v, 2); }
  Bytes& U32(uint32_t v) { return Raw(&v, 4); }
  Bytes& U64(uint64_t v) { return Raw(&v, 8); }
  Bytes& Raw(const void* p, size_t n) {
    b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    return *this;
  }
  Bytes& Zeros(size_t n) { return b.resize(b.size() + n), *this; }
  Bytes& Then(const Bytes& o) { return Raw(o.b.data(), o.b.size()); }
};

// A block of `type` around `body` (padded to 4 bytes).
Bytes Block(uint32_t type, Bytes body) {
  body.Zeros(-body.b.size() % 4);
  uint32_t len = static_cast<uint32_t>(body.b.size() + 12);
  return Bytes().U32(type).U32(len).Then(body).U32(len);
}

Bytes Shb(Bytes options = {}) {
  return Block(0x0A0D0D0A, Bytes().U32(0x1A2B3C4D).U16(1).U16(0).U64(~uint64_t{0}).Then(options));  // 28 bytes bare
}
Bytes Idb(uint32_t snaplen, Bytes options = {}) {
  return Block(1, Bytes().U16(1).U16(0).U32(snaplen).Then(options));  // 20 bytes bare
}
Bytes Epb(uint64_t units, uint32_t caplen, Bytes options = {}) {
  Bytes body = Bytes().U32(0).U32(static_cast<uint32_t>(units >> 32)).U32(static_cast<uint32_t>(units));
  body.U32(caplen).U32(caplen);
  for (uint32_t i = 0; i < caplen; ++i) body.b.push_back(static_cast<uint8_t>(i));
  return Block(6, body.Zeros(-caplen % 4).Then(options));
}
Bytes Pcap(uint32_t snaplen, uint32_t secs, uint32_t frac, uint32_t caplen, bool nanos = false) {
  Bytes f = Bytes().U32(nanos ? 0xa1b23c4d : 0xa1b2c3d4).U16(2).U16(4).U32(0).U32(0).U32(snaplen).U32(1);
  return f.U32(secs).U32(frac).U32(caplen).U32(caplen).Zeros(caplen);
}

constexpr uint64_t kT0 = 1700000000'000000;  // in the IDB's default microseconds

// Whether `tool` (tshark, tcpdump) reads every packet of the file.
bool ToolReads(const std::string& tool, const std::string& path) {
  std::string cmd = tool + " -n -r '" + path + "' >/dev/null 2>&1";
  return system(cmd.c_str()) == 0;
}

// pcapml refuses the file with one error naming `offset` and holding `what`.
void ExpectRefused(const Bytes& file, uint64_t offset, const std::string& what) {
  std::string path = TempPath("damaged");
  WriteBytes(path, file.b, file.b.size());
  ReadResult r = ReadAll(path);
  EXPECT_FALSE(r.ok) << what;
  EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" at byte offset " + std::to_string(offset)), std::string::npos) << r.err;
  fs::remove(path);
}

bool Reads(const Bytes& file, std::vector<int64_t>* times = nullptr) {
  std::string path = TempPath("fine");
  WriteBytes(path, file.b, file.b.size());
  ReadResult r = ReadAll(path);
  fs::remove(path);
  if (times) *times = r.times;
  EXPECT_TRUE(r.ok) << r.err;
  return r.ok;
}

// Both refuse what pcapml once accepted and wrote: 300,000 bytes (tshark:
// "bigger than maximum of 262144"), and in pcapng more than the snap length
// (tcpdump: "bigger than snaplen of 65535").
TEST(Reader, RefusesCaptureLengthsAboveSnapLengthOrMaximum) {
  Bytes big = Shb().Then(Idb(65535)).Then(Epb(kT0, 300000));
  Bytes over = Shb().Then(Idb(65535)).Then(Epb(kT0, 70000));
  Bytes pcap_big = Pcap(65535, 1700000000, 0, 300000), pcap_over = Pcap(65535, 1700000000, 0, 70000);
  ExpectRefused(big, 48, "captured length 300000 above the maximum of 262144");
  ExpectRefused(over, 48, "captured length 70000 above its snap length of 65535");
  ExpectRefused(pcap_big, 24, "captured length 300000 above the maximum of 262144");
  ExpectRefused(pcap_over, 24, "captured length 70000 above its snap length of 65535");
  std::string path = TempPath("oracle");
  const std::pair<const Bytes*, std::string> oracles[] = {{&big, "tshark"}, {&over, "tcpdump"}, {&pcap_big, "tshark"}};
  for (const auto& [file, tool] : oracles) {
    WriteBytes(path, file->b, file->b.size());
    EXPECT_FALSE(ToolReads(tool, path)) << tool;
  }
  fs::remove(path);
  // Without a snap length, up to the maximum is fine.
  EXPECT_TRUE(Reads(Shb().Then(Idb(0)).Then(Epb(kT0, 262144))));
  EXPECT_TRUE(Reads(Pcap(0, 1700000000, 0, 70000)));
  EXPECT_TRUE(Reads(Shb().Then(Idb(65535)).Then(Epb(kT0, 65535))));
}

// An option whose length runs past its block: tshark refuses the file
// ("Not enough data to handle option of length 300"), so pcapml does too.
TEST(Reader, RefusesOptionsRunningPastTheirBlock) {
  Bytes past = Bytes().U16(2).U16(300).U32(0x30687465);  // "eth0" announced as 300 bytes
  Bytes shb = Shb(past).Then(Idb(65535)).Then(Epb(kT0, 60));
  Bytes idb = Shb().Then(Idb(65535, past)).Then(Epb(kT0, 60));
  Bytes epb = Shb().Then(Idb(65535)).Then(Epb(kT0, 60, past));
  ExpectRefused(shb, 24, "option 2 of 300 bytes runs past the end of its section header block");
  ExpectRefused(idb, 28 + 16, "option 2 of 300 bytes runs past the end of its interface description block");
  ExpectRefused(epb, 48 + 28 + 60, "option 2 of 300 bytes runs past the end of its packet block");
  std::string path = TempPath("oracle");
  for (const Bytes* file : {&shb, &idb, &epb}) {
    WriteBytes(path, file->b, file->b.size());
    EXPECT_FALSE(ToolReads("tshark", path));
  }
  fs::remove(path);
  Bytes fits = Bytes().U16(2).U16(4).U32(0x30687465);
  EXPECT_TRUE(Reads(Shb(fits).Then(Idb(65535, fits)).Then(Epb(kT0, 60, fits))));
}

// Times once wrapped: an EPB time of 2^64-1 units or an if_tsoffset of
// 2^63-1 s read as 1969-12-31 (tshark shows 18446744073709.551615 and
// -9223372035154775809), and strip then wrote 0. Now what neither pcap nor
// pcapng output can hold is refused with the packet's offset.
TEST(Reader, RefusesTimesOutsideWhatOutputCanHold) {
  auto tsoffset = [](int64_t s) { return Bytes().U16(14).U16(8).U64(static_cast<uint64_t>(s)); };
  auto tsresol9 = Bytes().U16(9).U16(1).U32(9);
  const char* outside = "is outside 1970-01-01..2106-02-07";
  ExpectRefused(Shb().Then(Idb(0)).Then(Epb(~uint64_t{0}, 60)), 48, outside);
  ExpectRefused(Shb().Then(Idb(0, tsoffset(INT64_MAX))).Then(Epb(kT0, 60)), 60, outside);
  ExpectRefused(Shb().Then(Idb(0, tsoffset(-100))).Then(Epb(0, 60)), 60, outside);  // before 1970
  uint64_t last = (uint64_t{1} << 32) * 1'000'000'000 - 1;                          // 2106-02-07T06:28:15.999999999Z
  ExpectRefused(Shb().Then(Idb(0, tsresol9)).Then(Epb(last + 1, 60)), 56, outside);
  ExpectRefused(Pcap(0, 0xFFFFFFFF, 0xFFFFFFFF, 60, true), 24, outside);  // 4.29 s of nanoseconds too many
  std::vector<int64_t> times;
  EXPECT_TRUE(Reads(Shb().Then(Idb(0, tsresol9)).Then(Epb(last, 60)), &times));
  EXPECT_EQ(times, std::vector<int64_t>{static_cast<int64_t>(last)});
  EXPECT_TRUE(Reads(Shb().Then(Idb(0, tsoffset(-100))).Then(Epb(100'000'000, 60)), &times));
  EXPECT_EQ(times, std::vector<int64_t>{0});
  EXPECT_TRUE(Reads(Pcap(0, 0xFFFFFFFF, 999999, 60), &times));
  EXPECT_EQ(times, std::vector<int64_t>{0xFFFFFFFF * 1'000'000'000LL + 999'999'000});
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
