// The coordinator's periodic jobs, and the small runner that drives them.
//
// Jobs runs work at fixed periods. Tick(now) hands every job that is due to
// the `post` function (the node's executor: the jobs read and write the
// database, so they never run on gRPC's threads). A job whose previous run
// has not finished yet is skipped, not queued behind it (a slow watcher pass
// is never stacked), and its next run is one period later. In production
// Start() runs a thread calling Tick with the monotonic clock; a test calls
// Tick itself with made-up times, with no thread and no sleep.
//
// AddCoordinatorJobs() registers what a coordinator runs periodically:
// lease expiry, the scheduler, the verdict watcher and the metrics refresh,
// with the lines they log on stderr. Alert delivery is not one of them: it
// keeps its own thread (delivery.h), which the watcher wakes.
//
// Thread safety: thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/delivery.h"
#include "services/coordinator/metrics.h"
#include "services/coordinator/watcher.h"

namespace vigil::coordinator {

class Jobs {
 public:
  // Tick's answer when no job will ever be due.
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  // Runs a due job's work, now or later, on some thread. It must run
  // everything it is given, also during Stop() (which waits for it).
  using Post = std::function<void(std::function<void()>)>;

  explicit Jobs(Post post);
  ~Jobs();  // Stop()
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Adds a job: `work` runs every `every_ns` (> 0), the first time
  // `first_ns` after the first Tick that sees the job (0 = at that Tick).
  // REQUIRES: before Start().
  void Add(int64_t every_ns, int64_t first_ns, std::function<void()> work) EXCLUDES(mu_);

  // Posts every job due at `now_ns` (any monotonic time, ns) whose previous
  // run has finished; a due job still running is skipped. Returns when the
  // next job is due (kNever if none, or once stopping).
  int64_t Tick(int64_t now_ns) EXCLUDES(mu_);

  // A thread calling Tick with std::chrono::steady_clock, sleeping until
  // the next job is due.
  void Start() EXCLUDES(mu_);
  // Stops the thread, then waits for every posted run to finish; Tick posts
  // nothing from then on. Idempotent; not to be called from a job.
  void Stop() EXCLUDES(mu_);

 private:
  // A job's schedule is reached only through jobs_, hence under mu_ (a run
  // ends with Finished(its index), not with a pointer to its Job). `work` is
  // set by Add() and only read afterwards, also outside mu_.
  struct Job {
    int64_t every_ns = 0;
    int64_t first_ns = 0;
    std::function<void()> work;
    bool scheduled = false;  // due_ns set by a Tick
    int64_t due_ns = 0;
    bool running = false;
  };
  // The run of jobs_[index] ended.
  void Finished(size_t index) EXCLUDES(mu_);

  const Post post_;
  std::thread thread_;
  Mutex mu_;
  CondVar cv_;  // stopping_ set, or a run finished
  std::vector<std::unique_ptr<Job>> jobs_ GUARDED_BY(mu_);
  int running_ GUARDED_BY(mu_) = 0;  // runs posted, not finished
  bool stopping_ GUARDED_BY(mu_) = false;
};

// Periods of the coordinator's jobs, ms. 0 = the job does not run.
struct CoordinatorJobsOptions {
  // Lease expiry (Coordinator::ExpireLeases). Leases also expire lazily on
  // every worker call; this makes an expired task leasable even when the
  // only live worker is idle-polling.
  int64_t expire_every_ms = 250;
  // The scheduler (Coordinator::ScheduleDue); its first pass is at once.
  int64_t schedule_every_ms = 0;
  // The verdict watcher (Watcher::RunOnce).
  int64_t watch_every_ms = 0;
  // The metrics refresh (CoordinatorMetrics::Refresh). The first refresh
  // is the caller's (the node refreshes once before serving HTTP).
  int64_t metrics_every_ms = 0;
};

// What the coordinator's jobs act on; not owned, and they must outlive the
// jobs' runs. A null pointer turns its job off.
struct JobTargets {
  Coordinator* coordinator = nullptr;  // expiry and scheduling
  Watcher* watcher = nullptr;
  Deliverer* deliverer = nullptr;  // woken when the watcher raised alerts
  CoordinatorMetrics* metrics = nullptr;
};

// Adds the coordinator's jobs to `jobs`. They log on stderr (prefix "vigil
// coordinator: "): the scheduler's errors and what it queued; the watcher's
// errors and each alert it raised; the metrics refresh once when it starts
// failing and once when it works again.
void AddCoordinatorJobs(const CoordinatorJobsOptions& options, const JobTargets& targets,
                        Jobs* jobs);

}  // namespace vigil::coordinator
