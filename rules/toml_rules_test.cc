#include "rules/toml_rules.h"

#include <gtest/gtest.h>

#include "rules/legacy_rules.h"
#include "classify/rule_files.h"
#include "rules/sample_id.h"

namespace pcapml {
namespace {

std::string ParseError(const std::string& text) {
  RuleSet set;
  std::string err;
  EXPECT_FALSE(ParseTomlRules("rules.toml", text, "", &set, &err)) << text;
  return err;
}

TEST(TomlRulesTest, ReadsEveryField) {
  RuleSet set;
  std::string err;
  ASSERT_TRUE(ParseTomlRules("rules.toml", R"(
[[rule]]
id = "web"
label = "browsing"
filter = "tcp port 443"
start = 2024-05-01T10:00:00+02:00
end = 1714550400
meta = { run = 3, browser = "firefox", ok = true }
sample = "flow"
idle_timeout = "30s"
sample_key = "web-2024"

[[rule]]
id = "dns"
label = "dns"
start = "1714550400.25"
sample = "window"
window = "60s"
)",
                             "sensor7", &set, &err))
      << err;
  ASSERT_EQ(set.size(), 2u);
  const Rule& web = set.rule(0);
  EXPECT_EQ(web.source, "rules.toml:2");
  EXPECT_EQ(web.metadata, "browsing,browser=firefox,ok=true,run=3");
  EXPECT_EQ(web.filter, "tcp port 443");
  EXPECT_EQ(web.window.first_ns, 1714550400'000000000);  // 08:00Z
  EXPECT_EQ(web.window.last_ns, 1714550400'999999999);   // an integer covers its second
  EXPECT_EQ(web.sample, SampleMode::kFlow);
  EXPECT_EQ(web.idle_timeout_ns, 30'000'000'000);
  EXPECT_EQ(web.key, "sensor7/web-2024");
  EXPECT_EQ(web.sample_id, SampleId("sensor7/web-2024"));
  EXPECT_EQ(web.comment, std::to_string(SampleId("sensor7/web-2024")) + ",browsing,browser=firefox,ok=true,run=3");
  const Rule& dns = set.rule(1);
  EXPECT_EQ(dns.key, "sensor7/dns");
  EXPECT_EQ(dns.window.first_ns, 1714550400'250000000);
  EXPECT_EQ(dns.window_ns, 60'000'000'000);
}

TEST(TomlRulesTest, ErrorsNameFileLineAndRule) {
  EXPECT_EQ(ParseError("[[rule]]\nid = \"web\"\nlabel = \"x\"\nlable = \"y\"\n"),
            "rules.toml:4: rule 'web': unknown key 'lable' (expected id, label, filter, start, end, meta, "
            "sample, sample_key, window, idle_timeout, plugin)");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\n\n[[rule]]\nid = \"a\"\nlabel = \"y\"\n"),
            "rules.toml:6: rule 'a': duplicate id (first defined at line 1)");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nfilter = \"hots 1.2.3.4\"\n")
                .rfind("rules.toml:4: rule 'a': invalid BPF filter 'hots 1.2.3.4': ", 0),
            0u);
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nstart = 2024-05-01T08:00:00\n"),
            "rules.toml:4: rule 'a': start: a datetime needs a UTC offset, e.g. 2024-05-01T08:00:00Z");
  // A datetime TOML itself rejects: the syntax error still names the rule.
  std::string bad = ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nend = 2024-13-01T00:00:00Z\n");
  EXPECT_EQ(bad.rfind("rules.toml:4: rule 'a': ", 0), 0u) << bad;
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nplugin = \"dns\"\n"),
            "rules.toml:3: rule 'a': a plugin rule takes its label from the plugin: drop label");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nplugin = \"dns\"\nsample = \"flow\"\n"),
            "rules.toml:4: rule 'a': a plugin rule takes its samples from the plugin: drop sample and sample_key");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nwindow = \"60s\"\n"),
            "rules.toml:4: rule 'a': window is only for sample = \"window\"");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nsample = \"window\"\n"),
            "rules.toml:4: rule 'a': sample = \"window\" needs a positive window (e.g. window = \"60s\")");
  EXPECT_EQ(ParseError("[[rule]]\nlabel = \"x\"\n"), "rules.toml:1: rule without id");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x,y\"\n"),
            "rules.toml:3: rule 'a': label must not contain ',' or a line break");
  EXPECT_EQ(ParseError("title = \"x\"\n"),
            "rules.toml:1: unknown key 'title' (a rules file holds [[rule]] and [[plugin]] tables)");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nstart = 20\nend = 10\n"),
            "rules.toml:4: rule 'a': start is after end");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\n[rule.meta]\nrun = 3\ntool = \"a,b\"\n"),
            "rules.toml:6: rule 'a': meta value of 'tool' must not contain ',' or a line break");
}

// A "\u0000" once cut a filter short (libpcap took "udp": every UDP packet)
// or a label (tshark and summary showed "x").
TEST(TomlRulesTest, RefusesNulNamingTheKeysLineAndValue) {
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\\u0000y\"\n"),
            "rules.toml:3: rule 'a': label contains a NUL byte 'x\\0y'");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nfilter = \"udp\\u0000 and port 99\"\n"),
            "rules.toml:4: rule 'a': filter contains a NUL byte 'udp\\0 and port 99'");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"x\"\nmeta = { run = \"1\\u0000\" }\n"),
            "rules.toml:4: rule 'a': meta value of 'run' contains a NUL byte '1\\0'");
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\\u0000\"\nlabel = \"x\"\n"),
            "rules.toml:2: rule 'a\\0': id contains a NUL byte 'a\\0'");
  // TOML itself refuses bytes that are not UTF-8, naming their line.
  EXPECT_EQ(ParseError("[[rule]]\nid = \"a\"\nlabel = \"caf\xE9\"\n").rfind("rules.toml:3: rule 'a': ", 0), 0u);
}

// CR-only line ends (which TOML itself refuses) and a BOM read like LF.
TEST(TomlRulesTest, EveryLineEndAndABomReadAlike) {
  // "\357\273\277": a UTF-8 BOM.
  for (std::string_view text :
       {"[[rule]]\nid = \"a\"\nlabel = \"x\"\n", "[[rule]]\r\nid = \"a\"\r\nlabel = \"x\"\r\n",
        "[[rule]]\rid = \"a\"\rlabel = \"x\"\r", "\357\273\277[[rule]]\nid = \"a\"\nlabel = \"x\""}) {
    RuleSet set;
    std::string err;
    ASSERT_TRUE(ParseTomlRules("rules.toml", text, "", &set, &err)) << err;
    ASSERT_EQ(set.size(), 1u);
    EXPECT_EQ(set.rule(0).metadata, "x");
    EXPECT_TRUE(LooksLikeTomlRules("rules.txt", text));
  }
  EXPECT_EQ(ParseError("[[rule]]\rid = \"a\"\rlabel = \"x\"\rlable = \"y\"\r").substr(0, 43),
            "rules.toml:4: rule 'a': unknown key 'lable'");
}

TEST(TomlRulesTest, FormatChosenByExtensionOrContent) {
  EXPECT_TRUE(LooksLikeTomlRules("r.toml", "BPF:tcp,x"));
  EXPECT_TRUE(LooksLikeTomlRules("r.txt", "# rules\n\n[[rule]]\nid = \"a\"\n"));
  EXPECT_FALSE(LooksLikeTomlRules("metadata.csv", "# legacy\nBPF:tcp,web\n"));
}

TEST(LegacyRulesTest, KeepsTheirMeaning) {
  RuleSet set;
  std::string err;
  ASSERT_TRUE(ParseLegacyRules("m.csv",
                               "# comment\nBPF:ether host 00:11:22:33:44:55|TS_START:1700000000|TS_END:"
                               "1700000001.5,mac,mackey\r\nBPF:tcp,web\n",
                               "s1", &set, &err))
      << err;
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set.rule(0).id, "m.csv:2");
  EXPECT_EQ(set.rule(0).filter, "ether host 00:11:22:33:44:55");
  EXPECT_EQ(set.rule(0).window.first_ns, 1700000000'000000000);
  EXPECT_EQ(set.rule(0).window.last_ns, 1700000001'500000000);
  EXPECT_EQ(set.rule(0).key, "s1/mackey");
  EXPECT_EQ(set.rule(1).key, "s1/BPF:tcp,web");  // the line as written
  RuleSet other;
  EXPECT_FALSE(ParseLegacyRules("m.csv", "BPF:tcp,a\nBPF:hots 1.2.3.4,b\n", "", &other, &err));
  EXPECT_EQ(err.rfind("m.csv:2: invalid BPF filter 'hots 1.2.3.4'", 0), 0u) << err;
}

}  // namespace
}  // namespace pcapml
