// The pcapml plugin interface, the one header a plugin needs.
//
// A plugin is a shared library that labels packets BPF cannot describe (the
// TLS server name, the DNS name behind an address, ...). It describes itself
// with a PluginInfo (name, description, config table, factory) and ends with
// PCAPML_PLUGIN(info). pcapml calls Process for each packet that reaches a
// `plugin = "<name>"` rule and passes that rule's filter; the answer is no
// opinion (later rules are tried), a label, an error (counted), or "hold":
// undecided, keep this connection's packets until I know (see Result::kHold).
//
// Versioning (the Zeek scheme): PCAPML_PLUGIN exports the plain symbol
// `pcapml_plugin_api_version`, which pcapml reads from the file before
// loading it, and a reference to the host symbol `pcapml_host_v<N>`, which
// only a pcapml speaking version N defines: a plugin built against another
// version fails inside dlopen (pcapml loads with RTLD_NOW), never later.
// Plugin and pcapml must be built with the same compiler and C++ library:
// types of this header cross the boundary as they are.
//
// Per packet nothing is allocated on either side: the packet is a view of
// pcapml's buffer, and the label is string_views into plugin-owned storage,
// valid until the next call on the same instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef PCAPML_PLUGIN_API_VERSION
#define PCAPML_PLUGIN_API_VERSION 2
#endif

namespace pcapml::plugin {

inline constexpr uint32_t kApiVersion = PCAPML_PLUGIN_API_VERSION;

// --- Configuration -------------------------------------------------------

enum class ConfigType : uint8_t {
  kString,      // "text"
  kInteger,     // 42 (non-negative)
  kBool,        // true / false
  kDuration,    // "30s", "5m", or an integer of seconds; read as ns
  kStringList,  // ["a", "b"]
  kStringMap,   // { "key" = "value", ... } (TOML keys sort: order carries no meaning)
};

// One row of a plugin's config table. pcapml validates the settings a user
// gives against it (unknown key: error naming it; wrong type: error) and
// fills in defaults, so Create only reads values that are there.
struct ConfigKey {
  const char* key;
  ConfigType type;
  const char* default_value;  // TOML text of the default ("\"name\"", "60", "[]", "{}")
  const char* description;
};

struct ConfigValue {
  std::string key;
  ConfigType type = ConfigType::kString;
  std::string text;                                      // kString
  int64_t number = 0;                                    // kInteger, kBool (0/1), kDuration (ns)
  std::vector<std::string> list;                         // kStringList
  std::vector<std::pair<std::string, std::string>> map;  // kStringMap, sorted by key
};

// A plugin instance's settings: one value per row of the config table.
class Config {
 public:
  std::vector<ConfigValue> values;

  const ConfigValue* Find(std::string_view key) const {
    for (const ConfigValue& v : values)
      if (v.key == key) return &v;
    return nullptr;
  }
  std::string String(std::string_view key) const { return Find(key) ? Find(key)->text : ""; }
  int64_t Integer(std::string_view key) const { return Find(key) ? Find(key)->number : 0; }
  bool Bool(std::string_view key) const { return Integer(key) != 0; }
  int64_t DurationNs(std::string_view key) const { return Integer(key); }
  std::vector<std::string> List(std::string_view key) const {
    return Find(key) ? Find(key)->list : std::vector<std::string>{};
  }
  std::vector<std::pair<std::string, std::string>> Map(std::string_view key) const {
    return Find(key) ? Find(key)->map : std::vector<std::pair<std::string, std::string>>{};
  }
};

// --- Packets -------------------------------------------------------------

// One packet as pcapml hands it over: the captured bytes and the IP view
// pcapml decoded once (Ethernet with VLAN tags, Linux SLL/SLL2, raw IP,
// BSD loopback). Pointers are valid during the call only.
struct Packet {
  int64_t ts_ns = 0;  // nanoseconds since the epoch
  uint16_t link_type = 0;
  const uint8_t* data = nullptr;
  uint32_t caplen = 0, orig_len = 0;

  uint8_t ip_version = 0;        // 4 or 6; 0: not IP (the fields below are unset)
  uint8_t protocol = 0;          // IP protocol after IPv6 extension headers (6 TCP, 17 UDP)
  const uint8_t* src = nullptr;  // 4 or 16 address bytes
  const uint8_t* dst = nullptr;
  bool has_ports = false;  // TCP or UDP header present (not a later fragment)
  uint16_t src_port = 0, dst_port = 0;
  uint8_t tcp_flags = 0;  // kTcpSyn, ...
  uint32_t tcp_seq = 0;
  const uint8_t* payload = nullptr;  // transport payload as captured, IP padding cut
  uint32_t payload_len = 0;
  uint32_t payload_orig_len = 0;  // the payload length the IP header claims
};

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
inline constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;

// --- Verdicts ------------------------------------------------------------

enum class Result : uint8_t {
  kNoOpinion,  // later rules are tried
  kLabel,      // *label is filled in
  kError,      // the packet was malformed for this plugin (counted; later rules are tried)
  kHold,       // undecided: pcapml holds the packet until the plugin decides its connection (below)
};

// Holding (since interface version 2). A plugin that cannot decide yet
// (tls_sni before the ClientHello: the SYN, SYN-ACK and ACK) answers kHold.
// pcapml keeps the packet, and every packet after it, in a delay line in
// front of the writer, and asks the plugin about the next packets of the
// connection as they come. The connection is pcapml's, not the plugin's:
// the packet's IP version, protocol and its two (address, port) endpoints in
// either direction (the address pair for packets without ports). The first
// other answer the plugin gives for a packet of that connection settles the
// held ones: kLabel writes them with that label (sample key and fields
// included), kNoOpinion or kError hands them to the rules after the plugin
// rule, as if the plugin had said so at once. Packets of other connections
// wait behind a held one, so files stay in capture order. pcapml also ends a
// hold by itself, handing the packets on as for kNoOpinion, when the packet
// has waited `hold` of packet time (2s by default) or the held packets
// exceed `hold_bytes` (64 MiB by default), and at the end of the input,
// at rotation and at stop. A plugin that holds should give up (kNoOpinion)
// as soon as it knows it will never decide (a FIN or RST, the server
// speaking first) rather than leave it to the limit, which is counted.
// A held packet handed on to a later plugin rule may be held again by it;
// with holding off (`hold = "0s"`), kHold counts as kNoOpinion.

struct Field {
  std::string_view key, value;  // written as ",key=value" after the rule's meta
};

inline constexpr size_t kMaxFields = 8;

struct Label {
  // Text without ',' or line breaks (field keys also without '='); pcapml
  // counts a packet whose label breaks this as an error.
  std::string_view label;
  Field fields[kMaxFields];
  uint32_t field_count = 0;
  // The packet's sample within the rule: the sample key is
  // "<rule key>|<sample_key>" (docs/format.md: Sample IDs). Empty: "<rule key>|<label>", one
  // sample per label.
  std::string_view sample_key;
};

// --- Statistics ------------------------------------------------------------

// Numbers a plugin keeps about itself beyond what pcapml counts for every
// plugin (packets by result): what its bounded tables evicted, what it
// could not attribute, how much it tracks now. A plugin lists them in
// PluginInfo::stats; pcapml reads them with Instance::Stats about ten
// times a second in the daemon (the metrics
// pcapml_plugin_counter_total{plugin,name} and pcapml_plugin_gauge{plugin,name})
// and once at the end of `pcapml label --stats`. Since interface version 2.
enum class StatKind : uint8_t {
  kCounter,  // only grows (events since the instance was created)
  kGauge,    // a level that goes up and down (entries in a table now)
};

// One row of a plugin's statistics table. pcapml checks the table when it
// loads the plugin: at most kMaxStats rows; names of 1 to kMaxStatName
// characters [a-z0-9_] starting with a letter, distinct; a description.
struct StatKey {
  const char* name;
  StatKind kind;
  const char* description;
};

inline constexpr size_t kMaxStats = 16;
inline constexpr size_t kMaxStatName = 48;

// One configured instance of a plugin, with its own state. Called from one
// thread at a time.
class Instance {
 public:
  virtual ~Instance() = default;
  // Classifies one packet; may keep per-flow state. kHold: see Holding.
  virtual Result Process(const Packet& packet, Label* label) = 0;
  // Called as packet time passes (about once a second of it, and before the
  // first packet): drop state that timed out.
  virtual void Tick(int64_t now_ns) {}
  // Writes the current value of each row of PluginInfo::stats to
  // values[row] (values has PluginInfo::stats_size elements, zeroed).
  // Called between packets on the packet thread, like Process; it may bring
  // the instance up to date first (process reads the events waiting in its
  // ring), and should be cheap. A plugin without statistics leaves it alone.
  virtual void Stats(uint64_t* values) {}
};

struct PluginInfo {
  uint32_t api_version;  // kApiVersion
  const char* name;      // what `plugin = "<name>"` and [[plugin]] name say
  const char* description;
  const ConfigKey* config;
  size_t config_size;
  // A new instance from validated settings; null and *err set if they make
  // no sense together.
  std::unique_ptr<Instance> (*create)(const Config& config, std::string* err);
  // Non-null: the plugin labels live capture only (its answers come from
  // the host as packets pass), and this says why. `pcapml label` and a
  // daemon replaying files refuse it before creating an instance.
  const char* live_only = nullptr;
  // Its statistics (see Statistics): stats_size rows, or none.
  const StatKey* stats = nullptr;
  size_t stats_size = 0;
};

}  // namespace pcapml::plugin

#define PCAPML_PLUGIN_CAT2(a, b) a##b
#define PCAPML_PLUGIN_CAT(a, b) PCAPML_PLUGIN_CAT2(a, b)
// The host's version marker and the plugin's versioned entry point.
#define PCAPML_PLUGIN_HOST_SYMBOL PCAPML_PLUGIN_CAT(pcapml_host_v, PCAPML_PLUGIN_API_VERSION)
#define PCAPML_PLUGIN_ENTRY_SYMBOL PCAPML_PLUGIN_CAT(pcapml_plugin_v, PCAPML_PLUGIN_API_VERSION)

extern "C" {
// Defined by pcapml (exported from its binary), never by a plugin.
extern const uint32_t PCAPML_PLUGIN_HOST_SYMBOL;
}

// Exports the plugin. `info` is a PluginInfo with static storage duration.
// The data reference to the host marker binds when the library loads.
#define PCAPML_PLUGIN(info)                                                                                 \
  extern "C" {                                                                                              \
  __attribute__((visibility("default"), used)) extern const uint32_t pcapml_plugin_api_version =            \
      PCAPML_PLUGIN_API_VERSION;                                                                            \
  __attribute__((visibility("default"), used)) extern const uint32_t* const pcapml_plugin_host_marker =     \
      &PCAPML_PLUGIN_HOST_SYMBOL;                                                                           \
  __attribute__((visibility("default"))) const ::pcapml::plugin::PluginInfo* PCAPML_PLUGIN_ENTRY_SYMBOL() { \
    return &(info);                                                                                         \
  }                                                                                                         \
  }
