#include "pcapio/packet_merger.h"

#include <cstring>
#include <limits>
#include <memory>

#include "base/progress.h"
#include "pcapio/pcapng_writer.h"
#include "pcapio/reader.h"

namespace pcapml {
namespace {

constexpr std::string_view kSensorPrefix = "sensor ";

struct Input {
  uint32_t index = 0;  // position among the inputs
  PacketReader reader;
  Packet packet;
  int64_t ts_ns = 0;                // of `packet`; the heap's key
  bool started = false;             // a packet was read
  std::vector<uint32_t> out_iface;  // reader's interface -> output id
  uint64_t last_offset = 0;         // for progress: bytes consumed
  uint64_t packets = 0;             // read so far
};

// The option list of p in this machine's byte order, without opt_endofopt.
// Native input: the well-formed prefix of its own option area, as it is.
// Swapped input: its comments, rewritten into *scratch.
std::string_view Options(const Packet& p, std::string* scratch, uint64_t* dropped) {
  if (p.options_len == 0) return {};
  uint32_t i = 0, keep = 0;
  if (!p.swapped) {
    while (i + 4 <= p.options_len) {
      uint16_t code, len;
      memcpy(&code, p.options + i, 2);
      memcpy(&len, p.options + i + 2, 2);
      uint32_t next = i + 4 + ((len + 3u) & ~3u);
      if (code == 0 || next > p.options_len) break;
      keep = i = next;
    }
    return {reinterpret_cast<const char*>(p.options), keep};
  }
  scratch->clear();
  while (i + 4 <= p.options_len) {
    uint16_t code, len;
    memcpy(&code, p.options + i, 2);
    memcpy(&len, p.options + i + 2, 2);
    code = __builtin_bswap16(code);
    len = __builtin_bswap16(len);
    uint32_t next = i + 4 + ((len + 3u) & ~3u);
    if (code == 0 || next > p.options_len) break;
    if (code == 1) {
      scratch->append(reinterpret_cast<const char*>(&code), 2).append(reinterpret_cast<const char*>(&len), 2);
      scratch->append(reinterpret_cast<const char*>(p.options + i + 4), len);
      scratch->resize((scratch->size() + 3) & ~size_t{3}, '\0');
    } else {
      ++*dropped;
    }
    i = next;
  }
  return *scratch;
}

std::string_view SensorComment(const std::string& comment) {
  return comment.compare(0, kSensorPrefix.size(), kSensorPrefix) == 0 ? std::string_view(comment) : std::string_view();
}

// A binary min-heap of input positions keyed by (ts_ns, position): the
// position breaks ties, so equal times come out in input order.
class InputHeap {
 public:
  explicit InputHeap(const std::vector<std::unique_ptr<Input>>* inputs) : inputs_(*inputs) {}
  bool empty() const { return heap_.empty(); }
  uint32_t top() const { return heap_[0]; }
  void Push(uint32_t i) {
    heap_.push_back(i);
    for (size_t c = heap_.size() - 1; c > 0 && Less(heap_[c], heap_[(c - 1) / 2]); c = (c - 1) / 2)
      std::swap(heap_[c], heap_[(c - 1) / 2]);
  }
  // The top's key changed (it moved on to its next packet): restore order.
  void SiftTop() {
    size_t c = 0, n = heap_.size();
    for (;;) {
      size_t l = 2 * c + 1, m = c;
      if (l < n && Less(heap_[l], heap_[m])) m = l;
      if (l + 1 < n && Less(heap_[l + 1], heap_[m])) m = l + 1;
      if (m == c) return;
      std::swap(heap_[c], heap_[m]);
      c = m;
    }
  }
  void PopTop() {
    heap_[0] = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftTop();
  }

 private:
  bool Less(uint32_t a, uint32_t b) const {
    int64_t ta = inputs_[a]->ts_ns, tb = inputs_[b]->ts_ns;
    return ta < tb || (ta == tb && a < b);
  }
  const std::vector<std::unique_ptr<Input>>& inputs_;
  std::vector<uint32_t> heap_;
};

class Merger {
 public:
  Merger(OutputFile* out, const MergeOptions& options, MergeStats* stats)
      : out_(out), writer_(out), options_(options), stats_(stats) {}

  bool Run(const std::vector<std::string>& paths, std::string* err) {
    if (!OpenAll(paths, err)) return false;
    writer_.WriteSectionHeader({}, CommonSensor());
    InputHeap heap(&inputs_);
    for (uint32_t i = 0; i < inputs_.size(); ++i) {
      PacketReader::Status st = Advance(*inputs_[i], err);
      if (st == PacketReader::Status::kError) return false;
      if (st == PacketReader::Status::kPacket) heap.Push(i);
    }
    while (!heap.empty()) {
      Input& in = *inputs_[heap.top()];
      Write(in);
      PacketReader::Status st = Advance(in, err);
      if (st == PacketReader::Status::kError) return false;
      if (st == PacketReader::Status::kPacket)
        heap.SiftTop();
      else
        heap.PopTop();
    }
    if (options_.progress) options_.progress->Done();
    stats_->interfaces = writer_.interface_count();
    return out_->Flush(err);
  }

 private:
  bool OpenAll(const std::vector<std::string>& paths, std::string* err) {
    stats_->out_of_order.assign(paths.size(), 0);
    for (const std::string& path : paths) {
      inputs_.push_back(std::make_unique<Input>());
      inputs_.back()->index = static_cast<uint32_t>(inputs_.size() - 1);
      if (!inputs_.back()->reader.Open(path, err, options_.read_buffer)) return false;
      total_bytes_ += inputs_.back()->reader.file_size();
    }
    return true;
  }

  // "sensor <id>" when every input's first section says the same, else "".
  std::string CommonSensor() const {
    std::string_view common;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      std::string_view s = SensorComment(inputs_[i]->reader.section_comment());
      if (s.empty() || (i > 0 && s != common)) return "";
      common = s;
    }
    return std::string(common);
  }

  // Reads the input's next packet, declares interfaces it has just read, and
  // counts the bytes consumed for the progress line.
  PacketReader::Status Advance(Input& in, std::string* err) {
    PacketReader::Status st = in.reader.Next(&in.packet, err);
    if (st == PacketReader::Status::kTruncated) {  // its complete packets are merged, as tcpdump -r reads it
      if (options_.strict) return *err += " (--strict)", PacketReader::Status::kError;
      stats_->cut_short.push_back(*err + "; read the " + std::to_string(in.packets) + " complete packets before it");
      return PacketReader::Status::kEnd;
    }
    if (st != PacketReader::Status::kPacket) {
      if (st == PacketReader::Status::kEnd) consumed_ += in.reader.file_size() - in.last_offset;
      return st;
    }
    ++in.packets;
    const Packet& p = in.packet;
    consumed_ += p.offset - in.last_offset;
    in.last_offset = p.offset;
    if (in.reader.interfaces().size() != in.out_iface.size()) Declare(in);
    // A Simple Packet Block has no time: it keeps its place after its predecessor.
    int64_t ts = p.has_timestamp ? p.ts_ns : in.ts_ns;
    if (in.started && ts < in.ts_ns) ++stats_->out_of_order[in.index];
    in.ts_ns = ts;
    in.started = true;
    return st;
  }

  // Writes an IDB for each interface the reader has met since the last call,
  // used or not, so none is lost.
  void Declare(Input& in) {
    const std::vector<Interface>& ifcs = in.reader.interfaces();
    for (size_t i = in.out_iface.size(); i < ifcs.size(); ++i) {
      const Interface& f = ifcs[i];
      std::string_view description = f.description.empty() ? SensorComment(f.section_comment) : f.description;
      in.out_iface.push_back(writer_.Interface({f.name, f.link_type, f.snaplen, f.filter}, description));
    }
  }

  void Write(const Input& in) {
    const Packet& p = in.packet;
    writer_.WritePacketOptions(in.out_iface[p.interface], in.ts_ns, p.data, p.caplen, p.orig_len,
                               Options(p, &scratch_, &stats_->options_dropped));
    ++stats_->packets;
    if (options_.progress) options_.progress->Update(consumed_, total_bytes_, stats_->packets);
  }

  OutputFile* out_;
  PcapngWriter writer_;
  MergeOptions options_;
  MergeStats* stats_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::string scratch_;
  uint64_t total_bytes_ = 0, consumed_ = 0;
};

}  // namespace

bool MergeFiles(const std::vector<std::string>& inputs, OutputFile* out, const MergeOptions& options, MergeStats* stats,
                std::string* err) {
  Merger merger(out, options, stats);
  return merger.Run(inputs, err);
}

}  // namespace pcapml
