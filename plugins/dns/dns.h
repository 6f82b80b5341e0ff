// dns: learns which name an address belongs to from the DNS answers it sees
// (UDP from port 53, and TCP port 53 reassembled; A and AAAA records, valid
// for their TTL) and labels later connections to or from that address by
// the name asked, or by a pattern table. A connection keeps the label it
// started with until it is idle, even when the answer's TTL runs out
// meanwhile.
//
// The lookups themselves (lookups = "label"): a UDP query is held
// (plugin::Result::kHold) until its answer, a TCP connection to port 53
// from its SYN until its first answer; then they take the name asked, or go
// on to later rules when there is no answer with a name to label.
#pragma once

#include <string>

#include "plugins/common/flow_map.h"
#include "plugins/common/name_table.h"
#include "plugins/dns/dns_message.h"
#include "plugins/dns/dns_stream.h"
#include "plugins/pcapml_plugin.h"

namespace pcapml::dns {

struct Settings : plugin_common::NamingSettings {
  Settings() { name_field = "dns"; }
  int64_t min_ttl_ns = 0;                   // TTLs below are raised to this
  int64_t max_ttl_ns = 86'400'000'000'000;  // and above lowered to this
  int64_t idle_timeout_ns = 300'000'000'000;
  size_t max_addresses = 65536, max_connections = 65536;
  bool label_lookups = true;  // lookups = "label"
};

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err);

class Dns : public plugin::Instance {
 public:
  explicit Dns(Settings s)
      : s_(std::move(s)), addresses_(s_.max_addresses), conns_(s_.max_connections), tcp_(s_.max_connections) {}
  plugin::Result Process(const plugin::Packet& p, plugin::Label* label) override;
  void Tick(int64_t now_ns) override {
    addresses_.ExpireIdle(now_ns, s_.max_ttl_ns);
    conns_.ExpireIdle(now_ns, s_.idle_timeout_ns);
    tcp_.ExpireIdle(now_ns, s_.idle_timeout_ns);
  }
  size_t addresses() const { return addresses_.size(); }
  size_t connections() const { return conns_.size(); }

 private:
  struct Address {
    int64_t expires_ns = 0;
    std::string name, label;
    void Reset() { name.clear(), label.clear(); }
  };
  struct Conn {
    int64_t start_ns = 0;
    std::string name, label, sample_key;  // name empty: a lookup still waiting for its answer
    void Reset() { name.clear(), label.clear(), sample_key.clear(); }
  };
  // A TCP connection to port 53: its answers, and what it is labeled.
  struct TcpLookup {
    enum class Phase : uint8_t { kWaiting, kLabeled, kPassed } phase = Phase::kWaiting;
    bool server_is_low = false;
    DnsTcpStream answers;
    Conn conn;
    void Reset() {
      phase = Phase::kWaiting;
      answers.Reset();
      conn.Reset();
    }
  };

  plugin::Result Learn(const uint8_t* msg, size_t size, int64_t now_ns, bool* named);
  plugin::Result Udp(const plugin::Packet& p, plugin::Label* label);
  plugin::Result Tcp(const plugin::Packet& p, plugin::Label* label);
  void Name(const plugin_common::Key& key, Conn& c);
  const Address* Known(uint8_t ip_version, const uint8_t* addr, int64_t now_ns);
  plugin::Result Emit(const Conn& c, plugin::Label* label) const;

  Settings s_;
  plugin_common::FlowMap<Address> addresses_;
  plugin_common::FlowMap<Conn> conns_;
  plugin_common::FlowMap<TcpLookup> tcp_;
  DnsAnswer answer_;
  std::string name_, label_;  // of the last answer Learn read (named)
};

}  // namespace pcapml::dns
