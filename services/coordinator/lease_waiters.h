// LeaseTask calls held while there is nothing to lease (long poll; see
// LeaseTaskRequest.wait_ms in worker.proto).
//
// An idle worker used to ask for a task every 200 ms: a task queued just
// after an answer waited for the next question (100 ms on average, added to
// every check), and each idle worker cost the coordinator five LeaseTask
// calls a second. Now a call that finds nothing is parked here with its
// deadline and a `retry` function; it is run again (by calling `retry`,
// which posts the lease attempt to the executor) when a task is queued
// (Wake), at its deadline, or when the waiters stop (server shutdown). The
// attempt then answers, or parks again until its deadline.
//
// A wake between a call's attempt and its Park() is not lost: the caller
// reads Generation() before its attempt and passes it to Park(), which
// runs `retry` at once if a wake came in between.
//
// Every parked call is retried on a wake (they are not sorted by location:
// a retry costs one lease attempt, far less than the polling it replaces).
//
// Thread safety: all methods are thread-safe. `retry` is called without the
// waiters' lock held, on the waiters' own thread (or on the caller's, from
// Park()): it must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace vigil::coordinator {

class LeaseWaiters {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  LeaseWaiters();
  ~LeaseWaiters();  // Stop()
  LeaseWaiters(const LeaseWaiters&) = delete;
  LeaseWaiters& operator=(const LeaseWaiters&) = delete;

  // Counts wakes; read before a lease attempt, passed to Park().
  uint64_t Generation();
  // Parks a call until a wake, `deadline` or Stop(); then runs `retry` once.
  // Runs `retry` at once if a wake came after `generation` was read. False
  // (retry not kept, not run) once stopped: the caller answers now.
  bool Park(uint64_t generation, Deadline deadline, std::function<void()> retry);
  // A task may be leasable: every parked call is retried.
  void Wake();
  // Retries every parked call and parks no more. Idempotent.
  void Stop();
  // Calls parked now (for tests).
  size_t parked();

 private:
  void Loop();

  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  // By deadline, then arrival.
  std::multimap<Deadline, std::function<void()>> parked_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace vigil::coordinator
