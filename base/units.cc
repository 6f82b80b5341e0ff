#include "base/units.h"

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace pcapml {
namespace {

struct Suffix {
  std::string_view name;
  double factor;
};

// Splits "12.5MiB" into a number and a suffix; false if no number.
bool SplitNumber(std::string_view text, double* value, std::string_view* suffix) {
  size_t i = 0;
  while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  std::string number(text.substr(0, i));
  char* end = nullptr;
  *value = strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return false;
  *suffix = text.substr(i);
  while (!suffix->empty() && suffix->front() == ' ') suffix->remove_prefix(1);
  return true;
}

bool Scale(std::string_view text, const Suffix* table, size_t n, double* out, std::string_view kind, std::string* err) {
  double value;
  std::string_view suffix;
  if (!SplitNumber(text, &value, &suffix)) {
    *err = "invalid " + std::string(kind) + " '" + std::string(text) + "'";
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    if (suffix == table[i].name) {
      *out = value * table[i].factor;
      return true;
    }
  }
  *err = "invalid " + std::string(kind) + " '" + std::string(text) + "': unknown unit '" + std::string(suffix) + "'";
  return false;
}

}  // namespace

bool ParseBytes(std::string_view text, uint64_t* bytes, std::string* err) {
  static const Suffix kUnits[] = {
      {"", 1},
      {"B", 1},
      {"k", 1e3},
      {"K", 1e3},
      {"KB", 1e3},
      {"kB", 1e3},
      {"KiB", 1024.0},
      {"M", 1e6},
      {"MB", 1e6},
      {"MiB", 1048576.0},
      {"G", 1e9},
      {"GB", 1e9},
      {"GiB", 1073741824.0},
      {"T", 1e12},
      {"TB", 1e12},
      {"TiB", 1099511627776.0},
  };
  double v;
  if (!Scale(text, kUnits, std::size(kUnits), &v, "size", err)) return false;
  if (v >= 1.8e19) {
    *err = "size '" + std::string(text) + "' is too large";
    return false;
  }
  *bytes = static_cast<uint64_t>(std::llround(v));
  return true;
}

bool ParseDuration(std::string_view text, int64_t* ns, std::string* err) {
  static const Suffix kUnits[] = {
      {"", 1e9},   {"s", 1e9},  {"sec", 1e9},  {"ns", 1},     {"us", 1e3},
      {"ms", 1e6}, {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9},
  };
  double v;
  if (!Scale(text, kUnits, std::size(kUnits), &v, "duration", err)) return false;
  if (v >= 9.2e18) {
    *err = "duration '" + std::string(text) + "' is too long";
    return false;
  }
  *ns = static_cast<int64_t>(std::llround(v));
  return true;
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    ++i;
  }
  char buf[32];
  if (i == 0)
    snprintf(buf, sizeof buf, "%" PRIu64 " B", bytes);
  else
    snprintf(buf, sizeof buf, "%.1f %s", v, kNames[i]);
  return buf;
}

std::string FormatEpochNs(int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  uint64_t mag = ns < 0 ? -static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  char buf[40];
  snprintf(buf, sizeof buf, "%s%" PRIu64 ".%09" PRIu64, sign, mag / 1000000000u, mag % 1000000000u);
  return buf;
}

std::string FormatUtcNs(int64_t ns) {
  int64_t secs = ns / 1000000000;
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%09" PRId64 "Z", frac);
  return buf;
}

bool ParseEpochBound(std::string_view text, bool upper, int64_t* ns) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  int64_t secs;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
  if (whole.empty() || ec != std::errc() || p != whole.data() + whole.size() || secs < 0 || secs > 9'000'000'000LL)
    return false;
  if (dot == std::string_view::npos) {
    *ns = secs * 1'000'000'000 + (upper ? 999'999'999 : 0);
    return true;
  }
  std::string_view frac = text.substr(dot + 1);
  if (frac.empty() || frac.size() > 9) return false;
  int64_t f = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return false;
    f = f * 10 + (c - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) f *= 10;
  *ns = secs * 1'000'000'000 + f;
  return true;
}

}  // namespace pcapml
