#include "base/text_file.h"

#include <gtest/gtest.h>

#include <vector>

namespace pcapml {
namespace {

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  LineReader r(text);
  for (std::string_view line; r.Next(&line);) {
    out.emplace_back(line);
    EXPECT_EQ(r.line_number(), out.size());
  }
  return out;
}

using V = std::vector<std::string>;

TEST(TextFile, EveryLineEndAndABomReadAlike) {
  // "\357\273\277" is a UTF-8 BOM (EF BB BF) in octal, which ends after three digits.
  for (std::string_view text : {"a\nb\n", "a\r\nb\r\n", "a\rb\r", "a\nb", "\357\273\277a\r\nb"})
    EXPECT_EQ(Lines(text), (V{"a", "b"})) << Quoted(text);
  EXPECT_EQ(Lines("a\r\rb\n\nc"), (V{"a", "", "b", "", "c"}));
  EXPECT_EQ(Lines("a\n\r\nb"), (V{"a", "", "b"}));
  EXPECT_EQ(Lines(""), V{});
  EXPECT_EQ(Lines("\n"), V{""});
  EXPECT_EQ(Lines("x\xEF\xBB\xBF"), V{"x\xEF\xBB\xBF"});  // only a leading BOM is dropped
  EXPECT_EQ(WithLfLineEnds("\357\273\277a = 1\rb = 2\r\nc = 3"), "a = 1\nb = 2\nc = 3\n");
}

TEST(TextFile, NulAndBrokenUtf8AreProblems) {
  EXPECT_EQ(TextProblem("browsing, caf\xC3\xA9 \xF0\x9F\x98\x80"), "");
  EXPECT_EQ(TextProblem(std::string_view("udp\0 and port 99", 16)), "contains a NUL byte");
  for (std::string_view bad : {"\xFF", "caf\xE9", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"})
    EXPECT_EQ(TextProblem(bad), "is not valid UTF-8") << Quoted(bad);
}

TEST(TextFile, QuotedShowsWhatIsInvisible) {
  EXPECT_EQ(Quoted("tcp port 80"), "'tcp port 80'");
  EXPECT_EQ(Quoted(std::string_view("x\0y", 3)), "'x\\0y'");
  EXPECT_EQ(Quoted("a\tb\rc\nd\\e\x01"), "'a\\tb\\rc\\nd\\\\e\\x01'");
  EXPECT_EQ(Quoted("caf\xE9 caf\xC3\xA9"), "'caf\\xE9 caf\xC3\xA9'");
  EXPECT_EQ(Quoted("\357\273\277BPF:tcp \xE2\x80\x8B"), "'\\u{FEFF}BPF:tcp \\u{200B}'");
}

}  // namespace
}  // namespace pcapml
