#include "base/progress.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "base/units.h"

namespace pcapml {

Progress::Progress(std::string what)
    : what_(std::move(what)), enabled_(isatty(2) == 1), start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { Done(); }

void Progress::Draw(uint64_t done, uint64_t total, uint64_t packets) {
  auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  if (total > 0) {
    fprintf(stderr, "\r%s: %5.1f%%  %s of %s  %" PRIu64 " packets  %.0f pkt/s   ", what_.c_str(),
            100.0 * static_cast<double>(done) / static_cast<double>(total), FormatBytes(done).c_str(),
            FormatBytes(total).c_str(), packets, static_cast<double>(packets) / secs);
  } else {
    fprintf(stderr, "\r%s: %s  %" PRIu64 " packets   ", what_.c_str(), FormatBytes(done).c_str(), packets);
  }
  drawn_ = true;
}

void Progress::Done() {
  if (drawn_) fprintf(stderr, "\r\033[K");
  drawn_ = false;
  enabled_ = false;
}

}  // namespace pcapml
