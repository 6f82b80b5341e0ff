#include "pcapio/decompressor.h"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace pcapml {
namespace {

constexpr size_t kInputChunk = 256u << 10;

class Gzip : public Decompressor {
 public:
  Gzip() { ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK; }  // 16: a gzip header, not zlib's
  ~Gzip() override { inflateEnd(&z_); }
  const char* name() const override { return "gzip"; }

 protected:
  bool Step(const uint8_t* in, size_t* in_len, uint8_t* out, size_t* out_len, bool* frame_end,
            std::string* err) override {
    if (!ok_) return *err = "cannot start zlib", false;
    z_.next_in = const_cast<uint8_t*>(in);
    z_.avail_in = static_cast<uInt>(*in_len);
    z_.next_out = out;
    z_.avail_out = static_cast<uInt>(*out_len);
    int rc = inflate(&z_, Z_NO_FLUSH);
    *in_len -= z_.avail_in;
    *out_len -= z_.avail_out;
    *frame_end = rc == Z_STREAM_END;
    if (rc == Z_STREAM_END) inflateReset(&z_);  // another member may follow
    if (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) return true;
    *err = z_.msg ? z_.msg : "corrupt data";
    return false;
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

class Zstd : public Decompressor {
 public:
  Zstd() : d_(ZSTD_createDStream()) {}
  ~Zstd() override { ZSTD_freeDStream(d_); }
  const char* name() const override { return "zstd"; }

 protected:
  bool Step(const uint8_t* in, size_t* in_len, uint8_t* out, size_t* out_len, bool* frame_end,
            std::string* err) override {
    ZSTD_inBuffer i{in, *in_len, 0};
    ZSTD_outBuffer o{out, *out_len, 0};
    size_t rc = ZSTD_decompressStream(d_, &o, &i);
    *in_len = i.pos;
    *out_len = o.pos;
    if (ZSTD_isError(rc)) return *err = ZSTD_getErrorName(rc), false;
    *frame_end = rc == 0;  // a frame is complete and flushed
    return true;
  }

 private:
  ZSTD_DStream* d_;
};

}  // namespace

std::unique_ptr<Decompressor> Decompressor::ForMagic(const uint8_t* p, size_t n) {
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return std::make_unique<Gzip>();
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) return std::make_unique<Zstd>();
  return nullptr;
}

ssize_t Decompressor::Read(int fd, uint8_t* out, size_t n, std::string* err) {
  for (;;) {
    if (start_ == pending.size() && !eof_) {
      pending.resize(kInputChunk);
      start_ = 0;
      ssize_t got;
      while ((got = read(fd, pending.data(), pending.size())) < 0 && errno == EINTR) {}
      if (got < 0) return *err = strerror(errno), -1;
      pending.resize(static_cast<size_t>(got));
      eof_ = got == 0;
    }
    if (start_ == pending.size() && eof_) {
      cut_short_ = in_frame_;
      return 0;
    }
    size_t used = pending.size() - start_, made = n;
    bool frame_end = false;
    if (!Step(pending.data() + start_, &used, out, &made, &frame_end, err)) {
      *err = std::string(name()) + " data: " + *err + " at compressed byte offset " + std::to_string(consumed_);
      return -1;
    }
    start_ += used;
    consumed_ += used;
    in_frame_ = !frame_end && (in_frame_ || used > 0 || made > 0);
    if (made > 0) return static_cast<ssize_t>(made);
    if (used == 0 && start_ < pending.size()) {  // no progress on input that is there: nothing will come
      *err = std::string(name()) + " data: stuck at compressed byte offset " + std::to_string(consumed_);
      return -1;
    }
  }
}

}  // namespace pcapml
