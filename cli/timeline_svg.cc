// The timeline chart as an SVG document, written by hand: a stacked step
// area per series (packets/s in each bin), shaded gaps, a UTC time axis, a
// packets/s axis, a legend and one lane per rule window.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/units.h"
#include "cli/timeline.h"

namespace pcapml {
namespace {

// Layout (user units = px).
constexpr double kWidth = 1100, kPlotLeft = 80, kPlotRight = 780, kPlotTop = 60, kPlotBottom = 380;
constexpr double kLegendX = 800, kRow = 18, kLanesTop = 440;
constexpr size_t kMaxSeries = 20;  // more labels: the smallest share one "other labels" series
constexpr size_t kMaxLanes = 40;
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#5f9ea0"};
constexpr int64_t kMs = 1'000'000, kSec = 1000 * kMs, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour;

std::string Xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 allows no control characters but tab, LF and CR.
        out += static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : c;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// At most n characters (of UTF-8 text), an ellipsis marking the cut.
std::string Fit(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return s.substr(0, cut) + "\xE2\x80\xA6";
}

// 1.5k, 20M: axis labels.
std::string Short(double v) {
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int k = 0;
  while (std::fabs(v) >= 1000 && k < 4) v /= 1000, ++k;
  char buf[32];
  snprintf(buf, sizeof buf, "%g%s", std::round(v * 100) / 100, suffix[k]);
  return buf;
}

// A round step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to max.
double NiceStep(double max, int ticks) {
  double raw = max / ticks, mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

std::string Utc(int64_t ns, const char* format) {
  time_t t = static_cast<time_t>(Timeline::FloorDiv(ns, kSec));
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// "12:00:00.250" for a time tick of the given step.
std::string TickLabel(int64_t ns, int64_t step) {
  if (step >= kDay) return Utc(ns, "%Y-%m-%d");
  if (step >= kMin) return Utc(ns, "%H:%M");
  if (step >= kSec) return Utc(ns, "%H:%M:%S");
  char ms[8];
  snprintf(ms, sizeof ms, ".%03" PRId64, Timeline::FloorDiv(ns, kMs) % 1000);
  return Utc(ns, "%H:%M:%S") + ms;
}

struct Drawn {
  std::string name, color;
  std::vector<double> rate;  // packets/s per bin
  uint64_t packets = 0;
  bool unlabeled = false, other = false;
};

// The series to draw, bottom first: labels by the caller's order, the
// smallest folded into "other labels" past kMaxSeries, unlabeled on top.
std::vector<Drawn> Layers(const Timeline::View& view, const std::vector<TimelineSeries>& series) {
  std::vector<const TimelineSeries*> labeled;
  const TimelineSeries* unlabeled = nullptr;
  for (const TimelineSeries& s : series) {
    if (s.unlabeled)
      unlabeled = &s;
    else
      labeled.push_back(&s);
  }
  std::vector<const TimelineSeries*> kept = labeled;
  if (kept.size() > kMaxSeries) {
    std::stable_sort(kept.begin(), kept.end(), [](auto* a, auto* b) { return a->packets > b->packets; });
    kept.resize(kMaxSeries - 1);
  }
  double secs = static_cast<double>(view.bin_ns) / kSec;
  auto rates = [&](const TimelineSeries& s, Drawn* d) {
    if (d->rate.empty()) d->rate.assign(view.bins, 0);
    for (size_t b = 0; b < view.bins; ++b) d->rate[b] += static_cast<double>(view.counts[s.index][b]) / secs;
    d->packets += s.packets;
  };
  std::vector<Drawn> out;
  Drawn other{"", "#a0a0a0", {}, 0, false, true};
  size_t others = 0;
  for (const TimelineSeries* s : labeled) {
    if (std::find(kept.begin(), kept.end(), s) == kept.end()) {
      rates(*s, &other), ++others;
      continue;
    }
    Drawn d{s->name, kPalette[out.size() % std::size(kPalette)], {}, 0, false, false};
    rates(*s, &d);
    out.push_back(std::move(d));
  }
  if (others) other.name = "other labels (" + std::to_string(others) + ")", out.push_back(std::move(other));
  if (unlabeled) {
    Drawn d{unlabeled->name, "url(#unlabeled)", {}, 0, true, false};
    rates(*unlabeled, &d);
    out.push_back(std::move(d));
  }
  return out;
}

class Svg {
 public:
  Svg(const Timeline::View& view, double height) : view_(view), height_(height) {}

  double X(int64_t ns) const {
    double span = static_cast<double>(view_.end_ns() - view_.start_ns);
    double f = span > 0 ? static_cast<double>(ns - view_.start_ns) / span : 0;
    return kPlotLeft + std::clamp(f, 0.0, 1.0) * (kPlotRight - kPlotLeft);
  }
  double Y(double rate) const { return kPlotBottom - (max_ > 0 ? rate / max_ : 0) * (kPlotBottom - kPlotTop); }
  void set_max(double max) { max_ = max; }
  std::string& out() { return s_; }

  void Begin() {
    s_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
          Num(kWidth) + "\" height=\"" + Num(height_) + "\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(height_) +
          "\" font-family=\"sans-serif\" font-size=\"12\">\n"
          "<defs><pattern id=\"unlabeled\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#d9d9d9\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#888\" stroke-width=\"2\"/></pattern>"
          "<pattern id=\"gap\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(-45)\"><rect width=\"8\" height=\"8\" fill=\"#fff4f4\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#f2c4c4\" stroke-width=\"1\"/></pattern></defs>\n"
          "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  }

  // A legend's 12 x 12 colour square.
  void Swatch(double x, double y, const std::string& fill, const char* extra = "") {
    s_ += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"12\" height=\"12\" fill=\"" + fill + "\"" + extra +
          "/>\n";
  }

  void Text(double x, double y, const std::string& text, const char* extra = "") {
    s_ += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"" + extra + ">" + Xml(text) + "</text>\n";
  }

  void Gaps() {
    for (const auto& g : view_.gaps) {
      double x0 = X(g.start_ns), x1 = X(g.end_ns);
      s_ += "<rect class=\"gap\" x=\"" + Num(x0) + "\" y=\"" + Num(kPlotTop) + "\" width=\"" + Num(x1 - x0) +
            "\" height=\"" + Num(kPlotBottom - kPlotTop) + "\" fill=\"url(#gap)\"><title>no packets from " +
            FormatUtcNs(g.start_ns) + " to " + FormatUtcNs(g.end_ns) + "</title></rect>\n";
    }
  }

  // One stacked step area: from `below` up by `d.rate`.
  void Layer(const Drawn& d, std::vector<double>* below) {
    std::string top, bottom;
    for (size_t b = 0; b < view_.bins; ++b) {
      double x0 = X(view_.start_ns + static_cast<int64_t>(b) * view_.bin_ns);
      double x1 = X(view_.start_ns + static_cast<int64_t>(b + 1) * view_.bin_ns);
      double lo = (*below)[b], hi = lo + d.rate[b];
      top += (b ? " L" : "M") + Num(x0) + "," + Num(Y(hi)) + " L" + Num(x1) + "," + Num(Y(hi));
      bottom = " L" + Num(x1) + "," + Num(Y(lo)) + " L" + Num(x0) + "," + Num(Y(lo)) + bottom;
      (*below)[b] = hi;
    }
    s_ += "<path class=\"series\" data-label=\"" + Xml(d.name) + "\" data-packets=\"" + std::to_string(d.packets) +
          "\" fill=\"" + d.color + "\" stroke=\"" + (d.unlabeled ? "#888" : "none") + "\" stroke-width=\"0.5\" d=\"" +
          (top.empty() ? "M0,0" : top) + bottom + (top.empty() ? "" : " Z") + "\"><title>" + Xml(d.name) + ": " +
          std::to_string(d.packets) + " packets</title></path>\n";
  }

  void YAxis() {
    double step = max_ > 0 ? NiceStep(max_, 5) : 1;
    for (double v = 0; v <= max_ + step / 1e6; v += step) {
      double y = Y(v);
      s_ += "<line x1=\"" + Num(kPlotLeft - 4) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(kPlotRight) + "\" y2=\"" +
            Num(y) + "\" stroke=\"#e6e6e6\"/>\n";
      Text(kPlotLeft - 8, y + 4, Short(v), " text-anchor=\"end\"");
    }
    Text(18, (kPlotTop + kPlotBottom) / 2, "packets/s",
         (" text-anchor=\"middle\" transform=\"rotate(-90 18 " + Num((kPlotTop + kPlotBottom) / 2) + ")\"").c_str());
  }

  void XAxis() {
    static const int64_t kSteps[] = {kMs,       2 * kMs,   5 * kMs,   10 * kMs,   20 * kMs,   50 * kMs,  100 * kMs,
                                     200 * kMs, 500 * kMs, kSec,      2 * kSec,   5 * kSec,   10 * kSec, 15 * kSec,
                                     30 * kSec, kMin,      2 * kMin,  5 * kMin,   10 * kMin,  15 * kMin, 30 * kMin,
                                     kHour,     2 * kHour, 3 * kHour, 6 * kHour,  12 * kHour, kDay,      2 * kDay,
                                     7 * kDay,  28 * kDay, 91 * kDay, 364 * kDay, 3640 * kDay};
    int64_t span = view_.end_ns() - view_.start_ns, step = kSteps[std::size(kSteps) - 1];
    for (int64_t s : kSteps)
      if (span / s <= 8) {
        step = s;
        break;
      }
    std::string last_date;
    for (int64_t t = Timeline::FloorDiv(view_.start_ns + step - 1, step) * step; t <= view_.end_ns(); t += step) {
      double x = X(t);
      s_ += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(kPlotBottom) + "\" x2=\"" + Num(x) + "\" y2=\"" +
            Num(kPlotBottom + 5) + "\" stroke=\"#333\"/>\n";
      Text(x, kPlotBottom + 18, TickLabel(t, step), " text-anchor=\"middle\"");
      std::string date = Utc(t, "%Y-%m-%d");
      if (step < kDay && date != last_date) Text(x, kPlotBottom + 32, date, " text-anchor=\"middle\" fill=\"#555\"");
      last_date = date;
    }
    s_ += "<line x1=\"" + Num(kPlotLeft) + "\" y1=\"" + Num(kPlotBottom) + "\" x2=\"" + Num(kPlotRight) + "\" y2=\"" +
          Num(kPlotBottom) + "\" stroke=\"#333\"/>\n";
    Text((kPlotLeft + kPlotRight) / 2, kPlotBottom + 50, "time (UTC)", " text-anchor=\"middle\"");
  }

 private:
  const Timeline::View& view_;
  double height_, max_ = 0;
  std::string s_;
};

}  // namespace

std::string TimelineSvg(const Timeline::View& view, const std::vector<TimelineSeries>& series,
                        const std::vector<RuleWindowSpan>& windows, const std::string& subtitle) {
  std::vector<Drawn> layers = Layers(view, series);
  std::vector<const RuleWindowSpan*> lanes;
  for (const RuleWindowSpan& w : windows)
    if (lanes.size() < kMaxLanes && (w.first_ns != INT64_MIN || w.last_ns != INT64_MAX)) lanes.push_back(&w);
  size_t always = 0;
  for (const RuleWindowSpan& w : windows) always += w.first_ns == INT64_MIN && w.last_ns == INT64_MAX;
  double lanes_bottom = windows.empty() ? kPlotBottom + 60 : kLanesTop + kRow * (lanes.size() + 2);
  double height = std::max(lanes_bottom, kPlotTop + kRow * (layers.size() + 3)) + 10;

  Svg svg(view, height);
  svg.Begin();
  svg.Text(kPlotLeft, 24, "packets/s per label", " font-size=\"16\" font-weight=\"bold\"");
  svg.Text(kPlotLeft, 44, subtitle, " fill=\"#555\"");
  std::vector<double> stacked(view.bins, 0);
  for (const Drawn& d : layers)
    for (size_t b = 0; b < view.bins; ++b) stacked[b] += d.rate[b];
  svg.set_max(stacked.empty() ? 0 : *std::max_element(stacked.begin(), stacked.end()));
  svg.YAxis();
  svg.Gaps();
  std::fill(stacked.begin(), stacked.end(), 0);
  for (const Drawn& d : layers) svg.Layer(d, &stacked);
  svg.XAxis();
  if (view.bins == 0)
    svg.Text((kPlotLeft + kPlotRight) / 2, (kPlotTop + kPlotBottom) / 2, "no packet with a timestamp",
             " text-anchor=\"middle\"");

  // Legend: top of the stack first, as the eye reads it.
  uint64_t total = 0;
  for (const Drawn& d : layers) total += d.packets;
  double y = kPlotTop;
  svg.Text(kLegendX + 232, y - 6, "packets", " text-anchor=\"end\" fill=\"#555\"");
  svg.Text(kLegendX + 290, y - 6, "share", " text-anchor=\"end\" fill=\"#555\"");
  for (auto it = layers.rbegin(); it != layers.rend(); ++it, y += kRow) {
    char share[32];
    snprintf(share, sizeof share, "%.1f%%", total ? 100.0 * static_cast<double>(it->packets) / total : 0.0);
    svg.out() += "<g class=\"legend\" data-label=\"" + Xml(it->name) + "\"><title>" + Xml(it->name) + "</title>\n";
    svg.Swatch(kLegendX, y + 2, it->color);
    svg.Text(kLegendX + 18, y + 12, Fit(it->name, 22));
    svg.Text(kLegendX + 232, y + 12, std::to_string(it->packets), " text-anchor=\"end\"");
    svg.Text(kLegendX + 290, y + 12, share, " text-anchor=\"end\"");
    svg.out() += "</g>\n";
  }
  if (!view.gaps.empty()) {
    svg.Swatch(kLegendX, y + 8, "url(#gap)", " stroke=\"#f2c4c4\"");
    svg.Text(kLegendX + 18, y + 18, "nothing captured (gap)");
  }

  // Rule windows: one lane each, in the label's color when it has a series.
  if (!windows.empty()) {
    svg.Text(kPlotLeft, kLanesTop - 6, "rule time windows (-L)", " font-weight=\"bold\"");
    double ly = kLanesTop;
    for (const RuleWindowSpan* w : lanes) {
      std::string color = "#888";
      for (const Drawn& d : layers)
        if (!d.unlabeled && !d.other && d.name == w->label) color = d.color;
      int64_t end = w->last_ns == INT64_MAX ? INT64_MAX : w->last_ns + 1;
      bool outside = view.bins == 0 || end <= view.start_ns || w->first_ns >= view.end_ns();
      std::string when = (w->first_ns == INT64_MIN ? "(open)" : FormatUtcNs(w->first_ns)) + " to " +
                         (w->last_ns == INT64_MAX ? "(open)" : FormatUtcNs(w->last_ns));
      if (!outside) {
        double x0 = svg.X(std::max(w->first_ns, view.start_ns)), x1 = svg.X(std::min(end, view.end_ns()));
        svg.out() += "<rect class=\"rule-window\" data-rule=\"" + Xml(w->id) + "\" x=\"" + Num(x0) + "\" y=\"" +
                     Num(ly + 3) + "\" width=\"" + Num(std::max(x1 - x0, 1.0)) + "\" height=\"" + Num(kRow - 6) +
                     "\" fill=\"" + color + "\" fill-opacity=\"0.7\"><title>rule " + Xml(w->id) + ": " + Xml(when) +
                     "</title></rect>\n";
      }
      // Legacy rules are called <file>:<line>: the file's name is enough here.
      std::string id = w->id.substr(w->id.rfind('/') == std::string::npos ? 0 : w->id.rfind('/') + 1);
      svg.Text(kLegendX, ly + 13, Fit(w->label + " (rule " + id + ")" + (outside ? ": outside" : ""), 44));
      ly += kRow;
    }
    std::string note;
    if (windows.size() - always > lanes.size())
      note = std::to_string(windows.size() - always - lanes.size()) + " more windows not drawn; ";
    if (always) note += std::to_string(always) + " rules without a time window apply throughout";
    if (!note.empty()) svg.Text(kPlotLeft, ly + 14, note, " fill=\"#555\"");
  }
  svg.out() += "</svg>\n";
  return std::move(svg.out());
}

}  // namespace pcapml
