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
  EXPECT_EQ(Answer(testing_dns::Response("WWW.example.net", {{"192.0.2.7", 60}, {"2001:db8::7", 60}}), kT0),
            Result::kNoOpinion);
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

}  // namespace
}  // namespace pcapml::dns
