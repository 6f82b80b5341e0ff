// What the fuzz targets share: a check that survives NDEBUG, reads that let
// ASan see every byte a view points at, inputs as files for path-taking
// APIs, and the packet-stream input of the plugin targets.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <iterator>

// An invariant the code under test promises; a violation is a finding.
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                      \
    }                                                                               \
  } while (0)

namespace pcapml::fuzz {

inline volatile uint8_t touch_sink;

// Reads every byte (ASan then checks the whole range is live memory).
inline void Touch(const void* p, size_t n) {
  const volatile uint8_t* b = static_cast<const volatile uint8_t*>(p);
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + b[i]);
  touch_sink = sum;
}
inline void Touch(std::string_view s) { Touch(s.data(), s.size()); }

// The input as a file in memory (memfd), for APIs that take a path.
class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) {
    fd_ = memfd_create("fuzz-input", MFD_CLOEXEC);
    FUZZ_CHECK(fd_ >= 0);
    for (size_t done = 0; done < size;) {
      ssize_t n = write(fd_, data + done, size - done);
      FUZZ_CHECK(n > 0);
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// The plugin targets' input: packets of one link type with their times.
//   byte 0: link type (index into kLinkTypes, modulo its size)
//   then records: length (2 bytes, big-endian), time step, packet bytes;
//   a step of 255 is followed by an absolute time (8 bytes, big-endian,
//   two's complement), else time advances by step * 10 ms.
// A record cut short by the end of the input keeps what is there.
struct StreamPacket {
  int64_t ts_ns = 0;
  const uint8_t* data = nullptr;
  uint32_t size = 0;
};

class PacketStream {
 public:
  static constexpr uint16_t kLinkTypes[] = {1, 101, 113, 276, 0};

  PacketStream(const uint8_t* data, size_t size) : p_(data), end_(data + size) {
    if (p_ < end_) link_type_ = kLinkTypes[*p_++ % std::size(kLinkTypes)];
  }
  uint16_t link_type() const { return link_type_; }

  bool Next(StreamPacket* out) {
    if (end_ - p_ < 3) return false;
    size_t len = size_t{p_[0]} << 8 | p_[1];
    uint8_t step = p_[2];
    p_ += 3;
    if (step == 255) {
      uint64_t t = 0;
      for (int i = 0; i < 8 && p_ < end_; ++i) t = t << 8 | *p_++;
      ts_ = static_cast<int64_t>(t);
    } else {
      ts_ = static_cast<int64_t>(static_cast<uint64_t>(ts_) + uint64_t{step} * 10'000'000);
    }
    len = std::min<size_t>(len, static_cast<size_t>(end_ - p_));
    *out = {ts_, p_, static_cast<uint32_t>(len)};
    p_ += len;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  uint16_t link_type_ = 1;
  int64_t ts_ = 1'700'000'000'000'000'000;
};

}  // namespace pcapml::fuzz
