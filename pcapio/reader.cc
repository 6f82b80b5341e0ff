#include "pcapio/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>

#include "pcapio/decompressor.h"

namespace pcapml {
namespace {

constexpr uint32_t kShb = 0x0A0D0D0A;
constexpr uint32_t kIdb = 1;
constexpr uint32_t kPb = 2;
constexpr uint32_t kSpb = 3;
constexpr uint32_t kEpb = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;

uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

std::string Hex(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

// An option whose value runs past its option area.
struct BadOption {
  uint32_t at = 0;  // its offset in the area
  uint16_t code = 0, length = 0;
};

// Calls f(code, value, length) for each option until opt_endofopt or the end
// of the area. An option running past the area ends the walk and the answer
// is false, with *bad (when given) naming it: tshark refuses such a block.
template <typename F>
bool ForEachOption(const uint8_t* p, uint32_t len, bool swapped, F f, BadOption* bad = nullptr) {
  uint32_t i = 0;
  while (i + 4 <= len) {
    uint16_t code, olen;
    memcpy(&code, p + i, 2);
    memcpy(&olen, p + i + 2, 2);
    if (swapped) {
      code = __builtin_bswap16(code);
      olen = __builtin_bswap16(olen);
    }
    if (code == 0) return true;
    if (olen > len - i - 4) {
      if (bad) *bad = {i, code, olen};
      return false;
    }
    f(code, p + i + 4, olen);
    i += 4 + ((olen + 3u) & ~3u);
  }
  return true;
}

std::string Overrun(const char* block, const BadOption& bad) {
  return "option " + std::to_string(bad.code) + " of " + std::to_string(bad.length) +
         " bytes runs past the end of its " + block;
}

// Times outside it cannot be written: classic pcap holds unsigned 32-bit
// seconds, pcapml's pcapng nanoseconds since 1970.
constexpr char kTimeRange[] = "1970-01-01..2106-02-07 (what pcap and pcapng output can hold)";

}  // namespace

std::vector<std::string_view> Packet::Comments() const {
  std::vector<std::string_view> out;
  ForEachOption(options, options_len, swapped, [&](uint16_t code, const uint8_t* v, uint16_t n) {
    if (code == 1) out.emplace_back(reinterpret_cast<const char*>(v), n);
  });
  return out;
}

PacketReader::PacketReader() = default;

PacketReader::~PacketReader() {
  if (own_fd_ && fd_ >= 0) close(fd_);
}

std::string PacketReader::compression() const { return decompressor_ ? decompressor_->name() : ""; }

// The bytes read so far are the start of a compressed stream: read on through the decompressor, from the start.
bool PacketReader::StartDecompressing(std::string* err) {
  decompressor_->pending.assign(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(end_));
  // A regular file was read with pread, which leaves the file position alone:
  // the decompressor reads on from the bytes it was given.
  if (seekable_ && lseek(fd_, static_cast<off_t>(base_ + end_), SEEK_SET) < 0)
    return *err = path_ + ": " + strerror(errno), false;
  end_ = pos_ = 0;
  base_ = 0;
  file_size_ = 0;     // of the decompressed data: unknown
  seekable_ = false;  // offsets are into the decompressed data
  if (Fill(4, err)) return true;
  if (!err->empty()) return false;
  if (decompressor_->cut_short())
    return *err = path_ + ": cut short: the " + decompressor_->name() + " stream ends before any capture data", false;
  return *err = path_ + ": " + decompressor_->name() + " stream without a capture in it", false;
}

uint32_t PacketReader::U32(const uint8_t* p) const {
  uint32_t v = Load32(p);
  return swapped_ ? __builtin_bswap32(v) : v;
}

uint16_t PacketReader::U16(const uint8_t* p) const {
  uint16_t v;
  memcpy(&v, p, 2);
  return swapped_ ? __builtin_bswap16(v) : v;
}

bool PacketReader::Fail(uint64_t offset, const std::string& what, std::string* err) {
  *err = path_ + ": " + what + " at byte offset " + std::to_string(offset);
  error_offset_ = offset;
  return false;
}

bool PacketReader::CaplenError(uint32_t caplen, const Interface& ifc, uint64_t offset, std::string* err) {
  return Fail(offset,
              "packet with captured length " + std::to_string(caplen) +
                  (caplen > kMaxCaplen ? " above the maximum of " + std::to_string(kMaxCaplen)
                                       : " above its snap length of " + std::to_string(ifc.snaplen)),
              err);
}

// The input ends inside the block or record at offset, of `length` bytes
// (0: its header is cut, so unknown).
bool PacketReader::CutShort(uint64_t offset, uint64_t length, std::string* err) {
  uint64_t have = (file_size_ ? file_size_ : base_ + end_) - offset;
  cut_short_ = true;
  error_offset_ = offset;
  *err = path_ + ": cut short: the input ends inside the record at byte offset " + std::to_string(offset) +
         (decompressor_ ? " of the decompressed data" : "") + " (" + std::to_string(have) +
         (length ? " of " + std::to_string(length) : "") + " bytes)";
  return false;
}

bool PacketReader::Open(const std::string& path, std::string* err, size_t buffer) {
  path_ = path;
  if (path == "-") {
    fd_ = 0;
  } else {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      error_errno_ = errno;
      *err = path + ": " + strerror(errno);
      return false;
    }
    own_fd_ = true;
  }
  struct stat st;
  if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    file_size_ = static_cast<uint64_t>(st.st_size);
    seekable_ = true;
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  } else if (fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    error_errno_ = EISDIR;
    *err = path + ": is a directory";
    return false;
  }
  buf_.resize(std::max<size_t>(buffer, 64));
  return ReadFileHeader(err);
}

bool PacketReader::OpenMemory(const std::string& name, const uint8_t* data, size_t size, std::string* err) {
  path_ = name;
  buf_.assign(data, data + size);
  end_ = size;
  file_size_ = size;
  eof_ = true;  // Fill never reads
  return ReadFileHeader(err);
}

bool PacketReader::ReadFileHeader(std::string* err) {
  const std::string& path = path_;
  if (!Fill(4, err)) {
    if (!err->empty()) return false;
    if (end_ == 0) return error_offset_ = 0, *err = path + ": empty file, not a pcap or pcapng file", false;
    return Fail(0, "truncated file header (" + std::to_string(end_) + " bytes)", err);
  }
  if (!decompressor_ && fd_ >= 0 && (decompressor_ = Decompressor::ForMagic(buf_.data(), end_)))
    if (!StartDecompressing(err)) return false;
  uint32_t magic = Load32(buf_.data());
  switch (magic) {
    case 0xa1b2c3d4:
    case 0xd4c3b2a1:
    case 0xa1b23c4d:
    case 0x4d3cb2a1: {
      format_ = FileFormat::kPcap;
      swapped_ = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
      pcap_nanos_ = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
      if (!Fill(24, err)) return err->empty() ? Fail(0, "truncated pcap file header", err) : false;
      Interface ifc;
      ifc.snaplen = U32(&buf_[16]);
      ifc.link_type = static_cast<uint16_t>(U32(&buf_[20]) & 0xFFFF);
      ifc.units_per_second = pcap_nanos_ ? 1000000000 : 1000000;
      interfaces_.push_back(ifc);
      sections_.push_back({swapped_, {0}});
      pos_ = 24;
      return true;
    }
    case kShb:
      format_ = FileFormat::kPcapng;
      return ReadSectionHeader(err);
    default:
      return Fail(0, "not a pcap or pcapng file (magic " + Hex(magic) + ")", err);
  }
}

// Makes at least `need` unread bytes available in buf_. Returns false at end
// of input (err left empty) or on a read error (err set).
bool PacketReader::Refill(size_t need, std::string* err) {
  if (pos_ > 0) {
    memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    base_ += pos_;
    end_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() < need) buf_.resize(need);
  // Sequential reading fills the buffer; after ReadAt, only what the caller will read.
  size_t want =
      ahead_ ? static_cast<size_t>(std::min<uint64_t>(buf_.size(), std::max<uint64_t>(need, ahead_))) : buf_.size();
  while (end_ < need && !eof_) {
    std::string why;
    ssize_t n = decompressor_ ? decompressor_->Read(fd_, buf_.data() + end_, buf_.size() - end_, &why)
                : seekable_   ? pread(fd_, buf_.data() + end_, want - end_, static_cast<off_t>(base_ + end_))
                              : read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0) {
      if (!decompressor_ && errno == EINTR) continue;
      error_errno_ = decompressor_ ? 0 : errno;
      error_offset_ = base_ + end_;
      *err =
          path_ + ": " +
          (decompressor_ ? why : "read error at byte offset " + std::to_string(base_ + end_) + ": " + strerror(errno));
      return false;
    }
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
  }
  return end_ >= need;
}

// Moves the read position to `offset`: within the buffer if it is there, else
// the next Fill reads from offset on (`ahead` bytes if not 0).
void PacketReader::Reposition(uint64_t offset, uint64_t ahead) {
  ahead_ = ahead;
  if (offset >= base_ && offset <= base_ + end_) {
    pos_ = static_cast<size_t>(offset - base_);
    return;
  }
  base_ = offset;
  pos_ = end_ = 0;
  eof_ = false;
}

void PacketReader::SwapWindows() {
  std::swap(buf_, spare_.buf);
  std::swap(pos_, spare_.pos);
  std::swap(end_, spare_.end);
  std::swap(base_, spare_.base);
  std::swap(ahead_, spare_.ahead);
  std::swap(eof_, spare_.eof);
}

// Whether the block or record at `offset` is whole in the buffer.
bool PacketReader::InBuffer(uint64_t offset) const {
  if (offset < base_ || offset - base_ + 16 > end_) return false;
  const uint8_t* h = buf_.data() + (offset - base_);
  uint64_t len = format_ == FileFormat::kPcap ? 16 + uint64_t{U32(h + 8)} : U32(h + 4);
  return offset - base_ + len <= end_;
}

PacketReader::Status PacketReader::Next(Packet* packet, std::string* err) {
  err->clear();
  cut_short_ = false;
  Status st = format_ == FileFormat::kPcap ? NextPcap(packet, err) : NextPcapng(packet, err);
  if (st == Status::kPacket) [[likely]]
    return st;
  if (st == Status::kEnd && decompressor_ && decompressor_->cut_short()) {  // cut at a record boundary
    *err = path_ + ": cut short: the " + decompressor_->name() + " stream ends early, after " +
           std::to_string(position()) + " bytes of capture";
    return Status::kTruncated;
  }
  return st == Status::kError && cut_short_ ? Status::kTruncated : st;
}

PacketReader::Status PacketReader::ReadAt(uint64_t offset, uint32_t interface, uint64_t ahead, Packet* p,
                                          std::string* err) {
  err->clear();
  if (!seekable_) return Fail(offset, "cannot read a packet again from a stream", err), Status::kError;
  if (interface >= interfaces_.size())
    return Fail(offset, "no interface " + std::to_string(interface) + " was read", err), Status::kError;
  cur_ = format_ == FileFormat::kPcap ? 0 : interfaces_[interface].section - 1;
  swapped_ = sections_[cur_].swapped;
  // Next()'s buffer still holding the block is read in place (it fills nothing
  // then); else the spare buffer reads it. Next() goes on where it was.
  size_t resume = pos_;
  bool here = InBuffer(offset);
  if (here) {
    pos_ = static_cast<size_t>(offset - base_);
  } else {
    SwapWindows();
    if (buf_.size() < kDefaultBuffer) buf_.resize(kDefaultBuffer);
    Reposition(offset, ahead);
  }
  Status st;
  if (format_ == FileFormat::kPcap) {
    st = NextPcap(p, err);
  } else if (!Fill(8, err)) {
    if (err->empty()) Fail(offset, "truncated block header", err);
    st = Status::kError;
  } else {
    uint32_t type = U32(buf_.data() + pos_), len;
    const uint8_t* b;
    if (type != kEpb && type != kSpb && type != kPb) {
      st = Status::kError;
      Fail(offset, "no packet block here any more (type " + Hex(type) + "): the file changed since it was read", err);
    } else {
      st = ReadBlock(offset, type, &len, &b, err);
      if (st == Status::kPacket && !ParseEnhanced(b, len, type, offset, p, err)) st = Status::kError;
    }
  }
  if (here) {
    pos_ = resume;
  } else {
    SwapWindows();
  }
  cur_ = static_cast<uint32_t>(sections_.size() - 1);
  swapped_ = sections_[cur_].swapped;
  if (st == Status::kEnd) Fail(offset, "no packet here any more: the file changed since it was read", err);
  if (st == Status::kPacket && p->interface != interface)
    return Fail(offset, "the packet is on another interface now: the file changed since it was read", err),
           Status::kError;
  return st == Status::kEnd ? Status::kError : st;
}

PacketReader::Status PacketReader::NextPcap(Packet* p, std::string* err) {
  uint64_t offset = base_ + pos_;
  if (!Fill(16, err)) {
    if (!err->empty()) return Status::kError;
    if (end_ == pos_) return Status::kEnd;
    CutShort(offset, 0, err);
    return Status::kError;
  }
  const uint8_t* h = buf_.data() + pos_;
  uint32_t caplen = U32(h + 8);
  if (!CheckCaplen(caplen, interfaces_[0], offset, err)) return Status::kError;
  if (!Fill(16 + size_t{caplen}, err)) {
    if (err->empty()) CutShort(offset, 16 + uint64_t{caplen}, err);
    return Status::kError;
  }
  h = buf_.data() + pos_;
  int64_t secs = static_cast<int64_t>(U32(h));
  int64_t frac = static_cast<int64_t>(U32(h + 4));
  p->ts_ns = secs * 1000000000 + (pcap_nanos_ ? frac : frac * 1000);  // < 2^63: cannot overflow
  if (p->ts_ns > kMaxTimestampNs) {
    Fail(offset,
         "packet time " + std::to_string(secs) + " s + " + std::to_string(frac) + (pcap_nanos_ ? " ns" : " us") +
             " is outside " + kTimeRange,
         err);
    return Status::kError;
  }
  p->caplen = caplen;
  p->orig_len = U32(h + 12);
  p->interface = 0;
  p->data = h + 16;
  p->comment = {};
  p->offset = offset;
  p->length = 16 + caplen;
  p->has_timestamp = true;
  p->options = nullptr;
  p->options_len = 0;
  pos_ += 16 + caplen;
  return Status::kPacket;
}

bool PacketReader::ReadSectionHeader(std::string* err) {
  uint64_t offset = base_ + pos_;
  if (!Fill(12, err)) return err->empty() ? CutShort(offset, 0, err) : false;
  uint32_t magic = Load32(buf_.data() + pos_ + 8);
  if (magic == kByteOrderMagic)
    swapped_ = false;
  else if (magic == __builtin_bswap32(kByteOrderMagic))
    swapped_ = true;
  else
    return Fail(offset, "section header with bad byte-order magic " + Hex(magic), err);
  uint32_t len = U32(buf_.data() + pos_ + 4);
  if (len < 28 || len % 4 != 0 || len > kMaxBlock)
    return Fail(offset, "section header block with bad length " + std::to_string(len), err);
  // Known to run past the end: said without reading (or allocating) it.
  if ((file_size_ && offset + len > file_size_) || !Fill(len, err))
    return err->empty() ? CutShort(offset, len, err) : false;
  const uint8_t* b = buf_.data() + pos_;
  if (U32(b + len - 4) != len)
    return Fail(
        offset,
        "block length trailer mismatch (" + std::to_string(len) + " vs " + std::to_string(U32(b + len - 4)) + ")", err);
  if (U16(b + 12) != 1) return Fail(offset, "unsupported pcapng major version " + std::to_string(U16(b + 12)), err);
  sections_.push_back({swapped_, {}});
  cur_ = static_cast<uint32_t>(sections_.size() - 1);
  shb_userappl_.clear();
  shb_comment_.clear();
  bool commented = false;
  BadOption bad;
  if (!ForEachOption(
          b + 24, len - 28, swapped_,
          [&](uint16_t code, const uint8_t* v, uint16_t n) {
            if (code == 4) shb_userappl_.assign(reinterpret_cast<const char*>(v), n);
            if (code == 1 && !commented) shb_comment_.assign(reinterpret_cast<const char*>(v), n), commented = true;
          },
          &bad))
    return Fail(offset + 24 + bad.at, Overrun("section header block", bad), err);
  pos_ += len;
  return true;
}

bool PacketReader::ParseInterface(const uint8_t* body, uint32_t len, uint64_t offset, std::string* err) {
  if (len < 8) return Fail(offset, "interface description block too short", err);
  Interface ifc;
  ifc.link_type = U16(body);
  ifc.snaplen = U32(body + 4);
  ifc.section = static_cast<uint32_t>(sections_.size());
  ifc.section_comment = shb_comment_;
  std::string bad;
  BadOption overrun;
  // The first of each option counts (as in the Python reader).
  bool named = false, described = false, resolution = false, offset_set = false, filtered = false;
  bool whole = ForEachOption(
      body + 8, len - 8, swapped_,
      [&](uint16_t code, const uint8_t* v, uint16_t n) {
        if (code == 2 && !named) {
          named = true;
          ifc.name.assign(reinterpret_cast<const char*>(v), n);
        } else if (code == 3 && !described) {
          described = true;
          ifc.description.assign(reinterpret_cast<const char*>(v), n);
        } else if (code == 9 && n >= 1 && !resolution) {
          resolution = true;
          uint8_t r = v[0];
          unsigned exp = r & 0x7f;
          if (r & 0x80) {
            if (exp > 63)
              bad = "if_tsresol 2^-" + std::to_string(exp);
            else
              ifc.units_per_second = uint64_t{1} << exp;
          } else {
            if (exp > 19) bad = "if_tsresol 10^-" + std::to_string(exp);
            ifc.units_per_second = 1;
            for (unsigned i = 0; i < exp && i < 19; ++i) ifc.units_per_second *= 10;
          }
        } else if (code == 14 && n >= 8 && !offset_set) {
          offset_set = true;
          uint64_t o;
          memcpy(&o, v, 8);
          if (swapped_) o = __builtin_bswap64(o);
          ifc.offset_seconds = static_cast<int64_t>(o);
        } else if (code == 11 && n >= 1 && v[0] == 0 && !filtered) {
          filtered = true;
          ifc.filter.assign(reinterpret_cast<const char*>(v + 1), n - 1);
        }
      },
      &overrun);
  if (!whole) return Fail(offset + 16 + overrun.at, Overrun("interface description block", overrun), err);
  if (!bad.empty()) return Fail(offset, "unsupported " + bad, err);
  sections_[cur_].ifaces.push_back(static_cast<uint32_t>(interfaces_.size()));
  interfaces_.push_back(std::move(ifc));
  return true;
}

__int128 PacketReader::ExactNanoseconds(const Interface& ifc, uint64_t units) {
  uint64_t ups = ifc.units_per_second;
  __int128 t;               // |t| < 2^127: exact
  if (ups == 1000000000) {  // the usual units need no 128-bit division
    t = units;
  } else if (ups == 1000000) {
    t = static_cast<__int128>(units) * 1000;
  } else {
    t = static_cast<__int128>(units / ups) * 1000000000;
    t += static_cast<__int128>(units % ups) * 1000000000 / ups;
  }
  if (ifc.offset_seconds) t += static_cast<__int128>(ifc.offset_seconds) * 1000000000;
  return t;
}

bool PacketReader::ToNanoseconds(const Interface& ifc, uint64_t units, int64_t* ns) const {
  __int128 t = ExactNanoseconds(ifc, units);
  if (t < 0 || t > kMaxTimestampNs) return false;
  *ns = static_cast<int64_t>(t);
  return true;
}

bool PacketReader::ParseEnhanced(const uint8_t* b, uint32_t len, uint32_t type, uint64_t offset, Packet* p,
                                 std::string* err) {
  uint32_t body = len - 12;  // without type, length and trailer
  const uint8_t* d = b + 8;
  uint32_t iface, header;
  uint64_t units = 0;
  p->has_timestamp = true;
  if (type == kSpb) {
    if (body < 4) return Fail(offset, "simple packet block too short", err);
    header = 4;
    iface = 0;
    p->orig_len = U32(d);
    p->caplen = body - 4;
    if (p->orig_len < p->caplen) p->caplen = p->orig_len;
    p->has_timestamp = false;
  } else {
    if (body < 20) return Fail(offset, "packet block too short", err);
    header = 20;
    iface = type == kEpb ? U32(d) : U16(d);
    units = (uint64_t{U32(d + 4)} << 32) | U32(d + 8);
    p->caplen = U32(d + 12);
    p->orig_len = U32(d + 16);
  }
  const std::vector<uint32_t>& ifaces = sections_[cur_].ifaces;
  if (iface >= ifaces.size())
    return Fail(
        offset,
        "packet names interface " + std::to_string(iface) + " but its section has " + std::to_string(ifaces.size()),
        err);
  const Interface& ifc = interfaces_[ifaces[iface]];
  if (type == kSpb && ifc.snaplen != 0 && p->caplen > ifc.snaplen) p->caplen = ifc.snaplen;
  uint64_t padded = (uint64_t{p->caplen} + 3) & ~uint64_t{3};
  if (header + padded > body)
    return Fail(
        offset,
        "packet data length " + std::to_string(p->caplen) + " runs past its block of " + std::to_string(len) + " bytes",
        err);
  if (!CheckCaplen(p->caplen, ifc, offset, err)) return false;
  p->interface = ifaces[iface];
  p->ts_ns = 0;
  if (p->has_timestamp && !ToNanoseconds(ifc, units, &p->ts_ns))
    return Fail(offset,
                "packet time of " + std::to_string(units) + " units (" + std::to_string(ifc.units_per_second) +
                    " a second) + if_tsoffset " + std::to_string(ifc.offset_seconds) + " s is outside " + kTimeRange,
                err);
  p->data = d + header;
  p->offset = offset;
  p->length = len;
  p->swapped = swapped_;
  p->options = d + header + padded;
  p->options_len = type == kSpb ? 0 : static_cast<uint32_t>(body - header - padded);
  p->comment = {};
  BadOption bad;
  if (!ForEachOption(
          p->options, p->options_len, swapped_,
          [&](uint16_t code, const uint8_t* v, uint16_t n) {
            if (code == 1 && p->comment.data() == nullptr) p->comment = {reinterpret_cast<const char*>(v), n};
          },
          &bad))
    return Fail(offset + 8 + header + padded + bad.at, Overrun("packet block", bad), err);
  return true;
}

PacketReader::Status PacketReader::NextPcapng(Packet* p, std::string* err) {
  for (;;) {
    uint64_t offset = base_ + pos_;
    if (!Fill(8, err)) {
      if (!err->empty()) return Status::kError;
      if (end_ == pos_) return Status::kEnd;
      CutShort(offset, 0, err);
      return Status::kError;
    }
    uint32_t type = Load32(buf_.data() + pos_);
    if (type == kShb) {
      if (!ReadSectionHeader(err)) return Status::kError;
      continue;
    }
    type = swapped_ ? __builtin_bswap32(type) : type;
    uint32_t len;
    const uint8_t* b;
    if (ReadBlock(offset, type, &len, &b, err) == Status::kError) return Status::kError;
    if (type == kEpb || type == kSpb || type == kPb) {
      if (!ParseEnhanced(b, len, type, offset, p, err)) return Status::kError;
      return Status::kPacket;
    }
    if (type == kIdb && !ParseInterface(b + 8, len - 12, offset, err)) return Status::kError;
    // Any other block type (NRB, ISB, DSB, CB, unknown) is skipped.
  }
}

// Checks the length and trailer of the block (not a section header) at pos_,
// whose header is in the buffer, reads it whole and steps over it.
PacketReader::Status PacketReader::ReadBlock(uint64_t offset, uint32_t type, uint32_t* len_out, const uint8_t** block,
                                             std::string* err) {
  uint32_t len = U32(buf_.data() + pos_ + 4);
  if (len < 12 || len % 4 != 0 || len > kMaxBlock) {
    Fail(offset, "block of type " + Hex(type) + " with bad length " + std::to_string(len), err);
    return Status::kError;
  }
  // Known to run past the end: said without reading (or allocating) it.
  if ((file_size_ && offset + len > file_size_) || !Fill(len, err)) {
    if (err->empty()) CutShort(offset, len, err);
    return Status::kError;
  }
  const uint8_t* b = buf_.data() + pos_;
  if (U32(b + len - 4) != len) {
    Fail(offset,
         "block length trailer mismatch (" + std::to_string(len) + " vs " + std::to_string(U32(b + len - 4)) + ")",
         err);
    return Status::kError;
  }
  pos_ += len;
  *len_out = len;
  *block = b;
  return Status::kPacket;
}

}  // namespace pcapml
