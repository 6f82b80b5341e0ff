// DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8): what one side of a TCP
// connection sent, in sequence order, cut into messages at their 2-byte
// length prefix. Bounded: at most one message of buffered bytes; a gap in
// the sequence (a lost or reordered segment) ends the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pcapml::dns {

class DnsTcpStream {
 public:
  void Reset() {
    seq_known_ = broken_ = false;
    buf_.clear();
  }
  // The side's SYN had this sequence number: its data starts after it.
  void Start(uint32_t syn_seq) {
    Reset();
    next_seq_ = syn_seq + 1;
    seq_known_ = true;
  }
  // Adds a segment's payload; false (and the stream stays broken) on a gap,
  // a segment cut by the snap length (orig_len > len) or a message that
  // cannot fit.
  bool Add(uint32_t seq, const uint8_t* data, size_t len, size_t orig_len);
  // The next whole message, valid until the next call; false if none.
  bool Next(const uint8_t** msg, size_t* len);
  bool broken() const { return broken_; }

 private:
  static constexpr size_t kMaxBuffered = 2 + 65535;
  bool seq_known_ = false, broken_ = false;
  uint32_t next_seq_ = 0;
  std::string buf_;
  size_t taken_ = 0;  // bytes of buf_ handed out by Next, dropped on the next Add
};

}  // namespace pcapml::dns
