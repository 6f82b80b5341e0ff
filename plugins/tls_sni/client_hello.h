// The server name (SNI, RFC 6066) of a TLS ClientHello, from the bytes a
// client sent first on a TCP connection: TLS records (RFC 8446 §5.1) whose
// handshake message may span several records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pcapml::tls_sni {

enum class HelloStatus {
  kNeedMore,   // a valid prefix of a ClientHello: wait for more bytes
  kFound,      // *name is the host_name of the server_name extension
  kNoName,     // a complete ClientHello without a server name
  kNotTls,     // the client's bytes are not a TLS handshake
  kMalformed,  // a TLS handshake whose lengths do not add up
};

// Handshake bytes are gathered into scratch (at least kMaxHello bytes);
// *name points into data or scratch.
inline constexpr size_t kMaxHello = 1 << 16;

HelloStatus ParseClientHello(const uint8_t* data, size_t size, uint8_t* scratch, std::string_view* name);

// The same for a handshake message without the record layer, as QUIC's
// CRYPTO frames carry it (RFC 9001 §4): *name points into msg.
HelloStatus ParseClientHelloMessage(const uint8_t* msg, size_t size, std::string_view* name);

}  // namespace pcapml::tls_sni
