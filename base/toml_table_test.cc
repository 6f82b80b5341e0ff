#include "base/toml_table.h"

#include <gtest/gtest.h>

namespace pcapml {
namespace {

struct Doc {
  explicit Doc(std::string_view text) { EXPECT_TRUE(ParseTomlText(path, text, &doc, &err)) << err; }
  TomlTable Table(std::string_view name, std::string context) {
    return TomlTable(*doc.get(name)->as_table(), path, std::move(context), &err);
  }
  std::string path = "c.toml";
  toml::table doc;
  std::string err;
};

TEST(TomlTable, ReadsTheFormsUsersWrite) {
  Doc d(
      "[t]\ns = \"x\"\nb = true\ni = 7\nf = 1.5\nsize = \"2KiB\"\nbytes = 10\nd = \"250ms\"\nsecs = 90\n"
      "one = \"a\"\nlist = [\"a\", \"b\"]\npace = \"recorded\"\n");
  TomlTable t = d.Table("t", "[t]");
  std::string s, pace = "fast";
  bool b = false;
  int64_t i = 0, ns = 0, secs = 0;
  double f = 0;
  uint64_t size = 0, bytes = 0;
  std::vector<std::string> one, list;
  ASSERT_TRUE(t.String("s", &s) && t.Bool("b", &b) && t.Integer("i", 0, 10, &i) && t.Number("f", &f) &&
              t.Size("size", &size) && t.Size("bytes", &bytes) && t.Duration("d", &ns) && t.Seconds("secs", &secs) &&
              t.StringList("one", &one) && t.StringList("list", &list) && t.OneOf("pace", {"fast", "recorded"}, &pace))
      << d.err;
  EXPECT_EQ(s, "x");
  EXPECT_TRUE(b);
  EXPECT_EQ(i, 7);
  EXPECT_EQ(f, 1.5);
  EXPECT_EQ(size, 2048u);
  EXPECT_EQ(bytes, 10u);
  EXPECT_EQ(ns, 250'000'000);
  EXPECT_EQ(secs, 90);
  EXPECT_EQ(one, std::vector<std::string>{"a"});
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(pace, "recorded");
  EXPECT_TRUE(t.NoOthers()) << d.err;
  // Absent keys leave the defaults.
  std::string absent = "default";
  EXPECT_TRUE(t.String("nothing", &absent));
  EXPECT_EQ(absent, "default");
}

TEST(TomlTable, ErrorsNameFileLineTableKeyAndValue) {
  Doc d(
      "[t]\ns = 3\ni = 11\nsize = \"2XB\"\nd = \"soon\"\nneg = -1\nnul = \"a\\u0000b\"\npace = \"slow\"\n"
      "list = [\"a\", 1]\nother = 1\n");
  TomlTable t = d.Table("t", "[t]");
  std::string s, pace;
  int64_t i = 0, ns = 0;
  uint64_t size = 0;
  std::vector<std::string> list;
  EXPECT_FALSE(t.String("s", &s));
  EXPECT_EQ(d.err, "c.toml:2: [t]: s must be a string");
  EXPECT_FALSE(t.Integer("i", 0, 10, &i));
  EXPECT_EQ(d.err, "c.toml:3: [t]: i must be a whole number from 0 to 10");
  EXPECT_FALSE(t.Size("size", &size));
  EXPECT_EQ(d.err, "c.toml:4: [t]: size must be a size such as \"64MiB\": invalid size '2XB': unknown unit 'XB'");
  EXPECT_FALSE(t.Duration("d", &ns));
  EXPECT_EQ(d.err, "c.toml:5: [t]: d must be a duration such as \"30s\": invalid duration 'soon'");
  EXPECT_FALSE(t.Duration("neg", &ns));
  EXPECT_EQ(d.err, "c.toml:6: [t]: neg must be a duration such as \"30s\": it is negative");
  EXPECT_FALSE(t.String("nul", &s));
  EXPECT_EQ(d.err, "c.toml:7: [t]: nul contains a NUL byte 'a\\0b'");
  EXPECT_FALSE(t.OneOf("pace", {"fast", "recorded"}, &pace));
  EXPECT_EQ(d.err, "c.toml:8: [t]: pace must be \"fast\" or \"recorded\", not \"slow\"");
  EXPECT_FALSE(t.StringList("list", &list));
  EXPECT_EQ(d.err, "c.toml:9: [t]: list must be a list of strings");
  EXPECT_FALSE(t.NoOthers());
  EXPECT_EQ(d.err, "c.toml:10: [t]: unknown key 'other' (expected s, i, size, d, neg, nul, pace, list)");
  EXPECT_EQ(t.Others(), std::vector<std::string_view>{"other"});
  EXPECT_EQ(t.Origin("pace"), "c.toml:8: [t] pace");
  EXPECT_FALSE(t.FailAt("missing", "needs missing"));
  EXPECT_EQ(d.err, "c.toml:1: [t]: needs missing");
}

TEST(TomlTable, SyntaxErrorsNameFileAndLine) {
  toml::table doc;
  std::string err;
  size_t line = 0;
  EXPECT_FALSE(ParseTomlText("c.toml", "a = 1\r\rb = = 2\n", &doc, &err, &line));
  EXPECT_EQ(line, 3u);  // a lone CR is a line end too
  EXPECT_EQ(err.rfind("c.toml:3: ", 0), 0u) << err;
}

TEST(TomlTable, WritesValuesBackAsTomlThatParsesAgain) {
  toml::table doc;
  std::string err;
  ASSERT_TRUE(ParseTomlText("c.toml", "v = { \"it's\" = [1, \"a\\\"b\"], t = true }\n", &doc, &err)) << err;
  std::string text = TomlKeyValue("v", *doc.get("v"));
  EXPECT_EQ(text, "\"v\" = { \"it's\" = [1, \"a\\\"b\"], \"t\" = true }");
  toml::table again;
  ASSERT_TRUE(ParseTomlText("again", text, &again, &err)) << err;
  EXPECT_EQ(TomlText(*again.get("v")), TomlText(*doc.get("v")));
}

}  // namespace
}  // namespace pcapml
