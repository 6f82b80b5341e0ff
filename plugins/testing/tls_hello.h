// ClientHello bytes for the tls_sni tests, built field by field.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pcapml::testing_tls {

using Bytes = std::vector<uint8_t>;

inline void Put(Bytes* b, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void Append(Bytes* b, const Bytes& more) { b->insert(b->end(), more.begin(), more.end()); }

inline Bytes Extension(uint16_t type, const Bytes& data) {
  Bytes e;
  Put(&e, type, 2);
  Put(&e, static_cast<uint32_t>(data.size()), 2);
  Append(&e, data);
  return e;
}

inline Bytes ServerNameExtension(const std::string& name) {
  Bytes entry = {0};  // host_name
  Put(&entry, static_cast<uint32_t>(name.size()), 2);
  entry.insert(entry.end(), name.begin(), name.end());
  Bytes list;
  Put(&list, static_cast<uint32_t>(entry.size()), 2);
  Append(&list, entry);
  return Extension(0, list);
}

// A TLS 1.3-style ClientHello handshake message (type, length, body).
inline Bytes HelloMessage(const std::string& name, size_t padding = 0) {
  Bytes body = {3, 3};
  body.resize(2 + 32, 0x5a);  // random
  Put(&body, 32, 1);
  body.resize(body.size() + 32, 0x11);  // legacy session id
  Put(&body, 4, 2);
  Put(&body, 0x1301, 2), Put(&body, 0x1302, 2);
  Put(&body, 1, 1), Put(&body, 0, 1);     // compression: null
  Bytes exts = Extension(43, {2, 3, 4});  // supported_versions
  if (!name.empty()) Append(&exts, ServerNameExtension(name));
  if (padding) Append(&exts, Extension(21, Bytes(padding, 0)));
  Put(&body, static_cast<uint32_t>(exts.size()), 2);
  Append(&body, exts);
  Bytes msg = {1};
  Put(&msg, static_cast<uint32_t>(body.size()), 3);
  Append(&msg, body);
  return msg;
}

// The message in TLS records of at most `fragment` bytes each.
inline Bytes Records(const Bytes& msg, size_t fragment = 16384) {
  Bytes out;
  for (size_t at = 0; at < msg.size(); at += fragment) {
    size_t n = std::min(fragment, msg.size() - at);
    Put(&out, 0x160301, 3);
    Put(&out, static_cast<uint32_t>(n), 2);
    out.insert(out.end(), msg.begin() + static_cast<ptrdiff_t>(at), msg.begin() + static_cast<ptrdiff_t>(at + n));
  }
  return out;
}

}  // namespace pcapml::testing_tls
