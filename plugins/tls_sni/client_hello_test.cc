#include "plugins/tls_sni/client_hello.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "plugins/testing/tls_hello.h"

namespace pcapml::tls_sni {
namespace {

using namespace testing_tls;

class ClientHelloTest : public testing::Test {
 protected:
  HelloStatus Parse(const Bytes& b, size_t n) {
    // A copy of exactly n bytes, so reading past them is caught by ASan.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[n ? n : 1]);
    std::copy(b.begin(), b.begin() + static_cast<ptrdiff_t>(n), copy.get());
    name_ = {};
    HelloStatus s = ParseClientHello(copy.get(), n, scratch_.get(), &name_);
    if (s == HelloStatus::kFound) text_.assign(name_);
    return s;
  }
  HelloStatus Parse(const Bytes& b) { return Parse(b, b.size()); }

  std::unique_ptr<uint8_t[]> scratch_{new uint8_t[kMaxHello]};
  std::string_view name_;
  std::string text_;
};

TEST_F(ClientHelloTest, FindsTheServerName) {
  EXPECT_EQ(Parse(Records(HelloMessage("www.example.com"))), HelloStatus::kFound);
  EXPECT_EQ(text_, "www.example.com");
}

TEST_F(ClientHelloTest, EveryPrefixWaitsForMore) {
  Bytes b = Records(HelloMessage("www.example.com", 300));
  for (size_t n = 0; n < b.size(); ++n) ASSERT_EQ(Parse(b, n), HelloStatus::kNeedMore) << "prefix of " << n;
  EXPECT_EQ(Parse(b), HelloStatus::kFound);
}

TEST_F(ClientHelloTest, AMessageSpreadOverRecords) {
  Bytes b = Records(HelloMessage("a.example.org", 100), 50);
  for (size_t n = 0; n < b.size(); ++n) ASSERT_EQ(Parse(b, n), HelloStatus::kNeedMore) << "prefix of " << n;
  EXPECT_EQ(Parse(b), HelloStatus::kFound);
  EXPECT_EQ(text_, "a.example.org");
}

TEST_F(ClientHelloTest, HellosWithoutAName) {
  EXPECT_EQ(Parse(Records(HelloMessage(""))), HelloStatus::kNoName);
  Bytes bare = HelloMessage("");  // no extensions block at all (TLS 1.0 clients)
  bare.resize(4 + 2 + 32 + 1 + 32 + 2 + 4 + 2);
  bare[3] = static_cast<uint8_t>(bare.size() - 4);
  EXPECT_EQ(Parse(Records(bare)), HelloStatus::kNoName);
}

TEST_F(ClientHelloTest, OtherProtocolsAreNotTls) {
  std::string http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  EXPECT_EQ(Parse(Bytes(http.begin(), http.end())), HelloStatus::kNotTls);
  Bytes server_hello = Records(HelloMessage("x"));
  server_hello[5] = 2;
  EXPECT_EQ(Parse(server_hello), HelloStatus::kNotTls);
  EXPECT_EQ(Parse(Bytes{0x17, 3, 3, 0, 1, 0}), HelloStatus::kNotTls);  // application data
}

TEST_F(ClientHelloTest, LengthsThatDoNotAddUpAreMalformed) {
  Bytes msg = HelloMessage("www.example.com");
  Bytes long_ext = msg;
  long_ext[long_ext.size() - 1 - 15 - 2 - 1 - 2] += 1;  // the server_name extension's length
  EXPECT_EQ(Parse(Records(long_ext)), HelloStatus::kMalformed);
  Bytes long_sid = msg;
  long_sid[4 + 2 + 32] = 33;  // a session id longer than 32 bytes
  EXPECT_EQ(Parse(Records(long_sid)), HelloStatus::kMalformed);
  Bytes empty_record = {0x16, 3, 1, 0, 0};
  EXPECT_EQ(Parse(empty_record), HelloStatus::kMalformed);
}

TEST_F(ClientHelloTest, DamagedBytesNeverReadOutOfBounds) {
  // Every byte replaced by 0x00 and by 0xff, and every prefix of each: the
  // parser may answer anything but must stay inside the bytes (run under ASan).
  Bytes good = Records(HelloMessage("www.example.com", 20), 90);
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t v : {0x00, 0xff}) {
      Bytes b = good;
      b[i] = v;
      for (size_t n = 0; n <= b.size(); n += 7) Parse(b, n);
      Parse(b);
    }
  }
}

}  // namespace
}  // namespace pcapml::tls_sni
