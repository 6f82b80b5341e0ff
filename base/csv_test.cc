#include "base/csv.h"

#include <gtest/gtest.h>

namespace pcapml {

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvRow({"File", "Label"}), "File,Label\n");
  EXPECT_EQ(CsvRow({"1_a.pcap", "a,b"}), "1_a.pcap,\"a,b\"\n");
}

}  // namespace pcapml
