#include "base/json.h"

#include <gtest/gtest.h>

namespace pcapml {

TEST(Json, QuotesEscapesAndKeepsValidUtf8) {
  EXPECT_EQ(JsonString("web"), "\"web\"");
  EXPECT_EQ(JsonString("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
  EXPECT_EQ(JsonString(std::string_view("a\nb\0c", 5)), "\"a\\u000ab\\u0000c\"");
  EXPECT_EQ(JsonString("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(Json, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(JsonString("\xFF"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("a\xC3"), "\"a\xEF\xBF\xBD\"");                                // cut short
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

}  // namespace pcapml
