#include "plugins/dns/dns.h"

#include <gtest/gtest.h>

#include "plugins/testing/dns_response.h"
#include "plugins/testing/test_packets.h"

namespace pcapml::dns {
namespace {

using plugin::Result;
using testing_packets::Segment;

constexpr int64_t kSecond = 1'000'000'000, kT0 = 1'700'000'000 * kSecond;

class DnsTest : public testing::Test {
 protected:
  void Make(std::vector<std::pair<std::string, std::string>> names = {}, bool label_unknown = true) {
    Settings s;
    std::string err;
    ASSERT_TRUE(s.names.Build(names, &err)) << err;
    s.label_unknown = label_unknown;
    dns_ = std::make_unique<Dns>(std::move(s));
  }
  Result Answer(const testing_dns::Bytes& response, int64_t at) {
    Segment s{"10.0.0.53", "10.0.0.1", 53, 33333, 17, 0, 0, response};
    return Process(s, at);
  }
  Result Process(const Segment& s, int64_t at) {
    auto t = testing_packets::Decoded(s, at);
    label_ = plugin::Label{};
    return dns_->Process(t.view, &label_);
  }
  Segment Tcp(std::string server, uint16_t client_port = 40000, bool to_server = true) {
    Segment s{"10.0.0.1", server, client_port, 443, 6, 1, 0x18, {1, 2, 3}};
    if (!to_server) std::swap(s.src, s.dst), std::swap(s.sport, s.dport);
    return s;
  }

  std::unique_ptr<Dns> dns_;
  plugin::Label label_;
};

TEST_F(DnsTest, LabelsConnectionsToAnsweredAddressesBothWays) {
  Make();
  EXPECT_EQ(Process(Tcp("192.0.2.7"), kT0), Result::kNoOpinion);  // not yet known
  // The answer itself is a lookup of the name (lookups = "label").
  EXPECT_EQ(Answer(testing_dns::Response("WWW.example.net", {{"192.0.2.7", 60}, {"2001:db8::7", 60}}), kT0),
            Result::kLabel);
  ASSERT_EQ(Process(Tcp("192.0.2.7"), kT0 + kSecond), Result::kLabel);
  EXPECT_EQ(label_.label, "www.example.net");
  EXPECT_EQ(label_.sample_key, "6 10.0.0.1 40000 192.0.2.7 443|" + std::to_string(kT0 + kSecond));
  EXPECT_EQ(label_.fields[0].key, "dns");
  ASSERT_EQ(Process(Tcp("192.0.2.7", 40000, false), kT0 + 2 * kSecond), Result::kLabel);
  EXPECT_EQ(label_.label, "www.example.net");
  Segment v6 = Tcp("2001:db8::7");
  v6.src = "2001:db8::1";
  ASSERT_EQ(Process(v6, kT0 + 3 * kSecond), Result::kLabel);
  EXPECT_EQ(label_.label, "www.example.net");
}

TEST_F(DnsTest, AnswersExpireWithTheirTtlButConnectionsKeepTheirLabel) {
  Make({{"*.example.net", "example"}});
  Answer(testing_dns::Response("www.example.net", {{"192.0.2.7", 60}}), kT0);
  ASSERT_EQ(Process(Tcp("192.0.2.7", 40000), kT0 + 59 * kSecond), Result::kLabel);
  EXPECT_EQ(label_.label, "example");
  EXPECT_EQ(label_.fields[0].value, "www.example.net");
  EXPECT_EQ(Process(Tcp("192.0.2.7", 40001), kT0 + 61 * kSecond), Result::kNoOpinion);  // a new connection
  EXPECT_EQ(Process(Tcp("192.0.2.7", 40000), kT0 + 62 * kSecond), Result::kLabel);      // the old one
  dns_->Tick(kT0 + 62 * kSecond + 301 * kSecond);
  EXPECT_EQ(dns_->connections(), 0u);
}

TEST_F(DnsTest, UnknownNamesCanBeIgnored) {
  Make({{"*.example.net", "example"}}, false);
  Answer(testing_dns::Response("other.org", {{"198.51.100.1"}}), kT0);
  EXPECT_EQ(dns_->addresses(), 0u);
  EXPECT_EQ(Process(Tcp("198.51.100.1"), kT0 + 1), Result::kNoOpinion);
}

TEST_F(DnsTest, MalformedAnswersAreErrors) {
  Make();
  testing_dns::Bytes b = testing_dns::Response("www.example.net", {{"192.0.2.7"}});
  b.pop_back();
  EXPECT_EQ(Answer(b, kT0), Result::kError);
  EXPECT_EQ(dns_->addresses(), 0u);
}

TEST_F(DnsTest, AUdpQueryIsHeldUntilItsAnswerAndBothTakeTheName) {
  Make({{"*.example.org", "example-org"}});
  testing_dns::Bytes query = testing_dns::Response("api.example.org", {}, 0x0100);  // QR = 0: a query
  Segment q{"10.0.0.1", "10.0.0.53", 33333, 53, 17, 0, 0, query};
  EXPECT_EQ(Process(q, kT0), Result::kHold);
  ASSERT_EQ(Answer(testing_dns::Response("api.example.org", {{"198.51.100.7", 60}}), kT0 + 1000), Result::kLabel);
  EXPECT_EQ(label_.label, "example-org");
  EXPECT_EQ(label_.sample_key, "17 10.0.0.1 33333 10.0.0.53 53|" + std::to_string(kT0));
  EXPECT_EQ(Process(Tcp("198.51.100.7"), kT0 + 2000), Result::kLabel);
  // An answer without a name to label gives up on the held query.
  Make({{"*.example.org", "example-org"}}, false);
  EXPECT_EQ(Process(q, kT0), Result::kHold);
  EXPECT_EQ(Answer(testing_dns::Response("other.net", {{"192.0.2.1", 60}}), kT0 + 1000), Result::kNoOpinion);
}

TEST_F(DnsTest, LookupsCanBeLeftToLaterRules) {
  Settings s;
  s.label_lookups = false;
  dns_ = std::make_unique<Dns>(std::move(s));
  Segment q{"10.0.0.1", "10.0.0.53", 33333, 53, 17, 0, 0, testing_dns::Response("a.example", {}, 0x0100)};
  EXPECT_EQ(Process(q, kT0), Result::kNoOpinion);
  EXPECT_EQ(Answer(testing_dns::Response("a.example", {{"192.0.2.9", 60}}), kT0), Result::kNoOpinion);
  EXPECT_EQ(Process(Tcp("192.0.2.9"), kT0 + 1), Result::kLabel);
}

// DNS over TCP: 10.0.0.1:40053 -> 10.0.0.53:53.
class DnsTcpTest : public DnsTest {
 protected:
  Result Send(bool from_client, uint8_t flags, const testing_dns::Bytes& data = {}) {
    Segment s{"10.0.0.1", "10.0.0.53", 40053, 53, 6, 0, flags, data};
    if (!from_client) std::swap(s.src, s.dst), std::swap(s.sport, s.dport);
    uint32_t& seq = from_client ? client_seq_ : server_seq_;
    s.seq = seq;
    seq += static_cast<uint32_t>(data.size()) + ((flags & 0x02) ? 1 : 0);
    return Process(s, now_ += 1000);
  }
  static testing_dns::Bytes Framed(const testing_dns::Bytes& msg) {
    testing_dns::Bytes b = {static_cast<uint8_t>(msg.size() >> 8), static_cast<uint8_t>(msg.size())};
    b.insert(b.end(), msg.begin(), msg.end());
    return b;
  }
  uint32_t client_seq_ = 100, server_seq_ = 7000;
  int64_t now_ = kT0;
};

TEST_F(DnsTcpTest, AnswersAreReassembledAndLabelTheConnectionFromItsSyn) {
  Make();
  int64_t start = now_ + 1000;
  EXPECT_EQ(Send(true, 0x02), Result::kHold);
  EXPECT_EQ(Send(false, 0x12), Result::kHold);
  EXPECT_EQ(Send(true, 0x10), Result::kHold);
  EXPECT_EQ(Send(true, 0x18, Framed(testing_dns::Response("www.example.net", {}, 0x0100))), Result::kHold);
  testing_dns::Bytes answer = Framed(testing_dns::Response("www.example.net", {{"192.0.2.7", 60}}));
  testing_dns::Bytes first(answer.begin(), answer.begin() + 1), rest(answer.begin() + 1, answer.end());
  EXPECT_EQ(Send(false, 0x18, first), Result::kHold);  // one byte of the length prefix
  ASSERT_EQ(Send(false, 0x18, rest), Result::kLabel);
  EXPECT_EQ(label_.label, "www.example.net");
  EXPECT_EQ(label_.sample_key, "6 10.0.0.1 40053 10.0.0.53 53|" + std::to_string(start));
  EXPECT_EQ(Send(true, 0x11), Result::kLabel);  // FIN: still the lookup
  EXPECT_EQ(Process(Tcp("192.0.2.7"), now_ + 1000), Result::kLabel);
  EXPECT_EQ(label_.label, "www.example.net");
}

TEST_F(DnsTcpTest, TwoAnswersInOneSegmentAndClosingBeforeAnAnswer) {
  Make();
  Send(true, 0x02), Send(false, 0x12);
  testing_dns::Bytes both = Framed(testing_dns::Response("a.example", {{"192.0.2.1", 60}}));
  testing_dns::Bytes second = Framed(testing_dns::Response("b.example", {{"192.0.2.2", 60}}));
  both.insert(both.end(), second.begin(), second.end());
  ASSERT_EQ(Send(false, 0x18, both), Result::kLabel);
  EXPECT_EQ(label_.label, "a.example");  // the first answer names the lookup
  EXPECT_EQ(Process(Tcp("192.0.2.2"), now_ + 1000), Result::kLabel);
  EXPECT_EQ(label_.label, "b.example");   // the second was learned too
  client_seq_ = 500, server_seq_ = 9000;  // the 4-tuple again: a new connection
  EXPECT_EQ(Send(true, 0x02), Result::kHold);
  EXPECT_EQ(Send(false, 0x14), Result::kNoOpinion);  // refused: given up
}

TEST(DnsTcpStreamTest, MessagesAcrossSegmentsAndGaps) {
  DnsTcpStream s;
  s.Start(99);
  const uint8_t a[] = {0, 3, 'a', 'b'}, b[] = {'c', 0, 1, 'd'};
  EXPECT_TRUE(s.Add(100, a, 4, 4));
  const uint8_t* msg;
  size_t n;
  EXPECT_FALSE(s.Next(&msg, &n));
  EXPECT_TRUE(s.Add(102, a + 2, 2, 2));  // a retransmission of bytes held already
  EXPECT_TRUE(s.Add(104, b, 4, 4));
  ASSERT_TRUE(s.Next(&msg, &n));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(msg), n), "abc");
  ASSERT_TRUE(s.Next(&msg, &n));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(msg), n), "d");
  EXPECT_FALSE(s.Add(120, a, 4, 4));  // 12 bytes missing
  EXPECT_TRUE(s.broken());
  EXPECT_FALSE(s.Add(108, a, 4, 4));
}

}  // namespace
}  // namespace pcapml::dns
