#include "plugins/elf_symbol.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
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

constexpr uint64_t kMaxFileBytes = 512ull << 20;

// Bounds-checked reads from the file's bytes: a damaged file is an error.
class Image {
 public:
  explicit Image(std::vector<char> bytes) : b_(std::move(bytes)) {}

  template <typename T>
  bool Read(uint64_t offset, T* out) const {
    if (offset > b_.size() || b_.size() - offset < sizeof(T)) return false;
    std::memcpy(out, b_.data() + offset, sizeof(T));
    return true;
  }
  // The NUL-terminated string at offset inside [begin, begin+size).
  bool String(uint64_t begin, uint64_t size, uint64_t offset, std::string_view* out) const {
    if (begin > b_.size() || size > b_.size() - begin || offset >= size) return false;
    const char* s = b_.data() + begin + offset;
    const void* nul = std::memchr(s, 0, size - offset);
    if (!nul) return false;
    *out = std::string_view(s, static_cast<const char*>(nul) - s);
    return true;
  }

 private:
  std::vector<char> b_;
};

bool Section(const Image& img, const Ehdr& eh, uint64_t index, Shdr* sh) {
  return index < eh.e_shnum && img.Read(eh.e_shoff + index * eh.e_shentsize, sh);
}

}  // namespace

ElfSymbolStatus ReadElfUint32(const std::string& path, const std::string& name, uint32_t* value,
                              std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return *err = "cannot open", ElfSymbolStatus::kNotElf;
  in.seekg(0, std::ios::end);
  if (static_cast<uint64_t>(in.tellg()) > kMaxFileBytes) return *err = "larger than 512 MiB", ElfSymbolStatus::kNotElf;
  in.seekg(0);
  Image img{std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{})};
  Ehdr eh;
  if (!img.Read(0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return *err = "not an ELF file", ElfSymbolStatus::kNotElf;
  if (eh.e_ident[EI_CLASS] != kClass || eh.e_ident[EI_DATA] != kData)
    return *err = "ELF class or byte order of another machine", ElfSymbolStatus::kNotElf;
  if (eh.e_type != ET_DYN) return *err = "not a shared library", ElfSymbolStatus::kNotElf;
  if (eh.e_shentsize != sizeof(Shdr)) return *err = "damaged ELF section table", ElfSymbolStatus::kNotElf;
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    Shdr syms, strs;
    if (!Section(img, eh, i, &syms)) return *err = "damaged ELF section table", ElfSymbolStatus::kNotElf;
    if (syms.sh_type != SHT_DYNSYM) continue;
    if (!Section(img, eh, syms.sh_link, &strs) || syms.sh_entsize != sizeof(Sym))
      return *err = "damaged ELF symbol table", ElfSymbolStatus::kNotElf;
    for (uint64_t off = 0; off + sizeof(Sym) <= syms.sh_size; off += sizeof(Sym)) {
      Sym s;
      std::string_view sym_name;
      if (!img.Read(syms.sh_offset + off, &s)) return *err = "damaged ELF symbol table", ElfSymbolStatus::kNotElf;
      if (s.st_shndx == SHN_UNDEF || !img.String(strs.sh_offset, strs.sh_size, s.st_name, &sym_name) ||
          sym_name != name)
        continue;
      Shdr data;
      if (s.st_size != sizeof(uint32_t) || !Section(img, eh, s.st_shndx, &data) || data.sh_type == SHT_NOBITS ||
          s.st_value < data.sh_addr || !img.Read(data.sh_offset + (s.st_value - data.sh_addr), value))
        return *err = "symbol " + name + " is not a 4-byte constant", ElfSymbolStatus::kNotElf;
      return ElfSymbolStatus::kFound;
    }
  }
  return ElfSymbolStatus::kMissing;
}

}  // namespace pcapml
