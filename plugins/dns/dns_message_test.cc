#include "plugins/dns/dns_message.h"

#include <gtest/gtest.h>

#include <memory>

#include "plugins/testing/dns_response.h"

namespace pcapml::dns {
namespace {

using testing_dns::Bytes;
using testing_dns::Response;

class DnsMessageTest : public testing::Test {
 protected:
  DnsStatus Parse(const Bytes& b, size_t n) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[n ? n : 1]);  // exactly n bytes, for ASan
    std::copy(b.begin(), b.begin() + static_cast<ptrdiff_t>(n), copy.get());
    return ParseDnsResponse(copy.get(), n, &answer_);
  }
  DnsStatus Parse(const Bytes& b) { return Parse(b, b.size()); }
  std::string Address(size_t i) {
    char text[64];
    const DnsAddress& a = answer_.addresses[i];
    inet_ntop(a.ip_version == 6 ? AF_INET6 : AF_INET, a.addr, text, sizeof text);
    return text;
  }

  DnsAnswer answer_;
};

TEST_F(DnsMessageTest, AddressesOfTheQuestionWithTheirTtls) {
  ASSERT_EQ(Parse(Response("www.Example.com", {{"93.184.216.34", 60}, {"2606:2800:220:1::1", 120}})),
            DnsStatus::kAnswer);
  EXPECT_EQ(answer_.name(), "www.Example.com");
  ASSERT_EQ(answer_.address_count, 2u);
  EXPECT_EQ(Address(0), "93.184.216.34");
  EXPECT_EQ(answer_.addresses[0].ttl, 60u);
  EXPECT_EQ(Address(1), "2606:2800:220:1::1");
  EXPECT_EQ(answer_.addresses[1].ip_version, 6);
}

TEST_F(DnsMessageTest, CnameChainsAnswerTheQuestion) {
  ASSERT_EQ(Parse(Response("www.example.net", {{"", 300, "edge.cdn.example"}, {"192.0.2.7", 30}})), DnsStatus::kAnswer);
  EXPECT_EQ(answer_.name(), "www.example.net");
  ASSERT_EQ(answer_.address_count, 1u);
  EXPECT_EQ(Address(0), "192.0.2.7");
}

TEST_F(DnsMessageTest, QueriesAndErrorsAreIgnored) {
  EXPECT_EQ(Parse(Response("a.example", {}, 0x0100)), DnsStatus::kIgnored);  // a query
  EXPECT_EQ(Parse(Response("a.example", {}, 0x8183)), DnsStatus::kIgnored);  // NXDOMAIN
  EXPECT_EQ(Parse(Response("a.example", {})), DnsStatus::kAnswer);
  EXPECT_EQ(answer_.address_count, 0u);
}

TEST_F(DnsMessageTest, EveryTruncationIsMalformed) {
  Bytes b = Response("www.example.com", {{"", 300, "edge.cdn.example"}, {"192.0.2.7"}, {"2001:db8::1"}});
  for (size_t n = 0; n < b.size(); ++n) ASSERT_EQ(Parse(b, n), DnsStatus::kMalformed) << "prefix of " << n;
  EXPECT_EQ(Parse(b), DnsStatus::kAnswer);
}

TEST_F(DnsMessageTest, CompressionLoopsAndForwardPointersAreMalformed) {
  Bytes b = Response("a.example", {{"192.0.2.1"}});
  Bytes self = b;
  size_t answer = 12 + 11 + 4;                                           // header, question name, type and class
  self[answer] = 0xc0, self[answer + 1] = static_cast<uint8_t>(answer);  // points at itself
  EXPECT_EQ(Parse(self), DnsStatus::kMalformed);
  Bytes forward = b;
  forward[answer + 1] = static_cast<uint8_t>(answer + 2);
  EXPECT_EQ(Parse(forward), DnsStatus::kMalformed);
  Bytes a_of_5_bytes = b;
  a_of_5_bytes[answer + 11] = 5;
  EXPECT_EQ(Parse(a_of_5_bytes), DnsStatus::kMalformed);
}

TEST_F(DnsMessageTest, DamagedBytesNeverReadOutOfBounds) {
  Bytes good = Response("www.example.com", {{"", 300, "edge.cdn.example"}, {"192.0.2.7"}, {"2001:db8::1"}});
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t v : {0x00, 0x3f, 0xc0, 0xff}) {
      Bytes b = good;
      b[i] = v;
      for (size_t n = 0; n <= b.size(); n += 5) Parse(b, n);
      if (Parse(b) == DnsStatus::kAnswer) {
        ASSERT_LE(answer_.name_size, kMaxNameLength);
      }
    }
  }
}

}  // namespace
}  // namespace pcapml::dns
