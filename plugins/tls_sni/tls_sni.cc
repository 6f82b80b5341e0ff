#include "plugins/tls_sni/tls_sni.h"

namespace pcapml::tls_sni {

using plugin::Result;
using plugin_common::Key;

bool ReadSettings(const plugin::Config& config, Settings* s, std::string* err) {
  if (!plugin_common::ReadNamingSettings(config, s, err)) return false;
  s->idle_timeout_ns = config.DurationNs("idle_timeout");
  s->max_connections = static_cast<size_t>(config.Integer("max_connections"));
  s->max_hello_bytes = static_cast<size_t>(config.Integer("max_hello_bytes"));
  if (s->idle_timeout_ns <= 0) return *err = "idle_timeout must be positive", false;
  if (s->max_connections < 1 || s->max_connections > (1u << 24))
    return *err = "max_connections must be 1..16777216", false;
  if (s->max_hello_bytes < 512 || s->max_hello_bytes > kMaxHello)
    return *err = "max_hello_bytes must be 512..65536", false;
  return true;
}

Result TlsSni::Process(const plugin::Packet& p, plugin::Label* label) {
  if (!p.has_ports) return Result::kNoOpinion;
  if (p.protocol == plugin::kProtoUdp) return ProcessQuic(p, label);
  if (p.protocol != plugin::kProtoTcp) return Result::kNoOpinion;
  bool src_is_low;
  Key key = plugin_common::ConnectionKey(p, &src_is_low);
  bool syn = (p.tcp_flags & (plugin::kTcpSyn | plugin::kTcpAck)) == plugin::kTcpSyn;
  Conn* c = conns_.Find(key, p.ts_ns);
  if (c && syn && (c->phase != Phase::kWaiting || !c->hello.empty())) {
    c->Reset();  // the 4-tuple starts a new connection
    c->start_ns = p.ts_ns;
  }
  if (!c) {
    if (!syn && p.payload_orig_len == 0) return Result::kNoOpinion;  // a connection seen only from its middle
    c = &conns_.Insert(key, p.ts_ns);
    c->start_ns = p.ts_ns;
  }
  if (c->phase == Phase::kWaiting) {
    Result r = Waiting(p, src_is_low, key, *c);
    if (r != Result::kLabel) return r;
  }
  return c->phase == Phase::kLabeled ? Emit(*c, label) : Result::kNoOpinion;
}

// A client's Initial starts a QUIC connection; until its name is known,
// every packet of it is held, the server's included.
Result TlsSni::ProcessQuic(const plugin::Packet& p, plugin::Label* label) {
  bool src_is_low;
  Key key = plugin_common::ConnectionKey(p, &src_is_low);
  QuicConn* c = quic_.Find(key, p.ts_ns);
  LongHeader h;
  if (!c) {
    if (p.payload_len < p.payload_orig_len || ParseLongHeader(p.payload, p.payload_len, &h) != QuicStatus::kOk ||
        h.type != QuicType::kInitial)
      return Result::kNoOpinion;
    c = &quic_.Insert(key, p.ts_ns);
    c->start_ns = p.ts_ns;
    c->client_is_low = src_is_low;
    c->version = h.version;
  }
  if (c->phase == Phase::kWaiting) {
    if (src_is_low != c->client_is_low) return Result::kHold;
    Result r = QuicClient(p, key, *c);
    if (r != Result::kLabel) return r;
  }
  return c->phase == Phase::kLabeled ? Emit(*c, label) : Result::kNoOpinion;
}

// A datagram from the client of a connection still waiting for its name:
// its Initials (coalesced packets after them are skipped) add CRYPTO data.
Result TlsSni::QuicClient(const plugin::Packet& p, const Key& key, QuicConn& c) {
  auto give_up = [&](Result r) {
    c.phase = Phase::kIgnored;
    return r;
  };
  if (p.payload_len < p.payload_orig_len) return give_up(Result::kNoOpinion);  // cut by the snap length
  const uint8_t* d = p.payload;
  size_t n = p.payload_len;
  while (n > 0 && (d[0] & 0x80)) {  // a short header packet runs to the end of the datagram
    LongHeader h;
    QuicStatus st = ParseLongHeader(d, n, &h);
    if (st == QuicStatus::kMalformed) return give_up(Result::kError);
    if (st == QuicStatus::kNotQuic) break;  // e.g. zeros padding the datagram
    if (h.type == QuicType::kInitial) {
      if (Result r = ReadInitial(d, h, c); r != Result::kHold) return r;
    }
    d += h.size, n -= h.size;
  }
  std::string_view name;
  switch (ParseClientHelloMessage(c.crypto.data(), c.crypto.contiguous(), &name)) {
    case HelloStatus::kNeedMore:
      // A client sends its whole ClientHello at once: a few Initials at most.
      if (++c.initials > 16) return give_up(Result::kNoOpinion);
      return Result::kHold;
    case HelloStatus::kFound:
      c.crypto.Reset();
      return Named(name, key, c.start_ns, c);
    case HelloStatus::kNoName:
    case HelloStatus::kNotTls:
      return give_up(Result::kNoOpinion);
    case HelloStatus::kMalformed:
      break;
  }
  return give_up(Result::kError);
}

// Decrypts one client Initial into the connection's CRYPTO stream: kHold
// when read, else what the connection comes to.
Result TlsSni::ReadInitial(const uint8_t* packet, const LongHeader& h, QuicConn& c) {
  if (!cipher_) {  // on first use
    cipher_ = std::make_unique<QuicCipher>();
    quic_scratch_.reset(new uint8_t[1 << 16]);
  }
  if (h.version != c.version) {  // after version negotiation: the client starts over
    c.version = h.version;
    c.keys_known = false;
    c.crypto.Reset();
  }
  size_t frames_len = 0;
  bool opened = c.keys_known && cipher_->Open(c.keys, packet, h, quic_scratch_.get(), &frames_len);
  if (!opened) {
    // The first Initial's Destination Connection ID gives the keys; after
    // a Retry the client's next Initial carries a new one.
    InitialKeys k;
    if (!DeriveInitialKeys(h.version, h.dcid, h.dcid_len, false, &k) ||
        !cipher_->Open(k, packet, h, quic_scratch_.get(), &frames_len)) {
      c.phase = Phase::kIgnored;
      return Result::kError;
    }
    c.keys = k;
    c.keys_known = true;
  }
  switch (ReadInitialFrames(quic_scratch_.get(), frames_len, &c.crypto, s_.max_hello_bytes)) {
    case FramesStatus::kOk:
      return Result::kHold;
    case FramesStatus::kTooLong:
      c.phase = Phase::kIgnored;
      return Result::kNoOpinion;
    case FramesStatus::kMalformed:
      break;
  }
  c.phase = Phase::kIgnored;
  return Result::kError;
}

// Before the name is known the connection's packets are held (the SYN,
// SYN-ACK and ACK, the first segments of a long ClientHello), so they take
// the label too; what ends the wait without a name gives up on them.
Result TlsSni::Waiting(const plugin::Packet& p, bool src_is_low, const Key& key, Conn& c) {
  if ((p.tcp_flags & (plugin::kTcpSyn | plugin::kTcpAck)) == plugin::kTcpSyn) {
    c.client_known = c.seq_known = true;
    c.client_is_low = src_is_low;
    c.next_seq = p.tcp_seq + 1;
    return Result::kHold;
  }
  if (p.tcp_flags & (plugin::kTcpFin | plugin::kTcpRst) && !(p.payload_orig_len && src_is_low == c.client_is_low)) {
    c.phase = Phase::kIgnored;  // closed before a ClientHello (a port scan, a refused connection)
    return Result::kNoOpinion;
  }
  if (p.payload_orig_len == 0) return Result::kHold;
  if (!c.client_known) c.client_known = true, c.client_is_low = src_is_low;  // TLS clients speak first
  if (src_is_low != c.client_is_low || !Append(p, c)) {
    c.phase = Phase::kIgnored;  // the server spoke first, or the client's bytes have a gap
    return Result::kNoOpinion;
  }
  std::string_view name;
  auto* bytes = reinterpret_cast<const uint8_t*>(c.hello.data());
  if (!scratch_) scratch_.reset(new uint8_t[kMaxHello]);  // on first use
  switch (ParseClientHello(bytes, c.hello.size(), scratch_.get(), &name)) {
    case HelloStatus::kNeedMore:
      if (c.hello.size() < s_.max_hello_bytes) return Result::kHold;
      c.phase = Phase::kIgnored;
      return Result::kNoOpinion;
    case HelloStatus::kFound:
      c.hello.clear();
      return Named(name, key, c.start_ns, c);
    case HelloStatus::kNoName:
    case HelloStatus::kNotTls:
      c.phase = Phase::kIgnored;
      return Result::kNoOpinion;
    case HelloStatus::kMalformed:
      break;
  }
  c.phase = Phase::kIgnored;
  return Result::kError;
}

// Appends the segment's new bytes in sequence order; false on a gap, a
// segment cut by the snap length, or a ClientHello longer than allowed.
bool TlsSni::Append(const plugin::Packet& p, Conn& c) {
  if (p.payload_len < p.payload_orig_len) return false;
  uint32_t skip = 0;
  if (c.seq_known) {
    if (static_cast<int32_t>(p.tcp_seq - c.next_seq) > 0) return false;
    skip = c.next_seq - p.tcp_seq;  // bytes we hold already (a retransmission)
    if (skip >= p.payload_len) return true;
  }
  uint32_t n = p.payload_len - skip;
  if (c.hello.size() + n > s_.max_hello_bytes) return false;
  c.hello.append(reinterpret_cast<const char*>(p.payload + skip), n);
  c.next_seq = p.tcp_seq + skip + n;
  c.seq_known = true;
  return true;
}

template <typename C>
Result TlsSni::Named(std::string_view name, const Key& key, int64_t start_ns, C& c) {
  char buf[plugin_common::kMaxName + 1];
  std::string_view clean = plugin_common::CleanName(name, buf);
  const std::string* l = s_.names.Find(clean);
  if (!l && !s_.label_unknown) {
    c.phase = Phase::kIgnored;
    return Result::kNoOpinion;
  }
  c.name.assign(clean);
  c.label.assign(l ? std::string_view(*l) : clean);
  c.sample_key.clear();
  if (s_.per_connection) plugin_common::AppendConnectionSuffix(key, start_ns, &c.sample_key);
  c.phase = Phase::kLabeled;
  return Result::kLabel;
}

template <typename C>
Result TlsSni::Emit(const C& c, plugin::Label* label) const {
  label->label = c.label;
  label->sample_key = c.sample_key;
  if (!s_.name_field.empty()) {
    label->fields[0] = {s_.name_field, c.name};
    label->field_count = 1;
  }
  return Result::kLabel;
}

}  // namespace pcapml::tls_sni
