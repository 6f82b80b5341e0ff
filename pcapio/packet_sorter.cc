#include "pcapio/packet_sorter.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pcapml {

// A record, in the arena and in the spill file: this header, the packet
// data, the comment, zero padding to a multiple of 8.
struct PacketSorter::RecordHeader {
  SortKey key;
  uint32_t interface;
  uint32_t caplen;
  uint32_t orig_len;
  uint32_t comment_len;
};

namespace {

using RecordHeader = PacketSorter::RecordHeader;
static_assert(sizeof(RecordHeader) == 40);

struct Entry {
  SortKey key;
  uint64_t offset;  // of the record in the arena
};
static_assert(sizeof(Entry) == 32);

uint64_t RecordSize(uint64_t caplen, uint64_t comment_len) {
  return (sizeof(RecordHeader) + caplen + comment_len + 7) & ~uint64_t{7};
}

RecordHeader HeaderOf(const uint8_t* record) {
  RecordHeader h;
  memcpy(&h, record, sizeof h);
  return h;
}

uint64_t RecordSize(const uint8_t* record) {
  RecordHeader h = HeaderOf(record);
  return RecordSize(h.caplen, h.comment_len);
}

}  // namespace

// One temporary file holding every run, read back with pread at each run's
// own offset, so a merge of k runs needs one descriptor, not k.
class PacketSorter::SpillFile {
 public:
  ~SpillFile() {
    if (fd_ >= 0) close(fd_);
  }

  bool Create(const std::string& dir, std::string* err) {
    std::string path = dir + "/.pcapml-sort-XXXXXX";
    fd_ = mkostemp(path.data(), O_CLOEXEC);
    if (fd_ < 0) {
      *err = "cannot create a temporary file in " + dir + ": " + strerror(errno) + " (see --tmpdir)";
      return false;
    }
    unlink(path.c_str());  // gone when we close it, whatever happens
    where_ = "temporary file in " + dir;
    buf_.resize(1u << 20);
    return true;
  }

  void Append(const uint8_t* p, size_t n) {
    if (n == 0) return;  // p may be null
    if (n > buf_.size() - used_) {
      Flush();
      if (n >= buf_.size()) return Write(p, n);
    }
    memcpy(buf_.data() + used_, p, n);
    used_ += n;
  }

  bool Flush(std::string* err) {
    Flush();
    if (!error_.empty()) *err = error_;
    return error_.empty();
  }

  uint64_t size() const { return written_ + used_; }

  void AppendRecord(const RecordHeader& h, const uint8_t* data, const char* comment) {
    static const uint8_t kZero[8] = {};
    Append(reinterpret_cast<const uint8_t*>(&h), sizeof h);
    Append(data, h.caplen);
    Append(reinterpret_cast<const uint8_t*>(comment), h.comment_len);
    Append(kZero, RecordSize(h.caplen, h.comment_len) - sizeof h - h.caplen - h.comment_len);
  }

  bool Read(uint64_t offset, uint8_t* p, size_t n, std::string* err) {
    while (n > 0) {
      ssize_t r = pread(fd_, p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        *err = "read from the " + where_ + " failed: " + (r < 0 ? strerror(errno) : "unexpected end");
        return false;
      }
      p += r, n -= static_cast<size_t>(r), offset += static_cast<uint64_t>(r);
    }
    return true;
  }

  // Gives a merged run's disk space back; an optimisation, so errors are ignored.
  void Release(uint64_t offset, uint64_t length) {
    fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length));
  }

 private:
  void Flush() {
    Write(buf_.data(), used_);
    used_ = 0;
  }
  void Write(const uint8_t* p, size_t n) {
    while (n > 0 && error_.empty()) {
      ssize_t w = pwrite(fd_, p, n, static_cast<off_t>(written_));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) error_ = "write to the " + where_ + " failed: " + strerror(errno);
      if (w < 0) return;
      p += w, n -= static_cast<size_t>(w), written_ += static_cast<uint64_t>(w);
    }
  }

  int fd_ = -1;
  std::string where_;
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
  uint64_t written_ = 0;
  std::string error_;
};

namespace {

// The next record of one sorted run: from the arena's sorted index, or read
// from the spill file through a buffer.
class RunCursor {
 public:
  RunCursor(const uint8_t* arena, const Entry* begin, const Entry* end) : arena_(arena), next_(begin), end_(end) {}
  RunCursor(PacketSorter::SpillFile* file, PacketSorter::Run run, size_t buffer)
      : file_(file), pos_(run.offset), left_(run.length), buf_(buffer) {}

  // Moves to the next record; false at the end of the run or on a read error.
  bool Advance(std::string* err) {
    record_ = file_ ? NextFromFile(err) : NextFromArena();
    if (record_) memcpy(&key_, record_, sizeof key_);
    return record_ != nullptr;
  }
  const uint8_t* record() const { return record_; }
  const SortKey& key() const { return key_; }

 private:
  const uint8_t* NextFromArena() { return next_ == end_ ? nullptr : arena_ + (next_++)->offset; }

  const uint8_t* NextFromFile(std::string* err) {
    if (left_ == 0 && start_ == filled_) return nullptr;
    if (!Have(sizeof(RecordHeader), err)) return nullptr;
    uint64_t size = RecordSize(buf_.data() + start_);
    if (!Have(size, err)) return nullptr;
    const uint8_t* r = buf_.data() + start_;
    start_ += size;
    return r;
  }

  // Makes `n` bytes of the run available at buf_[start_], growing the
  // buffer for a record larger than it.
  bool Have(uint64_t n, std::string* err) {
    if (filled_ - start_ >= n) return true;
    if (n > (filled_ - start_) + left_) {
      *err = "a sort run in the temporary file ends inside a record";
      return false;
    }
    memmove(buf_.data(), buf_.data() + start_, filled_ - start_);
    filled_ -= start_;
    start_ = 0;
    if (buf_.size() < n) buf_.resize(n);
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size() - filled_, left_));
    if (!file_->Read(pos_, buf_.data() + filled_, want, err)) return false;
    pos_ += want, left_ -= want, filled_ += want;
    return true;
  }

  const uint8_t* arena_ = nullptr;
  const Entry* next_ = nullptr;
  const Entry* end_ = nullptr;
  PacketSorter::SpillFile* file_ = nullptr;
  uint64_t pos_ = 0, left_ = 0;
  std::vector<uint8_t> buf_;
  size_t start_ = 0, filled_ = 0;
  const uint8_t* record_ = nullptr;
  SortKey key_;
};

}  // namespace

PacketSorter::PacketSorter(Options options) : opts_(std::move(options)) {
  opts_.max_fan_in = std::max<size_t>(opts_.max_fan_in, 2);
  capacity_ = std::max<uint64_t>(opts_.memory, 2 * sizeof(Entry)) & ~uint64_t{7};
}

PacketSorter::~PacketSorter() = default;

bool PacketSorter::OpenSpill(std::string* err) {
  if (spill_) return true;
  spill_ = std::make_unique<SpillFile>();
  return spill_->Create(opts_.tmpdir, err);
}

bool PacketSorter::Add(const SortKey& key, uint32_t interface, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                       std::string_view comment, std::string* err) {
  ++packets_;
  RecordHeader h{key, interface, caplen, orig_len, static_cast<uint32_t>(comment.size())};
  uint64_t size = RecordSize(caplen, comment.size());
  if (used_ + size + (entries_ + 1) * sizeof(Entry) > capacity_) {
    if (entries_ > 0 && !SpillArena(err)) return false;
    if (size + sizeof(Entry) > capacity_) return SpillRecord(h, data, comment.data(), err);
  }
  if (!arena_) arena_ = std::make_unique_for_overwrite<uint8_t[]>(capacity_);
  uint8_t* r = arena_.get() + used_;
  memcpy(r, &h, sizeof h);
  if (caplen) memcpy(r + sizeof h, data, caplen);
  if (!comment.empty()) memcpy(r + sizeof h + caplen, comment.data(), comment.size());
  memset(r + sizeof h + caplen + comment.size(), 0, size - sizeof h - caplen - comment.size());
  ++entries_;
  Entry e{key, used_};
  memcpy(arena_.get() + capacity_ - entries_ * sizeof(Entry), &e, sizeof e);
  used_ += size;
  return true;
}

bool PacketSorter::SpillRecord(const RecordHeader& h, const uint8_t* data, const char* comment, std::string* err) {
  if (!OpenSpill(err)) return false;
  uint64_t start = spill_->size();
  spill_->AppendRecord(h, data, comment);
  runs_.push_back({start, spill_->size() - start});
  ++runs_spilled_;
  bytes_spilled_ += spill_->size() - start;
  return spill_->Flush(err);
}

bool PacketSorter::SpillArena(std::string* err) {
  if (!OpenSpill(err)) return false;
  Entry* first = reinterpret_cast<Entry*>(arena_.get() + capacity_ - entries_ * sizeof(Entry));
  std::sort(first, first + entries_, [](const Entry& a, const Entry& b) { return a.key < b.key; });
  uint64_t start = spill_->size();
  for (const Entry* e = first; e != first + entries_; ++e) {
    const uint8_t* r = arena_.get() + e->offset;
    spill_->Append(r, RecordSize(r));
  }
  runs_.push_back({start, spill_->size() - start});
  ++runs_spilled_;
  bytes_spilled_ += spill_->size() - start;
  used_ = entries_ = 0;
  return spill_->Flush(err);
}

bool PacketSorter::MergeRuns(size_t first, size_t count, bool with_memory,
                             const std::function<void(const SortedPacket&)>& emit, std::string* err) {
  std::vector<RunCursor> cursors;
  cursors.reserve(count + 1);
  size_t buffer = std::max<size_t>(opts_.merge_buffer / std::max<size_t>(count, 1), 64);
  for (size_t i = first; i < first + count; ++i) cursors.emplace_back(spill_.get(), runs_[i], buffer);
  if (with_memory) {
    Entry* begin = reinterpret_cast<Entry*>(arena_.get() + capacity_ - entries_ * sizeof(Entry));
    std::sort(begin, begin + entries_, [](const Entry& a, const Entry& b) { return a.key < b.key; });
    cursors.emplace_back(arena_.get(), begin, begin + entries_);
  }
  auto later = [](const RunCursor* a, const RunCursor* b) { return b->key() < a->key(); };
  std::vector<RunCursor*> heap;
  for (RunCursor& c : cursors) {
    if (c.Advance(err))
      heap.push_back(&c);
    else if (!err->empty())
      return false;
  }
  std::make_heap(heap.begin(), heap.end(), later);
  SortedPacket p;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    RunCursor* c = heap.back();
    const uint8_t* r = c->record();
    RecordHeader h = HeaderOf(r);
    p.key = h.key;
    p.interface = h.interface;
    p.caplen = h.caplen;
    p.orig_len = h.orig_len;
    p.data = r + sizeof h;
    p.comment = {reinterpret_cast<const char*>(r + sizeof h + h.caplen), h.comment_len};
    emit(p);
    if (c->Advance(err))
      std::push_heap(heap.begin(), heap.end(), later);
    else if (!err->empty())
      return false;
    else
      heap.pop_back();
  }
  return true;
}

bool PacketSorter::Merge(const std::function<void(const SortedPacket&)>& emit, std::string* err) {
  err->clear();
  bool memory = entries_ > 0;
  // Intermediate passes: merge the oldest runs into one until a single merge
  // of all remaining runs fits the fan-in.
  while (runs_.size() + (memory ? 1 : 0) > opts_.max_fan_in) {
    size_t n = opts_.max_fan_in;
    uint64_t start = spill_->size();
    auto append = [&](const SortedPacket& p) {
      RecordHeader h{p.key, p.interface, p.caplen, p.orig_len, static_cast<uint32_t>(p.comment.size())};
      spill_->AppendRecord(h, p.data, p.comment.data());
    };
    if (!MergeRuns(0, n, false, append, err) || !spill_->Flush(err)) return false;
    for (size_t i = 0; i < n; ++i) spill_->Release(runs_[i].offset, runs_[i].length);
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(n));
    runs_.push_back({start, spill_->size() - start});
    ++merge_passes_;
  }
  return MergeRuns(0, runs_.size(), memory, emit, err);
}

}  // namespace pcapml
