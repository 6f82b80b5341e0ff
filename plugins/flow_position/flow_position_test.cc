#include "plugins/flow_position/flow_position.h"

#include <gtest/gtest.h>

#include "plugins/testing/test_packets.h"

namespace pcapml::flow_position {
namespace {

using plugin::Result;
using testing_packets::Segment;

constexpr int64_t kSecond = 1'000'000'000, kT0 = 1'700'000'000 * kSecond;

struct Seen {
  Result result;
  std::string pkt, dir, key;
};

Seen Feed(FlowPosition& f, bool forward, int64_t at) {
  Segment s{"10.0.0.2", "10.0.0.1", 5000, 80, 6, 1, 0x10, {}};
  if (!forward) std::swap(s.src, s.dst), std::swap(s.sport, s.dport);
  auto t = testing_packets::Decoded(s, at);
  plugin::Label l;
  Result r = f.Process(t.view, &l);
  if (r != Result::kLabel) return {r, "", "", ""};
  EXPECT_EQ(l.label, "flow");
  return {r, std::string(l.fields[0].value), std::string(l.fields[1].value), std::string(l.sample_key)};
}

TEST(FlowPositionTest, NumbersPacketsAndDirectionsPerFlow) {
  FlowPosition f(Settings{});
  Seen a = Feed(f, true, kT0), b = Feed(f, false, kT0 + 1), c = Feed(f, true, kT0 + 2);
  EXPECT_EQ(a.pkt + a.dir, "1fwd");
  EXPECT_EQ(b.pkt + b.dir, "2rev");
  EXPECT_EQ(c.pkt + c.dir, "3fwd");
  // The first packet came from the higher endpoint: the key is still canonical.
  EXPECT_EQ(a.key, "6 10.0.0.1 80 10.0.0.2 5000|" + std::to_string(kT0));
  EXPECT_EQ(c.key, a.key);
}

TEST(FlowPositionTest, OnlyTheFirstPacketsWhenAsked) {
  Settings s;
  s.max_packets = 2;
  FlowPosition f(s);
  EXPECT_EQ(Feed(f, true, kT0).result, Result::kLabel);
  EXPECT_EQ(Feed(f, true, kT0 + 1).result, Result::kLabel);
  EXPECT_EQ(Feed(f, true, kT0 + 2).result, Result::kNoOpinion);
}

TEST(FlowPositionTest, AnIdleFlowEndsAndItsTupleStartsANewOne) {
  FlowPosition f(Settings{});
  Seen first = Feed(f, true, kT0);
  Feed(f, false, kT0 + kSecond);
  f.Tick(kT0 + 30 * kSecond);
  EXPECT_EQ(f.flows(), 1u);
  f.Tick(kT0 + 62 * kSecond);  // idle for more than 60s
  EXPECT_EQ(f.flows(), 0u);
  Seen again = Feed(f, false, kT0 + 63 * kSecond);
  EXPECT_EQ(again.pkt + again.dir, "1fwd");
  EXPECT_NE(again.key, first.key);
  // Without a tick in between, the timeout still ends the flow.
  Seen late = Feed(f, true, kT0 + 200 * kSecond);
  EXPECT_EQ(late.pkt, "1");
}

}  // namespace
}  // namespace pcapml::flow_position
