// The directory labels file (docs/format.md: Rules): "filename,label" per line, an
// optional "filename,label" header, paths relative to the directory (a
// FILE: prefix and paths that include the directory are accepted too).
// Lines end in LF, CRLF or CR (base/text_file.h); a label must be UTF-8
// without NUL bytes, a file name without NUL bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pcapml {

struct LabeledFile {
  std::string path;        // relative to the directory, normalised
  std::string metadata;    // everything after the first comma
  uint64_t sample_id = 0;  // SHA-256 of the line as written (docs/format.md: Sample IDs)
  std::string comment;     // "<sampleID>,<metadata>"
  size_t line = 0;
};

bool ParseLabelsFile(const std::string& path, std::string_view text, const std::string& dir,
                     const std::string& sensor_id, std::vector<LabeledFile>* out, std::string* err);

}  // namespace pcapml
