// The tls_sni plugin's QUIC side (plugins/tls_sni/quic.h): the long-header
// parser over the raw input, the Initial frame reader and CRYPTO reassembly
// over it as decrypted frames, then the plugin over datagrams of one QUIC
// connection whose client Initials this target protects itself (with the
// keys the input's connection ID gives), so the fuzzer reaches everything
// behind the decryption; the raw input also goes in as a datagram of
// another connection (undecryptable: an error, never a crash).
//
// Input: a flags byte (bit 0: QUIC version 2; bits 1-2: the frames are cut
// into 1 + n Initials), 8 bytes of Destination Connection ID, then frames.
#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "fuzz/plugin_harness.h"
#include "plugins/tls_sni/client_hello.h"
#include "plugins/tls_sni/quic.h"

using namespace pcapml;
using namespace pcapml::tls_sni;

namespace {

// A raw IPv4/UDP packet (link type 101) between client 198.18.0.<client>:50000 and 198.18.1.1:443.
std::vector<uint8_t> Udp(uint8_t client, bool to_server, const uint8_t* payload, size_t n) {
  std::vector<uint8_t> p(28 + n);
  uint16_t total = static_cast<uint16_t>(p.size());
  p[0] = 0x45, p[2] = static_cast<uint8_t>(total >> 8), p[3] = static_cast<uint8_t>(total), p[8] = 64, p[9] = 17;
  const uint8_t a[4] = {198, 18, 0, client}, b[4] = {198, 18, 1, 1};
  std::memcpy(&p[12], to_server ? a : b, 4);
  std::memcpy(&p[16], to_server ? b : a, 4);
  uint16_t sport = to_server ? 50000 : 443, dport = to_server ? 443 : 50000, ulen = static_cast<uint16_t>(8 + n);
  p[20] = static_cast<uint8_t>(sport >> 8), p[21] = static_cast<uint8_t>(sport);
  p[22] = static_cast<uint8_t>(dport >> 8), p[23] = static_cast<uint8_t>(dport);
  p[24] = static_cast<uint8_t>(ulen >> 8), p[25] = static_cast<uint8_t>(ulen);
  if (n) std::memcpy(&p[28], payload, n);
  return p;
}

// A client Initial (packet number pn, 2-byte Length) carrying frames.
std::vector<uint8_t> Initial(QuicCipher& cipher, const InitialKeys& k, uint32_t version, const uint8_t* dcid,
                             const uint8_t* frames, size_t n, uint8_t pn) {
  std::vector<uint8_t> body(frames, frames + n);
  if (body.size() < 20) body.resize(20, 0);  // room for the header-protection sample
  size_t length = 1 + body.size() + 16;
  if (length > 0x3fff) return {};
  // Type bits of an Initial: 0b00 in version 1, 0b01 in version 2; a 1-byte packet number.
  uint8_t h[19] = {static_cast<uint8_t>(version == kQuicV2 ? 0xd0 : 0xc0),
                   static_cast<uint8_t>(version >> 24),
                   static_cast<uint8_t>(version >> 16),
                   static_cast<uint8_t>(version >> 8),
                   static_cast<uint8_t>(version),
                   8};
  std::memcpy(h + 6, dcid, 8);
  h[14] = 0;  // no source connection ID
  h[15] = 0;  // no token
  h[16] = static_cast<uint8_t>(0x40 | length >> 8), h[17] = static_cast<uint8_t>(length);
  h[18] = pn;
  std::vector<uint8_t> out(sizeof h + body.size() + 16);
  FUZZ_CHECK(cipher.Seal(k, h, sizeof h, 1, body.data(), body.size(), out.data()));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The parsers on their own.
  LongHeader h;
  for (size_t at = 0; at < size && ParseLongHeader(data + at, size - at, &h) == QuicStatus::kOk;) {
    FUZZ_CHECK(h.size > 0 && h.size <= size - at && h.pn_offset <= h.size);
    fuzz::Touch(h.dcid, h.dcid_len);
    at += h.size;
  }
  CryptoStream stream;
  ReadInitialFrames(data, size, &stream, 4096);
  FUZZ_CHECK(stream.contiguous() <= 4096);
  fuzz::Touch(stream.data(), stream.contiguous());
  std::string_view name;
  if (ParseClientHelloMessage(stream.data(), stream.contiguous(), &name) == HelloStatus::kFound) {
    auto* p = reinterpret_cast<const uint8_t*>(name.data());
    FUZZ_CHECK(p >= stream.data() && p + name.size() <= stream.data() + stream.contiguous());
  }
  if (size < 9) return 0;

  // The plugin, as pcapml runs it.
  const plugin::PluginInfo* info = PCAPML_PLUGIN_ENTRY_SYMBOL();
  PluginSpec spec{info->name, "", "fuzz.toml:1", {}};
  spec.settings.push_back({"names", 1, R"(names = { "*.example.com" = "example" })"});
  spec.settings.push_back({"max_connections", 1, "max_connections = 4"});
  spec.settings.push_back({"max_hello_bytes", 1, "max_hello_bytes = 2048"});
  plugin::Config config;
  std::string err;
  FUZZ_CHECK(BuildPluginConfig(*info, spec, &config, &err));
  std::unique_ptr<plugin::Instance> made = info->create(config, &err);
  FUZZ_CHECK(made != nullptr);
  PluginInstance host(LoadedPlugin{nullptr, info, "fuzz", ""}, "fuzz",
                      std::make_unique<fuzz::CheckedInstance>(std::move(made)));
  auto send = [&](const std::vector<uint8_t>& packet, int64_t ts) {
    plugin::Packet p;
    DecodePacket(101, ts, packet.data(), static_cast<uint32_t>(packet.size()), static_cast<uint32_t>(packet.size()),
                 &p);
    plugin::Label label;
    host.Process(p, &label);
  };
  uint32_t version = data[0] & 1 ? kQuicV2 : kQuicV1;
  size_t pieces = 1 + ((data[0] >> 1) & 3);
  const uint8_t* dcid = data + 1;
  const uint8_t* frames = data + 9;
  size_t n = size - 9;
  InitialKeys k;
  FUZZ_CHECK(DeriveInitialKeys(version, dcid, 8, false, &k));
  QuicCipher cipher;
  int64_t ts = 1'700'000'000'000'000'000;
  for (size_t i = 0, at = 0; i < pieces; ++i) {
    size_t take = i + 1 == pieces ? n - at : std::min(n - at, n / pieces);
    send(Udp(1, true, nullptr, 0), ts);  // an empty datagram first: no opinion
    std::vector<uint8_t> initial = Initial(cipher, k, version, dcid, frames + at, take, static_cast<uint8_t>(i));
    if (!initial.empty()) send(Udp(1, true, initial.data(), initial.size()), ts += 1000);
    send(Udp(1, false, frames, std::min<size_t>(n, 64)), ts += 1000);  // the server: held or labeled
    at += take;
  }
  send(Udp(2, true, data + 9, n), ts += 1000);  // the raw bytes as a datagram of another connection
  return 0;
}
