#include "plugins/dns/dns_stream.h"

namespace pcapml::dns {

bool DnsTcpStream::Add(uint32_t seq, const uint8_t* data, size_t len, size_t orig_len) {
  if (broken_) return false;
  if (len < orig_len) return broken_ = true, false;
  buf_.erase(0, taken_);
  taken_ = 0;
  size_t skip = 0;
  if (seq_known_) {
    if (static_cast<int32_t>(seq - next_seq_) > 0) return broken_ = true, false;
    skip = next_seq_ - seq;  // bytes already held (a retransmission)
    if (skip >= len) return true;
  }
  if (buf_.size() + len - skip > 2 * kMaxBuffered) return broken_ = true, false;  // a part message and a segment
  buf_.append(reinterpret_cast<const char*>(data + skip), len - skip);
  next_seq_ = seq + static_cast<uint32_t>(len);
  seq_known_ = true;
  return true;
}

bool DnsTcpStream::Next(const uint8_t** msg, size_t* len) {
  size_t left = buf_.size() - taken_;
  if (left < 2) return false;
  auto* p = reinterpret_cast<const uint8_t*>(buf_.data()) + taken_;
  size_t n = size_t{p[0]} << 8 | p[1];
  if (left < 2 + n) return false;
  *msg = p + 2;
  *len = n;
  taken_ += 2 + n;
  return true;
}

}  // namespace pcapml::dns
