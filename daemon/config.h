// The daemon's configuration file (TOML; config/pcapml.toml documents every key), validated as a whole:
// unknown keys and bad values are errors naming the file and line.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "classify/delay_line.h"
#include "plugin_host/plugin_spec.h"

namespace pcapml {

struct SourceConfig {
  // Exactly one of interface / file.
  std::string interface;
  std::string file;
  // Live capture.
  uint32_t snaplen = 262144;
  bool promisc = true;
  uint64_t buffer_bytes = 64u << 20;
  std::string filter;  // capture filter, compiled into the kernel
  // Replay.
  bool recorded_pace = false;
  double speed = 1.0;
  std::string origin;         // "<file>:<line>: source N interface" (or file), for later checks
  std::string filter_origin;  // the same for filter
  std::string name() const { return interface.empty() ? file : interface; }
};

struct OutputConfig {
  std::string directory = ".";
  std::string prefix = "capture";
  uint64_t rotate_bytes = 0;
  int64_t rotate_seconds = 0;
  uint64_t rotate_packets = 0;
  uint32_t max_files = 0;
  uint64_t max_bytes = 0;                // disk budget of the completed files (the oldest go); 0 = none
  std::vector<std::string> post_rotate;  // argv; "{path}" replaced
  bool fsync = true;
};

struct DaemonConfig {
  std::string path;  // the file it came from
  std::string sensor_id;
  std::string user;  // drop to this user after opening captures (when root, outside systemd)
  std::vector<SourceConfig> sources;
  std::vector<std::string> rule_files;
  std::vector<PluginSpec> plugins;  // [[plugin]]: instances for plugin = "<name>" rules
  bool keep_unmatched = false;
  HoldLimits hold;  // [rules] hold, hold_bytes: how long and how much plugins may hold (classify/delay_line.h)
  OutputConfig output;
  std::string metrics_listen = "127.0.0.1:9431";        // "" = off
  std::string metrics_listen_key = "[metrics] listen";  // where it was given, for messages
  std::string control_socket;                           // "" = off
  // Where checked keys were set ("output.directory" -> "<file>:<line>: [output] directory"), so checks made
  // after parsing (daemon/preflight.h) name the key, file and line too.
  std::map<std::string, std::string> origins;
  // The origin of key, or "<file>: <key> (default)" when the file does not set it.
  std::string Origin(const std::string& key) const;
};

bool LoadDaemonConfig(const std::string& path, DaemonConfig* config, std::string* err);

}  // namespace pcapml
