// The daemon's disk budget ([output] max_bytes, max_files): which completed
// output files to remove, oldest first, and whether the output file system
// can hold the budget at all. Only completed files (<prefix>-*.pcapng) are
// ever listed, so the file being written (*.partial) is never removed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/config.h"

namespace pcapml {

struct CompletedFile {
  std::string path;
  uint64_t bytes = 0;
};

// The completed output files in the directory, oldest first (their names sort
// by start time, then sequence number).
std::vector<CompletedFile> ListCompletedFiles(const std::string& directory, const std::string& prefix);

// How many of `files` (oldest first) to remove so that at most max_files
// remain (0: any number) and the rest plus `reserve` (room for the file being
// written) fit in max_bytes (0: no budget). The newest is always kept.
size_t FilesToRemove(const std::vector<CompletedFile>& files, uint32_t max_files, uint64_t max_bytes, uint64_t reserve);

// Free space (for an unprivileged user) and size of the file system holding `path`.
bool FileSystemSpace(const std::string& path, uint64_t* free_bytes, uint64_t* size_bytes, std::string* err);

// A budget larger than the file system's free space plus the completed files
// it may remove cannot be kept: the disk would fill first. The .partial
// files an earlier run left count as completed: the daemon completes them
// before it writes (daemon/recovery.h). The error says how much there is.
bool CheckDiskBudget(const OutputConfig& config, std::string* err);

}  // namespace pcapml
