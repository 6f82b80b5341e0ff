#include "pcapio/pcapng_writer.h"

#include <cstring>

#include "version.h"

namespace pcapml {
namespace {

// Builds a block in a small vector: used for SHB and IDB only.
class BlockBuilder {
 public:
  explicit BlockBuilder(uint32_t type) { Put32(type), Put32(0); }
  void Put16(uint16_t v) { Put(&v, 2); }
  void Put32(uint32_t v) { Put(&v, 4); }
  void Put64(uint64_t v) { Put(&v, 8); }
  void Put(const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  void Option(uint16_t code, const void* p, size_t n) {
    Put16(code);
    Put16(static_cast<uint16_t>(n));
    Put(p, n);
    bytes_.resize((bytes_.size() + 3) & ~size_t{3}, 0);
  }
  void Option(uint16_t code, std::string_view s) {
    if (!s.empty()) Option(code, s.data(), std::min<size_t>(s.size(), 65532));
  }
  void Finish(OutputFile* out) {
    Put32(0);  // opt_endofopt
    uint32_t len = static_cast<uint32_t>(bytes_.size() + 4);
    Put32(len);
    memcpy(&bytes_[4], &len, 4);
    out->Append(bytes_.data(), bytes_.size());
  }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace

void PcapngWriter::WriteSectionHeader(std::string_view hardware, std::string_view comment, bool grouped) {
  BlockBuilder b(0x0A0D0D0A);
  b.Put32(0x1A2B3C4D);
  b.Put16(1);
  b.Put16(0);
  b.Put64(~uint64_t{0});  // section length unknown
  b.Option(1, comment);
  if (grouped) b.Option(1, kGroupedComment);
  b.Option(2, hardware);
  b.Option(4, std::string_view("pcapml " PCAPML_VERSION));
  b.Finish(out_);
  interfaces_.clear();
  descriptions_.clear();
  last_ = -1;
}

uint32_t PcapngWriter::Interface(const InterfaceKey& key, std::string_view description) {
  if (last_ >= 0 && interfaces_[last_] == key && descriptions_[last_] == description)
    return static_cast<uint32_t>(last_);
  for (size_t i = 0; i < interfaces_.size(); ++i) {
    if (interfaces_[i] == key && descriptions_[i] == description) {
      last_ = static_cast<int>(i);
      return static_cast<uint32_t>(i);
    }
  }
  BlockBuilder b(1);
  b.Put16(key.link_type);
  b.Put16(0);
  b.Put32(key.snaplen);
  b.Option(2, key.source);
  b.Option(3, description);
  if (!key.filter.empty()) {
    std::string f(1, '\0');  // if_filter type 0: libpcap filter string
    f += key.filter;
    b.Option(11, f);
  }
  uint8_t tsresol = 9;
  b.Option(9, &tsresol, 1);
  b.Finish(out_);
  interfaces_.push_back(key);
  descriptions_.emplace_back(description);
  last_ = static_cast<int>(interfaces_.size() - 1);
  return static_cast<uint32_t>(last_);
}

void PcapngWriter::WritePacket(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                               uint32_t orig_len, std::string_view comment) {
  if (comment.size() > 65532) comment = comment.substr(0, 65532);
  uint32_t data_pad = (caplen + 3) & ~3u;
  uint32_t opt_len = comment.empty() ? 0 : 4 + ((static_cast<uint32_t>(comment.size()) + 3) & ~3u) + 4;
  uint32_t len = 32 + data_pad + opt_len;
  uint64_t ts = static_cast<uint64_t>(ts_ns);
  uint32_t head[7] = {6, len, interface, static_cast<uint32_t>(ts >> 32), static_cast<uint32_t>(ts), caplen, orig_len};
  if (len <= out_->capacity()) {
    uint8_t* p = out_->Reserve(len);
    memcpy(p, head, sizeof head);
    p += sizeof head;
    memcpy(p, data, caplen);
    memset(p + caplen, 0, data_pad - caplen);
    p += data_pad;
    if (opt_len) {
      uint16_t opt[2] = {1, static_cast<uint16_t>(comment.size())};
      memcpy(p, opt, 4);
      memcpy(p + 4, comment.data(), comment.size());
      uint32_t cpad = (static_cast<uint32_t>(comment.size()) + 3) & ~3u;
      memset(p + 4 + comment.size(), 0, cpad - comment.size() + 4);  // padding + opt_endofopt
      p += 4 + cpad + 4;
    }
    memcpy(p, &len, 4);
    return;
  }
  // A packet larger than the buffer: stream it in pieces.
  static const uint8_t kZero[8] = {};
  out_->Append(head, sizeof head);
  out_->Append(data, caplen);
  out_->Append(kZero, data_pad - caplen);
  if (opt_len) {
    uint16_t opt[2] = {1, static_cast<uint16_t>(comment.size())};
    out_->Append(opt, 4);
    out_->Append(comment.data(), comment.size());
    uint32_t cpad = (static_cast<uint32_t>(comment.size()) + 3) & ~3u;
    out_->Append(kZero, cpad - comment.size() + 4);
  }
  out_->Append(&len, 4);
}

void PcapngWriter::WritePacketOptions(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                                      uint32_t orig_len, std::string_view options) {
  uint32_t data_pad = (caplen + 3) & ~3u;
  uint32_t opt_len = options.empty() ? 0 : static_cast<uint32_t>(options.size()) + 4;
  uint32_t len = 32 + data_pad + opt_len;
  uint64_t ts = static_cast<uint64_t>(ts_ns);
  uint32_t head[7] = {6, len, interface, static_cast<uint32_t>(ts >> 32), static_cast<uint32_t>(ts), caplen, orig_len};
  static const uint8_t kZero[8] = {};
  if (len <= out_->capacity()) {
    uint8_t* p = out_->Reserve(len);
    memcpy(p, head, sizeof head);
    p += sizeof head;
    memcpy(p, data, caplen);
    memset(p + caplen, 0, data_pad - caplen);
    p += data_pad;
    if (opt_len) {
      memcpy(p, options.data(), options.size());
      memset(p + options.size(), 0, 4);  // opt_endofopt
      p += opt_len;
    }
    memcpy(p, &len, 4);
    return;
  }
  out_->Append(head, sizeof head);
  out_->Append(data, caplen);
  out_->Append(kZero, data_pad - caplen);
  if (opt_len) {
    out_->Append(options.data(), options.size());
    out_->Append(kZero, 4);
  }
  out_->Append(&len, 4);
}

}  // namespace pcapml
