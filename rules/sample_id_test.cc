#include "rules/sample_id.h"

#include <gtest/gtest.h>

namespace pcapml {

// Checked with: printf '%s' "$key" | sha256sum | cut -c1-16, hex to decimal.
TEST(SampleId, IsTheFirstEightBytesOfSha256BigEndian) {
  EXPECT_EQ(SampleId("abc"), 0xba7816bf8f01cfeaULL);
  EXPECT_EQ(SampleId(""), 0xe3b0c44298fc1c14ULL);
  EXPECT_NE(SampleId("a.pcap,google"), SampleId("b.pcap,google"));
}

}  // namespace pcapml
