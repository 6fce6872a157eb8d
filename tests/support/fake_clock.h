// The one fake clock of the tests: a coordinator::Clock that stands still
// until the test moves it, so lease expiry, scheduling, backoff and
// verdict cadences are stepped instead of slept.
//
// Used by the coordinator's unit tests (tests/services/coordinator/) and
// anything else that takes a coordinator::Clock*. Header-only.
//
// Thread safety: NowNs, Set and Advance may be called from any thread (a
// delivery thread reads the clock while the test moves it).
#pragma once

#include <atomic>
#include <cstdint>

#include "services/coordinator/clock.h"

namespace vigil::testing {

// 2026-10-01T00:00:00Z, in ns since the Unix epoch: where a FakeClock starts
// unless told otherwise.
inline constexpr int64_t kFakeClockStart = 1'790'812'800LL * 1'000'000'000LL;

class FakeClock : public coordinator::Clock {
 public:
  explicit FakeClock(int64_t start_ns = kFakeClockStart) : now_(start_ns) {}

  int64_t NowNs() override { return now_.load(); }
  // Moves the clock to `ns` (backwards too: a test may say so).
  void Set(int64_t ns) { now_.store(ns); }
  // Moves the clock forward by `ns`.
  void Advance(int64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace vigil::testing
