#include "rules/legacy_rules.h"

#include <gtest/gtest.h>

#include "rules/sample_id.h"

namespace pcapml {
namespace {

std::string ParseError(std::string_view text) {
  RuleSet set;
  std::string err;
  EXPECT_FALSE(ParseLegacyRules("m.csv", text, "", &set, &err)) << text;
  return err;
}

// A NUL once cut the filter short (libpcap took "udp": every UDP packet), and
// bytes that are not UTF-8 went raw into comments.
TEST(LegacyRulesTest, RefusesNulAndBrokenUtf8NamingLineAndValue) {
  using namespace std::string_view_literals;
  EXPECT_EQ(ParseError("BPF:tcp,a\nBPF:udp\0 and port 99,x\n"sv),
            "m.csv:2: BPF filter contains a NUL byte 'udp\\0 and port 99'");
  EXPECT_EQ(ParseError("BPF:tcp,x\0y\n"sv), "m.csv:1: metadata contains a NUL byte 'x\\0y'");
  EXPECT_EQ(ParseError("BPF:tcp,caf\xE9\n"), "m.csv:1: metadata is not valid UTF-8 'caf\\xE9'");
  EXPECT_EQ(ParseError("BPF:t\xFFp,x\n"), "m.csv:1: BPF filter is not valid UTF-8 't\\xFFp'");
  EXPECT_EQ(ParseError("FILE:a\0b.pcap,x\n"sv), "m.csv:1: FILE path contains a NUL byte 'a\\0b.pcap'");
  RuleSet set;
  std::string err;
  ASSERT_TRUE(ParseLegacyRules("m.csv", "BPF:tcp,caf\xC3\xA9,key\xE9\n", "", &set, &err)) << err;
  EXPECT_EQ(set.rule(0).metadata, "caf\xC3\xA9");  // UTF-8 labels stay; the hash key is only hashed
}

TEST(LegacyRulesTest, ExtraFieldsAreAnError) {
  EXPECT_EQ(ParseError("BPF:tcp,a,b,c,d,e\n"),
            "m.csv:1: too many fields (expected <filter>,<metadata>[,<hash_key>]) 'BPF:tcp,a,b,c,d,e'");
}

// LF, CRLF and CR-only files, with or without a BOM, give the same rules on
// the same lines (CR-only once made one rule labeled "x\rBPF:udp").
TEST(LegacyRulesTest, EveryLineEndAndABomReadAlike) {
  // "\357\273\277": a UTF-8 BOM.
  for (std::string_view text : {"BPF:tcp,x\nBPF:udp,y\n", "BPF:tcp,x\r\nBPF:udp,y\r\n", "BPF:tcp,x\rBPF:udp,y\r",
                                "\357\273\277BPF:tcp,x\nBPF:udp,y"}) {
    RuleSet set;
    std::string err;
    ASSERT_TRUE(ParseLegacyRules("m.csv", text, "", &set, &err)) << err;
    ASSERT_EQ(set.size(), 2u);
    EXPECT_EQ(set.rule(0).metadata, "x");
    EXPECT_EQ(set.rule(1).metadata, "y");
    EXPECT_EQ(set.rule(1).filter, "udp");
    EXPECT_EQ(set.rule(1).id, "m.csv:2");
    EXPECT_EQ(set.rule(0).sample_id, SampleId("BPF:tcp,x"));  // the line as written, without the BOM
  }
  EXPECT_EQ(ParseError("BPF:tcp,x\rCOLOR:blue,y\r"),
            "m.csv:2: unknown term (expected BPF, TS_START, TS_END or FILE) "
            "'COLOR:blue'");
}

TEST(LegacyRulesTest, MessagesShowInvisibleCharacters) {
  EXPECT_EQ(ParseError("BPF:tcp,x\n\342\200\213BPF:udp,y\n"),  // U+200B, a zero-width space
            "m.csv:2: unknown term (expected BPF, TS_START, TS_END or FILE) '\\u{200B}BPF:udp'");
}

}  // namespace
}  // namespace pcapml
