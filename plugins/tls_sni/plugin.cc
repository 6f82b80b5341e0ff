// The tls_sni plugin's description and entry point.
#include "plugins/pcapml_plugin.h"
#include "plugins/tls_sni/tls_sni.h"

namespace pcapml::tls_sni {
namespace {

using plugin::ConfigType;

const plugin::ConfigKey kConfig[] = {
    {"names", ConfigType::kStringMap, "{}",
     "server-name patterns to labels: \"www.example.com\", \"*.example.com\" (names below it), \"*\""},
    {"unknown", ConfigType::kString, "\"name\"",
     "a name no pattern matches: \"name\" labels the connection with the name itself, \"ignore\" gives no opinion"},
    {"sample", ConfigType::kString, "\"connection\"",
     "\"connection\": one sample per TCP connection; \"label\": one sample per label"},
    {"name_field", ConfigType::kString, "\"sni\"", "also write the server name as this field (\"\": don't)"},
    {"idle_timeout", ConfigType::kDuration, "\"5m\"", "forget a connection silent for this long"},
    {"max_connections", ConfigType::kInteger, "65536",
     "connections tracked at once; the least recently seen makes room"},
    {"max_hello_bytes", ConfigType::kInteger, "16384", "give up on a ClientHello longer than this"},
};

std::unique_ptr<plugin::Instance> Create(const plugin::Config& config, std::string* err) {
  Settings s;
  if (!ReadSettings(config, &s, err)) return nullptr;
  return std::make_unique<TlsSni>(std::move(s));
}

const plugin::PluginInfo kInfo = {
    plugin::kApiVersion,
    "tls_sni",
    "labels TCP connections by the server name of their TLS ClientHello",
    kConfig,
    sizeof kConfig / sizeof kConfig[0],
    Create,
};

}  // namespace
}  // namespace pcapml::tls_sni

PCAPML_PLUGIN(pcapml::tls_sni::kInfo)
