#include "cli/timeline.h"

#include <algorithm>

#include "base/json.h"
#include "base/units.h"

namespace pcapml {
namespace {

constexpr int64_t kMs = 1'000'000, kSec = 1000 * kMs, kDay = 86400 * kSec;
// Each width is a multiple of the one before, so bins coarsen exactly.
constexpr int64_t kWidths[] = {kMs,        10 * kMs,    100 * kMs,       kSec, 10 * kSec, 60 * kSec,
                               600 * kSec, 3600 * kSec, 6 * 3600 * kSec, kDay, 7 * kDay,  70 * kDay,
                               700 * kDay, 7000 * kDay, 70000 * kDay};
constexpr size_t kWidthCount = std::size(kWidths);
constexpr int64_t kMin = 60 * kSec, kHour = 60 * kMin;
// Widths a chart may use: round ones, and the stored ones so one always fits.
constexpr int64_t kDrawWidths[] = {
    kMs,       2 * kMs,   5 * kMs,   10 * kMs,  20 * kMs,  50 * kMs,   100 * kMs,  200 * kMs,   500 * kMs,
    kSec,      2 * kSec,  5 * kSec,  10 * kSec, 15 * kSec, 30 * kSec,  kMin,       2 * kMin,    5 * kMin,
    10 * kMin, 15 * kMin, 30 * kMin, kHour,     2 * kHour, 3 * kHour,  6 * kHour,  12 * kHour,  kDay,
    2 * kDay,  7 * kDay,  14 * kDay, 28 * kDay, 70 * kDay, 364 * kDay, 700 * kDay, 7000 * kDay, 70000 * kDay};
// A run of empty bins is a gap in the capture when, at the capture's average
// rate, this many packets would have come in it: not a lull of chance.
constexpr double kGapPackets = 10;

std::string Window(int64_t v, bool open) { return open ? "null" : std::to_string(v); }

}  // namespace

std::string Timeline::WidthName(int64_t ns) {
  struct Unit {
    int64_t ns;
    const char* name;
  };
  static const Unit kUnits[] = {{kDay, "d"}, {3600 * kSec, "h"}, {60 * kSec, "min"}, {kSec, "s"}, {kMs, "ms"}};
  for (const Unit& u : kUnits)
    if (ns >= u.ns && ns % u.ns == 0) return std::to_string(ns / u.ns) + " " + u.name;
  return std::to_string(ns) + " ns";
}

int64_t Timeline::bin_ns() const { return kWidths[width_]; }

void Timeline::Switch(int64_t ts_ns) {
  auto it = bins_.try_emplace(FloorDiv(ts_ns, bin_ns())).first;
  if (bins_.size() > kMaxBins && width_ + 1 < kWidthCount) {
    Coarsen();
    it = bins_.try_emplace(FloorDiv(ts_ns, bin_ns())).first;
  }
  current_index_ = it->first;
  current_ = &it->second;
}

// Widens the bins until at most kMaxBins / 2 remain (room to grow again).
void Timeline::Coarsen() {
  while (bins_.size() > kMaxBins / 2 && width_ + 1 < kWidthCount) {
    int64_t factor = kWidths[width_ + 1] / kWidths[width_];
    ++width_;
    std::map<int64_t, std::vector<uint64_t>> wider;
    for (auto& [index, counts] : bins_) {
      std::vector<uint64_t>& to = wider[FloorDiv(index, factor)];
      if (to.size() < counts.size()) to.resize(counts.size());
      for (size_t s = 0; s < counts.size(); ++s) to[s] += counts[s];
    }
    bins_ = std::move(wider);
  }
  current_ = nullptr;
}

Timeline::View Timeline::Render(size_t series, size_t max_bins) const {
  View v;
  v.counts.assign(series, {});
  if (bins_.empty()) return v;
  int64_t first = bins_.begin()->first * bin_ns(), last = (bins_.rbegin()->first + 1) * bin_ns() - 1;
  auto span = [&](int64_t w) { return FloorDiv(last, w) - FloorDiv(first, w) + 1; };
  v.bin_ns = kWidths[kWidthCount - 1];
  for (int64_t w : kDrawWidths) {
    if (w % bin_ns() == 0 && span(w) <= static_cast<int64_t>(std::max<size_t>(max_bins, 1))) {
      v.bin_ns = w;
      break;
    }
  }
  v.start_ns = FloorDiv(first, v.bin_ns) * v.bin_ns;
  v.bins = static_cast<size_t>(span(v.bin_ns));
  for (auto& c : v.counts) c.assign(v.bins, 0);
  std::vector<bool> empty(v.bins, true);
  uint64_t packets = 0;
  for (const auto& [index, counts] : bins_) {
    size_t b = static_cast<size_t>(FloorDiv(index * bin_ns() - v.start_ns, v.bin_ns));
    for (size_t s = 0; s < counts.size() && s < series; ++s) v.counts[s][b] += counts[s], packets += counts[s];
    empty[b] = false;
  }
  double per_bin = static_cast<double>(packets) / static_cast<double>(v.bins);
  for (size_t b = 0; b < v.bins;) {
    size_t e = b;
    while (e < v.bins && empty[e]) ++e;
    auto at = [&](size_t bin) { return v.start_ns + static_cast<int64_t>(bin) * v.bin_ns; };
    if (e > b && static_cast<double>(e - b) * per_bin >= kGapPackets) v.gaps.push_back({at(b), at(e)});
    b = e > b ? e : b + 1;
  }
  return v;
}

std::string TimelineJson(const Timeline::View& view, const std::vector<TimelineSeries>& series,
                         const std::vector<RuleWindowSpan>& windows) {
  std::string j = "{\"start_ns\": " + std::to_string(view.start_ns) +
                  ", \"start\": " + JsonString(view.bins ? FormatUtcNs(view.start_ns) : "") +
                  ", \"bin_ns\": " + std::to_string(view.bin_ns) + ", \"bins\": " + std::to_string(view.bins) +
                  ",\n  \"series\": {";
  for (size_t i = 0; i < series.size(); ++i) {
    j += (i ? ",\n    " : "\n    ") + JsonString(series[i].name) + ": [";
    const std::vector<uint64_t>& c = view.counts[series[i].index];
    for (size_t b = 0; b < c.size(); ++b) j += (b ? ", " : "") + std::to_string(c[b]);
    j += "]";
  }
  j += "},\n  \"gaps\": [";
  for (size_t i = 0; i < view.gaps.size(); ++i)
    j += (i ? ", " : "") + std::string("{\"start_ns\": ") + std::to_string(view.gaps[i].start_ns) +
         ", \"end_ns\": " + std::to_string(view.gaps[i].end_ns) + "}";
  j += "],\n  \"rules\": [";
  for (size_t i = 0; i < windows.size(); ++i) {
    const RuleWindowSpan& w = windows[i];
    j += (i ? ",\n    " : "\n    ") + std::string("{\"id\": ") + JsonString(w.id) +
         ", \"label\": " + JsonString(w.label) + ", \"first_ns\": " + Window(w.first_ns, w.first_ns == INT64_MIN) +
         ", \"last_ns\": " + Window(w.last_ns, w.last_ns == INT64_MAX) + "}";
  }
  return j + "]}";
}

}  // namespace pcapml
