// ParseLabel and FileSafe (rules/label.h) over any comment text: views stay
// inside the comment, a label written back reads the same, and a file-safe
// name is safe.
#include "fuzz/fuzz_util.h"
#include "rules/label.h"

using namespace pcapml;

namespace {

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void CheckFileSafe(std::string_view label) {
  std::string safe = FileSafe(label);
  FUZZ_CHECK(!safe.empty() && safe.size() <= 100 && safe != "." && safe != "..");
  for (char c : safe)
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view comment(reinterpret_cast<const char*>(data), size);
  CheckFileSafe(comment);
  SampleLabel label;
  if (!ParseLabel(comment, &label)) return 0;
  FUZZ_CHECK(Inside(label.metadata, comment) && Inside(label.name, comment));
  FUZZ_CHECK(label.name.find(',') == std::string_view::npos);
  CheckFileSafe(label.name);
  if (comment.starts_with("s=")) return 0;  // the old form is read, never written
  std::string written = FormatLabel(label.sample_id, label.metadata);
  SampleLabel again;
  FUZZ_CHECK(ParseLabel(written, &again));
  FUZZ_CHECK(again.sample_id == label.sample_id && again.metadata == label.metadata && again.name == label.name);
  return 0;
}
