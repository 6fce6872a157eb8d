// A read budget in bytes per second: the worker paces the reads of a check
// to the location's `ioBudget` (services/contracts/parse.h; the coordinator
// sends it with the task as rate_limit_bytes_per_s).
//
// Pure: the clock is an argument, so tests need no sleep. Not thread-safe:
// one IoBudget per reading thread (the worker keeps one per task thread).
#pragma once

#include <cstdint>

namespace vigil {

// A token bucket (GCRA): Acquire says when a read of `bytes` may proceed so
// that reads average at most `bytes_per_s`, with bursts up to one second's
// worth.
class IoBudget {
 public:
  explicit IoBudget(uint64_t bytes_per_s) : rate_(bytes_per_s) {}
  // Books `bytes` at `now_ns`; returns the time the read may start (now_ns
  // when within budget). rate 0 = unlimited.
  int64_t Acquire(uint64_t bytes, int64_t now_ns);

 private:
  uint64_t rate_;
  int64_t next_free_ns_ = 0;  // when every booked byte is paid for
};

}  // namespace vigil
