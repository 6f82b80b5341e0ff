#include "base/units.h"

#include <gtest/gtest.h>

namespace pcapml {

TEST(Units, ParsesSizes) {
  uint64_t b;
  std::string err;
  ASSERT_TRUE(ParseBytes("256MiB", &b, &err));
  EXPECT_EQ(b, 256u << 20);
  ASSERT_TRUE(ParseBytes("1GiB", &b, &err));
  EXPECT_EQ(b, 1u << 30);
  ASSERT_TRUE(ParseBytes("1.5KB", &b, &err));
  EXPECT_EQ(b, 1500u);
  ASSERT_TRUE(ParseBytes("4096", &b, &err));
  EXPECT_EQ(b, 4096u);
  EXPECT_FALSE(ParseBytes("12 parsecs", &b, &err));
  EXPECT_NE(err.find("parsecs"), std::string::npos);
  EXPECT_FALSE(ParseBytes("", &b, &err));
}

TEST(Units, ParsesDurations) {
  int64_t ns;
  std::string err;
  ASSERT_TRUE(ParseDuration("30s", &ns, &err));
  EXPECT_EQ(ns, 30'000'000'000);
  ASSERT_TRUE(ParseDuration("250ms", &ns, &err));
  EXPECT_EQ(ns, 250'000'000);
  ASSERT_TRUE(ParseDuration("5m", &ns, &err));
  EXPECT_EQ(ns, 300'000'000'000);
  ASSERT_TRUE(ParseDuration("60", &ns, &err));
  EXPECT_EQ(ns, 60'000'000'000);
  EXPECT_FALSE(ParseDuration("5 fortnights", &ns, &err));
}

TEST(Units, FormatsTimes) {
  EXPECT_EQ(FormatEpochNs(1700000000123456789), "1700000000.123456789");
  EXPECT_EQ(FormatEpochNs(5), "0.000000005");
  EXPECT_EQ(FormatUtcNs(1700000000123456789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(3u << 20), "3.0 MiB");
}

}  // namespace pcapml
