// gzip and zstd captures read as they are (as tshark reads .pcap.gz): the
// reader sees a compressed stream by its magic and reads it through this.
// Concatenated gzip members and zstd frames are read one after another.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pcapml {

class Decompressor {
 public:
  // The decompressor for a stream starting with these bytes, or null if
  // they are no gzip or zstd magic.
  static std::unique_ptr<Decompressor> ForMagic(const uint8_t* p, size_t n);
  virtual ~Decompressor() = default;

  // Decompresses from fd (after `pending`, the bytes already read from it)
  // into out; returns the bytes written, 0 at the end, -1 with *err.
  ssize_t Read(int fd, uint8_t* out, size_t n, std::string* err);
  // The compressed stream ended before its end marker (a file cut short).
  bool cut_short() const { return cut_short_; }
  virtual const char* name() const = 0;

  std::vector<uint8_t> pending;  // compressed bytes read and not yet decompressed

 protected:
  // Decompresses in[0, *in_len) into out[0, *out_len); updates both to what
  // was used and made. Sets *frame_end at the end of a gzip member or zstd
  // frame. False with *err on corrupt data.
  virtual bool Step(const uint8_t* in, size_t* in_len, uint8_t* out, size_t* out_len, bool* frame_end,
                    std::string* err) = 0;

 private:
  size_t start_ = 0;       // first unused byte of pending
  uint64_t consumed_ = 0;  // compressed bytes used, for error offsets
  bool in_frame_ = false;  // inside a member/frame (its end not seen yet)
  bool eof_ = false;
  bool cut_short_ = false;
};

}  // namespace pcapml
