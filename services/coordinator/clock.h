// Time source of the coordinator: a seam so lease tests run on a fake clock
// instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace vigil::coordinator {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, ns since the Unix epoch. Lease expiries are persisted
  // in this unit, so they survive a restart.
  virtual int64_t NowNs() = 0;
};

class RealClock : public Clock {
 public:
  int64_t NowNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace vigil::coordinator
