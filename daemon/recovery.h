// Crash recovery of the daemon's output: a daemon killed without warning
// (SIGKILL, power loss, OOM killer) leaves its current file as
// "<name>.partial". At start the daemon cuts each such file of its prefix to
// its last whole pcapng block and renames it to <name>, so what reached the
// disk is kept and every file under a final name stays whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pcapml {

struct RecoveredFile {
  std::string partial;      // the .partial file found
  std::string path;         // its completed name; "" if it was removed or left alone
  uint64_t packets = 0;     // packet blocks kept
  uint64_t kept_bytes = 0;  // whole blocks kept
  uint64_t cut_bytes = 0;   // bytes of an unfinished block cut off the end
  std::string error;        // why it was left as it is ("" if recovered or removed)
};

// Recovers every "<prefix>-*.pcapng.partial" in directory, oldest name first.
// sync: fsync each file before its rename.
std::vector<RecoveredFile> RecoverPartialFiles(const std::string& directory, const std::string& prefix, bool sync);

// Length of the longest prefix of data made of whole pcapng blocks, starting
// with a section header (0 if there is none); *packets counts its packet blocks.
uint64_t WholeBlocks(const uint8_t* data, uint64_t size, uint64_t* packets);

// One log line for a recovered file.
std::string DescribeRecovery(const RecoveredFile& r);

}  // namespace pcapml
