// The dns plugin's description and entry point.
#include "plugins/dns/dns.h"
#include "plugins/pcapml_plugin.h"

namespace pcapml::dns {
namespace {

using plugin::ConfigType;

const plugin::ConfigKey kConfig[] = {
    {"names", ConfigType::kStringMap, "{}",
     "name patterns to labels: \"www.example.com\", \"*.example.com\" (names below it), \"*\""},
    {"unknown", ConfigType::kString, "\"name\"",
     "a name no pattern matches: \"name\" labels with the name itself, \"ignore\" does not learn it"},
    {"sample", ConfigType::kString, "\"connection\"",
     "\"connection\": one sample per connection (5-tuple); \"label\": one sample per label"},
    {"name_field", ConfigType::kString, "\"dns\"", "also write the name asked as this field (\"\": don't)"},
    {"min_ttl", ConfigType::kDuration, "\"0s\"", "answers are trusted at least this long"},
    {"max_ttl", ConfigType::kDuration, "\"1d\"", "and at most this long"},
    {"idle_timeout", ConfigType::kDuration, "\"5m\"", "a labeled connection silent this long ends"},
    {"max_addresses", ConfigType::kInteger, "65536", "addresses remembered at once (least recently seen go first)"},
    {"max_connections", ConfigType::kInteger, "65536", "connections tracked at once"},
    {"lookups", ConfigType::kString, "\"label\"",
     "\"label\": a lookup (UDP query and answer, a TCP connection to port 53 from its SYN) takes the name it "
     "asked, its query held until the answer; \"pass\": lookups get no opinion"},
};

std::unique_ptr<plugin::Instance> Create(const plugin::Config& config, std::string* err) {
  Settings s;
  if (!ReadSettings(config, &s, err)) return nullptr;
  return std::make_unique<Dns>(std::move(s));
}

const plugin::PluginInfo kInfo = {
    plugin::kApiVersion,
    "dns",
    "labels traffic to and from addresses by the DNS name that resolved to them",
    kConfig,
    sizeof kConfig / sizeof kConfig[0],
    Create,
};

}  // namespace
}  // namespace pcapml::dns

PCAPML_PLUGIN(pcapml::dns::kInfo)
