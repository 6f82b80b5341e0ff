// pcapml._native: one labeled capture read with pcapml's C++ reader. It
// indexes where each sample's packets are (runs of consecutive packet blocks)
// and reads them again by offset, so a sample is read when it is used and
// memory is bounded by the index, never by the file.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "pcapio/reader.h"

namespace pcapml::native {

constexpr uint32_t kNoRun = UINT32_MAX;

// Consecutive packet blocks (nothing between them) of one sample with one
// comment on one interface: read again with one seek. A sample's runs are
// linked in the order of the file. 36 bytes.
struct __attribute__((packed, aligned(4))) Run {
  uint64_t offset;     // of the first block
  uint64_t idx;        // the first packet's number among all packets of the file
  uint32_t count;      // packets
  uint32_t comment;    // index into Capture::comment()
  uint32_t interface;  // global interface index
  uint32_t bytes;      // length of the blocks together
  uint32_t next;       // the sample's next run, or kNoRun
};

// Where one sample's packets are.
struct SampleRuns {
  // Indexing reads and writes these for each packet, together: the packet
  // count, the run being added to (kept here, not in the pool, until the next
  // run begins: the pool is too large to stay in the caches), and the bytes of
  // its last packet's comment when short (most are), which the next packet's
  // are compared with.
  uint64_t packets = 0;
  uint64_t open_offset = 0;
  uint32_t open_count = 0;  // 0: no run open
  uint32_t open_bytes = 0;
  uint32_t open_comment = 0;
  uint32_t open_interface = 0;
  static constexpr size_t kShort = 43;
  uint8_t last_size = kShort + 1;
  char last_raw[kShort];
  uint64_t open_idx = 0;
  uint64_t sid = 0;
  uint32_t first_comment = 0;  // its first packet's comment: the sample's label
  uint32_t first = kNoRun;     // its first and last run in the pool (the open one is not there yet)
  uint32_t last = kNoRun;
};

// A distinct comment, parsed once (as pcapml.labels.parse_comment does).
struct Comment {
  bool labeled = false;
  uint64_t sid = 0;
  PyObject* sid_obj = nullptr;       // int (owned)
  PyObject* metadata = nullptr;      // str (owned): everything after the sampleID
  const std::string* raw = nullptr;  // its bytes: the key of Capture::comment_ids_, which does not move
};

// sampleID -> sample number: open addressing, no allocation per sample.
class SampleMap {
 public:
  uint32_t* Find(uint64_t sid);
  void Insert(uint64_t sid, uint32_t sample);

 private:
  struct Slot {
    uint64_t sid;
    uint32_t sample;  // kNoRun: empty
  };
  size_t Home(uint64_t sid) const { return (sid * 0x9E3779B97F4A7C15ull) >> shift_; }
  std::vector<Slot> slots_;
  size_t used_ = 0;
  int shift_ = 64;
};

// The runs of all samples, in chunks that never move (a grown vector would copy them all).
class RunPool {
 public:
  Run& operator[](uint32_t i) { return chunks_[i >> kBits][i & kMask]; }
  const Run& operator[](uint32_t i) const { return chunks_[i >> kBits][i & kMask]; }
  uint32_t size() const { return size_; }
  // Adds a run; false if there are 2^32 - 1 already.
  bool Add(const Run& run);

 private:
  static constexpr int kBits = 16;
  static constexpr uint32_t kMask = (1u << kBits) - 1;
  std::vector<std::unique_ptr<Run[]>> chunks_;
  uint32_t size_ = 0;
};

class Capture {
 public:
  // path: the file's name as given (for errors), fs_path: its bytes for open().
  Capture(PyObject* path, std::string fs_path);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Reads only the packet blocks from byte `start` up to `stop` (a range of a
  // file grouped by sample that begins at a sample's first packet, the first of
  // them packet number `first_idx`), once the blocks before `prefix_end` (the
  // section header and interfaces) are read. Or, with start 0, from the file's
  // start up to `stop`. Call before Open().
  void SetRange(uint64_t start, uint64_t stop, uint64_t prefix_end, uint64_t first_idx);

  // Each of these returns false with a Python exception set (FormatError or OSError).
  bool Open();
  // Indexes the whole file: every sample in the order of its first packet.
  bool IndexAll(std::vector<SampleRuns>* samples);
  // Reads on to the end of the next sample of a file grouped by sample; *out
  // is null at the end. A sample seen before other samples is a FormatError
  // (raised at the next call, after the sample before it was handed out).
  bool NextGrouped(std::shared_ptr<SampleRuns>* out);
  // Reads packet j of `run`, whose block starts at `offset`; *next is where
  // the block after it starts.
  bool ReadPacket(const Run& run, uint32_t j, uint64_t offset, Packet* p, uint64_t* next);

  // Where a grouped file can be cut into byte ranges of whole samples of at
  // least `every` bytes each: *cuts gets (offset, packet number) of the first
  // packet of each range but the first; ranges other than the first hold
  // packet blocks only, from *prefix_end on (every other block is before it),
  // and the last ends at *end, the end of the last packet block.
  bool Cuts(uint64_t every, std::vector<std::pair<uint64_t, uint64_t>>* cuts, uint64_t* prefix_end, uint64_t* end);

  const Comment& comment(uint32_t id) const { return comments_[id]; }
  const Run& run(uint32_t i) const { return runs_[i]; }
  const std::vector<Interface>& interfaces() const { return reader_.interfaces(); }
  PacketReader& reader() { return reader_; }
  PyObject* path() const { return path_; }
  // Sets FormatError (or OSError after an I/O error) from the reader's last error.
  void SetError(const std::string& err);
  void SetFormatError(uint64_t offset, const std::string& what);

  // Comment id of a packet, or kUnlabeled's id; false with an exception set.
  bool CommentOf(const Packet& p, uint32_t* id);
  static constexpr uint32_t kNoComment = 0;  // comments_[0]: the packets without one

 private:
  bool ParseComment(std::string_view raw, Comment* c);
  // The next packet (the one put back, or read now) with its comment id; *end at the end of the file.
  bool NextPacket(Run* packet, bool* end);
  // Adds to s the packets that go on the run `first` begins (same comment,
  // link type and section); the packet after them is put back.
  bool FinishRun(SampleRuns* s, const Run& first);
  // Adds a packet (a run of one) to s; false with an exception set.
  bool Append(SampleRuns* s, Run packet);
  // Puts s's open run into the pool, after its others; false with an exception set.
  bool Flush(SampleRuns* s);
  // Byte ranges (SetRange); stop_ also bounds reading from the start.
  bool ranged_ = false;
  uint64_t start_ = 0, stop_ = UINT64_MAX, prefix_end_ = 0, first_idx_ = 0, range_pos_ = 0;
  uint32_t range_iface_ = 0;  // of the packet read last
  // Cuts(): where the packet after the last non-packet block is, and where the last packet block ends.
  uint64_t after_gap_ = 0, expect_ = 0;

  PyObject* path_;  // owned
  std::string fs_path_;
  PacketReader reader_;
  uint64_t packets_ = 0;  // packets read by Next() so far: the next one's idx
  std::vector<Comment> comments_;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> comment_ids_;
  std::string last_raw_;  // the comment looked up last, and its id
  uint32_t last_id_ = kNoComment;
  bool have_last_ = false;
  // Grouped reading: a packet read already and put back, and the next sample begun.
  bool have_pending_ = false;
  Run pending_{};
  std::shared_ptr<SampleRuns> next_;
  std::unordered_set<uint64_t> done_;
  RunPool runs_;
  std::string deferred_error_;  // a grouped file's sample seen again, said at the next call
  uint64_t deferred_offset_ = 0;
};

}  // namespace pcapml::native
