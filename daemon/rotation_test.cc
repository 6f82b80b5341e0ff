#include "daemon/rotation.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "daemon/disk_budget.h"
#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

constexpr int64_t kS = 1000000000;
// 2026-12-01T10:00:00Z, a multiple of 10 s.
constexpr int64_t kT0 = 1796119200 * kS;

struct Dir {
  std::string path = TempPath("rotation");
  Dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
};

std::vector<int64_t> Timestamps(const std::string& path) {
  PacketReader r;
  std::string err;
  EXPECT_TRUE(r.Open(path, &err)) << err;
  std::vector<int64_t> out;
  Packet p;
  while (r.Next(&p, &err) == PacketReader::Status::kPacket) out.push_back(p.ts_ns);
  return out;
}

struct Sink {
  Dir dir;
  std::unique_ptr<RotatingSink> sink;
  uint32_t ifc = 0;
  explicit Sink(int64_t rotate_seconds) {
    OutputConfig c;
    c.directory = dir.path;
    c.prefix = "t";
    c.rotate_seconds = rotate_seconds;
    c.fsync = false;
    sink = std::make_unique<RotatingSink>(c, "", nullptr);
    ifc = sink->Interface({"eth0", 1, 65535, ""});
  }
  // A packet stamped ts, read at wall clock now.
  void Write(int64_t ts, int64_t now) {
    uint8_t frame[60] = {};
    sink->Write(ifc, ts, frame, sizeof frame, sizeof frame, "1,x", now);
  }
  std::vector<std::string> Files() {
    std::vector<std::string> out;
    for (const CompletedFile& f : ListCompletedFiles(dir.path, "t")) out.push_back(fs::path(f.path).filename());
    return out;
  }
};

// The daemon reads 25 s behind the packets (a backlog in the kernel's ring):
// each file still holds exactly the packets stamped in its period, and is
// named after the period's start.
TEST(RotationTest, TimeRotationFollowsPacketTimeNotTheWallClock) {
  Sink s(10);
  const int64_t lag = 25 * kS;
  for (int64_t ts : {kT0 + 3 * kS, kT0 + 10 * kS - 1, kT0 + 10 * kS, kT0 + 19 * kS, kT0 + 31 * kS})
    s.Write(ts, ts + lag);
  std::string err;
  ASSERT_TRUE(s.sink->Close(&err)) << err;
  EXPECT_EQ(s.Files(), (std::vector<std::string>{"t-20261201T100000Z-000001.pcapng", "t-20261201T100010Z-000002.pcapng",
                                                 "t-20261201T100030Z-000003.pcapng"}));
  EXPECT_EQ(Timestamps(s.dir.path + "/" + s.Files()[0]), (std::vector<int64_t>{kT0 + 3 * kS, kT0 + 10 * kS - 1}));
  EXPECT_EQ(Timestamps(s.dir.path + "/" + s.Files()[1]), (std::vector<int64_t>{kT0 + 10 * kS, kT0 + 19 * kS}));
  EXPECT_EQ(s.sink->stats().late_packets, 0u);
}

// On a quiet link the file completes once packet time, moved on with the
// wall clock, is kSettleNs past the period's end, not before; a packet of
// that period coming after it is written to the next period's file and
// counted as late, so files never share or overlap a period.
TEST(RotationTest, AQuietLinkCompletesTheFileAfterThePeriodHasSettled) {
  Sink s(10);
  s.Write(kT0 + 2 * kS, kT0 + 2 * kS);
  s.sink->Tick(kT0 + 10 * kS, kT0 + 10 * kS + RotatingSink::kSettleNs - 1);
  EXPECT_FALSE(s.sink->current_path().empty());
  EXPECT_TRUE(s.Files().empty());
  EXPECT_FALSE(s.sink->TickRotates(kT0 + 10 * kS + RotatingSink::kSettleNs - 1));
  EXPECT_TRUE(s.sink->TickRotates(kT0 + 10 * kS + RotatingSink::kSettleNs));
  s.sink->Tick(kT0 + 11 * kS, kT0 + 10 * kS + RotatingSink::kSettleNs);
  EXPECT_TRUE(s.sink->current_path().empty());
  EXPECT_EQ(s.Files(), (std::vector<std::string>{"t-20261201T100000Z-000001.pcapng"}));
  EXPECT_EQ(s.sink->stats().files_completed, 1u);

  s.Write(kT0 + 9 * kS, kT0 + 12 * kS);  // late
  s.Write(kT0 + 12 * kS, kT0 + 12 * kS);
  std::string err;
  ASSERT_TRUE(s.sink->Close(&err)) << err;
  EXPECT_EQ(s.Files(),
            (std::vector<std::string>{"t-20261201T100000Z-000001.pcapng", "t-20261201T100010Z-000002.pcapng"}));
  EXPECT_EQ(s.sink->stats().late_packets, 1u);
  std::vector<std::string> log = s.sink->TakeLogLines();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("t-20261201T100010Z-000002.pcapng has 1 packet(s) stamped before its period began"),
            std::string::npos)
      << log[0];
}

// A replayed capture's files are named after its recorded periods, before
// the newer files already there: the budget never removes the file it just
// completed.
TEST(RotationTest, TheBudgetKeepsTheFileJustCompletedWhateverItsName) {
  Dir dir;
  std::string newer = dir.path + "/t-20300101T000000Z-000001.pcapng";
  WriteCapture(newer, SamplePackets(3));
  OutputConfig c;
  c.directory = dir.path;
  c.prefix = "t";
  c.rotate_seconds = 10;
  c.max_files = 1;
  c.fsync = false;
  RotatingSink sink(c, "", nullptr);
  uint32_t ifc = sink.Interface({"eth0", 1, 65535, ""});
  uint8_t frame[60] = {};
  sink.Write(ifc, kT0, frame, sizeof frame, sizeof frame, "", kT0 + 1000 * kS);
  std::string err;
  ASSERT_TRUE(sink.Close(&err)) << err;
  EXPECT_TRUE(fs::exists(dir.path + "/t-20261201T100000Z-000001.pcapng"));
  EXPECT_EQ(Timestamps(dir.path + "/t-20261201T100000Z-000001.pcapng"), std::vector<int64_t>{kT0});
}

// Without rotation by time, names carry the wall clock of the file's start.
TEST(RotationTest, OtherRotationsNameFilesAfterTheWallClock) {
  Sink s(0);
  s.Write(kT0, kT0 + 42 * kS);
  std::string err;
  ASSERT_TRUE(s.sink->Close(&err)) << err;
  EXPECT_EQ(s.Files(), (std::vector<std::string>{"t-20261201T100042Z-000001.pcapng"}));
}

}  // namespace
}  // namespace pcapml
