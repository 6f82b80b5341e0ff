// tls_sni: labels a TCP connection by the server name its client asked for
// in the TLS ClientHello, every packet of it, both directions. The client's
// first bytes are reassembled in order (a ClientHello may span segments);
// the packets before the name is known (SYN, SYN-ACK, ACK) are held
// (plugin::Result::kHold), so they get the label too, or go on to later
// rules when the connection closes, the server speaks first or the bytes
// are not a ClientHello with a name.
#pragma once

#include <memory>
#include <string>

#include "plugins/common/flow_map.h"
#include "plugins/common/name_table.h"
#include "plugins/pcapml_plugin.h"
#include "plugins/tls_sni/client_hello.h"

namespace pcapml::tls_sni {

struct Settings : plugin_common::NamingSettings {
  Settings() { name_field = "sni"; }
  int64_t idle_timeout_ns = 300'000'000'000;
  size_t max_connections = 65536;
  size_t max_hello_bytes = 16384;
};

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err);

class TlsSni : public plugin::Instance {
 public:
  explicit TlsSni(Settings s) : s_(std::move(s)), conns_(s_.max_connections) {}
  plugin::Result Process(const plugin::Packet& p, plugin::Label* label) override;
  void Tick(int64_t now_ns) override { conns_.ExpireIdle(now_ns, s_.idle_timeout_ns); }
  size_t connections() const { return conns_.size(); }

 private:
  enum class Phase : uint8_t { kWaiting, kLabeled, kIgnored };
  struct Conn {
    Phase phase = Phase::kWaiting;
    bool client_known = false, client_is_low = false, seq_known = false;
    uint32_t next_seq = 0;
    int64_t start_ns = 0;
    std::string hello;  // the client's bytes so far
    std::string name, label, sample_key;
    void Reset() {
      phase = Phase::kWaiting;
      client_known = seq_known = false;
      hello.clear(), name.clear(), label.clear(), sample_key.clear();
    }
  };

  plugin::Result Waiting(const plugin::Packet& p, bool src_is_low, const plugin_common::Key& key, Conn& c);
  bool Append(const plugin::Packet& p, Conn& c);
  plugin::Result Named(std::string_view name, const plugin_common::Key& key, Conn& c);
  plugin::Result Emit(const Conn& c, plugin::Label* label) const;

  Settings s_;
  plugin_common::FlowMap<Conn> conns_;
  std::unique_ptr<uint8_t[]> scratch_;
};

}  // namespace pcapml::tls_sni
