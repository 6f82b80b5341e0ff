#include "plugins/tls_sni/client_hello.h"

#include <cstring>

namespace pcapml::tls_sni {
namespace {

constexpr uint8_t kHandshakeRecord = 22, kClientHello = 1;
constexpr size_t kMaxRecord = (1 << 14) + 2048;  // TLSCiphertext bound (RFC 8446 §5.2)
constexpr uint16_t kServerNameExtension = 0;

// Reads big-endian fields; every read checks the bytes are there.
class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool U8(uint32_t* v) { return Int(1, v); }
  bool U16(uint32_t* v) { return Int(2, v); }
  bool U24(uint32_t* v) { return Int(3, v); }
  bool Skip(size_t k) { return k <= n_ - pos_ ? (pos_ += k, true) : false; }
  // A sub-reader over the next k bytes.
  bool Sub(size_t k, Reader* r) {
    if (k > n_ - pos_) return false;
    *r = Reader(p_ + pos_, k);
    pos_ += k;
    return true;
  }
  size_t left() const { return n_ - pos_; }
  const uint8_t* here() const { return p_ + pos_; }

 private:
  bool Int(size_t k, uint32_t* v) {
    if (k > n_ - pos_) return false;
    *v = 0;
    for (size_t i = 0; i < k; ++i) *v = *v << 8 | p_[pos_++];
    return true;
  }
  const uint8_t* p_;
  size_t n_, pos_ = 0;
};

HelloStatus ServerName(Reader ext, std::string_view* name) {
  uint32_t list_len, type, len;
  Reader list(nullptr, 0);
  if (!ext.U16(&list_len) || !ext.Sub(list_len, &list) || ext.left()) return HelloStatus::kMalformed;
  while (list.left()) {
    if (!list.U8(&type) || !list.U16(&len) || len == 0 || len > list.left()) return HelloStatus::kMalformed;
    if (type == 0) {
      *name = std::string_view(reinterpret_cast<const char*>(list.here()), len);
      return HelloStatus::kFound;
    }
    list.Skip(len);
  }
  return HelloStatus::kNoName;
}

// The ClientHello body (after type and length), RFC 8446 §4.1.2.
HelloStatus Body(Reader r, std::string_view* name) {
  uint32_t sid, suites, comp, ext_len;
  Reader exts(nullptr, 0);
  if (!r.Skip(2 + 32) || !r.U8(&sid) || sid > 32 || !r.Skip(sid) || !r.U16(&suites) || suites < 2 || suites % 2 ||
      !r.Skip(suites) || !r.U8(&comp) || comp < 1 || !r.Skip(comp))
    return HelloStatus::kMalformed;
  if (!r.left()) return HelloStatus::kNoName;  // no extensions at all
  if (!r.U16(&ext_len) || !r.Sub(ext_len, &exts) || r.left()) return HelloStatus::kMalformed;
  HelloStatus found = HelloStatus::kNoName;
  while (exts.left()) {
    uint32_t type, len;
    Reader ext(nullptr, 0);
    if (!exts.U16(&type) || !exts.U16(&len) || !exts.Sub(len, &ext)) return HelloStatus::kMalformed;
    if (type == kServerNameExtension && found == HelloStatus::kNoName) {
      found = ServerName(ext, name);
      if (found == HelloStatus::kMalformed) return found;
    }
  }
  return found;
}

}  // namespace

HelloStatus ParseClientHello(const uint8_t* data, size_t size, uint8_t* scratch, std::string_view* name) {
  size_t have = 0;  // handshake bytes gathered into scratch
  Reader records(data, size);
  while (records.left()) {
    uint32_t type = 0, major = 0, minor = 0, len = 0;
    if (records.left() < 5) return HelloStatus::kNeedMore;
    records.U8(&type), records.U8(&major), records.U8(&minor), records.U16(&len);
    if (type != kHandshakeRecord || major != 3 || minor > 4)
      return have ? HelloStatus::kMalformed : HelloStatus::kNotTls;
    if (len == 0 || len > kMaxRecord) return HelloStatus::kMalformed;
    size_t take = len < records.left() ? len : records.left();
    if (have + take > kMaxHello) return HelloStatus::kMalformed;
    std::memcpy(scratch + have, records.here(), take);
    have += take;
    records.Skip(take);
    if (have >= 4) {
      if (scratch[0] != kClientHello) return HelloStatus::kNotTls;
      size_t hello = size_t{scratch[1]} << 16 | size_t{scratch[2]} << 8 | scratch[3];
      if (hello + 4 > kMaxHello) return HelloStatus::kMalformed;
      if (have >= hello + 4) return Body(Reader(scratch + 4, hello), name);
    }
  }
  return HelloStatus::kNeedMore;
}

HelloStatus ParseClientHelloMessage(const uint8_t* msg, size_t size, std::string_view* name) {
  if (size < 4) return HelloStatus::kNeedMore;
  if (msg[0] != kClientHello) return HelloStatus::kNotTls;
  size_t hello = size_t{msg[1]} << 16 | size_t{msg[2]} << 8 | msg[3];
  if (size < hello + 4) return HelloStatus::kNeedMore;
  return Body(Reader(msg + 4, hello), name);
}

}  // namespace pcapml::tls_sni
