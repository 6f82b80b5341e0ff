// A progress line on stderr for long offline work: shown only when stderr is
// a terminal and the job has run for more than a second, redrawn at most
// every 200 ms, erased when done.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pcapml {

class Progress {
 public:
  explicit Progress(std::string what);
  ~Progress();
  // Cheap to call per packet: looks at the clock every 4096 calls.
  void Update(uint64_t done, uint64_t total, uint64_t packets) {
    if ((++calls_ & 4095) == 0 && enabled_) Draw(done, total, packets);
  }
  void Done();

 private:
  void Draw(uint64_t done, uint64_t total, uint64_t packets);

  std::string what_;
  bool enabled_;
  bool drawn_ = false;
  uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace pcapml
