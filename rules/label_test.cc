#include "rules/label.h"

#include <gtest/gtest.h>

namespace pcapml {

TEST(SampleLabel, ParsesCurrentForm) {
  SampleLabel l;
  ASSERT_TRUE(ParseLabel("9003219589747928972,google,browser=firefox,run=3", &l));
  EXPECT_EQ(l.sample_id, 9003219589747928972u);
  EXPECT_EQ(l.metadata, "google,browser=firefox,run=3");
  EXPECT_EQ(l.name, "google");
  ASSERT_TRUE(ParseLabel("18446744073709551615,x", &l));
  EXPECT_EQ(l.sample_id, 18446744073709551615u);
}

TEST(SampleLabel, ParsesLegacyForm) {
  SampleLabel l;
  ASSERT_TRUE(ParseLabel("s=42,proc=firefox,pid=7", &l));
  EXPECT_EQ(l.sample_id, 42u);
  EXPECT_EQ(l.name, "firefox");
  ASSERT_TRUE(ParseLabel("s=43,x=1,label=web", &l));
  EXPECT_EQ(l.name, "web");
}

TEST(SampleLabel, RejectsOtherComments) {
  SampleLabel l;
  EXPECT_FALSE(ParseLabel("", &l));
  EXPECT_FALSE(ParseLabel("hello, world", &l));
  EXPECT_FALSE(ParseLabel("18446744073709551616,overflow", &l));
  EXPECT_FALSE(ParseLabel("s=,proc=x", &l));
}

// The offline commands parse a label once per run of equal comments; what
// they read must not depend on the packet buffer, which the next read reuses.
TEST(LabelRuns, ParsesOncePerRunFromItsOwnCopy) {
  LabelRuns runs;
  std::string buffer = "7,web,run=1";
  EXPECT_TRUE(runs.Next(buffer));  // the first packet starts a run
  ASSERT_TRUE(runs.labeled());
  buffer = "7,web,run=1";
  EXPECT_FALSE(runs.Next(buffer));  // same comment: no new run
  buffer.assign("8,xyz,run=2");     // the reader overwrites its buffer in place
  EXPECT_EQ(runs.label().sample_id, 7u);
  EXPECT_EQ(runs.label().name, "web");
  EXPECT_EQ(runs.label().metadata, "web,run=1");
  EXPECT_TRUE(runs.Next(buffer));
  EXPECT_EQ(runs.label().sample_id, 8u);
  EXPECT_EQ(runs.label().name, "xyz");
  EXPECT_TRUE(runs.Next(""));  // an unlabeled packet is a run too
  EXPECT_FALSE(runs.labeled());
  EXPECT_FALSE(runs.Next(""));
  EXPECT_TRUE(runs.Next("9,a"));
  EXPECT_TRUE(runs.labeled());
}

TEST(LabelRuns, AnUnlabeledFirstPacketStartsARun) {
  LabelRuns runs;
  EXPECT_TRUE(runs.Next(""));
  EXPECT_FALSE(runs.labeled());
}

TEST(SampleLabel, MakesFileSafeNames) {
  EXPECT_EQ(FileSafe("google"), "google");
  EXPECT_EQ(FileSafe("a/b c,d"), "a_b_c_d");
  EXPECT_EQ(FileSafe(""), "unlabeled");
  EXPECT_EQ(FileSafe(".."), "unlabeled");
  EXPECT_EQ(FileSafe(std::string(300, 'x')).size(), 100u);
}

}  // namespace pcapml
