#include "rules/sample_id.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace pcapml {

// Checked with: printf '%s' "$key" | sha256sum | cut -c1-16, hex to decimal.
TEST(SampleId, IsTheFirstEightBytesOfSha256BigEndian) {
  EXPECT_EQ(SampleId("abc"), 0xba7816bf8f01cfeaULL);
  EXPECT_EQ(SampleId(""), 0xe3b0c44298fc1c14ULL);
  EXPECT_NE(SampleId("a.pcap,google"), SampleId("b.pcap,google"));
}

// Each thread reuses one digest context: a call must not see the last one's input.
TEST(SampleId, ReusedContextsInSeveralThreadsGiveTheSameIds) {
  std::vector<uint64_t> want;
  for (int i = 0; i < 1000; ++i) want.push_back(SampleId("key" + std::to_string(i)));
  EXPECT_EQ(SampleId("abc"), 0xba7816bf8f01cfeaULL);
  std::vector<std::vector<uint64_t>> got(2);
  std::vector<std::thread> threads;
  for (auto& g : got)
    threads.emplace_back([&g] {
      for (int i = 0; i < 1000; ++i) g.push_back(SampleId("key" + std::to_string(i)));
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

}  // namespace pcapml
