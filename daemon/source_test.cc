#include "daemon/source.h"

#include <gtest/gtest.h>

namespace pcapml {
namespace {

// pcap_stats' drop counts are 32-bit; the daemon's are 64-bit counters that
// must only grow, through libpcap's wrap and through a re-opened handle.
TEST(Source, DropCountsGrowAcrossThe32BitWrap) {
  uint64_t total = 0;
  uint32_t last = 0;
  AddCounterGrowth(&total, &last, 4'000'000'000u);
  AddCounterGrowth(&total, &last, 4'294'967'290u);
  EXPECT_EQ(total, 4'294'967'290u);
  AddCounterGrowth(&total, &last, 10u);  // wrapped: 6 to 2^32, then 10
  EXPECT_EQ(total, 4'294'967'290ull + 16);
  AddCounterGrowth(&total, &last, 10u);
  EXPECT_EQ(total, 4'294'967'306u);
  last = 0;  // the handle was re-opened: its counts start again at 0
  AddCounterGrowth(&total, &last, 5u);
  EXPECT_EQ(total, 4'294'967'311u);
}

}  // namespace
}  // namespace pcapml
