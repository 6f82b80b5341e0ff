// A plugin for the loader's tests (not installed): labels every IP packet
// with its `label` setting, and takes a setting of every config type.
// Built as test_echo.so (no statistics: a plugin written before them),
// against interface versions 999 and 1 as test_echo_v999.so and
// test_echo_v1.so, with statistics (PCAPML_TEST_ECHO_STATS) as
// test_echo_stats.so, and with a statistics table pcapml must refuse
// (PCAPML_TEST_ECHO_BAD_STATS) as test_echo_bad_stats.so.
#include <charconv>
#include <iterator>

#include "plugins/pcapml_plugin.h"

namespace {

using pcapml::plugin::ConfigType;
using pcapml::plugin::Result;

const pcapml::plugin::ConfigKey kConfig[] = {
    {"label", ConfigType::kString, "\"echo\"", "the label of every IP packet"},
    {"every", ConfigType::kInteger, "1", "label only every Nth IP packet"},
    {"ticks", ConfigType::kBool, "false", "write the number of ticks so far as field ticks"},
    {"hold", ConfigType::kDuration, "\"1s\"", "unused: a duration setting"},
    {"tags", ConfigType::kStringList, "[]", "unused: a list setting"},
    {"table", ConfigType::kStringMap, "{}", "unused: a table setting"},
};

class Echo : public pcapml::plugin::Instance {
 public:
  Echo(std::string label, int64_t every, bool ticks) : label_(std::move(label)), every_(every), ticks_(ticks) {}

  Result Process(const pcapml::plugin::Packet& p, pcapml::plugin::Label* out) override {
    if (p.ip_version == 0) return Result::kNoOpinion;
    ++ip_packets_;
    if (++seen_ % every_ != 0) return Result::kNoOpinion;
    out->label = label_;
    if (ticks_) {
      auto [end, ec] = std::to_chars(digits_, digits_ + sizeof digits_, tick_count_);
      out->fields[0] = {"ticks", std::string_view(digits_, end - digits_)};
      out->field_count = 1;
    }
    return Result::kLabel;
  }
  void Tick(int64_t) override { ++tick_count_; }
#if defined(PCAPML_TEST_ECHO_STATS) || defined(PCAPML_TEST_ECHO_BAD_STATS)
  void Stats(uint64_t* values) override {
    values[0] = ip_packets_;
    values[1] = static_cast<uint64_t>(seen_ % every_);
  }
#endif

 private:
  std::string label_;
  int64_t every_, seen_ = 0;
  bool ticks_;
  uint64_t tick_count_ = 0, ip_packets_ = 0;
  char digits_[24];
};

std::unique_ptr<pcapml::plugin::Instance> Create(const pcapml::plugin::Config& c, std::string* err) {
  if (c.Integer("every") < 1) return *err = "every must be at least 1", nullptr;
  return std::make_unique<Echo>(c.String("label"), c.Integer("every"), c.Bool("ticks"));
}

#if defined(PCAPML_TEST_ECHO_STATS) || defined(PCAPML_TEST_ECHO_BAD_STATS)
using pcapml::plugin::StatKind;
const pcapml::plugin::StatKey kStats[] = {
    {"ip_packets", StatKind::kCounter, "IP packets seen"},
#ifdef PCAPML_TEST_ECHO_BAD_STATS
    {"Pending-Packets", StatKind::kGauge, "not a name pcapml takes"},
#else
    {"pending", StatKind::kGauge, "IP packets since the last one labeled (every > 1)"},
#endif
};
#endif

const pcapml::plugin::PluginInfo kInfo = {
    pcapml::plugin::kApiVersion,
    "test_echo",
    "labels every IP packet with one label (tests only)",
    kConfig,
    sizeof kConfig / sizeof kConfig[0],
    Create,
#if defined(PCAPML_TEST_ECHO_STATS) || defined(PCAPML_TEST_ECHO_BAD_STATS)
    nullptr,
    kStats,
    std::size(kStats),
#endif
};

}  // namespace

PCAPML_PLUGIN(kInfo)
