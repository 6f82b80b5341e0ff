// The process plugin's description and entry point.
#include "plugins/pcapml_plugin.h"
#include "plugins/process/process.h"

namespace pcapml::process {
namespace {

using plugin::ConfigType;

const plugin::ConfigKey kConfig[] = {
    {"label_from", ConfigType::kString, "\"comm\"",
     "what labels a socket's packets: \"comm\" (command name at connect/bind), \"exe\", \"unit\" (systemd unit or "
     "scope), \"container\" (container ID), \"cgroup\" (cgroup v2 path) or \"uid\""},
    {"names", ConfigType::kStringMap, "{}",
     "glob patterns over that value to labels: \"firefox*\" = \"browsing\"; an exact name beats globs, the most "
     "literal glob wins"},
    {"unknown", ConfigType::kString, "\"name\"",
     "a value no pattern matches: \"name\" labels with the value itself, \"ignore\" gives no opinion"},
    {"fields", ConfigType::kStringList, "[\"pid\", \"comm\", \"uid\", \"unit\", \"container\"]",
     "also write these as fields (pid, tid, comm, exe, uid, cgroup, unit, container; unknown ones are left out)"},
    {"sample", ConfigType::kString, "\"connection\"",
     "\"connection\": one sample per connection (5-tuple); \"label\": one sample per label"},
    {"grace", ConfigType::kDuration, "\"60s\"",
     "a closed socket still owns its packets this long (FIN, RST, late retransmissions)"},
    {"idle_timeout", ConfigType::kDuration, "\"5m\"", "a connection silent this long starts a new sample"},
    {"max_sockets", ConfigType::kInteger, "65536",
     "sockets tracked at once; the least recently used makes room (about 260 bytes each)"},
    {"max_connections", ConfigType::kInteger, "65536", "connections whose sample is tracked at once"},
    {"ring_bytes", ConfigType::kInteger, "4194304",
     "the eBPF ring buffer's size (a power of two); a full ring loses socket announcements"},
    {"cgroup_root", ConfigType::kString, "\"\"",
     "the cgroup v2 hierarchy to attach to (\"\": the cgroup2 mount, or a private mount of it)"},
};

std::unique_ptr<plugin::Instance> Create(const plugin::Config& config, std::string* err) {
  Settings s;
  if (!ReadSettings(config, &s, err)) return nullptr;
  auto p = std::make_unique<ProcessLabeler>(std::move(s));
  if (!p->Start(err)) return nullptr;
  return p;
}

const plugin::PluginInfo kInfo = {
    plugin::kApiVersion,
    "process",
    "labels this host's sockets' packets by the program that owns them (pid, command, unit, container; eBPF)",
    kConfig,
    sizeof kConfig / sizeof kConfig[0],
    Create,
    "it labels packets by the sockets of this host that send and receive them, as they do; a capture file "
    "carries no owners, so only the daemon capturing live can use it",
    kStats,
    std::size(kStats),
};

}  // namespace
}  // namespace pcapml::process

PCAPML_PLUGIN(pcapml::process::kInfo)
