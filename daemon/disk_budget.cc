#include "daemon/disk_budget.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/units.h"

namespace fs = std::filesystem;

namespace pcapml {

std::vector<CompletedFile> ListCompletedFiles(const std::string& directory, const std::string& prefix) {
  std::vector<CompletedFile> files;
  std::error_code ec;
  std::string start = prefix + "-";
  for (const auto& e : fs::directory_iterator(directory, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(start, 0) != 0 || name.size() <= 7 || name.substr(name.size() - 7) != ".pcapng") continue;
    uint64_t bytes = e.file_size(ec);
    files.push_back({e.path().string(), ec ? 0 : bytes});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

size_t FilesToRemove(const std::vector<CompletedFile>& files, uint32_t max_files, uint64_t max_bytes,
                     uint64_t reserve) {
  uint64_t kept = 0;
  for (const CompletedFile& f : files) kept += f.bytes;
  size_t n = 0;
  while (n + 1 < files.size() &&
         ((max_files && files.size() - n > max_files) || (max_bytes && kept + reserve > max_bytes)))
    kept -= files[n++].bytes;
  return n;
}

bool FileSystemSpace(const std::string& path, uint64_t* free_bytes, uint64_t* size_bytes, std::string* err) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) return *err = path + ": " + strerror(errno), false;
  *free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  *size_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  return true;
}

namespace {

// Bytes of the "<prefix>-*.pcapng.partial" files in directory: what an
// earlier run left, completed at start (daemon/recovery.h) before anything
// is written.
uint64_t PartialBytes(const std::string& directory, const std::string& prefix) {
  uint64_t bytes = 0;
  std::error_code ec;
  const std::string start = prefix + "-", end = ".pcapng.partial";
  for (const auto& e : fs::directory_iterator(directory, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(start, 0) != 0 || name.size() <= start.size() + end.size() ||
        name.compare(name.size() - end.size(), end.size(), end) != 0)
      continue;
    uint64_t size = e.file_size(ec);
    if (!ec) bytes += size;
  }
  return bytes;
}

}  // namespace

bool CheckDiskBudget(const OutputConfig& config, std::string* err) {
  if (config.max_bytes == 0) return true;
  uint64_t free_bytes = 0, size_bytes = 0, kept = 0;
  if (!FileSystemSpace(config.directory, &free_bytes, &size_bytes, err)) return false;
  for (const CompletedFile& f : ListCompletedFiles(config.directory, config.prefix)) kept += f.bytes;
  uint64_t partial = PartialBytes(config.directory, config.prefix);
  kept += partial;
  if (config.max_bytes <= free_bytes + kept) return true;
  *err = "[output] max_bytes " + FormatBytes(config.max_bytes) + " is more than " + config.directory +
         " can hold: " + FormatBytes(free_bytes) + " free plus " + FormatBytes(kept) + " in completed files" +
         (partial ? " (" + FormatBytes(partial) + " of them .partial files an earlier run left, completed at start)"
                  : "") +
         "; lower max_bytes or free space";
  return false;
}

}  // namespace pcapml
