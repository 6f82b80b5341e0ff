#include "classify/delay_line.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace pcapml {
namespace {

constexpr int64_t kS = 1'000'000'000;

// What left the line, in order: "<packet number>:<comment or ->".
class Recorder : public PacketOutput {
 public:
  void Write(const LinePacket& p, const std::string_view* comment) override {
    std::string bytes(reinterpret_cast<const char*>(p.data), p.caplen);
    out.push_back(bytes + ":" + (comment ? std::string(*comment) : "-"));
    times.push_back(p.ts_ns);
  }
  std::vector<std::string> out;
  std::vector<int64_t> times;
};

// An owner whose later rules label a released packet "later", or hold it
// again under owner 1 when asked to.
class Owner : public HoldOwner {
 public:
  Fate Continue(const LinePacket& p, uint32_t owner, bool may_hold) override {
    asked.push_back(std::string(reinterpret_cast<const char*>(p.data), p.caplen) + (may_hold ? "" : "!"));
    if (hold_again && owner == 0 && may_hold) return Fate{Fate::Kind::kHold, {}, Key(1, 'a')};
    if (unmatched) return Fate{};
    return Fate{Fate::Kind::kWrite, "later", {}};
  }
  static HoldKey Key(uint32_t owner, char conn) {
    HoldKey k;
    k.owner = owner;
    k.conn[0] = static_cast<uint8_t>(conn);
    return k;
  }
  std::vector<std::string> asked;
  bool hold_again = false, unmatched = false;
};

class DelayLineTest : public ::testing::Test {
 protected:
  explicit DelayLineTest(HoldLimits limits = {}) : line_(limits, &rec_) { line_.set_owner(&owner_); }

  // Packet n: its bytes are its number, its time n tenths of a second (or ts).
  LinePacket P(int n, int64_t ts = -1) {
    names_.push_back(std::to_string(n));
    const std::string& s = names_.back();
    return LinePacket{0,
                      1,
                      ts < 0 ? n * kS / 10 : ts,
                      reinterpret_cast<const uint8_t*>(s.data()),
                      static_cast<uint32_t>(s.size()),
                      static_cast<uint32_t>(s.size())};
  }
  void Pass(int n, std::string_view comment) {
    LinePacket p = P(n);
    line_.Advance(p.ts_ns);
    line_.Pass(p, &comment);
  }
  void Hold(int n, char conn, int64_t ts = -1) {
    LinePacket p = P(n, ts);
    line_.Advance(p.ts_ns);
    line_.Hold(p, Owner::Key(0, conn));
  }

  std::deque<std::string> names_;  // the packets' bytes (stable addresses)
  Recorder rec_;
  Owner owner_;
  DelayLine line_;
};

TEST_F(DelayLineTest, AnEmptyLinePassesPacketsAtOnce) {
  Pass(1, "x");
  line_.Pass(P(2), nullptr);
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:x", "2:-"}));
  EXPECT_TRUE(line_.empty());
  EXPECT_EQ(line_.counts().held, 0u);
}

TEST_F(DelayLineTest, PacketsWaitBehindAHeldOneAndLeaveInCaptureOrderWhenItIsLabeled) {
  Hold(1, 'a');
  Pass(2, "other");
  Hold(3, 'a');
  Hold(4, 'b');
  Pass(5, "other");
  EXPECT_TRUE(rec_.out.empty());
  EXPECT_EQ(line_.packets(), 5u);
  line_.Decide(Owner::Key(0, 'a'), "name");
  // 1-3 leave; 4 is held by another connection, so 5 waits behind it.
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:name", "2:other", "3:name"}));
  EXPECT_TRUE(line_.Holds(Owner::Key(0, 'b')));
  EXPECT_FALSE(line_.Holds(Owner::Key(0, 'a')));
  line_.Decide(Owner::Key(0, 'b'), "other-name");
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:name", "2:other", "3:name", "4:other-name", "5:other"}));
  EXPECT_TRUE(line_.empty());
  EXPECT_EQ(line_.bytes(), 0u);
  EXPECT_EQ(line_.counts().held, 3u);
  EXPECT_EQ(line_.counts().labeled, 3u);
}

TEST_F(DelayLineTest, AGivenUpHoldGoesToTheLaterRulesInOrder) {
  Hold(1, 'a');
  Hold(2, 'b');
  Hold(3, 'a');
  line_.Release(Owner::Key(0, 'a'));
  EXPECT_EQ(owner_.asked, (std::vector<std::string>{"1", "3"}));  // may be held again
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:later"}));     // 3 waits behind 2
  line_.Release(Owner::Key(0, 'b'));
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:later", "2:later", "3:later"}));
  EXPECT_EQ(line_.counts().passed, 3u);
}

TEST_F(DelayLineTest, AHoldEndsAfterTheHoldLimitOfPacketTime) {
  Hold(1, 'a', 10 * kS);
  Pass(2, "x");  // packet time 0.2 s: before the held packet (times may go back)
  Hold(3, 'b', 11 * kS);
  line_.Advance(12 * kS);  // exactly 2 s after packet 1: not yet
  EXPECT_TRUE(rec_.out.empty());
  line_.Advance(12 * kS + 1);
  // 1 leaves by the limit; 3 (held 1 s) stops the line again.
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:later", "2:x"}));
  EXPECT_EQ(owner_.asked, (std::vector<std::string>{"1!"}));  // not to be held again
  EXPECT_EQ(line_.counts().limit, 1u);
  line_.Advance(13 * kS + 1);
  EXPECT_EQ(rec_.out.size(), 3u);
  EXPECT_EQ(line_.counts().limit, 2u);
}

TEST_F(DelayLineTest, TheWholeConnectionLeavesWhenItsOldestPacketReachesTheLimit) {
  Hold(1, 'a', 10 * kS);
  Hold(2, 'a', 11 * kS + kS / 2);
  line_.Advance(12 * kS + 1);
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:later", "2:later"}));
}

class DelayLineBytesTest : public DelayLineTest {
 protected:
  DelayLineBytesTest() : DelayLineTest(HoldLimits{2 * kS, 3 * (64 + 1)}) {}
};

TEST_F(DelayLineBytesTest, TheOldestHoldEndsWhenTheHeldBytesExceedTheLimit) {
  Hold(1, 'a');
  Hold(2, 'b');
  Hold(3, 'a');  // three packets of 1 byte and 64 bytes of bookkeeping each: at the limit
  EXPECT_TRUE(rec_.out.empty());
  Hold(4, 'c');  // over: connection a (the oldest packet's) ends, then 2 still waits
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:later"}));
  EXPECT_EQ(line_.counts().limit, 2u);
  EXPECT_EQ(line_.packets(), 3u);  // 2 (b), 3 (ready behind it), 4 (c)
  EXPECT_LE(line_.bytes(), 3u * 65);
}

TEST_F(DelayLineTest, FlushEndsEveryHoldAndWritesEverythingInOrder) {
  owner_.hold_again = true;  // must not happen while flushing
  Hold(1, 'a');
  Pass(2, "x");
  Hold(3, 'b');
  line_.Pass(P(4), nullptr);
  line_.Flush();
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:later", "2:x", "3:later", "4:-"}));
  EXPECT_EQ(owner_.asked, (std::vector<std::string>{"1!", "3!"}));
  EXPECT_TRUE(line_.empty());
  EXPECT_FALSE(line_.holding());
  EXPECT_EQ(line_.counts().flushed, 2u);
}

TEST_F(DelayLineTest, AReleasedPacketMayBeHeldAgainByALaterPluginRule) {
  owner_.hold_again = true;
  Hold(1, 'a');
  Pass(2, "x");
  Hold(3, 'a');
  line_.Release(Owner::Key(0, 'a'));  // the later rule (owner 1) holds both, in order
  EXPECT_TRUE(rec_.out.empty());
  EXPECT_TRUE(line_.Holds(Owner::Key(1, 'a')));
  line_.Decide(Owner::Key(1, 'a'), "second");
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:second", "2:x", "3:second"}));
  EXPECT_EQ(line_.counts().held, 4u);
  EXPECT_EQ(line_.counts().passed, 2u);
  EXPECT_EQ(line_.counts().labeled, 2u);
}

TEST_F(DelayLineTest, UnmatchedReleasesStayUnmatched) {
  owner_.unmatched = true;
  Hold(1, 'a');
  line_.Release(Owner::Key(0, 'a'));
  EXPECT_EQ(rec_.out, (std::vector<std::string>{"1:-"}));
}

TEST_F(DelayLineTest, ManyPacketsKeepTheirBytesAndOrderAcrossChunks) {
  // Enough queued bytes to span several 1 MiB chunks, with holds settled in
  // an order other than capture order.
  std::vector<std::string> big;
  for (int i = 0; i < 3000; ++i) big.push_back(std::string(1000 + i % 7, static_cast<char>('A' + i % 26)));
  std::map<char, std::string> decided;
  for (int i = 0; i < 3000; ++i) {
    LinePacket p{0,
                 1,
                 i,
                 reinterpret_cast<const uint8_t*>(big[i].data()),
                 static_cast<uint32_t>(big[i].size()),
                 static_cast<uint32_t>(big[i].size())};
    if (i % 3 == 0) {
      line_.Hold(p, Owner::Key(0, static_cast<char>('a' + i % 5)));
    } else {
      std::string_view c = "r";
      line_.Pass(p, &c);
    }
  }
  for (char c : {'e', 'b', 'd', 'a', 'c'}) line_.Decide(Owner::Key(0, c), std::string("held-") + c);
  ASSERT_EQ(rec_.out.size(), 3000u);
  for (int i = 0; i < 3000; ++i) {
    std::string want = big[i] + ":" + (i % 3 == 0 ? std::string("held-") + static_cast<char>('a' + i % 5) : "r");
    ASSERT_EQ(rec_.out[i], want) << i;
    ASSERT_EQ(rec_.times[i], i);
  }
  EXPECT_EQ(line_.bytes(), 0u);
}

}  // namespace
}  // namespace pcapml
