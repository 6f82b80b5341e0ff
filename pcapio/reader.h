// One reader for classic pcap and pcapng (docs/format.md: The label). Packets come out with
// exact integer nanosecond timestamps and a global interface index; damaged
// input is an error naming the byte offset, never a crash. Files can also be
// read again at the offset of a packet read before (ReadAt), which is how
// pcapml's Python module reads a sample's packets out of an interleaved file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pcapml {

class Decompressor;

enum class FileFormat { kPcap, kPcapng };

struct Interface {
  uint16_t link_type = 0;  // LINKTYPE_* value
  uint32_t snaplen = 0;
  std::string name;         // if_name, empty if unknown
  std::string filter;       // if_filter (string form), empty if none
  std::string description;  // if_description, empty if none
  // The first opt_comment of the section that declared it (the daemon writes
  // "sensor <id>" there), empty if none.
  std::string section_comment;
  uint32_t section = 0;                 // which section (SHB) declared it
  uint64_t units_per_second = 1000000;  // from if_tsresol
  int64_t offset_seconds = 0;           // if_tsoffset
};

struct Packet {
  int64_t ts_ns = 0;
  uint32_t caplen = 0;
  uint32_t orig_len = 0;
  uint32_t interface = 0;  // index into PacketReader::interfaces()
  const uint8_t* data = nullptr;
  std::string_view comment;   // the first opt_comment; empty if none
  uint64_t offset = 0;        // byte offset of the packet's block or record
  uint32_t length = 0;        // of the block or record
  bool has_timestamp = true;  // false for SPB

  // Every opt_comment of the packet, in order (pcapng; allocates).
  std::vector<std::string_view> Comments() const;

  // Raw option area of the block, for Comments().
  const uint8_t* options = nullptr;
  uint32_t options_len = 0;
  bool swapped = false;
};

class PacketReader {
 public:
  // kTruncated: the input ends inside a record or block (a capture cut
  // short, e.g. its writer was killed); every packet before it was whole,
  // and *err names the offset. kError: damage, *err names the offset.
  enum class Status { kPacket, kEnd, kTruncated, kError };

  PacketReader();
  ~PacketReader();
  PacketReader(const PacketReader&) = delete;
  PacketReader& operator=(const PacketReader&) = delete;

  // Opens a file ("-" is standard input) and reads its header; a gzip or
  // zstd compressed file is decompressed as it is read. Reads go through a
  // buffer of `buffer` bytes (grown for a larger block): merge keeps many
  // readers open and gives each less.
  bool Open(const std::string& path, std::string* err, size_t buffer = kDefaultBuffer);
  // Reads a copy of `data` instead of a file (`name` stands for the path in
  // errors): the fuzz targets, whose buffer is then exactly the input.
  bool OpenMemory(const std::string& name, const uint8_t* data, size_t size, std::string* err);

  // Reads the next packet. Data and comment stay valid until the next call.
  // On kError, *err names the byte offset at fault (error_offset()).
  Status Next(Packet* packet, std::string* err);

  // Reads again the packet block at `offset` that Next() returned before on
  // global interface `interface` (whose section says the byte order and the
  // interface numbers), for regular files. `ahead`: how many bytes from offset
  // on the caller reads next, so one read fetches them (0: a buffer's worth).
  // Anything but a packet block there is an error: the file changed since.
  // A block still in Next()'s buffer is read there, any other through a
  // second buffer, so Next() goes on where it was without reading again.
  // Data stays valid until the next call of either.
  Status ReadAt(uint64_t offset, uint32_t interface, uint64_t ahead, Packet* packet, std::string* err);

  // The byte offset a format error names, and errno after an I/O error (else 0).
  uint64_t error_offset() const { return error_offset_; }
  int error_errno() const { return error_errno_; }

  const std::vector<Interface>& interfaces() const { return interfaces_; }
  FileFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  // Bytes consumed so far and the file size (0 if unknown): for progress.
  uint64_t position() const { return base_ + pos_; }
  uint64_t file_size() const { return file_size_; }
  // "gzip" or "zstd" for a compressed input, else "".
  std::string compression() const;
  // Section header fields of the most recent section (pcapng only).
  const std::string& user_application() const { return shb_userappl_; }
  const std::string& section_comment() const { return shb_comment_; }

  // Largest block or record accepted: bounds memory on hostile input.
  static constexpr uint32_t kMaxBlock = 64u << 20;
  // Largest captured length accepted (also never above the interface's snap
  // length): libpcap and Wireshark refuse files with longer packets.
  static constexpr uint32_t kMaxCaplen = 262144;
  // Packet times accepted, in nanoseconds since 1970: what both writers can
  // hold (classic pcap has unsigned 32-bit seconds), so none wraps or clamps.
  static constexpr int64_t kMaxTimestampNs = (int64_t{1} << 32) * 1'000'000'000 - 1;
  static constexpr size_t kDefaultBuffer = 1u << 20;

 private:
  // A section's byte order and the global index of each of its IDBs.
  struct Section {
    bool swapped = false;
    std::vector<uint32_t> ifaces;
  };

  bool ReadFileHeader(std::string* err);
  // At least `need` bytes from pos_ in the buffer (reading more if not); false at the end or on an error (*err).
  bool Fill(size_t need, std::string* err) { return end_ - pos_ >= need || Refill(need, err); }
  bool Refill(size_t need, std::string* err);
  bool StartDecompressing(std::string* err);
  void Reposition(uint64_t offset, uint64_t ahead);
  void SwapWindows();
  bool InBuffer(uint64_t offset) const;
  Status NextPcap(Packet* packet, std::string* err);
  Status NextPcapng(Packet* packet, std::string* err);
  Status ReadBlock(uint64_t offset, uint32_t type, uint32_t* len, const uint8_t** block, std::string* err);
  bool ReadSectionHeader(std::string* err);
  bool ParseInterface(const uint8_t* body, uint32_t len, uint64_t offset, std::string* err);
  bool ParseEnhanced(const uint8_t* body, uint32_t len, uint32_t type, uint64_t offset, Packet* p, std::string* err);
  bool Fail(uint64_t offset, const std::string& what, std::string* err);
  // False (an error naming the record) if caplen is above the maximum or the interface's snap length.
  bool CheckCaplen(uint32_t caplen, const Interface& ifc, uint64_t offset, std::string* err) {
    if (caplen <= kMaxCaplen && (ifc.snaplen == 0 || caplen <= ifc.snaplen)) [[likely]]
      return true;
    return CaplenError(caplen, ifc, offset, err);
  }
  bool CaplenError(uint32_t caplen, const Interface& ifc, uint64_t offset, std::string* err);
  bool CutShort(uint64_t offset, uint64_t length, std::string* err);
  // False if the time is outside 0..kMaxTimestampNs.
  bool ToNanoseconds(const Interface& ifc, uint64_t units, int64_t* ns) const;
  // The exact time in nanoseconds, before that check (floored when the unit is finer).
  static __int128 ExactNanoseconds(const Interface& ifc, uint64_t units);
  uint32_t U32(const uint8_t* p) const;
  uint16_t U16(const uint8_t* p) const;

  int fd_ = -1;
  bool own_fd_ = false;
  bool seekable_ = false;  // a regular file: read with pread, ReadAt works
  std::string path_;
  FileFormat format_ = FileFormat::kPcap;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;     // next unread byte in buf_
  size_t end_ = 0;     // bytes valid in buf_
  uint64_t base_ = 0;  // file offset of buf_[0]
  bool eof_ = false;
  uint64_t ahead_ = 0;  // ReadAt's buffer: read only this much ahead (0: fill the buffer)
  // ReadAt's buffer while Next()'s is in the members above (SwapWindows).
  struct Window {
    std::vector<uint8_t> buf;
    size_t pos = 0, end = 0;
    uint64_t base = 0, ahead = 0;
    bool eof = false;
  } spare_;
  uint64_t file_size_ = 0;
  uint64_t error_offset_ = 0;
  int error_errno_ = 0;
  bool swapped_ = false;  // sections_[cur_].swapped
  uint32_t cur_ = 0;      // the section of the block being read
  // pcap: one section with its one interface; pcapng: every section so far.
  std::vector<Section> sections_;
  std::vector<Interface> interfaces_;
  std::string shb_userappl_, shb_comment_;
  bool pcap_nanos_ = false;
  bool cut_short_ = false;  // the last error was the input ending inside a block
  std::unique_ptr<Decompressor> decompressor_;
};

// The snap length an interface's packets get in a classic pcap header:
// pcapng's 0 (no limit) becomes the largest captured length a reader takes.
inline uint32_t PcapSnaplen(const Interface& ifc) { return ifc.snaplen ? ifc.snaplen : PacketReader::kMaxCaplen; }

}  // namespace pcapml
