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
// runs `retry` at once if a wake that concerns it came in between.
//
// A wake names the location whose task was queued (or whose lease ended):
// only the calls of workers serving it are retried, so a burst of tasks
// queued at one hour costs about one lease attempt each, not one per held
// worker. A wake of every call (Wake()) is for what may change which
// locations a worker serves (an applied contract, a location declared for
// another site).
//
// Thread safety: all methods are thread-safe. `retry` is called without the
// waiters' lock held, on the waiters' own thread (or on the caller's, from
// Park()): it must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
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
  // Parks a call of a worker serving `locations` until a wake of one of
  // them (or of every call), `deadline` or Stop(); then runs `retry` once.
  // Runs `retry` at once if such a wake came after `generation` was read.
  // False (retry not kept, not run) once stopped: the caller answers now.
  bool Park(uint64_t generation, Deadline deadline, std::set<std::string> locations,
            std::function<void()> retry);
  // A task of `location` may be leasable: the calls serving it are retried.
  void Wake(const std::string& location);
  // Anything may be leasable: every parked call is retried.
  void Wake();
  // Retries every parked call and parks no more. Idempotent.
  void Stop();
  // Calls parked now (for tests).
  size_t parked();

 private:
  struct Waiter {
    std::set<std::string> locations;
    std::function<void()> retry;
  };
  void Loop();
  // Whether a wake after `generation` concerns a call serving `locations`.
  bool WokenSinceLocked(uint64_t generation, const std::set<std::string>& locations) REQUIRES(mu_);

  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // wakes so far
  // The generation of the last wake of every call, and of each location.
  uint64_t all_woken_at_ GUARDED_BY(mu_) = 0;
  std::map<std::string, uint64_t> woken_at_ GUARDED_BY(mu_);
  // Wakes the loop has not served yet.
  bool pending_all_ GUARDED_BY(mu_) = false;
  std::set<std::string> pending_ GUARDED_BY(mu_);
  // By deadline, then arrival.
  std::multimap<Deadline, Waiter> parked_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace vigil::coordinator
