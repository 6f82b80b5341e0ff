#include "plugin_host/plugin_loader.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "plugin_host/plugin_set.h"
#include "plugins/testing/test_packets.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

const std::string kBuilt = PCAPML_PLUGIN_BUILD_DIR;
const std::string kEcho = kBuilt + "/testing/test_echo.so";
const std::string kEcho999 = kBuilt + "/testing/test_echo_v999.so";
const std::string kEcho1 = kBuilt + "/testing/test_echo_v1.so";  // before Result::kHold
const std::string kEchoStats = kBuilt + "/testing/test_echo_stats.so";
const std::string kEchoBadStats = kBuilt + "/testing/test_echo_bad_stats.so";

// A private directory (0755) under the test temp dir.
std::string TempDir(const std::string& name) {
  fs::path d = fs::path(testing::TempDir()) / ("pcapml-plugins-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  chmod(d.c_str(), 0755);
  return d.string();
}

std::vector<PluginSpec> Specs(const std::string& toml_text, const std::string& file = "cfg.toml") {
  toml::table t = toml::parse(toml_text);
  std::vector<PluginSpec> specs;
  std::string err;
  EXPECT_TRUE(ReadPluginTables(*t.get("plugin"), file, "", &specs, &err)) << err;
  return specs;
}

TEST(PluginLoaderTest, LoadsAPluginAndReadsItsDescription) {
  LoadedPlugin p;
  std::string err;
  ASSERT_TRUE(LoadPlugin(kEcho, "test_echo", &p, &err)) << err;
  EXPECT_STREQ(p.info->name, "test_echo");
  EXPECT_EQ(p.info->api_version, HostApiVersion());
  EXPECT_EQ(p.info->config_size, 6u);
  EXPECT_EQ(p.path, fs::canonical(kEcho).string());
  std::string help = DescribePlugin(*p.info);
  EXPECT_NE(help.find("every (integer, default 1): label only every Nth IP packet"), std::string::npos) << help;
}

TEST(PluginLoaderTest, AnotherInterfaceVersionIsRefusedBeforeLoading) {
  LoadedPlugin p;
  std::string err;
  EXPECT_FALSE(LoadPlugin(kEcho999, "", &p, &err));
  EXPECT_NE(err.find("built against plugin API version 999, but this pcapml speaks version 2"), std::string::npos)
      << err;
  EXPECT_EQ(err.find(kEcho999), 0u) << err;
}

TEST(PluginLoaderTest, TheDynamicLinkerRefusesAnotherVersionByItself) {
  // Without the first check the stale plugin reaches dlopen, which fails on
  // its reference to pcapml_host_v999 (RTLD_NOW): its code never runs.
  LoadedPlugin p;
  std::string err;
  EXPECT_FALSE(LoadPlugin(kEcho999, "", &p, &err, LoadOptions{false}));
  EXPECT_NE(err.find("built against plugin API version 999, but this pcapml speaks version 2"), std::string::npos)
      << err;
}

TEST(PluginLoaderTest, APluginOfThePreviousVersionIsRefused) {
  // Version 1 had no Result::kHold: such a plugin never learned the answer,
  // and its build must not load, by either check.
  for (bool read_version_first : {true, false}) {
    LoadedPlugin p;
    std::string err;
    EXPECT_FALSE(LoadPlugin(kEcho1, "", &p, &err, LoadOptions{read_version_first}));
    EXPECT_NE(err.find("built against plugin API version 1, but this pcapml speaks version 2"), std::string::npos)
        << err;
  }
}

TEST(PluginLoaderTest, ANameOtherThanConfiguredIsRefused) {
  LoadedPlugin p;
  std::string err;
  EXPECT_FALSE(LoadPlugin(kEcho, "tls_sni", &p, &err));
  EXPECT_NE(err.find("calls itself 'test_echo', not 'tls_sni' as configured"), std::string::npos) << err;
}

TEST(PluginLoaderTest, FilesThatAreNotPluginsAreRefused) {
  std::string dir = TempDir("notplugin"), err;
  std::ofstream(dir + "/text.so") << "not a library\n";
  LoadedPlugin p;
  EXPECT_FALSE(LoadPlugin(dir + "/text.so", "", &p, &err));
  EXPECT_NE(err.find("not a plugin: not an ELF file"), std::string::npos) << err;
  Dl_info info;  // a real shared library that is no plugin: libpcap
  ASSERT_TRUE(dladdr(reinterpret_cast<void*>(&pcap_lib_version), &info));
  EXPECT_FALSE(LoadPlugin(info.dli_fname, "", &p, &err));
  EXPECT_NE(err.find("not a pcapml plugin (it exports no pcapml_plugin_api_version)"), std::string::npos) << err;
  EXPECT_FALSE(LoadPlugin(dir + "/missing.so", "", &p, &err));
  EXPECT_NE(err.find("missing.so"), std::string::npos) << err;
  fs::remove_all(dir);
}

TEST(PluginLoaderTest, FilesOrDirectoriesWritableByOthersAreRefused) {
  std::string dir = TempDir("perms"), err;
  std::string copy = dir + "/test_echo.so";
  fs::copy_file(kEcho, copy);
  chmod(copy.c_str(), 0644);
  LoadedPlugin p;
  ASSERT_TRUE(LoadPlugin(copy, "test_echo", &p, &err)) << err;  // the temp dir above is sticky (/tmp)
  chmod(copy.c_str(), 0664);
  EXPECT_FALSE(LoadPlugin(copy, "test_echo", &p, &err));
  EXPECT_NE(err.find(copy + " is writable by users other than its owner"), std::string::npos) << err;
  chmod(copy.c_str(), 0644);
  chmod(dir.c_str(), 0777);
  EXPECT_FALSE(LoadPlugin(copy, "test_echo", &p, &err));
  EXPECT_NE(err.find(dir + " is writable by users other than its owner"), std::string::npos) << err;
  chmod(dir.c_str(), 01777);  // sticky: others cannot replace our file
  EXPECT_TRUE(LoadPlugin(copy, "test_echo", &p, &err)) << err;
  fs::remove_all(dir);
}

// Settings are kept as TOML text; keys with quotes, backslashes or control
// characters must read back as they were (toml++ 3.3 writes x' as 'x'').
TEST(PluginSetTest, SettingsWithOddKeysReadBackExactly) {
  LoadedPlugin p;
  std::string err;
  ASSERT_TRUE(LoadPlugin(kEcho, "test_echo", &p, &err)) << err;
  auto specs = Specs(
      "[[plugin]]\nname = 'test_echo'\n"
      "table = { \"x'\" = \"y'\", 'a\"b' = 'c\\d', \"t\\tab\" = \"\\u0001\", \"\" = \"é\" }\n"
      "tags = [\"it's\", \"q\\\"\"]\n");
  ASSERT_EQ(specs.size(), 1u);
  plugin::Config config;
  ASSERT_TRUE(BuildPluginConfig(*p.info, specs[0], &config, &err)) << err;
  std::vector<std::pair<std::string, std::string>> table;
  std::vector<std::string> tags;
  for (const auto& v : config.values) {
    if (v.key == "table") table = v.map;
    if (v.key == "tags") tags = v.list;
  }
  std::vector<std::pair<std::string, std::string>> want = {
      {"", "é"}, {"a\"b", "c\\d"}, {"t\tab", "\x01"}, {"x'", "y'"}};
  EXPECT_EQ(table, want);
  EXPECT_EQ(tags, (std::vector<std::string>{"it's", "q\""}));
}

TEST(PluginSetTest, SettingsAreCheckedAgainstTheConfigTable) {
  std::string err;
  {
    PluginSet set;
    EXPECT_FALSE(set.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\nlabl = 'x'\n"), &err));
    EXPECT_EQ(err,
              "cfg.toml:4: plugin 'test_echo' has no setting 'labl' (known: label, every, ticks, hold, tags, table)");
  }
  {
    PluginSet set;
    EXPECT_FALSE(set.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\nevery = 'often'\n"), &err));
    EXPECT_EQ(err, "cfg.toml:4: plugin 'test_echo': every must be a non-negative integer");
  }
  {
    PluginSet set;  // the plugin's own check, from Create
    EXPECT_FALSE(set.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\nevery = 0\n"), &err));
    EXPECT_EQ(err, "cfg.toml:1: plugin 'test_echo': every must be at least 1");
  }
  PluginSet set;
  ASSERT_TRUE(set.Load(
      Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\nhold = '2m'\ntags = ['a']\ntable = { b = 'c' }\n"),
      &err))
      << err;
  EXPECT_NE(set.Find("test_echo"), nullptr);
}

// process sets PluginInfo::live_only: offline it is refused before its
// factory (which would load eBPF programs) runs; live it is created.
TEST(PluginSetTest, ALiveOnlyPluginIsRefusedOffline) {
  const std::string process = kBuilt + "/process.so";
  LoadedPlugin p;
  std::string err;
  ASSERT_TRUE(LoadPlugin(process, "process", &p, &err)) << err;
  EXPECT_NE(p.live_only.find("only the daemon capturing live can use it"), std::string::npos) << p.live_only;
  ASSERT_TRUE(LoadPlugin(kEcho, "test_echo", &p, &err)) << err;
  EXPECT_EQ(p.live_only, "");
  PluginSet set;
  EXPECT_FALSE(
      set.Load(Specs("[[plugin]]\nname = 'process'\npath = '" + process + "'\nlabel_from = 'nonsense'\n"), &err));
  EXPECT_EQ(err.rfind("cfg.toml:1: plugin 'process' works only in the daemon capturing live interfaces: it labels", 0),
            0u)
      << err;
  // Live, it gets as far as its settings.
  EXPECT_FALSE(set.Load(Specs("[[plugin]]\nname = 'process'\npath = '" + process + "'\nlabel_from = 'nonsense'\n"),
                        &err, /*live_capture=*/true));
  EXPECT_NE(err.find("label_from must be"), std::string::npos) << err;
}

TEST(PluginSetTest, APluginLoadedTwiceIsRefused) {
  std::string err;
  PluginSet set;
  std::string text = "[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\n";
  EXPECT_FALSE(set.Load(Specs(text + text), &err));
  EXPECT_NE(err.find("cfg.toml:4: plugin 'test_echo' (" + fs::canonical(kEcho).string() +
                     ") is loaded twice (first by cfg.toml:1)"),
            std::string::npos)
      << err;
}

TEST(PluginSetTest, APathlessTableConfiguresThePluginOfACommandLinePath) {
  std::vector<PluginSpec> specs = {{"", kEcho, "--plugin " + kEcho, {}}};
  for (PluginSpec& s : Specs("[[plugin]]\nname = 'test_echo'\nlabel = 'from-toml'\n", "rules.toml")) specs.push_back(s);
  PluginSet set;
  std::string err;
  ASSERT_TRUE(set.Load(specs, &err)) << err;
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.at(0).source(), "rules.toml:1");
  auto t = testing_packets::Decoded({}, 1);
  plugin::Label label;
  ASSERT_EQ(set.Find("test_echo")->Process(t.view, &label), plugin::Result::kLabel);
  EXPECT_EQ(label.label, "from-toml");
}

TEST(PluginSetTest, TheFrameworkCountsAndChecksLabels) {
  PluginSet set;
  std::string err;
  ASSERT_TRUE(
      set.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\nevery = 2\nticks = true\n"), &err))
      << err;
  PluginInstance* echo = set.Find("test_echo");
  plugin::Label label;
  auto t = testing_packets::Decoded({}, 5'000'000'000);
  EXPECT_EQ(echo->Process(t.view, &label), plugin::Result::kNoOpinion);
  EXPECT_EQ(echo->Process(t.view, &label), plugin::Result::kLabel);
  EXPECT_EQ(label.fields[0].value, "1");  // ticked once, before the first packet
  t.view.ts_ns += 2'500'000'000;
  echo->Process(t.view, &label);
  EXPECT_EQ(echo->Process(t.view, &label), plugin::Result::kLabel);
  EXPECT_EQ(label.fields[0].value, "2");
  t.view.ip_version = 0;
  echo->Process(t.view, &label);
  const PluginCounts& c = echo->counts();
  EXPECT_EQ(c.in, 5u);
  EXPECT_EQ(c.labeled, 2u);
  EXPECT_EQ(c.no_opinion, 3u);
  EXPECT_EQ(c.errors, 0u);

  PluginSet bad;  // a label the comment format cannot carry is the plugin's error
  ASSERT_TRUE(bad.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\nlabel = 'a,b'\n"), &err)) << err;
  t.view.ip_version = 4;
  EXPECT_EQ(bad.Find("test_echo")->Process(t.view, &label), plugin::Result::kError);
  EXPECT_EQ(bad.Find("test_echo")->counts().errors, 1u);
}

// A plugin's own statistics: read through the instance, in the order of its
// table; a plugin without a table (all plugins before them) has none.
TEST(PluginSetTest, APluginsStatisticsAreReadInTheOrderOfItsTable) {
  LoadedPlugin p;
  std::string err;
  ASSERT_TRUE(LoadPlugin(kEchoStats, "test_echo", &p, &err)) << err;
  ASSERT_EQ(p.info->stats_size, 2u);
  EXPECT_STREQ(p.info->stats[0].name, "ip_packets");
  EXPECT_EQ(p.info->stats[1].kind, plugin::StatKind::kGauge);
  std::string help = DescribePlugin(*p.info);
  EXPECT_NE(help.find("\n  statistic ip_packets (counter): IP packets seen\n"), std::string::npos) << help;
  EXPECT_NE(help.find("\n  statistic pending (gauge): IP packets since the last one labeled"), std::string::npos)
      << help;

  PluginSet set;
  ASSERT_TRUE(set.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEchoStats + "'\nevery = 3\n"), &err)) << err;
  PluginInstance* echo = set.Find("test_echo");
  EXPECT_EQ(echo->Stats(), (std::vector<uint64_t>{0, 0}));
  auto t = testing_packets::Decoded({}, 1);
  plugin::Label label;
  for (int i = 0; i < 4; ++i) echo->Process(t.view, &label);
  t.view.ip_version = 0;  // not IP: not counted by the plugin
  echo->Process(t.view, &label);
  EXPECT_EQ(echo->Stats(), (std::vector<uint64_t>{4, 1}));
  EXPECT_EQ(echo->counts().in, 5u);

  PluginSet old;  // the same plugin without statistics
  ASSERT_TRUE(old.Load(Specs("[[plugin]]\nname = 'test_echo'\npath = '" + kEcho + "'\n"), &err)) << err;
  EXPECT_EQ(old.at(0).info().stats_size, 0u);
  t.view.ip_version = 4;
  EXPECT_EQ(old.Find("test_echo")->Process(t.view, &label), plugin::Result::kLabel);
  EXPECT_TRUE(old.at(0).Stats().empty());
  EXPECT_EQ(DescribePlugin(old.at(0).info()).find("statistic"), std::string::npos);
}

TEST(PluginLoaderTest, AStatisticsTableWithABadNameIsRefused) {
  LoadedPlugin p;
  std::string err;
  EXPECT_FALSE(LoadPlugin(kEchoBadStats, "test_echo", &p, &err));
  EXPECT_EQ(err, kEchoBadStats +
                     ": row 2 of its statistics table is named 'Pending-Packets': names are 1 to 48 of a-z, 0-9 "
                     "and '_', starting with a letter");
}

}  // namespace
}  // namespace pcapml
