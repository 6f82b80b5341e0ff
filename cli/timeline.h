// Packets per label over time, for `pcapml summary --timeline`: counted in
// bins that widen as the capture's span grows (1 ms at first, then 10 ms,
// 100 ms, 1 s, 10 s, 1 min, ...; at most kMaxBins of them held, so memory is
// bounded whatever the span and the input order), then drawn as a stacked SVG chart (no plotting dependency) and
// given to scripts as JSON.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace pcapml {

class Timeline {
 public:
  static constexpr size_t kMaxBins = 8192;

  // Counts one packet of `series` (an index the caller gives each label).
  void Add(int64_t ts_ns, uint32_t series) {
    int64_t index = FloorDiv(ts_ns, bin_ns());
    if (current_ == nullptr || index != current_index_) Switch(ts_ns);
    if (series >= current_->size()) current_->resize(series + 1);
    ++(*current_)[series];
  }

  // The counts in bins of one width, from the first bin with a packet to the
  // last, with the gaps: runs of empty bins in which, at the average rate of
  // the whole span, at least 10 packets would have come (not a lull of chance).
  struct View {
    int64_t start_ns = 0, bin_ns = 0;
    size_t bins = 0;
    std::vector<std::vector<uint64_t>> counts;  // [series][bin]
    struct Gap {
      int64_t start_ns, end_ns;  // [start, end)
    };
    std::vector<Gap> gaps;
    int64_t end_ns() const { return start_ns + static_cast<int64_t>(bins) * bin_ns; }
  };
  // The narrowest round bins (1, 2, 5, 10 ... ms, 1, 2, 5, 10, 15, 30 s, min,
  // 1, 2, 3, 6, 12 h, days) that need at most max_bins.
  View Render(size_t series, size_t max_bins) const;

  // "10 ms", "1 min", "6 h", "7 d": a bin width for people.
  static std::string WidthName(int64_t ns);
  static int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

 private:
  int64_t bin_ns() const;
  void Switch(int64_t ts_ns);
  void Coarsen();

  size_t width_ = 0;                               // index into the widths
  std::map<int64_t, std::vector<uint64_t>> bins_;  // bin index -> packets per series
  int64_t current_index_ = 0;
  std::vector<uint64_t>* current_ = nullptr;
};

// What the chart and the JSON say about one label.
struct TimelineSeries {
  std::string name;
  uint32_t index = 0;  // into View::counts
  uint64_t packets = 0;
  bool unlabeled = false;  // drawn hatched grey, on top
};

// A rule's time window (from -L), drawn as a bar under the chart.
struct RuleWindowSpan {
  std::string id, label;
  int64_t first_ns = std::numeric_limits<int64_t>::min();  // inclusive; min: open
  int64_t last_ns = std::numeric_limits<int64_t>::max();   // inclusive; max: open
};

// The SVG document: stacked packets/s per series (in the given order, the
// unlabeled one on top), gaps shaded, UTC time axis, a legend with each
// series' packets and share, and one lane per rule window.
std::string TimelineSvg(const Timeline::View& view, const std::vector<TimelineSeries>& series,
                        const std::vector<RuleWindowSpan>& windows, const std::string& subtitle);

// The same numbers as a JSON object: start, bin width, packets per bin per
// series, gaps and rule windows.
std::string TimelineJson(const Timeline::View& view, const std::vector<TimelineSeries>& series,
                         const std::vector<RuleWindowSpan>& windows);

}  // namespace pcapml
