#include "plugins/tls_sni/quic.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace pcapml::tls_sni {
namespace {

constexpr uint8_t kSaltV1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr uint8_t kSaltV2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
constexpr size_t kTag = 16, kSample = 16;

// A variable-length integer (RFC 9000 §16) at *at; false if cut short.
bool Varint(const uint8_t* p, size_t n, size_t* at, uint64_t* v) {
  if (*at >= n) return false;
  size_t len = size_t{1} << (p[*at] >> 6);
  if (len > n - *at) return false;
  *v = p[*at] & 0x3f;
  for (size_t i = 1; i < len; ++i) *v = *v << 8 | p[*at + i];
  *at += len;
  return true;
}

// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of
// at most one SHA-256 block.
bool ExpandLabel(const uint8_t secret[32], const char* label, size_t out_len, uint8_t* out) {
  uint8_t info[2 + 1 + 255 + 1 + 1];
  size_t label_len = std::strlen(label), n = 0;
  info[n++] = 0, info[n++] = static_cast<uint8_t>(out_len);
  info[n++] = static_cast<uint8_t>(6 + label_len);
  std::memcpy(info + n, "tls13 ", 6), n += 6;
  std::memcpy(info + n, label, label_len), n += label_len;
  info[n++] = 0;     // context length
  info[n++] = 0x01;  // HKDF-Expand's block counter T(1)
  uint8_t block[32];
  unsigned int block_len = 0;
  if (!HMAC(EVP_sha256(), secret, 32, info, n, block, &block_len) || block_len != 32) return false;
  std::memcpy(out, block, out_len);
  return true;
}

}  // namespace

QuicStatus ParseLongHeader(const uint8_t* d, size_t n, LongHeader* h) {
  if (n < 7 || !(d[0] & 0x80)) return QuicStatus::kNotQuic;
  h->version = uint32_t{d[1]} << 24 | uint32_t{d[2]} << 16 | uint32_t{d[3]} << 8 | d[4];
  size_t at = 5;
  h->dcid_len = d[at++];
  if (h->dcid_len > kMaxCid || h->dcid_len > n - at) return QuicStatus::kNotQuic;
  h->dcid = d + at;
  at += h->dcid_len;
  if (at >= n || d[at] > kMaxCid || d[at] > n - at - 1) return QuicStatus::kNotQuic;
  at += 1 + d[at];
  if (h->version == 0) {  // version negotiation: runs to the end of the datagram
    h->type = QuicType::kVersionNegotiation;
    h->pn_offset = h->size = n;
    return QuicStatus::kOk;
  }
  if (h->version != kQuicV1 && h->version != kQuicV2) return QuicStatus::kNotQuic;
  static constexpr QuicType kV1Types[] = {QuicType::kInitial, QuicType::kZeroRtt, QuicType::kHandshake,
                                          QuicType::kRetry};
  static constexpr QuicType kV2Types[] = {QuicType::kRetry, QuicType::kInitial, QuicType::kZeroRtt,
                                          QuicType::kHandshake};
  h->type = (h->version == kQuicV1 ? kV1Types : kV2Types)[(d[0] >> 4) & 3];
  if (h->type == QuicType::kRetry) {
    h->pn_offset = h->size = n;
    return QuicStatus::kOk;
  }
  uint64_t token_len = 0, length = 0;
  if (h->type == QuicType::kInitial) {
    if (!Varint(d, n, &at, &token_len) || token_len > n - at) return QuicStatus::kMalformed;
    at += token_len;
  }
  if (!Varint(d, n, &at, &length) || length > n - at) return QuicStatus::kMalformed;
  h->pn_offset = at;
  h->size = at + length;
  return QuicStatus::kOk;
}

bool DeriveInitialKeys(uint32_t version, const uint8_t* dcid, size_t dcid_len, bool server, InitialKeys* k) {
  bool v2 = version == kQuicV2;
  uint8_t initial[32];
  unsigned int len = 0;
  const uint8_t* salt = v2 ? kSaltV2 : kSaltV1;
  static const uint8_t kNone = 0;
  if (!HMAC(EVP_sha256(), salt, 20, dcid_len ? dcid : &kNone, dcid_len, initial, &len) || len != 32) return false;
  return ExpandLabel(initial, server ? "server in" : "client in", 32, k->secret) &&
         ExpandLabel(k->secret, v2 ? "quicv2 key" : "quic key", 16, k->key) &&
         ExpandLabel(k->secret, v2 ? "quicv2 iv" : "quic iv", 12, k->iv) &&
         ExpandLabel(k->secret, v2 ? "quicv2 hp" : "quic hp", 16, k->hp);
}

struct QuicCipher::Contexts {
  EVP_CIPHER_CTX* ecb = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* gcm = EVP_CIPHER_CTX_new();
};

QuicCipher::QuicCipher() : c_(new Contexts) {}

QuicCipher::~QuicCipher() {
  EVP_CIPHER_CTX_free(c_->ecb);
  EVP_CIPHER_CTX_free(c_->gcm);
  delete c_;
}

bool QuicCipher::Mask(const uint8_t hp[16], const uint8_t* sample, uint8_t mask[5]) {
  uint8_t block[16 + 16];
  int len = 0;
  if (!c_->ecb || !EVP_EncryptInit_ex(c_->ecb, EVP_aes_128_ecb(), nullptr, hp, nullptr) ||
      !EVP_CIPHER_CTX_set_padding(c_->ecb, 0) || !EVP_EncryptUpdate(c_->ecb, block, &len, sample, kSample) || len != 16)
    return false;
  std::memcpy(mask, block, 5);
  return true;
}

namespace {

void Nonce(const InitialKeys& k, uint64_t pn, uint8_t nonce[12]) {
  std::memcpy(nonce, k.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
}

}  // namespace

bool QuicCipher::Open(const InitialKeys& k, const uint8_t* d, const LongHeader& h, uint8_t* out, size_t* frames_len) {
  // The sample starts 4 bytes after the packet number's start, whatever
  // its length (RFC 9001 §5.4.2).
  if (h.size < h.pn_offset + 4 + kSample) return false;
  uint8_t mask[5];
  if (!Mask(k.hp, d + h.pn_offset + 4, mask)) return false;
  uint8_t first = d[0] ^ (mask[0] & 0x0f);
  size_t pn_len = (first & 3) + 1, header_len = h.pn_offset + pn_len;
  if (h.size < header_len + kTag) return false;
  uint64_t pn = 0;
  for (size_t i = 0; i < pn_len; ++i) pn = pn << 8 | (d[h.pn_offset + i] ^ mask[1 + i]);
  uint8_t nonce[12];
  Nonce(k, pn, nonce);
  // The associated data is the unprotected header, fed in three parts: the
  // first byte and the packet number unmasked, the middle (which a token
  // may make long) as it is in the packet.
  uint8_t header[5];
  header[0] = first;
  for (size_t i = 0; i < pn_len; ++i) header[1 + i] = static_cast<uint8_t>(pn >> (8 * (pn_len - 1 - i)));
  size_t body = h.size - header_len - kTag;
  int len = 0;
  EVP_CIPHER_CTX* c = c_->gcm;
  bool ok = c && EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) &&
            EVP_DecryptInit_ex(c, nullptr, nullptr, k.key, nonce) && EVP_DecryptUpdate(c, nullptr, &len, header, 1) &&
            EVP_DecryptUpdate(c, nullptr, &len, d + 1, static_cast<int>(h.pn_offset - 1)) &&
            EVP_DecryptUpdate(c, nullptr, &len, header + 1, static_cast<int>(pn_len)) &&
            EVP_DecryptUpdate(c, out, &len, d + header_len, static_cast<int>(body)) &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kTag, const_cast<uint8_t*>(d + header_len + body));
  int final_len = 0;
  if (!ok || EVP_DecryptFinal_ex(c, out + len, &final_len) <= 0) return false;
  *frames_len = body;
  return true;
}

bool QuicCipher::Seal(const InitialKeys& k, const uint8_t* header, size_t header_len, size_t pn_len,
                      const uint8_t* frames, size_t frames_len, uint8_t* out) {
  uint64_t pn = 0;
  for (size_t i = header_len - pn_len; i < header_len; ++i) pn = pn << 8 | header[i];
  uint8_t nonce[12];
  Nonce(k, pn, nonce);
  int len = 0, final_len = 0;
  EVP_CIPHER_CTX* c = c_->gcm;
  uint8_t* body = out + header_len;
  if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) ||
      !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) ||
      !EVP_EncryptInit_ex(c, nullptr, nullptr, k.key, nonce) ||
      !EVP_EncryptUpdate(c, nullptr, &len, header, static_cast<int>(header_len)) ||
      !EVP_EncryptUpdate(c, body, &len, frames, static_cast<int>(frames_len)) ||
      !EVP_EncryptFinal_ex(c, body + len, &final_len) ||
      !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kTag, body + frames_len))
    return false;
  std::memcpy(out, header, header_len);
  size_t pn_offset = header_len - pn_len;
  if (header_len + frames_len + kTag < pn_offset + 4 + kSample) return false;  // too short to sample
  uint8_t mask[5];
  if (!Mask(k.hp, out + pn_offset + 4, mask)) return false;
  out[0] ^= mask[0] & 0x0f;
  for (size_t i = 0; i < pn_len; ++i) out[pn_offset + i] ^= mask[1 + i];
  return true;
}

bool CryptoStream::Add(uint64_t offset, const uint8_t* data, size_t len, size_t limit) {
  if (offset > limit || len > limit - offset) return false;
  if (len == 0) return true;
  size_t begin = static_cast<size_t>(offset), end = begin + len;
  if (bytes_.size() < end) bytes_.resize(end);
  std::memcpy(bytes_.data() + begin, data, len);
  // Insert [begin, end) into the sorted, disjoint ranges and merge.
  size_t i = 0;
  while (i < ranges_ && range_[i].end < begin) ++i;
  size_t j = i;
  while (j < ranges_ && range_[j].begin <= end) {
    begin = std::min(begin, range_[j].begin);
    end = std::max(end, range_[j].end);
    ++j;
  }
  if (i == j && ranges_ == kMaxRanges) return false;  // too many gaps: not what a client sends
  std::memmove(&range_[i + 1], &range_[j], (ranges_ - j) * sizeof(Range));
  range_[i] = {begin, end};
  ranges_ = ranges_ - (j - i) + 1;
  return true;
}

FramesStatus ReadInitialFrames(const uint8_t* f, size_t n, CryptoStream* stream, size_t limit) {
  size_t at = 0;
  while (at < n) {
    uint64_t type, a, b, c;
    if (!Varint(f, n, &at, &type)) return FramesStatus::kMalformed;
    switch (type) {
      case 0x00:  // PADDING
      case 0x01:  // PING
        break;
      case 0x02:    // ACK: largest, delay, range count, first range, ranges
      case 0x03: {  // ACK with ECN counts
        if (!Varint(f, n, &at, &a) || !Varint(f, n, &at, &b) || !Varint(f, n, &at, &c) || !Varint(f, n, &at, &a))
          return FramesStatus::kMalformed;
        uint64_t fields = 2 * c + (type == 0x03 ? 3 : 0);
        if (fields > n) return FramesStatus::kMalformed;
        for (uint64_t i = 0; i < fields; ++i)
          if (!Varint(f, n, &at, &a)) return FramesStatus::kMalformed;
        break;
      }
      case 0x06:  // CRYPTO: offset, length, data
        if (!Varint(f, n, &at, &a) || !Varint(f, n, &at, &b) || b > n - at) return FramesStatus::kMalformed;
        if (!stream->Add(a, f + at, static_cast<size_t>(b), limit)) return FramesStatus::kTooLong;
        at += b;
        break;
      case 0x1c:  // CONNECTION_CLOSE: error code, frame type, reason
        if (!Varint(f, n, &at, &a) || !Varint(f, n, &at, &b) || !Varint(f, n, &at, &c) || c > n - at)
          return FramesStatus::kMalformed;
        at += c;
        break;
      default:
        return FramesStatus::kMalformed;
    }
  }
  return FramesStatus::kOk;
}

}  // namespace pcapml::tls_sni
