#include "rules/label_compare.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "pcapio/test_util.h"

namespace pcapml {
namespace {

// Packet i: distinct bytes and time.
TestPacket Make(int i, const std::string& label) {
  TestPacket p;
  p.ts_ns = 1700000000'000000000 + i * 1000;
  p.data.assign(60, static_cast<uint8_t>(i));
  p.data[0] = static_cast<uint8_t>(i >> 8);
  p.comment = label.empty() ? "" : "7," + label + ",run=1";
  return p;
}

const LabelComparison::LabelScore& Score(const std::vector<LabelComparison::LabelScore>& scores,
                                         const std::string& label) {
  auto it = std::find_if(scores.begin(), scores.end(), [&](const auto& s) { return s.label == label; });
  EXPECT_NE(it, scores.end()) << label;
  return *it;
}

uint64_t Cell(const LabelComparison& c, const std::string& truth, const std::string& guess) {
  auto t = c.truth_labels().Find(truth);
  auto g = c.guess_labels().Find(guess);
  return t && g ? c.Cell(*t, *g) : 0;
}

TEST(LabelCompare, IdenticalFilesScoreOne) {
  std::vector<TestPacket> packets = SamplePackets(50);
  std::string path = TempPath("cmp-same.pcapng");
  WriteCapture(path, packets);
  LabelComparison c;
  std::string err;
  ASSERT_TRUE(CompareLabelFiles(path, path, &c, &err)) << err;
  EXPECT_EQ(c.matched(), 50u);
  EXPECT_EQ(c.agreed(), 50u);
  EXPECT_EQ(c.truth_only(), 0u);
  EXPECT_EQ(c.guess_only(), 0u);
  for (const auto& s : c.Scores()) {
    ASSERT_TRUE(s.precision && s.recall) << s.label;
    EXPECT_EQ(*s.precision, 1.0) << s.label;
    EXPECT_EQ(*s.recall, 1.0) << s.label;
  }
  // SamplePackets leaves every third packet without a comment.
  EXPECT_EQ(Score(c.Scores(), std::string(kNoLabel)).truth, 16u);
}

// Truth: 4 "web", 3 "dns", 2 "ssh", 1 unlabeled; the guess mislabels one web
// packet as dns, both ssh as web, the unlabeled one as web, misses one dns
// packet (only in truth) and has one packet of its own (only in guess). The
// guess is written in reverse order: the join does not care.
TEST(LabelCompare, ConstructedConfusionExactly) {
  std::vector<std::pair<std::string, std::string>> plan = {
      {"web", "web"}, {"web", "web"}, {"web", "web"}, {"web", "dns"}, {"dns", "dns"},
      {"dns", "dns"}, {"dns", ""},    {"ssh", "web"}, {"ssh", "web"}, {"", "web"},
  };
  std::vector<TestPacket> truth, guess;
  for (size_t i = 0; i < plan.size(); ++i) {
    truth.push_back(Make(static_cast<int>(i), plan[i].first));
    if (i != 6) guess.push_back(Make(static_cast<int>(i), plan[i].second));
  }
  guess.push_back(Make(100, "web"));
  std::reverse(guess.begin(), guess.end());
  std::string tp = TempPath("cmp-truth.pcapng"), gp = TempPath("cmp-guess.pcapng");
  WriteCapture(tp, truth);
  WriteCapture(gp, guess);
  LabelComparison c;
  std::string err;
  ASSERT_TRUE(CompareLabelFiles(tp, gp, &c, &err)) << err;

  EXPECT_EQ(c.matched(), 9u);
  EXPECT_EQ(c.truth_only(), 1u);
  EXPECT_EQ(c.guess_only(), 1u);
  EXPECT_EQ(c.agreed(), 5u);
  EXPECT_EQ(Cell(c, "web", "web"), 3u);
  EXPECT_EQ(Cell(c, "web", "dns"), 1u);
  EXPECT_EQ(Cell(c, "dns", "dns"), 2u);
  EXPECT_EQ(Cell(c, "ssh", "web"), 2u);
  EXPECT_EQ(Cell(c, std::string(kNoLabel), "web"), 1u);
  EXPECT_EQ(Cell(c, "dns", "web"), 0u);
  EXPECT_EQ(c.TruthOnly(*c.truth_labels().Find("dns")), 1u);
  EXPECT_EQ(c.GuessOnly(*c.guess_labels().Find("web")), 1u);

  auto scores = c.Scores();
  ASSERT_EQ(scores.size(), 4u);  // <unlabeled>, dns, ssh, web (by name)
  const auto& web = Score(scores, "web");
  EXPECT_EQ(web.truth, 4u);
  EXPECT_EQ(web.guessed, 6u);
  EXPECT_EQ(web.correct, 3u);
  EXPECT_EQ(*web.precision, 3.0 / 6.0);
  EXPECT_EQ(*web.recall, 3.0 / 4.0);
  const auto& dns = Score(scores, "dns");
  EXPECT_EQ(*dns.precision, 2.0 / 3.0);
  EXPECT_EQ(*dns.recall, 1.0);  // the packet the guess lacks is not a miss of the guess's rules
  const auto& ssh = Score(scores, "ssh");
  EXPECT_FALSE(ssh.precision.has_value());  // the guess never says ssh
  EXPECT_EQ(*ssh.recall, 0.0);
}

TEST(LabelCompare, EqualPacketsPairInFileOrder) {
  // Three copies of one packet (same time, length, bytes) labeled a, b, c;
  // the guess has two, labeled a, b: they pair with the first two.
  LabelComparison c;
  PacketKey k{5, 0x1234, 60};
  c.AddTruth(k, "a");
  c.AddTruth(k, "b");
  c.AddTruth(k, "c");
  c.AddGuess(k, "a");
  c.AddGuess(k, "b");
  c.Finish();
  EXPECT_EQ(c.matched(), 2u);
  EXPECT_EQ(c.agreed(), 2u);
  EXPECT_EQ(c.truth_only(), 1u);
  EXPECT_EQ(c.TruthOnly(*c.truth_labels().Find("c")), 1u);
}

TEST(LabelCompare, DifferentBytesTimesOrLengthsDoNotJoin) {
  LabelComparison c;
  c.AddTruth({5, 1, 60}, "a");
  c.AddGuess({5, 2, 60}, "a");  // other bytes
  c.AddGuess({6, 1, 60}, "a");  // other time
  c.AddGuess({5, 1, 61}, "a");  // other original length
  c.Finish();
  EXPECT_EQ(c.matched(), 0u);
  EXPECT_EQ(c.truth_only(), 1u);
  EXPECT_EQ(c.guess_only(), 3u);
}

TEST(LabelCompare, KeyHashesTheCapturedBytes) {
  uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
  Packet p;
  p.ts_ns = 9;
  p.caplen = 4;
  p.orig_len = 100;
  p.data = a;
  PacketKey ka = KeyOf(p);
  p.data = b;
  EXPECT_NE(ka, KeyOf(p));
  p.data = a;
  EXPECT_EQ(ka, KeyOf(p));
  EXPECT_EQ(ka.orig_len, 100u);
}

TEST(LabelCompare, DamagedFileNamesTheOffset) {
  std::string path = TempPath("cmp-cut.pcapng");
  WriteCapture(path, SamplePackets(5));
  std::vector<uint8_t> bytes = ReadBytes(path);
  WriteBytes(path, bytes, bytes.size() - 7);
  LabelComparison c;
  std::string err;
  EXPECT_FALSE(CompareLabelFiles(path, path, &c, &err));
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("offset"), std::string::npos) << err;
}

}  // namespace
}  // namespace pcapml
