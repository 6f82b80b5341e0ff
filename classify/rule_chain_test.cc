#include "classify/rule_chain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "plugins/testing/test_packets.h"
#include "rules/sample_id.h"
#include "rules/toml_rules.h"

namespace pcapml {
namespace {

using testing_packets::Segment;

const std::string kEcho = std::string(PCAPML_PLUGIN_BUILD_DIR) + "/testing/test_echo.so";

// A rules file on disk (ReadPluginTablesOfRules reads files).
std::string WriteRules(const std::string& text) {
  std::string path = testing::TempDir() + "pcapml-chain-" + std::to_string(getpid()) + ".toml";
  std::ofstream(path) << text;
  return path;
}

class RuleChainTest : public testing::Test {
 protected:
  // Loads the rules and their [[plugin]] tables into chain_.
  bool Load(const std::string& text, std::string* err) {
    std::string path = WriteRules(text);
    RuleSet rules;
    std::vector<PluginSpec> specs;
    bool ok = ParseTomlRules(path, text, "", &rules, err) && ReadPluginTablesOfRules({path}, &specs, err) &&
              plugins_.Load(specs, err) && chain_.Build(std::move(rules), plugins_, {}, err) && chain_.Prepare(1, err);
    std::filesystem::remove(path);
    return ok;
  }
  std::string Comment(const Segment& s, int64_t ts = 1'700'000'000'000'000'000) {
    testing_packets::Bytes f = testing_packets::Frame(s);
    Verdict v = chain_.Classify(1, ts, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()));
    return v.rule ? std::string(v.comment) : "-";
  }

  PluginSet plugins_;
  RuleChain chain_;
};

std::string Id(const std::string& key) { return std::to_string(SampleId(key)); }

TEST_F(RuleChainTest, PluginRulesTakeTheirPlaceInRuleOrder) {
  std::string err;
  ASSERT_TRUE(Load(R"(
[[rule]]
id = "web"
label = "web"
filter = "tcp port 80"

[[rule]]
id = "echo"
plugin = "test_echo"
filter = "udp"
meta = { run = 3 }

[[rule]]
id = "rest"
label = "other"

[[plugin]]
name = "test_echo"
path = ")" + kEcho + R"("
every = 2
ticks = true
)",
                   &err))
      << err;
  Segment web{"10.0.0.1", "10.0.0.2", 5000, 80, 6, 1, 0x18, {}};
  Segment udp{"10.0.0.1", "10.0.0.2", 5000, 53, 17, 0, 0, {}};
  Segment ssh{"10.0.0.1", "10.0.0.2", 5000, 22, 6, 1, 0x18, {}};
  EXPECT_EQ(Comment(web), Id("web") + ",web");
  EXPECT_EQ(Comment(udp), Id("rest") + ",other");  // echo labels every 2nd: no opinion falls through
  EXPECT_EQ(Comment(udp), Id("echo|echo") + ",echo,run=3,ticks=1");
  EXPECT_EQ(Comment(ssh), Id("rest") + ",other");
  // The filter keeps the plugin off packets it does not need.
  EXPECT_EQ(plugins_.Find("test_echo")->counts().in, 2u);
  EXPECT_EQ(chain_.size(), 3u);
  EXPECT_EQ(chain_.plugin_samples(), 1u);
  EXPECT_EQ(chain_.rules()[1]->plugin, "test_echo");
}

TEST_F(RuleChainTest, AnEarlierRuleWinsOverAPluginRule) {
  std::string err;
  ASSERT_TRUE(
      Load("[[rule]]\nid = 'all-udp'\nlabel = 'udp'\nfilter = 'udp'\n"
           "[[rule]]\nid = 'echo'\nplugin = 'test_echo'\n"
           "[[plugin]]\nname = 'test_echo'\npath = '" +
               kEcho + "'\n",
           &err))
      << err;
  EXPECT_EQ(Comment({"10.0.0.1", "10.0.0.2", 1, 2, 17, 0, 0, {}}), Id("all-udp") + ",udp");
  EXPECT_EQ(Comment({"10.0.0.1", "10.0.0.2", 1, 2, 6, 0, 0, {}}), Id("echo|echo") + ",echo");
  EXPECT_EQ(plugins_.Find("test_echo")->counts().in, 1u);
}

TEST_F(RuleChainTest, AFlowKeepsItsSampleWhetherAPluginPassedItOnOrNot) {
  // The plugin's filter matches some packets of the flow (payload byte 1):
  // those reach the flow rule after the plugin's no opinion, the others
  // directly. Both must get the one sample of the flow.
  std::string err;
  ASSERT_TRUE(
      Load("[[rule]]\nid = 'echo'\nplugin = 'test_echo'\nfilter = 'udp[8] = 1'\n"
           "[[rule]]\nid = 'flows'\nlabel = 'f'\nsample = 'flow'\nfilter = 'udp'\n"
           "[[plugin]]\nname = 'test_echo'\npath = '" +
               kEcho + "'\nevery = 1000\n",
           &err))
      << err;
  std::set<std::string> comments;
  for (int i = 0; i < 6; ++i) {
    Segment s{"10.0.0.1", "10.0.0.2", 5000, 53, 17, 0, 0, {static_cast<uint8_t>(i % 2)}};
    comments.insert(Comment(s, 1'700'000'000'000'000'000 + i));
  }
  ASSERT_EQ(comments.size(), 1u);
  EXPECT_EQ(*comments.begin(), Id("flows|17 10.0.0.1 5000 10.0.0.2 53|1700000000000000000") + ",f");
  EXPECT_EQ(plugins_.Find("test_echo")->counts().no_opinion, 3u);
}

TEST_F(RuleChainTest, ARuleNamingNoLoadedPluginIsAnError) {
  std::string err;
  EXPECT_FALSE(Load("[[rule]]\nid = 'sni'\nplugin = 'tls_sni'\nfilter = 'tcp port 443'\n", &err));
  EXPECT_NE(err.find(":1: rule 'sni': no plugin 'tls_sni' is loaded (give a [[plugin]] table or --plugin PATH)"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace pcapml
