#include "plugin_host/elf_symbol.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace pcapml {
namespace {

#if UINTPTR_MAX == UINT64_MAX
using Ehdr = Elf64_Ehdr;
using Shdr = Elf64_Shdr;
using Sym = Elf64_Sym;
constexpr unsigned char kClass = ELFCLASS64;
#else
using Ehdr = Elf32_Ehdr;
using Shdr = Elf32_Shdr;
using Sym = Elf32_Sym;
constexpr unsigned char kClass = ELFCLASS32;
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kData = ELFDATA2LSB;
#else
constexpr unsigned char kData = ELFDATA2MSB;
#endif

constexpr uint64_t kMaxTableBytes = 64ull << 20;  // symbol and string tables

// Bounds-checked reads of only the parts of the file needed (not the whole
// library): a damaged file is an error, never a read past its end.
class Image {
 public:
  explicit Image(int fd) : fd_(fd) {
    struct stat st;
    size_ = fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  ~Image() { close(fd_); }

  bool ReadAt(uint64_t offset, uint64_t n, void* out) const {
    if (offset > size_ || size_ - offset < n) return false;
    return pread(fd_, out, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  }
  template <typename T>
  bool Read(uint64_t offset, T* out) const {
    return ReadAt(offset, sizeof(T), out);
  }
  bool Table(uint64_t offset, uint64_t n, std::vector<char>* out) const {
    if (n > kMaxTableBytes) return false;
    out->resize(n);
    return ReadAt(offset, n, out->data());
  }

 private:
  int fd_;
  uint64_t size_ = 0;
};

bool Section(const Image& img, const Ehdr& eh, uint64_t index, Shdr* sh) {
  return index < eh.e_shnum && img.Read(eh.e_shoff + index * eh.e_shentsize, sh);
}

// The symbol's 4 bytes in the file, found through the .dynsym table `syms`.
ElfSymbolStatus Lookup(const Image& img, const Ehdr& eh, const Shdr& syms, const std::string& name, uint32_t* value,
                       std::string* err) {
  Shdr strs;
  std::vector<char> sym_bytes, str_bytes;
  if (syms.sh_entsize != sizeof(Sym) || !Section(img, eh, syms.sh_link, &strs) ||
      !img.Table(syms.sh_offset, syms.sh_size, &sym_bytes) || !img.Table(strs.sh_offset, strs.sh_size, &str_bytes))
    return *err = "damaged ELF symbol table", ElfSymbolStatus::kNotElf;
  for (size_t off = 0; off + sizeof(Sym) <= sym_bytes.size(); off += sizeof(Sym)) {
    Sym s;
    std::memcpy(&s, sym_bytes.data() + off, sizeof s);
    if (s.st_shndx == SHN_UNDEF || s.st_name >= str_bytes.size()) continue;
    const char* sym_name = str_bytes.data() + s.st_name;
    size_t len = strnlen(sym_name, str_bytes.size() - s.st_name);
    if (std::string_view(sym_name, len) != name) continue;
    Shdr data;
    if (s.st_size != sizeof(uint32_t) || !Section(img, eh, s.st_shndx, &data) || data.sh_type == SHT_NOBITS ||
        s.st_value < data.sh_addr || !img.Read(data.sh_offset + (s.st_value - data.sh_addr), value))
      return *err = "symbol " + name + " is not a 4-byte constant", ElfSymbolStatus::kNotElf;
    return ElfSymbolStatus::kFound;
  }
  return ElfSymbolStatus::kMissing;
}

}  // namespace

ElfSymbolStatus ReadElfUint32(const std::string& path, const std::string& name, uint32_t* value, std::string* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return *err = std::string("cannot open: ") + strerror(errno), ElfSymbolStatus::kNotElf;
  Image img(fd);
  Ehdr eh;
  if (!img.Read(0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return *err = "not an ELF file", ElfSymbolStatus::kNotElf;
  if (eh.e_ident[EI_CLASS] != kClass || eh.e_ident[EI_DATA] != kData)
    return *err = "ELF class or byte order of another machine", ElfSymbolStatus::kNotElf;
  if (eh.e_type != ET_DYN) return *err = "not a shared library", ElfSymbolStatus::kNotElf;
  if (eh.e_shentsize != sizeof(Shdr)) return *err = "damaged ELF section table", ElfSymbolStatus::kNotElf;
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    Shdr sh;
    if (!Section(img, eh, i, &sh)) return *err = "damaged ELF section table", ElfSymbolStatus::kNotElf;
    if (sh.sh_type == SHT_DYNSYM) return Lookup(img, eh, sh, name, value, err);
  }
  return ElfSymbolStatus::kMissing;
}

}  // namespace pcapml
