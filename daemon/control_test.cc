#include "daemon/control.h"
#include "daemon/control_requests.h"

#include <gtest/gtest.h>

namespace pcapml {
namespace {

bool Parse(const std::string& line, RuleSpec* spec, std::string* err) {
  return ParseAddRequest(SplitFields(line), spec, err);
}

TEST(Control, SplitFieldsKeepsEmptyFields) {
  EXPECT_EQ(SplitFields("add\tid=a\t\tlabel=b"), (std::vector<std::string>{"add", "id=a", "", "label=b"}));
  EXPECT_EQ(SplitFields(""), (std::vector<std::string>{""}));
}

TEST(Control, AddTakesEveryField) {
  RuleSpec spec;
  std::string err;
  ASSERT_TRUE(
      Parse("add\tid=w\tlabel=attack\tfilter=host 198.18.0.1\tsample=window\twindow=1.5s"
            "\tmeta=run=3\tmeta=tool=a=b",
            &spec, &err))
      << err;
  EXPECT_EQ(spec.id, "w");
  EXPECT_EQ(spec.label, "attack");
  EXPECT_EQ(spec.filter, "host 198.18.0.1");
  EXPECT_EQ(spec.sample, SampleMode::kWindow);
  EXPECT_EQ(spec.window_ns, 1'500'000'000);
  EXPECT_EQ(spec.meta, (std::vector<std::pair<std::string, std::string>>{{"run", "3"}, {"tool", "a=b"}}));
}

TEST(Control, AddErrorsSayWhy) {
  using namespace std::string_literals;
  for (auto [line, why] : std::vector<std::pair<std::string, std::string>>{
           {"add\tlabel=x", "add needs id= and label="},
           {"add\tid=x\tlabel=", "add needs id= and label="},
           {"add\tid=x\tlabel=y\tcolour=red", "unknown field 'colour'"},
           // A NUL once cut a filter short (libpcap took "udp": every UDP packet).
           {"add\tid=x\tlabel=y\tfilter=udp\0 and port 99"s, "field 'filter=udp\\0 and port 99' contains a NUL byte"},
           {"add\tid=x\tlabel=x\0y"s, "field 'label=x\\0y' contains a NUL byte"},
           {"add\tid=x\tlabel=caf\xE9", "field 'label=caf\\xE9' is not valid UTF-8"},
           {"add\tid=x\tlabel=y\tmeta=k=\xFF", "field 'meta=k=\\xFF' is not valid UTF-8"},
           {"add\tid=x\tlabel=y\tmeta=nokey", "meta must be key=value"},
           {"add\tid=x\tlabel=y\tsample=packet", "sample must be rule, flow or window"},
           {"add\tid=x\tlabel=y\twindow=-1s", "invalid duration '-1s'"},
       }) {
    RuleSpec spec;
    std::string err;
    EXPECT_FALSE(Parse(line, &spec, &err)) << line;
    EXPECT_EQ(err, why) << line;
  }
}

}  // namespace
}  // namespace pcapml
