// The control socket's requests (daemon/control.h) over any text, a request a
// line: SplitFields, then ParseAddRequest and BuildRule for an `add`. The
// fields join back into the line; an accepted add has an id and a label from
// its own fields; the comment a built run-time rule writes on its packets
// reads back as its sampleID and metadata, UTF-8 without NUL.
#include <algorithm>

#include "base/text_file.h"
#include "daemon/control.h"
#include "daemon/control_requests.h"
#include "fuzz/fuzz_util.h"
#include "rules/label.h"

using namespace pcapml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (size_t start = 0; start <= text.size();) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() + 1 : nl + 1;
    std::vector<std::string> fields = SplitFields(line);
    std::string joined;
    for (size_t i = 0; i < fields.size(); ++i) joined += (i ? "\t" : "") + fields[i];
    FUZZ_CHECK(!fields.empty() && joined == line);
    if (fields[0] != "add") continue;
    RuleSpec spec;
    std::string err;
    if (!ParseAddRequest(fields, &spec, &err)) {
      FUZZ_CHECK(!err.empty());
      continue;
    }
    FUZZ_CHECK(!spec.id.empty() && !spec.label.empty() && spec.window_ns >= 0);
    FUZZ_CHECK(std::find(fields.begin(), fields.end(), "id=" + spec.id) != fields.end());
    FUZZ_CHECK(std::find(fields.begin(), fields.end(), "label=" + spec.label) != fields.end());
    for (const char* sensor : {"", "s1"}) {
      Rule rule;
      if (!BuildRule(spec, sensor, &rule, &err)) {
        FUZZ_CHECK(!err.empty());
        continue;
      }
      SampleLabel label;
      FUZZ_CHECK(ParseLabel(rule.comment, &label));
      FUZZ_CHECK(label.sample_id == rule.sample_id && rule.comment == FormatLabel(rule.sample_id, label.metadata));
      FUZZ_CHECK(label.metadata.substr(0, spec.label.size()) == spec.label);
      FUZZ_CHECK(TextProblem(rule.comment).empty() && TextProblem(rule.filter).empty());
    }
  }
  return 0;
}
