// The directory labels file parser (rules/labels_file.h) over any text:
// files with their comments (UTF-8, one line), or one error naming the file
// and line.
#include <set>

#include "base/text_file.h"
#include "fuzz/fuzz_util.h"
#include "rules/label.h"
#include "rules/labels_file.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<LabeledFile> files;
  std::string err;
  if (!ParseLabelsFile("labels.txt", text, "dataset/", "", &files, &err)) {
    FUZZ_CHECK(err.starts_with("labels.txt"));
    return 0;
  }
  FUZZ_CHECK(!files.empty());
  std::set<std::string> paths;
  for (const LabeledFile& f : files) {
    FUZZ_CHECK(paths.insert(f.path).second);  // each file listed once
    FUZZ_CHECK(!f.metadata.empty() && TextProblem(f.metadata).empty());
    FUZZ_CHECK(f.metadata.find_first_of("\r\n") == std::string::npos);
    // The comment reads back as the file's sample and metadata.
    SampleLabel label;
    FUZZ_CHECK(ParseLabel(f.comment, &label));
    FUZZ_CHECK(label.sample_id == f.sample_id && label.metadata == f.metadata);
  }
  return 0;
}
