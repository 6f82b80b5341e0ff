#include "pcapio/packet_merger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

struct Read {
  int64_t ts_ns;
  bool has_timestamp;
  std::vector<std::string> comments;
  std::string data;
  Interface ifc;
};

std::vector<Read> ReadAll(const std::string& path, std::string* section_comment = nullptr) {
  std::vector<Read> out;
  PacketReader reader;
  std::string err;
  EXPECT_TRUE(reader.Open(path, &err)) << err;
  if (section_comment) *section_comment = reader.section_comment();
  Packet p;
  PacketReader::Status st;
  while ((st = reader.Next(&p, &err)) == PacketReader::Status::kPacket) {
    Read r{p.ts_ns,
           p.has_timestamp,
           {},
           std::string(reinterpret_cast<const char*>(p.data), p.caplen),
           reader.interfaces()[p.interface]};
    for (std::string_view c : p.Comments()) r.comments.emplace_back(c);
    out.push_back(std::move(r));
  }
  EXPECT_EQ(st, PacketReader::Status::kEnd) << err;
  return out;
}

bool Merge(const std::vector<std::string>& inputs, const std::string& out_path, MergeStats* stats, std::string* err,
           size_t buffer = 1u << 20, bool strict = false) {
  OutputFile out;
  if (!out.Open(out_path, err)) return false;
  MergeOptions o;
  o.read_buffer = buffer;
  o.strict = strict;
  return MergeFiles(inputs, &out, o, stats, err) && out.Commit(err);
}

// A capture with one interface and a section comment, packets at the given times.
void WriteFile(const std::string& path, const std::string& section_comment, const std::string& ifname,
               const std::vector<int64_t>& times, const std::string& tag) {
  OutputFile out;
  std::string err;
  ASSERT_TRUE(out.Open(path, &err)) << err;
  PcapngWriter w(&out);
  w.WriteSectionHeader({}, section_comment);
  uint32_t ifc = w.Interface({ifname, 1, 65535, ""});
  for (size_t i = 0; i < times.size(); ++i) {
    std::string data = tag + std::to_string(i);
    data.resize(20, '.');
    w.WritePacket(ifc, times[i], reinterpret_cast<const uint8_t*>(data.data()), 20, 60,
                  std::to_string(100 + i) + "," + tag);
  }
  ASSERT_TRUE(out.Commit(&err)) << err;
}

TEST(PacketMerger, InterleavesByTimeAndKeepsInputOrderOnTies) {
  std::string a = TempPath("ma.pcapng"), b = TempPath("mb.pcapng"), c = TempPath("mc.pcapng");
  std::string out = TempPath("merged.pcapng");
  WriteFile(a, "", "eth0", {10, 20, 30, 30}, "a");
  WriteFile(b, "", "eth0", {5, 20, 40}, "b");
  WriteFile(c, "", "eth1", {20, 25}, "c");
  MergeStats stats;
  std::string err;
  // A small read buffer: packets stay valid while the other inputs are read.
  ASSERT_TRUE(Merge({a, b, c}, out, &stats, &err, 64)) << err;
  std::vector<Read> got = ReadAll(out);
  std::vector<std::pair<int64_t, std::string>> order;
  for (const Read& r : got) order.emplace_back(r.ts_ns, r.comments.at(0));
  std::vector<std::pair<int64_t, std::string>> want = {{5, "100,b"},  {10, "100,a"}, {20, "101,a"},
                                                       {20, "101,b"}, {20, "100,c"}, {25, "101,c"},
                                                       {30, "102,a"}, {30, "103,a"}, {40, "102,b"}};
  EXPECT_EQ(order, want);
  EXPECT_EQ(stats.packets, 9u);
  EXPECT_EQ(stats.interfaces, 2u);  // eth0 of a and b is one interface
  EXPECT_EQ(got[4].ifc.name, "eth1");
  EXPECT_EQ(got[4].data.substr(0, 2), "c0");
  EXPECT_EQ(stats.out_of_order, (std::vector<uint64_t>{0, 0, 0}));
  for (const auto& f : {a, b, c, out}) fs::remove(f);
}

TEST(PacketMerger, KeepsSensorsApartAndTheirCommonSectionComment) {
  std::string a = TempPath("sa.pcapng"), b = TempPath("sb.pcapng"), out = TempPath("sensors.pcapng");
  WriteFile(a, "sensor east", "eth0", {1, 3}, "a");
  WriteFile(b, "sensor west", "eth0", {2}, "b");
  MergeStats stats;
  std::string err, section;
  ASSERT_TRUE(Merge({a, b}, out, &stats, &err)) << err;
  std::vector<Read> got = ReadAll(out, &section);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(section, "");  // two sensors: none is the file's
  EXPECT_EQ(got[0].ifc.description, "sensor east");
  EXPECT_EQ(got[1].ifc.description, "sensor west");
  EXPECT_EQ(got[2].ifc.description, "sensor east");
  EXPECT_EQ(stats.interfaces, 2u);
  // Merged again with another file of one sensor: descriptions are kept as they are.
  std::string again = TempPath("again.pcapng");
  ASSERT_TRUE(Merge({out, a}, again, &stats, &err)) << err;
  got = ReadAll(again, &section);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[2].ifc.description, "sensor west");
  EXPECT_EQ(stats.interfaces, 2u);
  // One sensor only: its comment stays the section's.
  ASSERT_TRUE(Merge({a, a}, again, &stats, &err)) << err;
  ReadAll(again, &section);
  EXPECT_EQ(section, "sensor east");
  for (const auto& f : {a, b, out, again}) fs::remove(f);
}

TEST(PacketMerger, CountsPacketsOutOfOrderInTheirInputAndKeepsThatOrder) {
  std::string a = TempPath("oa.pcapng"), b = TempPath("ob.pcapng"), out = TempPath("ooo.pcapng");
  WriteFile(a, "", "eth0", {10, 30, 20}, "a");
  WriteFile(b, "", "eth0", {25}, "b");
  MergeStats stats;
  std::string err;
  ASSERT_TRUE(Merge({a, b}, out, &stats, &err)) << err;
  std::vector<int64_t> times;
  for (const Read& r : ReadAll(out)) times.push_back(r.ts_ns);
  EXPECT_EQ(times, (std::vector<int64_t>{10, 25, 30, 20}));
  EXPECT_EQ(stats.out_of_order, (std::vector<uint64_t>{1, 0}));
  for (const auto& f : {a, b, out}) fs::remove(f);
}

// Every file of the pcapng conformance corpus, both byte orders, merged
// alone: the same packets, times, comments and interfaces come back
// (several sections, if_tsresol and if_tsoffset, SPBs, swapped options).
TEST(PacketMerger, EveryConformanceFileComesBackWhole) {
  std::string out = TempPath("conformance.pcapng");
  size_t files = 0, packets = 0;
  for (const auto& e : fs::recursive_directory_iterator(PCAPML_TESTDATA "/pcapng-conformance")) {
    if (e.path().extension() != ".pcapng") continue;
    MergeStats stats;
    std::string err;
    PacketReader probe;
    if (!probe.Open(e.path(), &err)) continue;  // files the reader refuses are its tests' business
    Packet p;
    PacketReader::Status st;
    while ((st = probe.Next(&p, &err)) == PacketReader::Status::kPacket) {}
    if (st != PacketReader::Status::kEnd) continue;
    ASSERT_TRUE(Merge({e.path()}, out, &stats, &err)) << e.path() << ": " << err;
    std::vector<Read> want = ReadAll(e.path()), got = ReadAll(out);
    ASSERT_EQ(got.size(), want.size()) << e.path();
    int64_t last = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (want[i].has_timestamp) last = want[i].ts_ns;
      EXPECT_EQ(got[i].ts_ns, last) << e.path() << " packet " << i;  // an SPB takes its predecessor's
      EXPECT_EQ(got[i].comments, want[i].comments) << e.path() << " packet " << i;
      EXPECT_EQ(got[i].data, want[i].data) << e.path() << " packet " << i;
      EXPECT_EQ(std::tie(got[i].ifc.link_type, got[i].ifc.snaplen, got[i].ifc.name, got[i].ifc.description),
                std::tie(want[i].ifc.link_type, want[i].ifc.snaplen, want[i].ifc.name, want[i].ifc.description))
          << e.path() << " packet " << i;
    }
    ++files;
    packets += got.size();
  }
  EXPECT_GE(files, 48u);  // both byte orders
  EXPECT_GT(packets, 100u);
  fs::remove(out);
}

TEST(PacketMerger, NamesTheInputAtFault) {
  std::string good = TempPath("good.pcapng"), bad = TempPath("bad.pcapng"), out = TempPath("fault.pcapng");
  WriteFile(good, "", "eth0", {1, 2}, "g");
  std::vector<uint8_t> bytes = ReadBytes(good);
  // Damage: the last block's trailing length disagrees.
  std::vector<uint8_t> damaged = bytes;
  damaged[damaged.size() - 4] ^= 0x40;
  WriteBytes(bad, damaged, damaged.size());
  MergeStats stats;
  std::string err;
  EXPECT_FALSE(Merge({good, bad}, out, &stats, &err));
  EXPECT_NE(err.find(bad), std::string::npos) << err;
  EXPECT_NE(err.find("offset"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  // Cut short: its complete packets are merged, and said so; with strict, an error.
  WriteBytes(bad, bytes, bytes.size() - 6);
  MergeStats cut;
  ASSERT_TRUE(Merge({good, bad}, out, &cut, &err)) << err;
  ASSERT_EQ(cut.cut_short.size(), 1u);
  EXPECT_NE(cut.cut_short[0].find(bad + ": cut short"), std::string::npos) << cut.cut_short[0];
  EXPECT_NE(cut.cut_short[0].find("read the 1 complete packets before it"), std::string::npos) << cut.cut_short[0];
  EXPECT_EQ(cut.packets, 3u);
  fs::remove(out);
  MergeStats strict;
  EXPECT_FALSE(Merge({good, bad}, out, &strict, &err, 1u << 20, /*strict=*/true));
  EXPECT_NE(err.find("cut short"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& f : {good, bad}) fs::remove(f);
}

}  // namespace
}  // namespace pcapml
