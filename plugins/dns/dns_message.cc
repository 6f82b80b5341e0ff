#include "plugins/dns/dns_message.h"

#include <cstring>

namespace pcapml::dns {
namespace {

constexpr uint16_t kTypeA = 1, kTypeAaaa = 28, kClassIn = 1;

uint32_t Load16(const uint8_t* p) { return uint32_t{p[0]} << 8 | p[1]; }
uint32_t Load32(const uint8_t* p) { return Load16(p) << 16 | Load16(p + 2); }

// Reads the (possibly compressed) name at *pos into out (dotted, without
// the root's dot; out may be null to skip it) and moves *pos past it.
// Compression pointers must point backwards, so every name ends.
bool ReadName(const uint8_t* msg, size_t size, size_t* pos, char* out, size_t* out_size) {
  size_t at = *pos, n = 0;
  bool jumped = false;
  for (;;) {
    if (at >= size) return false;
    uint8_t len = msg[at];
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= size) return false;
      size_t target = (len & 0x3f) << 8 | msg[at + 1];
      if (target >= at) return false;
      if (!jumped) *pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if (len & 0xc0) return false;  // obsolete label types
    if (len == 0) break;
    if (at + 1 + len > size || n + (n ? 1 : 0) + len > kMaxNameLength) return false;
    if (out) {
      if (n) out[n] = '.';
      std::memcpy(out + n + (n ? 1 : 0), msg + at + 1, len);
    }
    n += (n ? 1 : 0) + len;
    at += 1 + len;
  }
  if (!jumped) *pos = at + 1;
  if (out_size) *out_size = n;
  return true;
}

// One answer record; A/AAAA of class IN are added to *out.
bool Record(const uint8_t* msg, size_t size, size_t* pos, DnsAnswer* out) {
  if (!ReadName(msg, size, pos, nullptr, nullptr) || size - *pos < 10) return false;
  const uint8_t* r = msg + *pos;
  uint32_t type = Load16(r), cls = Load16(r + 2), ttl = Load32(r + 4), rdlen = Load16(r + 8);
  *pos += 10;
  if (size - *pos < rdlen) return false;
  size_t want = type == kTypeA ? 4 : type == kTypeAaaa ? 16 : 0;
  if (want && cls == kClassIn) {
    if (rdlen != want) return false;
    if (out->address_count < kMaxAddresses) {
      DnsAddress& a = out->addresses[out->address_count++];
      a.ip_version = want == 4 ? 4 : 6;
      std::memcpy(a.addr, msg + *pos, want);
      a.ttl = ttl & 0x7fffffff;  // RFC 2181 §8: a TTL with the top bit set is 0
      if (ttl & 0x80000000) a.ttl = 0;
    }
  }
  *pos += rdlen;
  return true;
}

}  // namespace

DnsStatus ParseDnsResponse(const uint8_t* msg, size_t size, DnsAnswer* out) {
  out->name_size = 0;
  out->address_count = 0;
  if (size < 12) return DnsStatus::kMalformed;
  uint32_t flags = Load16(msg + 2), questions = Load16(msg + 4), answers = Load16(msg + 6);
  bool response = flags & 0x8000;
  uint32_t opcode = (flags >> 11) & 0xf, rcode = flags & 0xf;
  if (!response || opcode != 0 || rcode != 0 || questions == 0) return DnsStatus::kIgnored;
  size_t pos = 12;
  if (!ReadName(msg, size, &pos, out->name_buf, &out->name_size) || size - pos < 4) return DnsStatus::kMalformed;
  pos += 4;                                   // type, class
  for (uint32_t i = 1; i < questions; ++i) {  // further questions (unusual): skipped
    if (!ReadName(msg, size, &pos, nullptr, nullptr) || size - pos < 4) return DnsStatus::kMalformed;
    pos += 4;
  }
  for (uint32_t i = 0; i < answers; ++i)
    if (!Record(msg, size, &pos, out)) return DnsStatus::kMalformed;
  return DnsStatus::kAnswer;
}

}  // namespace pcapml::dns
