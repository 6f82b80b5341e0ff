#include "plugins/tls_sni/quic.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/tls_sni/client_hello.h"

namespace pcapml::tls_sni {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  std::vector<uint8_t> out;
  std::string digits;
  for (char c : hex)
    if (!isspace(static_cast<unsigned char>(c))) digits.push_back(c);
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

std::string ToHex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kDigits[p[i] >> 4], s += kDigits[p[i] & 15];
  return s;
}

// RFC 9001 Appendix A and RFC 9369 Appendix A: the client's Destination
// Connection ID, and the CRYPTO frame of the client's Initial (A.2), a
// ClientHello for example.com, padded to 1162 bytes of frames.
const std::vector<uint8_t> kDcid = Hex("8394c8f03e515708");
const char kCryptoFrame[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

std::vector<uint8_t> Frames() {
  std::vector<uint8_t> f = Hex(kCryptoFrame);
  f.resize(1162, 0);  // PADDING
  return f;
}

struct Vectors {
  uint32_t version;
  const char *client_secret, *client_key, *client_iv, *client_hp;
  const char *server_key, *server_iv, *server_hp;
  const char *header, *sample, *mask, *protected_header;
};

const Vectors kV1 = {
    kQuicV1,
    "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
    "1f369613dd76d5467730efcbe3b1a22d",
    "fa044b2f42a3fd3b46fb255c",
    "9f50449e04a0e810283a1e9933adedd2",
    "cf3a5331653c364c88f0f379b6067e37",
    "0ac1493ca1905853b0bba03e",
    "c206b8d9b9f0f37644430b490eeaa314",
    "c300000001088394c8f03e5157080000449e00000002",
    "d1b1c98dd7689fb8ec11d242b123dc9b",
    "437b9aec36",
    "c000000001088394c8f03e5157080000449e7b9aec34",
};

const Vectors kV2 = {
    kQuicV2,
    "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
    "8b1a0bc121284290a29e0971b5cd045d",
    "91f73e2351d8fa91660e909f",
    "45b95e15235d6f45a6b19cbcb0294ba9",
    "82db637861d55e1d011f19ea71d5d2a7",
    "dd13c276499c0249d3310652",
    "edf6d05c83121201b436e16877593c3a",
    "d36b3343cf088394c8f03e5157080000449e00000002",
    "ffe67b6abcdb4298b485dd04de806071",
    "94a0c95e80",
    "d76b3343cf088394c8f03e5157080000449ea0c95e82",
};

class QuicVectorsTest : public ::testing::TestWithParam<Vectors> {};

TEST_P(QuicVectorsTest, InitialKeysAreTheRfcs) {
  const Vectors& v = GetParam();
  InitialKeys c, s;
  ASSERT_TRUE(DeriveInitialKeys(v.version, kDcid.data(), kDcid.size(), false, &c));
  ASSERT_TRUE(DeriveInitialKeys(v.version, kDcid.data(), kDcid.size(), true, &s));
  EXPECT_EQ(ToHex(c.secret, 32), v.client_secret);
  EXPECT_EQ(ToHex(c.key, 16), v.client_key);
  EXPECT_EQ(ToHex(c.iv, 12), v.client_iv);
  EXPECT_EQ(ToHex(c.hp, 16), v.client_hp);
  EXPECT_EQ(ToHex(s.key, 16), v.server_key);
  EXPECT_EQ(ToHex(s.iv, 12), v.server_iv);
  EXPECT_EQ(ToHex(s.hp, 16), v.server_hp);
}

// The client Initial of Appendix A.2: protected with the derived keys it
// is the RFC's packet (header, sample, mask), and reading it back gives the
// ClientHello's name.
TEST_P(QuicVectorsTest, TheClientInitialIsTheRfcsAndReadsBack) {
  const Vectors& v = GetParam();
  InitialKeys k;
  ASSERT_TRUE(DeriveInitialKeys(v.version, kDcid.data(), kDcid.size(), false, &k));
  std::vector<uint8_t> header = Hex(v.header), frames = Frames();
  std::vector<uint8_t> packet(header.size() + frames.size() + 16);
  QuicCipher cipher;
  ASSERT_TRUE(cipher.Seal(k, header.data(), header.size(), 4, frames.data(), frames.size(), packet.data()));
  ASSERT_EQ(packet.size(), 1200u);
  EXPECT_EQ(ToHex(packet.data(), header.size()), v.protected_header);
  EXPECT_EQ(ToHex(packet.data() + 22, 16), v.sample);
  uint8_t mask[5];
  ASSERT_TRUE(cipher.Mask(k.hp, packet.data() + 22, mask));
  EXPECT_EQ(ToHex(mask, 5), v.mask);

  LongHeader h;
  ASSERT_EQ(ParseLongHeader(packet.data(), packet.size(), &h), QuicStatus::kOk);
  EXPECT_EQ(h.version, v.version);
  EXPECT_EQ(h.type, QuicType::kInitial);
  EXPECT_EQ(std::vector<uint8_t>(h.dcid, h.dcid + h.dcid_len), kDcid);
  EXPECT_EQ(h.pn_offset, 18u);
  EXPECT_EQ(h.size, 1200u);
  std::vector<uint8_t> out(packet.size());
  size_t n = 0;
  ASSERT_TRUE(cipher.Open(k, packet.data(), h, out.data(), &n));
  ASSERT_EQ(n, 1162u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + n), frames);
  CryptoStream stream;
  ASSERT_EQ(ReadInitialFrames(out.data(), n, &stream, 4096), FramesStatus::kOk);
  std::string_view name;
  EXPECT_EQ(ParseClientHelloMessage(stream.data(), stream.contiguous(), &name), HelloStatus::kFound);
  EXPECT_EQ(name, "example.com");

  packet[600] ^= 1;  // one bit of the ciphertext: authentication fails
  EXPECT_FALSE(cipher.Open(k, packet.data(), h, out.data(), &n));
}

INSTANTIATE_TEST_SUITE_P(Rfc, QuicVectorsTest, ::testing::Values(kV1, kV2),
                         [](const auto& p) { return p.param.version == kQuicV1 ? "V1" : "V2"; });

TEST(QuicTest, TheV1PacketEndsWithTheRfcsTag) {
  // The tag authenticates every plaintext byte, so this also shows the
  // ClientHello above is the RFC's byte for byte.
  InitialKeys k;
  ASSERT_TRUE(DeriveInitialKeys(kQuicV1, kDcid.data(), kDcid.size(), false, &k));
  std::vector<uint8_t> header = Hex(kV1.header), frames = Frames(), packet(1200);
  QuicCipher cipher;
  ASSERT_TRUE(cipher.Seal(k, header.data(), header.size(), 4, frames.data(), frames.size(), packet.data()));
  EXPECT_EQ(ToHex(packet.data() + 1184, 16), "e221af44860018ab0856972e194cd934");
}

TEST(QuicTest, CryptoFragmentsGatherInAnyOrder) {
  std::string hello = "0123456789abcdefghij";
  CryptoStream s;
  auto add = [&](size_t at, size_t len) {
    return s.Add(at, reinterpret_cast<const uint8_t*>(hello.data()) + at, len, 64);
  };
  EXPECT_TRUE(add(10, 5));
  EXPECT_EQ(s.contiguous(), 0u);
  EXPECT_TRUE(add(0, 4));
  EXPECT_EQ(s.contiguous(), 4u);
  EXPECT_TRUE(add(15, 5));
  EXPECT_TRUE(add(2, 8));  // overlaps both sides
  EXPECT_EQ(s.contiguous(), 20u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(s.data()), 20), hello);
  EXPECT_FALSE(s.Add(60, reinterpret_cast<const uint8_t*>(hello.data()), 5, 64));  // past the limit
  CryptoStream gaps;
  for (size_t i = 0; i < 16; ++i) EXPECT_TRUE(gaps.Add(2 * i + 1, reinterpret_cast<const uint8_t*>("x"), 1, 64));
  EXPECT_FALSE(gaps.Add(40, reinterpret_cast<const uint8_t*>("x"), 1, 64));          // a 17th piece
  EXPECT_TRUE(gaps.Add(0, reinterpret_cast<const uint8_t*>(hello.data()), 20, 64));  // fills the gaps
  EXPECT_EQ(gaps.contiguous(), 20u);
}

TEST(QuicTest, FramesAnInitialMayNotCarryAreMalformed) {
  CryptoStream s;
  const uint8_t ack[] = {0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00, 0x01};  // two ranges
  EXPECT_EQ(ReadInitialFrames(ack, sizeof ack, &s, 64), FramesStatus::kOk);
  const uint8_t stream[] = {0x08, 0x00, 0x01};  // STREAM
  EXPECT_EQ(ReadInitialFrames(stream, sizeof stream, &s, 64), FramesStatus::kMalformed);
  const uint8_t cut[] = {0x06, 0x00, 0x10, 'a'};  // CRYPTO claiming 16 bytes
  EXPECT_EQ(ReadInitialFrames(cut, sizeof cut, &s, 64), FramesStatus::kMalformed);
  const uint8_t far[] = {0x06, 0x80, 0x01, 0x00, 0x00, 0x01, 'a'};  // at offset 65536
  EXPECT_EQ(ReadInitialFrames(far, sizeof far, &s, 64), FramesStatus::kTooLong);
}

TEST(QuicTest, HeadersOfOtherVersionsAreNotQuic) {
  std::vector<uint8_t> p = Hex(kV1.header);
  LongHeader h;
  p[4] = 2;  // version 2 by number, not RFC 9369's 0x6b3343cf
  EXPECT_EQ(ParseLongHeader(p.data(), p.size(), &h), QuicStatus::kNotQuic);
  p = Hex(kV1.header);
  p[0] = 0x43;  // a short header
  EXPECT_EQ(ParseLongHeader(p.data(), p.size(), &h), QuicStatus::kNotQuic);
  p = Hex(kV1.header);  // Length 0x49e past the end of these 22 bytes
  EXPECT_EQ(ParseLongHeader(p.data(), p.size(), &h), QuicStatus::kMalformed);
}

}  // namespace
}  // namespace pcapml::tls_sni
