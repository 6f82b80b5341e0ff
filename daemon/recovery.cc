#include "daemon/recovery.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace pcapml {
namespace {

constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint32_t kPacketBlock = 2, kSimplePacket = 3, kEnhancedPacket = 6;
constexpr char kPartial[] = ".partial";

uint32_t Read32(const uint8_t* p, bool swap) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}

// The file's bytes, mapped read-only (nullptr for an empty file).
class Mapped {
 public:
  bool Open(const std::string& path, std::string* err) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      *err = strerror(errno);
      if (fd >= 0) close(fd);
      return false;
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
      void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m == MAP_FAILED) {
        *err = strerror(errno);
        close(fd);
        return false;
      }
      data_ = static_cast<const uint8_t*>(m);
    }
    close(fd);
    return true;
  }
  ~Mapped() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
  }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Cuts the file to its whole blocks and renames it.
void Recover(RecoveredFile* r, bool sync) {
  std::string err;
  Mapped m;
  if (!m.Open(r->partial, &err)) {
    r->error = "cannot read it: " + err;
    return;
  }
  r->kept_bytes = WholeBlocks(m.data(), m.size(), &r->packets);
  r->cut_bytes = m.size() - r->kept_bytes;
  std::error_code ec;
  if (r->kept_bytes == 0) {  // not even a whole section header: nothing to keep
    if (!fs::remove(r->partial, ec)) r->error = "cannot remove it: " + ec.message();
    return;
  }
  std::string path = r->partial.substr(0, r->partial.size() - strlen(kPartial));
  if (fs::exists(path, ec)) {
    r->error = path + " exists already; left as it is";
    return;
  }
  int fd = open(r->partial.c_str(), O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && (r->cut_bytes == 0 || ftruncate(fd, static_cast<off_t>(r->kept_bytes)) == 0) &&
            (!sync || fsync(fd) == 0);
  if (!ok) r->error = std::string("cannot cut it to its last whole block: ") + strerror(errno);
  if (fd >= 0) close(fd);
  if (!ok) return;
  if (rename(r->partial.c_str(), path.c_str()) != 0) {
    r->error = "cannot rename it to " + path + ": " + strerror(errno);
    return;
  }
  r->path = path;
}

}  // namespace

uint64_t WholeBlocks(const uint8_t* data, uint64_t size, uint64_t* packets) {
  uint64_t at = 0, whole = 0;
  bool swap = false;
  *packets = 0;
  uint64_t counted = 0;
  while (size - at >= 12) {
    const uint8_t* b = data + at;
    uint32_t type = Read32(b, false);
    if (type == kSectionHeader) {  // byte order is the section's own
      if (size - at < 28) break;
      uint32_t magic = Read32(b + 8, false);
      if (magic != kByteOrderMagic && magic != __builtin_bswap32(kByteOrderMagic)) break;
      swap = magic != kByteOrderMagic;
    } else if (at == 0) {
      break;  // a pcapng file starts with a section header
    } else {
      type = Read32(b, swap);
    }
    uint64_t len = Read32(b + 4, swap);
    if (len < 12 || len % 4 != 0 || len > size - at || Read32(b + len - 4, swap) != len) break;
    if (type == kEnhancedPacket || type == kSimplePacket || type == kPacketBlock) ++counted;
    at += len;
    whole = at;
    *packets = counted;
  }
  return whole;
}

std::vector<RecoveredFile> RecoverPartialFiles(const std::string& directory, const std::string& prefix, bool sync) {
  std::vector<RecoveredFile> out;
  std::string start = prefix + "-", end = std::string(".pcapng") + kPartial;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(directory, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > start.size() + end.size() && name.rfind(start, 0) == 0 &&
        name.compare(name.size() - end.size(), end.size(), end) == 0 && e.is_regular_file(ec)) {
      RecoveredFile r;
      r.partial = e.path().string();
      out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const RecoveredFile& a, const RecoveredFile& b) { return a.partial < b.partial; });
  for (RecoveredFile& r : out) Recover(&r, sync);
  return out;
}

std::string DescribeRecovery(const RecoveredFile& r) {
  if (!r.error.empty()) return "cannot recover " + r.partial + ": " + r.error;
  if (r.path.empty())
    return "removed " + r.partial + " left by an earlier run: no whole block in its " + std::to_string(r.cut_bytes) +
           " bytes";
  return "recovered " + r.path + " from the .partial an earlier run left: " + std::to_string(r.packets) + " packets" +
         (r.cut_bytes ? ", " + std::to_string(r.cut_bytes) + " bytes of an unfinished block cut off" : "");
}

}  // namespace pcapml
