// QUIC Initial packets, enough to read the ClientHello a client sends in
// them: long headers (RFC 9000 §17.2), the Initial keys of versions 1
// (RFC 9001 §5.2) and 2 (RFC 9369 §3.3), header protection (RFC 9001 §5.4,
// AES-128-ECB), payload protection (AES-128-GCM), and the frames an Initial
// may carry (RFC 9000 §17.2.2), whose CRYPTO bytes are gathered in stream
// order (they may come out of order, in several frames and packets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pcapml::tls_sni {

inline constexpr uint32_t kQuicV1 = 0x00000001, kQuicV2 = 0x6b3343cf;
inline constexpr size_t kMaxCid = 20;

enum class QuicType : uint8_t { kInitial, kZeroRtt, kHandshake, kRetry, kVersionNegotiation };

struct LongHeader {
  uint32_t version = 0;
  QuicType type = QuicType::kInitial;
  const uint8_t* dcid = nullptr;
  size_t dcid_len = 0;
  size_t pn_offset = 0;  // where the (protected) packet number starts
  size_t size = 0;       // bytes of this packet (coalesced packets follow it)
};

enum class QuicStatus {
  kOk,
  kNotQuic,    // not a long header of version 1 or 2 (or version negotiation)
  kMalformed,  // a long header of a known version whose lengths do not add up
};

// The long header packet at the start of n bytes.
QuicStatus ParseLongHeader(const uint8_t* data, size_t n, LongHeader* h);

struct InitialKeys {
  uint8_t secret[32], key[16], iv[12], hp[16];
};

// The client's (or the server's) Initial keys, from the Destination
// Connection ID of the client's first Initial. False only if OpenSSL fails.
bool DeriveInitialKeys(uint32_t version, const uint8_t* dcid, size_t dcid_len, bool server, InitialKeys* keys);

// Reusable cipher contexts (one per plugin instance).
class QuicCipher {
 public:
  QuicCipher();
  ~QuicCipher();
  QuicCipher(const QuicCipher&) = delete;
  QuicCipher& operator=(const QuicCipher&) = delete;

  // The 5 bytes of header-protection mask for a 16-byte sample.
  bool Mask(const uint8_t hp[16], const uint8_t* sample, uint8_t mask[5]);
  // Removes the protection of the Initial packet h at `d` (with keys k): its
  // frames are written to out (at least h.size bytes); false if the packet
  // is too short or fails authentication.
  bool Open(const InitialKeys& k, const uint8_t* d, const LongHeader& h, uint8_t* out, size_t* frames_len);
  // The other way, for tests and fuzzing: protects an Initial whose header
  // (packet number included, pn_len bytes at its end, the first byte's low
  // bits saying so, the Length field counting pn_len + frames + 16) is
  // `header`; out gets header_len + frames_len + 16 bytes.
  bool Seal(const InitialKeys& keys, const uint8_t* header, size_t header_len, size_t pn_len, const uint8_t* frames,
            size_t frames_len, uint8_t* out);

 private:
  struct Contexts;
  Contexts* c_;
};

// The CRYPTO stream of one direction: fragments at their offsets, up to a
// limit of bytes and a few gaps.
class CryptoStream {
 public:
  void Reset() {
    bytes_.clear();
    ranges_ = 0;
  }
  // False if the fragment ends past `limit` or leaves too many gaps.
  bool Add(uint64_t offset, const uint8_t* data, size_t len, size_t limit);
  // Bytes present from offset 0 on.
  size_t contiguous() const { return ranges_ && range_[0].begin == 0 ? range_[0].end : 0; }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(bytes_.data()); }

 private:
  static constexpr size_t kMaxRanges = 16;
  struct Range {
    size_t begin, end;
  };
  std::string bytes_;
  Range range_[kMaxRanges + 1];
  size_t ranges_ = 0;
};

enum class FramesStatus {
  kOk,
  kMalformed,  // a frame cut short, or of a type an Initial may not carry
  kTooLong,    // CRYPTO data past the limit, or in too many pieces
};

// Reads the frames of a decrypted Initial (PADDING, PING, ACK, CRYPTO,
// CONNECTION_CLOSE), adding CRYPTO data to stream.
FramesStatus ReadInitialFrames(const uint8_t* frames, size_t n, CryptoStream* stream, size_t limit);

}  // namespace pcapml::tls_sni
