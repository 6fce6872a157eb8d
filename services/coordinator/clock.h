// Time source of the coordinator: a seam so lease tests run on a fake clock
// instead of sleeping.
#pragma once

#include <cstdint>

#include "services/common/time.h"

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
  int64_t NowNs() override { return ::vigil::NowNs(); }
};

}  // namespace vigil::coordinator
