#include "plugins/tls_sni/tls_sni.h"

#include <gtest/gtest.h>

#include "plugins/testing/test_packets.h"
#include "plugins/testing/tls_hello.h"
#include "plugins/tls_sni/quic.h"

namespace pcapml::tls_sni {
namespace {

using plugin::Result;
using testing_packets::Segment;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr uint8_t kSyn = 0x02, kSynAck = 0x12, kAck = 0x10, kPshAck = 0x18;

// One TCP connection 10.0.0.1:40000 -> 10.0.0.2:443 fed to a TlsSni.
class TlsSniTest : public testing::Test {
 protected:
  void Make(std::vector<std::pair<std::string, std::string>> names = {}, bool label_unknown = true) {
    Settings s;
    std::string err;
    ASSERT_TRUE(s.names.Build(names, &err)) << err;
    s.label_unknown = label_unknown;
    sni_ = std::make_unique<TlsSni>(std::move(s));
  }
  // A packet of the client (or the server), data after the sequence numbers so far.
  Result Send(bool from_client, uint8_t flags, const testing_tls::Bytes& data = {}, int64_t dt_ms = 1) {
    Segment s;
    if (!from_client) std::swap(s.src, s.dst), std::swap(s.sport, s.dport);
    s.flags = flags;
    uint32_t& seq = from_client ? client_seq_ : server_seq_;
    s.seq = seq;
    s.payload = data;
    seq += static_cast<uint32_t>(data.size()) + ((flags & kSyn) ? 1 : 0);
    now_ += dt_ms * 1'000'000;
    auto t = testing_packets::Decoded(s, now_);
    label_ = plugin::Label{};
    return sni_->Process(t.view, &label_);
  }
  // SYN, SYN-ACK, ACK: held until the ClientHello says what they are.
  Result Handshake() {
    EXPECT_EQ(Send(true, kSyn), Result::kHold);
    EXPECT_EQ(Send(false, kSynAck), Result::kHold);
    return Send(true, kAck);
  }

  std::unique_ptr<TlsSni> sni_;
  plugin::Label label_;
  uint32_t client_seq_ = 1000, server_seq_ = 9000;
  int64_t now_ = kT0;
};

TEST_F(TlsSniTest, LabelsEveryPacketFromTheClientHelloOnBothWays) {
  Make();
  int64_t start = now_ + 1'000'000;
  EXPECT_EQ(Handshake(), Result::kHold);
  testing_tls::Bytes hello = testing_tls::Records(testing_tls::HelloMessage("WWW.Example.com", 600));
  testing_tls::Bytes first(hello.begin(), hello.begin() + 300), rest(hello.begin() + 300, hello.end());
  EXPECT_EQ(Send(true, kPshAck, first), Result::kHold);  // half a ClientHello
  ASSERT_EQ(Send(true, kPshAck, rest), Result::kLabel);
  EXPECT_EQ(label_.label, "www.example.com");
  EXPECT_EQ(label_.sample_key, "6 10.0.0.1 40000 10.0.0.2 443|" + std::to_string(start));
  ASSERT_EQ(label_.field_count, 1u);
  EXPECT_EQ(label_.fields[0].key, "sni");
  EXPECT_EQ(Send(false, kPshAck, testing_tls::Bytes(1200, 0x16)), Result::kLabel);
  EXPECT_EQ(Send(true, kAck), Result::kLabel);
  EXPECT_EQ(Send(true, 0x11), Result::kLabel);  // FIN
  EXPECT_EQ(label_.label, "www.example.com");
}

TEST_F(TlsSniTest, ThePatternTableChoosesTheLabel) {
  Make({{"*.example.com", "example"}, {"www.example.com", "example-www"}}, false);
  Handshake();
  ASSERT_EQ(Send(true, kPshAck, testing_tls::Records(testing_tls::HelloMessage("cdn.example.com"))), Result::kLabel);
  EXPECT_EQ(label_.label, "example");
  EXPECT_EQ(label_.fields[0].value, "cdn.example.com");
  client_seq_ = 5000;  // a new connection on the same 4-tuple
  Handshake();
  ASSERT_EQ(Send(true, kPshAck, testing_tls::Records(testing_tls::HelloMessage("www.example.com"))), Result::kLabel);
  EXPECT_EQ(label_.label, "example-www");
  client_seq_ = 9000;
  Handshake();  // unknown names are ignored when unknown = "ignore"
  EXPECT_EQ(Send(true, kPshAck, testing_tls::Records(testing_tls::HelloMessage("other.org"))), Result::kNoOpinion);
  EXPECT_EQ(Send(false, kPshAck, {1, 2, 3}), Result::kNoOpinion);
}

TEST_F(TlsSniTest, RetransmissionsAreSkippedAndGapsGiveUp) {
  Make();
  Handshake();
  testing_tls::Bytes hello = testing_tls::Records(testing_tls::HelloMessage("a.example", 400));
  testing_tls::Bytes first(hello.begin(), hello.begin() + 200), rest(hello.begin() + 200, hello.end());
  Send(true, kPshAck, first);
  client_seq_ -= 200;
  EXPECT_EQ(Send(true, kPshAck, first), Result::kHold);  // the same bytes again
  ASSERT_EQ(Send(true, kPshAck, rest), Result::kLabel);
  EXPECT_EQ(label_.label, "a.example");

  client_seq_ = 70000;
  Handshake();
  Send(true, kPshAck, first);
  client_seq_ += 10;  // 10 bytes lost
  EXPECT_EQ(Send(true, kPshAck, rest), Result::kNoOpinion);
}

TEST_F(TlsSniTest, OtherProtocolsAndMalformedHellos) {
  Make();
  Handshake();
  EXPECT_EQ(Send(true, kPshAck, {'G', 'E', 'T', ' ', '/'}), Result::kNoOpinion);
  EXPECT_EQ(Send(true, kPshAck, testing_tls::Records(testing_tls::HelloMessage("late.example"))), Result::kNoOpinion);
  client_seq_ = 50000;
  Handshake();
  testing_tls::Bytes bad = testing_tls::Records(testing_tls::HelloMessage("x.example"));
  bad[9 + 2 + 32] = 40;  // session id length > 32
  EXPECT_EQ(Send(true, kPshAck, bad), Result::kError);
  EXPECT_EQ(Send(true, kPshAck, {1}), Result::kNoOpinion);  // counted once, then ignored
}

TEST_F(TlsSniTest, AConnectionClosedBeforeItsClientHelloIsGivenUp) {
  Make();
  EXPECT_EQ(Send(true, kSyn), Result::kHold);
  EXPECT_EQ(Send(false, 0x14), Result::kNoOpinion);  // RST-ACK: a closed port
  EXPECT_EQ(Send(true, kAck), Result::kNoOpinion);
  client_seq_ = 20000;
  EXPECT_EQ(Handshake(), Result::kHold);
  EXPECT_EQ(Send(true, 0x11), Result::kNoOpinion);  // FIN from the client
  client_seq_ = 30000;
  EXPECT_EQ(Handshake(), Result::kHold);
  EXPECT_EQ(Send(false, kPshAck, {'2', '2', '0', ' '}), Result::kNoOpinion);  // the server speaks first
}

TEST_F(TlsSniTest, IdleConnectionsAreForgotten) {
  Make();
  Handshake();
  ASSERT_EQ(Send(true, kPshAck, testing_tls::Records(testing_tls::HelloMessage("a.example"))), Result::kLabel);
  EXPECT_EQ(sni_->connections(), 1u);
  sni_->Tick(now_ + 299'000'000'000);
  EXPECT_EQ(sni_->connections(), 1u);
  sni_->Tick(now_ + 301'000'000'000);
  EXPECT_EQ(sni_->connections(), 0u);
}

// QUIC: client Initials protected here with the keys their connection ID
// gives, as a client would (quic_test.cc checks the protection against the
// RFCs' own packets).
class QuicSniTest : public TlsSniTest {
 protected:
  testing_tls::Bytes Initial(const testing_tls::Bytes& frames, uint8_t pn, uint32_t version = kQuicV1) {
    testing_tls::Bytes body = frames;
    body.resize(std::max<size_t>(body.size(), 1162), 0);  // PADDING to a 1200-byte datagram
    size_t length = 1 + body.size() + 16;
    testing_tls::Bytes h = {static_cast<uint8_t>(version == kQuicV2 ? 0xd0 : 0xc0),
                            static_cast<uint8_t>(version >> 24),
                            static_cast<uint8_t>(version >> 16),
                            static_cast<uint8_t>(version >> 8),
                            static_cast<uint8_t>(version),
                            8};
    h.insert(h.end(), dcid_.begin(), dcid_.end());
    h.insert(h.end(), {0, 0, static_cast<uint8_t>(0x40 | length >> 8), static_cast<uint8_t>(length), pn});
    InitialKeys k;
    EXPECT_TRUE(DeriveInitialKeys(version, dcid_.data(), dcid_.size(), false, &k));
    testing_tls::Bytes out(h.size() + body.size() + 16);
    EXPECT_TRUE(cipher_.Seal(k, h.data(), h.size(), 1, body.data(), body.size(), out.data()));
    return out;
  }
  static testing_tls::Bytes Crypto(const testing_tls::Bytes& hello, size_t from, size_t to) {
    testing_tls::Bytes f = {0x06, 0x40, 0, 0x40, 0};
    f[1] |= static_cast<uint8_t>(from >> 8), f[2] = static_cast<uint8_t>(from);
    f[3] |= static_cast<uint8_t>((to - from) >> 8), f[4] = static_cast<uint8_t>(to - from);
    f.insert(f.end(), hello.begin() + static_cast<ptrdiff_t>(from), hello.begin() + static_cast<ptrdiff_t>(to));
    return f;
  }
  Result Datagram(bool from_client, const testing_tls::Bytes& payload, uint16_t client_port = 50000) {
    Segment s{"10.0.0.1", "10.0.0.2", client_port, 443, 17, 0, 0, payload};
    if (!from_client) std::swap(s.src, s.dst), std::swap(s.sport, s.dport);
    now_ += 1'000'000;
    auto t = testing_packets::Decoded(s, now_);
    label_ = plugin::Label{};
    return sni_->Process(t.view, &label_);
  }

  testing_tls::Bytes dcid_ = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  QuicCipher cipher_;
};

TEST_F(QuicSniTest, AClientHelloOverSeveralInitialsLabelsTheConnectionBothWays) {
  Make({{"*.example.com", "example"}});
  testing_tls::Bytes hello = testing_tls::HelloMessage("www.example.com", 300);
  size_t half = hello.size() / 2;
  int64_t start = now_ + 1'000'000;
  // The second half first, then PING and the first half, in two packets.
  EXPECT_EQ(Datagram(true, Initial(Crypto(hello, half, hello.size()), 0)), Result::kHold);
  EXPECT_EQ(Datagram(false, {0xc0, 0, 0, 0, 1}), Result::kHold);  // the server waits with it
  testing_tls::Bytes second = {0x01};
  testing_tls::Bytes first = Crypto(hello, 0, half);
  second.insert(second.end(), first.begin(), first.end());
  ASSERT_EQ(Datagram(true, Initial(second, 1)), Result::kLabel);
  EXPECT_EQ(label_.label, "example");
  EXPECT_EQ(label_.fields[0].value, "www.example.com");
  EXPECT_EQ(label_.sample_key, "17 10.0.0.1 50000 10.0.0.2 443|" + std::to_string(start));
  EXPECT_EQ(Datagram(false, {0x40, 1, 2, 3}), Result::kLabel);
  EXPECT_EQ(Datagram(true, {0x40, 4, 5, 6}), Result::kLabel);
  EXPECT_EQ(sni_->quic_connections(), 1u);
}

TEST_F(QuicSniTest, VersionTwoAndCoalescedPackets) {
  Make();
  testing_tls::Bytes hello = testing_tls::HelloMessage("v2.example", 0);
  testing_tls::Bytes datagram = Initial(Crypto(hello, 0, hello.size()), 0, kQuicV2);
  datagram.resize(datagram.size() + 40, 0);  // zeros after the Initial, as some clients pad
  ASSERT_EQ(Datagram(true, datagram), Result::kLabel);
  EXPECT_EQ(label_.label, "v2.example");
}

TEST_F(QuicSniTest, UndecryptableAndOtherUdpTraffic) {
  Make();
  testing_tls::Bytes hello = testing_tls::HelloMessage("a.example", 0);
  testing_tls::Bytes bad = Initial(Crypto(hello, 0, hello.size()), 0);
  bad[600] ^= 1;
  EXPECT_EQ(Datagram(true, bad), Result::kError);
  EXPECT_EQ(Datagram(true, Initial(Crypto(hello, 0, hello.size()), 1)), Result::kNoOpinion);  // given up
  EXPECT_EQ(Datagram(true, {1, 2, 3, 4}, 50001), Result::kNoOpinion);                         // not QUIC: no state kept
  EXPECT_EQ(Datagram(true, {0x40, 1, 2, 3}, 50002), Result::kNoOpinion);  // a short header: seen from its middle
  EXPECT_EQ(sni_->quic_connections(), 1u);
  testing_tls::Bytes no_name = testing_tls::HelloMessage("", 0);
  EXPECT_EQ(Datagram(true, Initial(Crypto(no_name, 0, no_name.size()), 0), 50003), Result::kNoOpinion);
}

}  // namespace
}  // namespace pcapml::tls_sni
