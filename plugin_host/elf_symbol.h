// Reads a constant a shared library exports without loading it (no code of
// the library runs): how pcapml learns a plugin's interface version before
// dlopen. Works on stripped libraries (it reads .dynsym).
#pragma once

#include <cstdint>
#include <string>

namespace pcapml {

enum class ElfSymbolStatus {
  kFound,
  kMissing,  // a valid shared object that does not export the symbol
  kNotElf,   // not an ELF shared object of this machine (*err says why)
};

// The 4-byte value of the exported data symbol `name` in the ELF file at path.
ElfSymbolStatus ReadElfUint32(const std::string& path, const std::string& name, uint32_t* value, std::string* err);

}  // namespace pcapml
