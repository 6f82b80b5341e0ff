#include "capture.h"

#include <cerrno>
#include <climits>
#include <cstring>

namespace pcapml::native {
namespace {

// An attribute of a pcapml module, imported on first use (pcapml imports this
// module while it is being imported itself). Borrowed; null with an exception set.
PyObject* Lazy(PyObject** cache, const char* module, const char* name) {
  if (*cache == nullptr) {
    PyObject* m = PyImport_ImportModule(module);
    if (m == nullptr) return nullptr;
    *cache = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
  }
  return *cache;
}

PyObject* format_error = nullptr;
PyObject* parse_comment = nullptr;
PyObject* decode_comment = nullptr;

// sampleID of a comment's first field if it is 1 to 20 ASCII digits below 2^64.
bool DigitsId(std::string_view head, uint64_t* sid) {
  if (head.empty() || head.size() > 20) return false;
  uint64_t v = 0;
  for (char ch : head) {
    if (ch < '0' || ch > '9') return false;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, uint64_t(ch - '0'), &v)) return false;
  }
  *sid = v;
  return true;
}

}  // namespace

uint32_t* SampleMap::Find(uint64_t sid) {
  if (slots_.empty()) return nullptr;
  for (size_t i = Home(sid);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].sample == kNoRun) return nullptr;
    if (slots_[i].sid == sid) return &slots_[i].sample;
  }
}

void SampleMap::Insert(uint64_t sid, uint32_t sample) {
  if (2 * (used_ + 1) > slots_.size()) {  // at most half full
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : 2 * old.size(), {0, kNoRun});
    shift_ = 64 - __builtin_ctzll(slots_.size());
    for (const Slot& slot : old)
      if (slot.sample != kNoRun) Insert(slot.sid, slot.sample), --used_;
  }
  size_t i = Home(sid);
  while (slots_[i].sample != kNoRun) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = {sid, sample};
  ++used_;
}

bool RunPool::Add(const Run& run) {
  if (size_ == kNoRun) return false;
  if ((size_ & kMask) == 0) chunks_.emplace_back(new Run[kMask + 1]);
  (*this)[size_++] = run;
  return true;
}

Capture::Capture(PyObject* path, std::string fs_path) : path_(path), fs_path_(std::move(fs_path)) {
  Py_INCREF(path_);
  comments_.emplace_back();  // kNoComment
}

Capture::~Capture() {
  for (Comment& c : comments_) {
    Py_XDECREF(c.sid_obj);
    Py_XDECREF(c.metadata);
  }
  Py_DECREF(path_);
}

void Capture::SetRange(uint64_t start, uint64_t stop, uint64_t prefix_end, uint64_t first_idx) {
  ranged_ = start > 0;
  start_ = range_pos_ = start;
  stop_ = stop;
  prefix_end_ = prefix_end;
  first_idx_ = first_idx;
}

bool Capture::Open() {
  std::string err;
  if (!reader_.Open(fs_path_, &err)) return SetError(err), false;
  if (!ranged_) return true;
  // The blocks before the range: the section header and interfaces, up to the first packet at prefix_end or after.
  Packet p;
  for (;;) {
    PacketReader::Status st = reader_.Next(&p, &err);
    if (st == PacketReader::Status::kEnd) break;
    if (st != PacketReader::Status::kPacket) return SetError(err), false;
    if (p.offset >= prefix_end_) break;
  }
  if (!interfaces().empty()) range_iface_ = static_cast<uint32_t>(interfaces().size() - 1);
  packets_ = first_idx_;
  return true;
}

void Capture::SetFormatError(uint64_t offset, const std::string& what) {
  PyObject* cls = Lazy(&format_error, "pcapml.reader", "FormatError");
  if (cls == nullptr) return;
  PyObject* e = PyObject_CallFunction(cls, "OKs#", path_, static_cast<unsigned long long>(offset), what.data(),
                                      static_cast<Py_ssize_t>(what.size()));
  if (e == nullptr) return;
  PyErr_SetObject(cls, e);
  Py_DECREF(e);
}

void Capture::SetError(const std::string& err) {
  if (reader_.error_errno() != 0) {
    errno = reader_.error_errno();
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path_);
    return;
  }
  // The reader says "<path>: <what> at byte offset <n>"; FormatError says the path and offset itself.
  std::string_view what = err;
  std::string prefix = fs_path_ + ": ";
  if (what.substr(0, prefix.size()) == prefix) what.remove_prefix(prefix.size());
  std::string suffix = " at byte offset " + std::to_string(reader_.error_offset());
  if (what.size() >= suffix.size() && what.substr(what.size() - suffix.size()) == suffix)
    what.remove_suffix(suffix.size());
  SetFormatError(reader_.error_offset(), std::string(what));
}

bool Capture::ParseComment(std::string_view raw, Comment* c) {
  std::string_view text = raw;
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);  // as decode_comment() does
  size_t comma = text.find(',');
  std::string_view head = text.substr(0, comma);
  if (DigitsId(head, &c->sid)) {  // "<sampleID>,<metadata>": most comments, parsed here
    std::string_view rest = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    c->metadata = PyUnicode_DecodeUTF8(rest.data(), static_cast<Py_ssize_t>(rest.size()), "replace");
    if (c->metadata == nullptr) return false;
    c->sid_obj = PyLong_FromUnsignedLongLong(c->sid);
    c->labeled = true;
    return c->sid_obj != nullptr;
  }
  // Anything else (older releases' "s=<id>,..." or not a label): the Python parser decides.
  PyObject* parse = Lazy(&parse_comment, "pcapml.labels", "parse_comment");
  PyObject* decode = Lazy(&decode_comment, "pcapml.labels", "decode_comment");
  if (parse == nullptr || decode == nullptr) return false;
  PyObject* found = PyObject_CallFunction(decode, "y#", raw.data(), static_cast<Py_ssize_t>(raw.size()));
  if (found != nullptr) Py_SETREF(found, PyObject_CallOneArg(parse, found));
  if (found == nullptr) return false;
  if (found != Py_None) {
    c->sid = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(found, 0));
    c->sid_obj = PyLong_FromUnsignedLongLong(c->sid);
    c->metadata = Py_NewRef(PyTuple_GET_ITEM(found, 1));
    c->labeled = true;
  }
  Py_DECREF(found);
  return !PyErr_Occurred();
}

bool Capture::CommentOf(const Packet& p, uint32_t* id) {
  if (p.comment.data() == nullptr) {
    *id = kNoComment;
    return true;
  }
  if (have_last_ && p.comment == last_raw_) {  // consecutive packets often share theirs
    *id = last_id_;
    return true;
  }
  auto it = comment_ids_.find(p.comment);
  if (it == comment_ids_.end()) {
    Comment c;
    if (!ParseComment(p.comment, &c)) {
      Py_XDECREF(c.sid_obj);
      Py_XDECREF(c.metadata);
      return false;
    }
    it = comment_ids_.emplace(std::string(p.comment), static_cast<uint32_t>(comments_.size())).first;
    c.raw = &it->first;
    comments_.push_back(c);
  }
  last_raw_.assign(p.comment);
  have_last_ = true;
  *id = last_id_ = it->second;
  return true;
}

bool Capture::Append(SampleRuns* s, Run packet) {
  ++s->packets;
  if (s->open_count && s->open_offset + s->open_bytes == packet.offset && s->open_comment == packet.comment &&
      s->open_interface == packet.interface && s->open_count < UINT32_MAX &&
      uint64_t{s->open_bytes} + packet.bytes <= UINT32_MAX) {
    ++s->open_count;
    s->open_bytes += packet.bytes;
    return true;
  }
  if (!Flush(s)) return false;
  s->open_offset = packet.offset;
  s->open_idx = packet.idx;
  s->open_count = 1;
  s->open_bytes = packet.bytes;
  s->open_comment = packet.comment;
  s->open_interface = packet.interface;
  return true;
}

bool Capture::Flush(SampleRuns* s) {
  if (s->open_count == 0) return true;
  Run run{s->open_offset, s->open_idx, s->open_count, s->open_comment, s->open_interface, s->open_bytes, kNoRun};
  s->open_count = 0;
  if (!runs_.Add(run)) {
    SetFormatError(run.offset, "more than 2^32 runs of samples' packets: too many to index");
    return false;
  }
  uint32_t i = runs_.size() - 1;
  (s->last == kNoRun ? s->first : runs_[s->last].next) = i;
  s->last = i;
  return true;
}

bool Capture::IndexAll(std::vector<SampleRuns>* samples) {
  SampleMap sample_of;
  std::string err;
  Packet p;
  for (;;) {
    PacketReader::Status st = reader_.Next(&p, &err);
    if (st == PacketReader::Status::kEnd) {
      for (SampleRuns& s : *samples)
        if (!Flush(&s)) return false;
      return true;
    }
    if (st != PacketReader::Status::kPacket) return SetError(err), false;  // errors, and a capture cut short
    uint64_t idx = packets_++;
    if (p.comment.data() == nullptr) continue;  // unlabeled packets belong to no sample, but count in idx
    // Most packets carry the comment of their sample's last packet: compare it
    // with that one instead of looking it up among all (with 100,000 samples
    // interleaved, each lookup costs cache misses).
    uint64_t sid;
    uint32_t* known = nullptr;
    uint32_t id = kNoComment;
    if (DigitsId(p.comment.substr(0, p.comment.find(',')), &sid) && (known = sample_of.Find(sid))) {
      const SampleRuns& s = (*samples)[*known];
      bool same = s.last_size <= SampleRuns::kShort ? std::string_view(s.last_raw, s.last_size) == p.comment
                                                    : *comments_[s.open_comment].raw == p.comment;
      if (same) id = s.open_comment;
    }
    if (id == kNoComment) {
      if (!CommentOf(p, &id)) return false;
      const Comment& c = comments_[id];
      if (!c.labeled) continue;
      if (known == nullptr && (known = sample_of.Find(c.sid)) == nullptr) {
        samples->emplace_back();
        samples->back().sid = c.sid;
        samples->back().first_comment = id;
        sample_of.Insert(c.sid, static_cast<uint32_t>(samples->size() - 1));
        known = sample_of.Find(c.sid);
      }
      SampleRuns& s = (*samples)[*known];
      s.last_size =
          p.comment.size() <= SampleRuns::kShort ? static_cast<uint8_t>(p.comment.size()) : SampleRuns::kShort + 1;
      if (s.last_size <= SampleRuns::kShort) memcpy(s.last_raw, p.comment.data(), s.last_size);
    }
    if (!Append(&(*samples)[*known], {p.offset, idx, 1, id, p.interface, p.length, kNoRun})) return false;
  }
}

bool Capture::NextPacket(Run* packet, bool* end) {
  *end = false;
  if (have_pending_) {
    have_pending_ = false;
    *packet = pending_;
    return true;
  }
  std::string err;
  Packet p;
  if (ranged_) {  // packet blocks only, one after another
    if (range_pos_ >= stop_) return *end = true;
    // Read as a packet on the interface of the packet before; one on another
    // interface is parsed all the same and read again on its own.
    p.interface = range_iface_;
    PacketReader::Status st = reader_.ReadAt(range_pos_, range_iface_, stop_ - range_pos_, &p, &err);
    if (st == PacketReader::Status::kError && p.interface != range_iface_ && p.offset == range_pos_) {
      range_iface_ = p.interface;
      st = reader_.ReadAt(range_pos_, range_iface_, stop_ - range_pos_, &p, &err);
    }
    if (st != PacketReader::Status::kPacket) return SetError(err), false;
    range_pos_ += p.length;
    uint64_t idx = packets_++;
    uint32_t id;
    if (!CommentOf(p, &id)) return false;
    *packet = {p.offset, idx, 1, id, p.interface, p.length, kNoRun};
    return true;
  }
  for (;;) {
    PacketReader::Status st = reader_.Next(&p, &err);
    if (st == PacketReader::Status::kEnd) return *end = true;
    if (st != PacketReader::Status::kPacket) return SetError(err), false;  // errors, and a capture cut short
    if (p.offset >= stop_) return *end = true;
    if (p.offset != expect_) after_gap_ = p.offset;  // blocks other than packets before this one
    expect_ = p.offset + p.length;
    uint64_t idx = packets_++;
    uint32_t id;
    if (!CommentOf(p, &id)) return false;
    *packet = {p.offset, idx, 1, id, p.interface, p.length, kNoRun};
    return true;
  }
}

bool Capture::FinishRun(SampleRuns* s, const Run& first) {
  // Copies: reading on may add interfaces (and move them).
  const uint16_t link_type = interfaces()[first.interface].link_type;
  const uint32_t section = interfaces()[first.interface].section;
  for (;;) {
    Run packet;
    bool end;
    if (!NextPacket(&packet, &end)) return false;
    if (end || !comments_[packet.comment].labeled) return true;
    const Interface& other = interfaces()[packet.interface];
    if (packet.comment != first.comment || other.link_type != link_type || other.section != section) {
      pending_ = packet;
      have_pending_ = true;
      return true;
    }
    if (!Append(s, packet)) return false;
  }
}

bool Capture::NextGrouped(std::shared_ptr<SampleRuns>* out) {
  out->reset();
  if (!deferred_error_.empty()) {
    SetFormatError(deferred_offset_, deferred_error_);
    return false;
  }
  std::shared_ptr<SampleRuns> s = std::move(next_);
  if (!s) s = std::make_shared<SampleRuns>();
  for (;;) {
    Run packet;
    bool end;
    if (!NextPacket(&packet, &end)) return false;
    if (end) break;
    if (!comments_[packet.comment].labeled) continue;    // unlabeled packets belong to no sample, but count in idx
    const uint64_t sid = comments_[packet.comment].sid;  // a copy: reading on may move comments_
    if (s->packets == 0) {
      s->sid = sid;
      s->first_comment = packet.comment;
    } else if (sid != s->sid) {
      // The next sample begins. The pure-Python reader ends a sample when it has
      // read the next one's first run whole (up to the packet after it), and so
      // does this one, so that both raise the same error first on a damaged file.
      done_.insert(s->sid);
      next_ = std::make_shared<SampleRuns>();
      next_->sid = sid;
      next_->first_comment = packet.comment;
      if (!Append(next_.get(), packet) || !FinishRun(next_.get(), packet)) return false;
      if (done_.count(sid)) {
        deferred_offset_ = packet.offset;
        deferred_error_ = "sample " + std::to_string(sid) +
                          " appears again after other samples: the file is not grouped by sample (use grouped=False)";
      }
      if (!Flush(s.get())) return false;
      *out = std::move(s);
      return true;
    }
    if (!Append(s.get(), packet)) return false;
  }
  if (s->packets) {
    done_.insert(s->sid);
    if (!Flush(s.get())) return false;
    *out = std::move(s);
  }
  return true;
}

bool Capture::ReadPacket(const Run& run, uint32_t j, uint64_t offset, Packet* p, uint64_t* next) {
  std::string err;
  uint64_t end = run.offset + run.bytes;
  if (reader_.ReadAt(offset, run.interface, end - offset, p, &err) != PacketReader::Status::kPacket)
    return SetError(err), false;
  *next = offset + p->length;
  if (*next > end || (j + 1 == run.count && *next != end)) {
    SetFormatError(run.offset, "the file changed between the index pass and the read pass");
    return false;
  }
  return true;
}

bool Capture::Cuts(uint64_t every, std::vector<std::pair<uint64_t, uint64_t>>* cuts, uint64_t* prefix_end,
                   uint64_t* end) {
  std::vector<std::pair<uint64_t, uint64_t>> starts;  // of every sample
  std::shared_ptr<SampleRuns> s;
  for (;;) {
    if (!NextGrouped(&s)) return false;
    if (!s) break;
    const Run& first = runs_[s->first];
    starts.emplace_back(first.offset, first.idx);
  }
  // Ranges past the first are read as packet blocks only: they begin after the last other block.
  *prefix_end = after_gap_;
  *end = expect_;
  // The first range holds the first sample and the blocks before it.
  uint64_t last = 0;
  for (size_t i = 1; i < starts.size(); ++i) {
    if (starts[i].first >= after_gap_ && starts[i].first - last >= every) {
      cuts->push_back(starts[i]);
      last = starts[i].first;
    }
  }
  return true;
}

}  // namespace pcapml::native
