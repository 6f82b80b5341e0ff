#include "cli/timeline.h"

#include <gtest/gtest.h>

#include <numeric>

namespace pcapml {
namespace {

constexpr int64_t kSec = 1'000'000'000, kT0 = 1'700'000'000 * kSec;

uint64_t Sum(const std::vector<uint64_t>& v) { return std::accumulate(v.begin(), v.end(), uint64_t{0}); }

TEST(Timeline, BinsPacketsAndFindsGaps) {
  Timeline t;
  for (int i = 0; i < 100; ++i) t.Add(kT0 + i * kSec / 100, 0);  // 100 packets in the first second
  for (int i = 0; i < 50; ++i) t.Add(kT0 + 5 * kSec + i, 1);     // 50 at 5 s, nothing between
  t.Add(kT0 + 9 * kSec, 0);
  Timeline::View v = t.Render(2, 10);
  EXPECT_EQ(v.bin_ns, kSec);
  EXPECT_EQ(v.start_ns, kT0);
  ASSERT_EQ(v.bins, 10u);
  EXPECT_EQ(v.counts[0], (std::vector<uint64_t>{100, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(v.counts[1], (std::vector<uint64_t>{0, 0, 0, 0, 0, 50, 0, 0, 0, 0}));
  // 15.1 packets a second on average: 4 s and 3 s without any are gaps.
  ASSERT_EQ(v.gaps.size(), 2u);
  EXPECT_EQ(v.gaps[0].start_ns, kT0 + kSec);
  EXPECT_EQ(v.gaps[0].end_ns, kT0 + 5 * kSec);
  EXPECT_EQ(v.gaps[1].start_ns, kT0 + 6 * kSec);
  EXPECT_EQ(v.gaps[1].end_ns, kT0 + 9 * kSec);
  // Finer when allowed: 100 ms bins over the same 9.1 s.
  v = t.Render(2, 100);
  EXPECT_EQ(v.bin_ns, kSec / 10);
  EXPECT_EQ(v.bins, 91u);
  EXPECT_EQ(Sum(v.counts[0]), 101u);
}

TEST(Timeline, ALullOfChanceIsNoGap) {
  Timeline t;
  for (int i = 0; i < 20; ++i) t.Add(kT0 + i * kSec, 0);  // one packet a second
  Timeline::View v = t.Render(1, 200);
  EXPECT_EQ(v.bin_ns, kSec / 10);  // 100 ms bins, 9 of 10 empty
  EXPECT_TRUE(v.gaps.empty());
}

TEST(Timeline, WidensItsBinsAndKeepsEveryPacket) {
  Timeline t;
  // A day of packets every 7 s, out of order: far more 1 ms bins than it keeps.
  uint64_t n = 0;
  for (int64_t s = 86400; s > 0; s -= 7, ++n) t.Add(kT0 + s * kSec + 123, static_cast<uint32_t>(s % 3));
  Timeline::View v = t.Render(3, 400);
  EXPECT_LE(v.bins, 400u);
  EXPECT_EQ(v.bin_ns, 300 * kSec);  // held in 1 min bins, drawn in 5 min ones: 289 over the day
  EXPECT_EQ(Sum(v.counts[0]) + Sum(v.counts[1]) + Sum(v.counts[2]), n);
  EXPECT_TRUE(v.gaps.empty());
}

TEST(Timeline, HandlesTimesBeforeTheEpochAndNothing) {
  Timeline t;
  EXPECT_EQ(t.Render(1, 10).bins, 0u);
  t.Add(-1, 0);
  t.Add(0, 0);
  Timeline::View v = t.Render(1, 10);
  EXPECT_EQ(v.start_ns, -1'000'000);  // the 1 ms bin holding -1 ns
  EXPECT_EQ(v.bins, 2u);
  EXPECT_EQ(Timeline::FloorDiv(-1, 10), -1);
  EXPECT_EQ(Timeline::FloorDiv(-10, 10), -1);
  EXPECT_EQ(Timeline::FloorDiv(9, 10), 0);
  EXPECT_EQ(Timeline::WidthName(600 * kSec), "10 min");
  EXPECT_EQ(Timeline::WidthName(kSec / 1000), "1 ms");
}

TEST(Timeline, SvgHasOneSeriesPerLabelAndEscapesText) {
  Timeline t;
  t.Add(kT0, 0);
  t.Add(kT0 + kSec, 1);
  Timeline::View v = t.Render(2, 400);
  std::vector<TimelineSeries> series = {{"a<&>\"b", 0, 1, false}, {"<unlabeled>", 1, 1, true}};
  std::vector<RuleWindowSpan> windows = {{"r1", "a<&>\"b", kT0, kT0 + kSec / 2}, {"r2", "x"}};
  std::string svg = TimelineSvg(v, series, windows, "sub");
  EXPECT_NE(svg.find("data-label=\"a&lt;&amp;&gt;&quot;b\""), std::string::npos);
  EXPECT_NE(svg.find("data-label=\"&lt;unlabeled&gt;\""), std::string::npos);
  EXPECT_EQ(svg.find("a<&"), std::string::npos);
  size_t paths = 0;
  for (size_t at = 0; (at = svg.find("class=\"series\"", at)) != std::string::npos; ++at) ++paths;
  EXPECT_EQ(paths, 2u);
  EXPECT_NE(svg.find("data-rule=\"r1\""), std::string::npos);
  EXPECT_NE(svg.find("1 rules without a time window"), std::string::npos);
  std::string json = TimelineJson(v, series, windows);
  EXPECT_NE(json.find("\"a<&>\\\"b\": [1, 0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"first_ns\": null"), std::string::npos) << json;
}

}  // namespace
}  // namespace pcapml
