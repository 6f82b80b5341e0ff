// The label on the wire (docs/format.md: The label): "<sampleID>,<metadata>" in a packet's
// opt_comment, plus the comment forms older pcapml versions wrote.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pcapml {

// A packet's label as read back from its comment.
struct SampleLabel {
  uint64_t sample_id = 0;
  std::string_view metadata;  // everything after the sampleID's comma
  std::string_view name;      // the label: the first field of the metadata
};

// Parses a comment; false if it is not a pcapml label (e.g. empty, or a
// free-text comment from another tool). Views point into `comment`.
bool ParseLabel(std::string_view comment, SampleLabel* out);

// Labels of packets read in order: consecutive packets usually carry the same
// comment (a sample's packets come together), so each run of equal comments
// is parsed once, not per packet.
class LabelRuns {
 public:
  LabelRuns() = default;
  LabelRuns(const LabelRuns&) = delete;  // label() points into comment_
  LabelRuns& operator=(const LabelRuns&) = delete;

  // True when `comment` starts a new run (always for the first packet): then
  // labeled() and label() describe it.
  bool Next(std::string_view comment) {
    if (!first_ && comment == comment_) return false;
    first_ = false;
    comment_.assign(comment);
    labeled_ = ParseLabel(comment_, &label_);
    return true;
  }
  bool labeled() const { return labeled_; }
  // Views into a copy of the comment, valid until the next run starts.
  const SampleLabel& label() const { return label_; }

 private:
  std::string comment_;
  SampleLabel label_;
  bool first_ = true, labeled_ = false;
};

// Formats "<sampleID>,<metadata>".
std::string FormatLabel(uint64_t sample_id, std::string_view metadata);

// Makes a label safe as part of a file name: keeps [A-Za-z0-9._-], maps
// everything else to '_', never empty, at most 100 bytes.
std::string FileSafe(std::string_view label);

}  // namespace pcapml
