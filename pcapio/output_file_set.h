// Many output files in one directory, appended to in any interleaving through
// a bounded number of open descriptors and a bounded amount of buffer memory.
// Split writes one pcap per sample, and a capture of 100,000 samples whose
// packets interleave must neither run out of descriptors nor memory.
//
// Each file is written to "<name>.partial". When a descriptor is needed, the
// least recently written file is flushed and closed; writing to it again
// reopens it at its end. CommitAll() renames every file to its final name;
// until then nothing appears under a final name, and a set destroyed without
// CommitAll() removes its partial files.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace pcapml {

class OutputFileSet {
 public:
  // At most `max_open` descriptors (>= 1) and `buffer_budget` bytes of
  // buffers. Each open file's buffer starts small and doubles as it fills,
  // up to kMaxBuffer, while the budget allows: a few busy files get large
  // writes, a thousand open ones share the budget.
  OutputFileSet(std::string dir, size_t max_open, size_t buffer_budget);
  static constexpr size_t kMaxBuffer = 256u << 10;
  ~OutputFileSet();
  OutputFileSet(const OutputFileSet&) = delete;
  OutputFileSet& operator=(const OutputFileSet&) = delete;

  // Registers a file by its name in the directory; it is created on the first
  // Append. Returns its id.
  uint32_t Add(std::string name);

  // Appends bytes to file `id`. Errors are sticky: see ok() and CommitAll().
  void Append(uint32_t id, const void* data, size_t n) {
    int32_t slot = files_[id].slot;
    if (slot < 0 || slot != mru_) slot = Activate(id);
    if (slot < 0) return;
    Slot& s = slots_[slot];
    if (n > s.cap - s.used) return Spill(s, data, n);
    memcpy(s.buf.get() + s.used, data, n);
    s.used += n;
  }

  // Replaces bytes already appended, at `offset` from the file's start (e.g.
  // to widen a header's snaplen). The file must have been appended to.
  void Overwrite(uint32_t id, uint64_t offset, const void* data, size_t n);

  // Flushes and closes everything, then renames each file written to its
  // final name. False (with *err) on the first write, close or rename error.
  bool CommitAll(std::string* err);
  // Closes everything and removes every partial file.
  void AbandonAll();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& name(uint32_t id) const { return files_[id].name; }
  size_t size() const { return files_.size(); }
  // How often a file was opened again after its descriptor went to another.
  uint64_t reopens() const { return reopens_; }
  size_t max_open() const { return max_open_; }
  size_t buffer_bytes() const { return buffered_; }

 private:
  struct File {
    std::string name;
    int32_t slot = -1;     // open descriptor's slot, -1 when closed
    bool partial = false;  // "<name>.partial" exists
  };
  struct Slot {
    int fd = -1;
    uint32_t file = 0;
    std::unique_ptr<uint8_t[]> buf;
    size_t cap = 0, used = 0;
    int32_t prev = -1, next = -1;  // recency list, most recent first
  };

  int32_t Activate(uint32_t id);
  int32_t TakeSlot();
  int OpenFile(uint32_t id);
  void Spill(Slot& s, const void* data, size_t n);
  void WriteAll(Slot& s, const uint8_t* p, size_t n);
  void CloseSlot(int32_t slot);
  void Unlink(int32_t slot);
  void PushFront(int32_t slot);
  void SetError(const char* what, uint32_t id, int errnum);
  std::string PartialPath(uint32_t id) const;
  std::string FinalPath(uint32_t id) const;

  std::string dir_;
  size_t max_open_, budget_, buffered_ = 0;  // buffered_: sum of the slots' caps
  std::vector<File> files_;
  std::vector<Slot> slots_;
  std::vector<int32_t> free_;  // slots without a descriptor
  int32_t mru_ = -1, lru_ = -1;
  size_t open_ = 0;
  uint64_t reopens_ = 0;
  std::string error_;
};

}  // namespace pcapml
