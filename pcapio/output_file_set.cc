#include "pcapio/output_file_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace pcapml {

OutputFileSet::OutputFileSet(std::string dir, size_t max_open, size_t buffer_budget)
    : dir_(std::move(dir)), max_open_(max_open ? max_open : 1), budget_(buffer_budget) {}

OutputFileSet::~OutputFileSet() { AbandonAll(); }

uint32_t OutputFileSet::Add(std::string name) {
  files_.push_back({std::move(name)});
  return static_cast<uint32_t>(files_.size() - 1);
}

std::string OutputFileSet::FinalPath(uint32_t id) const { return dir_ + "/" + files_[id].name; }

std::string OutputFileSet::PartialPath(uint32_t id) const { return FinalPath(id) + ".partial"; }

void OutputFileSet::SetError(const char* what, uint32_t id, int errnum) {
  if (error_.empty()) error_ = std::string(what) + " " + FinalPath(id) + ": " + strerror(errnum);
}

void OutputFileSet::Unlink(int32_t slot) {
  Slot& s = slots_[slot];
  (s.prev >= 0 ? slots_[s.prev].next : mru_) = s.next;
  (s.next >= 0 ? slots_[s.next].prev : lru_) = s.prev;
  s.prev = s.next = -1;
}

void OutputFileSet::PushFront(int32_t slot) {
  Slot& s = slots_[slot];
  s.prev = -1;
  s.next = mru_;
  (mru_ >= 0 ? slots_[mru_].prev : lru_) = slot;
  mru_ = slot;
}

void OutputFileSet::WriteAll(Slot& s, const uint8_t* p, size_t n) {
  while (n > 0 && error_.empty()) {
    ssize_t w = write(s.fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return SetError("write to", s.file, errno);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void OutputFileSet::Spill(Slot& s, const void* data, size_t n) {
  WriteAll(s, s.buf.get(), s.used);
  s.used = 0;
  if (s.cap < kMaxBuffer && buffered_ + s.cap <= budget_) {
    buffered_ += s.cap;
    s.cap *= 2;
    s.buf = std::make_unique_for_overwrite<uint8_t[]>(s.cap);
  }
  if (n >= s.cap) return WriteAll(s, static_cast<const uint8_t*>(data), n);
  memcpy(s.buf.get(), data, n);
  s.used = n;
}

void OutputFileSet::CloseSlot(int32_t slot) {
  Slot& s = slots_[slot];
  WriteAll(s, s.buf.get(), s.used);
  s.used = 0;
  if (close(s.fd) != 0 && error_.empty()) SetError("close of", s.file, errno);
  s.fd = -1;
  files_[s.file].slot = -1;
  Unlink(slot);
  free_.push_back(slot);
  --open_;
}

// A slot without a descriptor: a free one, a new one, or the least recently
// used one, closed.
int32_t OutputFileSet::TakeSlot() {
  if (free_.empty() && slots_.size() < max_open_) {
    // The first buffers are small, so max_open of them fit the budget.
    size_t cap = std::clamp<size_t>(budget_ / max_open_, 16, 4096);
    slots_.emplace_back();
    slots_.back().buf = std::make_unique_for_overwrite<uint8_t[]>(cap);
    slots_.back().cap = cap;
    buffered_ += cap;
    return static_cast<int32_t>(slots_.size() - 1);
  }
  if (free_.empty() || open_ >= max_open_) CloseSlot(lru_);
  int32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

// Returns the descriptor, or -1 with errno set.
int OutputFileSet::OpenFile(uint32_t id) {
  File& f = files_[id];
  std::string path = PartialPath(id);
  if (!f.partial) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    f.partial = fd >= 0;
    return fd;
  }
  // Not O_APPEND: Overwrite() needs pwrite at an offset.
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  ++reopens_;
  return fd;
}

int32_t OutputFileSet::Activate(uint32_t id) {
  if (!error_.empty()) return -1;
  File& f = files_[id];
  if (f.slot >= 0) {
    Unlink(f.slot);
    PushFront(f.slot);
    return f.slot;
  }
  int32_t slot = TakeSlot();
  int fd;
  while ((fd = OpenFile(id)) < 0) {
    // Someone else holds descriptors too: make do with fewer.
    if ((errno != EMFILE && errno != ENFILE) || open_ == 0) {
      free_.push_back(slot);
      SetError(files_[id].partial ? "cannot reopen" : "cannot create", id, errno);
      return -1;
    }
    CloseSlot(lru_);
    max_open_ = open_ + 1;
  }
  Slot& s = slots_[slot];
  s.fd = fd;
  s.file = id;
  s.used = 0;
  f.slot = slot;
  ++open_;
  PushFront(slot);
  return slot;
}

void OutputFileSet::Overwrite(uint32_t id, uint64_t offset, const void* data, size_t n) {
  int32_t slot = Activate(id);
  if (slot < 0) return;
  Slot& s = slots_[slot];
  WriteAll(s, s.buf.get(), s.used);
  s.used = 0;
  auto p = static_cast<const uint8_t*>(data);
  while (n > 0 && error_.empty()) {
    ssize_t w = pwrite(s.fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return SetError("write to", id, errno);
    p += w, n -= static_cast<size_t>(w), offset += static_cast<uint64_t>(w);
  }
}

bool OutputFileSet::CommitAll(std::string* err) {
  while (mru_ >= 0) CloseSlot(mru_);
  for (uint32_t id = 0; id < files_.size() && error_.empty(); ++id) {
    if (!files_[id].partial) continue;
    if (rename(PartialPath(id).c_str(), FinalPath(id).c_str()) != 0) {
      SetError("cannot rename to", id, errno);
      break;
    }
    files_[id].partial = false;
  }
  if (!error_.empty()) *err = error_;
  return error_.empty();
}

void OutputFileSet::AbandonAll() {
  for (Slot& s : slots_) {
    if (s.fd >= 0) close(s.fd);
    s.fd = -1;
    s.used = 0;
  }
  for (uint32_t id = 0; id < files_.size(); ++id) {
    if (files_[id].partial) unlink(PartialPath(id).c_str());
    files_[id].partial = false;
    files_[id].slot = -1;
  }
  slots_.clear();
  free_.clear();
  buffered_ = 0;
  mru_ = lru_ = -1;
  open_ = 0;
}

}  // namespace pcapml
