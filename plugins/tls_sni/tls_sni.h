// tls_sni: labels a TCP connection by the server name its client asked for
// in the TLS ClientHello, every packet of it, both directions. The client's
// first bytes are reassembled in order (a ClientHello may span segments);
// the packets before the name is known (SYN, SYN-ACK, ACK) are held
// (plugin::Result::kHold), so they get the label too, or go on to later
// rules when the connection closes, the server speaks first or the bytes
// are not a ClientHello with a name.
//
// QUIC (versions 1 and 2) likewise: the connection is the UDP 4-tuple of
// a client's Initial; its Initials are decrypted, their CRYPTO frames
// gathered (across frames, coalesced packets and datagrams, in any order)
// into the ClientHello, and every packet of it, both directions, is held
// until the name is known.
#pragma once

#include <memory>
#include <string>

#include "plugins/common/flow_map.h"
#include "plugins/common/name_table.h"
#include "plugins/pcapml_plugin.h"
#include "plugins/tls_sni/client_hello.h"
#include "plugins/tls_sni/quic.h"

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
  explicit TlsSni(Settings s) : s_(std::move(s)), conns_(s_.max_connections), quic_(s_.max_connections) {}
  plugin::Result Process(const plugin::Packet& p, plugin::Label* label) override;
  void Tick(int64_t now_ns) override {
    conns_.ExpireIdle(now_ns, s_.idle_timeout_ns);
    quic_.ExpireIdle(now_ns, s_.idle_timeout_ns);
  }
  size_t connections() const { return conns_.size(); }
  size_t quic_connections() const { return quic_.size(); }

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

  // A QUIC connection: keys from its client's first Initial.
  struct QuicConn {
    Phase phase = Phase::kWaiting;
    bool client_is_low = false, keys_known = false;
    uint32_t version = 0, initials = 0;
    int64_t start_ns = 0;
    InitialKeys keys;
    CryptoStream crypto;
    std::string name, label, sample_key;
    void Reset() {
      phase = Phase::kWaiting;
      keys_known = false;
      initials = 0;
      crypto.Reset();
      name.clear(), label.clear(), sample_key.clear();
    }
  };

  plugin::Result Waiting(const plugin::Packet& p, bool src_is_low, const plugin_common::Key& key, Conn& c);
  bool Append(const plugin::Packet& p, Conn& c);
  // Labels c (Conn or QuicConn) by name, or ignores it.
  template <typename C>
  plugin::Result Named(std::string_view name, const plugin_common::Key& key, int64_t start_ns, C& c);
  template <typename C>
  plugin::Result Emit(const C& c, plugin::Label* label) const;
  plugin::Result ProcessQuic(const plugin::Packet& p, plugin::Label* label);
  plugin::Result QuicClient(const plugin::Packet& p, const plugin_common::Key& key, QuicConn& c);
  plugin::Result ReadInitial(const uint8_t* packet, const LongHeader& h, QuicConn& c);

  Settings s_;
  plugin_common::FlowMap<Conn> conns_;
  plugin_common::FlowMap<QuicConn> quic_;
  std::unique_ptr<uint8_t[]> scratch_;
  std::unique_ptr<uint8_t[]> quic_scratch_;  // a decrypted Initial
  std::unique_ptr<QuicCipher> cipher_;
};

}  // namespace pcapml::tls_sni
