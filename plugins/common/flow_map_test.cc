#include "plugins/common/flow_map.h"

#include <gtest/gtest.h>

#include "plugins/common/name_table.h"

namespace pcapml::plugin_common {
namespace {

struct Count {
  int n = 0;
  void Reset() { n = 0; }
};

Key K(uint8_t i) {
  uint8_t addr[4] = {10, 0, 0, i};
  return AddressKey(4, addr);
}

TEST(FlowMapTest, FindInsertAndLeastRecentlySeenEviction) {
  FlowMap<Count> m(3);
  for (uint8_t i = 1; i <= 3; ++i) m.Insert(K(i), i).n = i;
  EXPECT_EQ(m.Find(K(1), 10)->n, 1);  // 1 is now the most recent
  m.Insert(K(4), 11).n = 4;           // evicts 2, the least recently seen
  EXPECT_EQ(m.Find(K(2), 12), nullptr);
  EXPECT_NE(m.Find(K(1), 12), nullptr);
  EXPECT_EQ(m.Find(K(4), 12)->n, 4);
  EXPECT_EQ(m.evicted(), 1u);
  EXPECT_EQ(m.Insert(K(5), 13).n, 0);  // reused entries come back Reset
}

TEST(FlowMapTest, ExpireIdleRemovesOnlyTheSilent) {
  FlowMap<Count> m(100);
  for (uint8_t i = 0; i < 50; ++i) m.Insert(K(i), 500 + i * 10);
  m.Find(K(0), 1000);
  m.ExpireIdle(1000, 255);  // keeps last_ns >= 745
  EXPECT_EQ(m.size(), 1u + 25u);
  EXPECT_NE(m.Find(K(0), 1000), nullptr);
  EXPECT_EQ(m.Find(K(1), 1000), nullptr);
  for (uint8_t i = 100; i < 200; ++i) m.Insert(K(i), 2000);  // free entries are reused
  EXPECT_EQ(m.size(), 100u);
}

TEST(NameTableTest, ExactBeatsWildcardAndLongerWildcardsWin) {
  NameTable t;
  std::string err;
  ASSERT_TRUE(t.Build(
      {{"*", "other"}, {"*.example.com", "example"}, {"*.cdn.example.com", "cdn"}, {"WWW.example.com", "www"}}, &err))
      << err;
  EXPECT_EQ(*t.Find("www.example.com"), "www");
  EXPECT_EQ(*t.Find("a.cdn.example.com"), "cdn");
  EXPECT_EQ(*t.Find("mail.example.com"), "example");
  EXPECT_EQ(*t.Find("example.com"), "other");  // *.example.com is only below it
  NameTable none;
  ASSERT_TRUE(none.Build({{"*.example.com", "example"}}, &err));
  EXPECT_EQ(none.Find("example.org"), nullptr);
  EXPECT_FALSE(none.Build({{"a*.example.com", "x"}}, &err));
  EXPECT_FALSE(none.Build({{"x.example.com", "a,b"}}, &err));
}

TEST(NameTableTest, CleanNameMakesAnyBytesALabel) {
  char buf[kMaxName + 1];
  EXPECT_EQ(CleanName("WWW.Example.COM", buf), "www.example.com");
  EXPECT_EQ(CleanName(std::string_view("a,b\r\n\0c", 7), buf), "a_b___c");
  EXPECT_EQ(CleanName(std::string(300, 'x'), buf).size(), kMaxName);
}

}  // namespace
}  // namespace pcapml::plugin_common
