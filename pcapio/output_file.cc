#include "pcapio/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace pcapml {

OutputFile::~OutputFile() { Abandon(); }

bool OutputFile::Open(const std::string& path, std::string* err, size_t buffer) {
  path_ = path;
  buf_.resize(buffer);
  if (path == "-") {
    fd_ = 1;
    return true;
  }
  // Refused before any work: "<dir>/.partial" would be written whole, then fail to become "<dir>/".
  struct stat st;
  if (path.empty() || path.back() == '/' || (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
    *err = "cannot write " + path + ": it is a directory (give a file name)";
    return false;
  }
  temp_ = path + ".partial";
  fd_ = open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    *err = "cannot write " + path + ": " + strerror(errno);
    temp_.clear();
    return false;
  }
  return true;
}

void OutputFile::WriteAll(const uint8_t* p, size_t n) {
  while (n > 0 && error_.empty()) {
    ssize_t w = write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      error_ = "write to " + path_ + " failed: " + strerror(errno);
      return;
    }
    p += w;
    n -= static_cast<size_t>(w);
    written_ += static_cast<uint64_t>(w);
  }
}

void OutputFile::FlushBuffer() {
  uint64_t before = written_;
  if (fd_ >= 0 && error_.empty()) WriteAll(buf_.data(), used_);
  // A partial write (disk full) would leave half a block: cut it off.
  if (!error_.empty() && written_ != before && fd_ > 1 && ftruncate(fd_, static_cast<off_t>(before)) == 0) {
    lseek(fd_, static_cast<off_t>(before), SEEK_SET);
    written_ = before;
  }
  used_ = 0;
}

void OutputFile::Spill(const void* data, size_t n) {
  FlushBuffer();
  if (n >= buf_.size()) {
    WriteAll(static_cast<const uint8_t*>(data), n);
    return;
  }
  memcpy(buf_.data(), data, n);
  used_ = n;
}

bool OutputFile::Flush(std::string* err) {
  FlushBuffer();
  if (!error_.empty()) *err = error_;
  return error_.empty();
}

bool OutputFile::Commit(std::string* err, bool sync) {
  if (!Flush(err)) return false;
  if (fd_ == 1) return true;
  if (sync && fsync(fd_) != 0) {
    *err = "fsync of " + path_ + " failed: " + strerror(errno);
    return false;
  }
  if (close(fd_) != 0) {
    fd_ = -1;
    *err = "close of " + path_ + " failed: " + strerror(errno);
    return false;
  }
  fd_ = -1;
  if (rename(temp_.c_str(), path_.c_str()) != 0) {
    *err = "cannot rename " + temp_ + " to " + path_ + ": " + strerror(errno);
    return false;
  }
  temp_.clear();
  return true;
}

void OutputFile::Abandon() {
  if (fd_ > 1) close(fd_);
  fd_ = -1;
  if (!temp_.empty()) unlink(temp_.c_str());
  temp_.clear();
  used_ = 0;
}

}  // namespace pcapml
