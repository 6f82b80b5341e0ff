// A buffered output file that appears under its final name only when it is
// complete: data goes to "<path>.partial" and Commit() renames it. A file
// never committed is removed, so a failed run leaves nothing under the name
// the user asked for. "-" writes to standard output.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace pcapml {

class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Creates the temporary file. `buffer` bytes are collected before a write().
  bool Open(const std::string& path, std::string* err, size_t buffer = 1u << 20);

  // Appends bytes. Errors are sticky and reported by Flush/Commit.
  void Append(const void* data, size_t n) {
    if (n > buf_.size() - used_) {
      Spill(data, n);
      return;
    }
    memcpy(buf_.data() + used_, data, n);
    used_ += n;
  }
  // Space for n bytes to fill in place (n must be <= capacity()).
  uint8_t* Reserve(size_t n) {
    if (n > buf_.size() - used_) FlushBuffer();
    uint8_t* p = buf_.data() + used_;
    used_ += n;
    return p;
  }
  size_t capacity() const { return buf_.size(); }

  bool Flush(std::string* err);
  // Flushes, optionally fsyncs, closes and renames to the final path.
  bool Commit(std::string* err, bool sync = false);
  // Closes and removes the temporary file.
  void Abandon();
  // After a Commit that closed the file but could not rename it: gives up
  // the complete temporary file (it is no longer removed) and returns its path.
  std::string ReleaseTemp() { return fd_ < 0 ? std::exchange(temp_, std::string()) : std::string(); }

  bool ok() const { return error_.empty(); }
  // Forgets a write error, so a long-running writer can try again later. The
  // failed buffer's bytes are gone; the file was cut back to what was written
  // before them, so it still ends on a block boundary.
  void ClearError() { error_.clear(); }
  size_t buffered() const { return used_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  uint64_t bytes_written() const { return written_ + used_; }
  // Bytes that reached the file (not counting the buffer).
  uint64_t durable_bytes() const { return written_; }

 private:
  void Spill(const void* data, size_t n);
  void FlushBuffer();
  void WriteAll(const uint8_t* p, size_t n);

  int fd_ = -1;
  std::string path_, temp_;
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
  uint64_t written_ = 0;
  std::string error_;
};

}  // namespace pcapml
