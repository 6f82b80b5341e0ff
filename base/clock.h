// The wall clock in nanoseconds since the epoch (UTC), as packet times count.
#pragma once

#include <time.h>

#include <cstdint>

namespace pcapml {

inline int64_t WallClockNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace pcapml
