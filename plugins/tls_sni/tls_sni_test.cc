#include "plugins/tls_sni/tls_sni.h"

#include <gtest/gtest.h>

#include "plugins/testing/test_packets.h"
#include "plugins/testing/tls_hello.h"

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

}  // namespace
}  // namespace pcapml::tls_sni
