#include "services/coordinator/jobs.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace vigil::coordinator {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kNsPerMs = 1'000'000;

}  // namespace

Jobs::Jobs(Post post) : post_(std::move(post)) {}

Jobs::~Jobs() { Stop(); }

void Jobs::Add(int64_t every_ns, int64_t first_ns, std::function<void()> work) {
  auto job = std::make_unique<Job>();
  job->every_ns = std::max<int64_t>(every_ns, 1);
  job->first_ns = std::max<int64_t>(first_ns, 0);
  job->work = std::move(work);
  MutexLock lock(&mu_);
  jobs_.push_back(std::move(job));
}

int64_t Jobs::Tick(int64_t now_ns) {
  // Index and work of each job due; `work` is not written after Add().
  std::vector<std::pair<size_t, const std::function<void()>*>> due;
  int64_t next = kNever;
  {
    MutexLock lock(&mu_);
    if (stopping_) return kNever;
    for (size_t i = 0; i < jobs_.size(); ++i) {
      Job& job = *jobs_[i];
      if (!job.scheduled) {
        job.scheduled = true;
        job.due_ns = now_ns + job.first_ns;
      }
      if (now_ns >= job.due_ns) {
        job.due_ns = now_ns + job.every_ns;
        if (!job.running) {
          job.running = true;
          ++running_;
          due.emplace_back(i, &job.work);
        }
      }
      next = std::min(next, job.due_ns);
    }
  }
  // Outside the lock: `post_` may run the work right here (tests).
  for (const auto& d : due) {
    post_([this, index = d.first, work = d.second] {
      (*work)();
      Finished(index);
    });
  }
  return next;
}

void Jobs::Finished(size_t index) {
  MutexLock lock(&mu_);
  jobs_[index]->running = false;
  --running_;
  cv_.SignalAll();  // under the lock: Stop() may destroy this once it sees 0
}

void Jobs::Start() {
  thread_ = std::thread([this] {
    MutexLock lock(&mu_);
    while (!stopping_) {
      lock.Unlock();
      const int64_t next = Tick(SteadyNs());
      lock.Lock();
      auto stopping = [this]() REQUIRES(mu_) { return stopping_; };
      if (next == kNever) {
        cv_.Wait(&mu_, stopping);
      } else {
        cv_.WaitUntil(&mu_, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next)),
                      stopping);
      }
    }
  });
}

void Jobs::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&mu_);
  cv_.Wait(&mu_, [this]() REQUIRES(mu_) { return running_ == 0; });
}

void AddCoordinatorJobs(const CoordinatorJobsOptions& options, const JobTargets& targets,
                        Jobs* jobs) {
  Coordinator* c = targets.coordinator;
  if (c != nullptr && options.expire_every_ms > 0) {
    const int64_t every = options.expire_every_ms * kNsPerMs;
    jobs->Add(every, every, [c] { (void)c->ExpireLeases(); });
  }
  if (c != nullptr && options.schedule_every_ms > 0) {
    jobs->Add(options.schedule_every_ms * kNsPerMs, 0, [c] {
      auto queued = c->ScheduleDue();
      if (!queued.ok()) {
        std::fprintf(stderr, "vigil coordinator: scheduler: %s\n",
                     std::string(queued.status().message()).c_str());
      } else if (!queued->empty()) {
        std::fprintf(stderr, "vigil coordinator: scheduler queued %zu due check task(s)\n",
                     queued->size());
      }
    });
  }
  if (targets.watcher != nullptr && options.watch_every_ms > 0) {
    const int64_t every = options.watch_every_ms * kNsPerMs;
    jobs->Add(every, every, [watcher = targets.watcher, deliverer = targets.deliverer] {
      auto raised = watcher->RunOnce();
      if (!raised.ok()) {
        std::fprintf(stderr, "vigil coordinator: verdict watcher: %s\n",
                     std::string(raised.status().message()).c_str());
        return;
      }
      for (const auto& a : *raised) {
        std::fprintf(stderr, "vigil coordinator: alert %s: %s %s %s %s -> %s\n", a.id().c_str(),
                     a.event().c_str(), a.tenant().empty() ? "-" : a.tenant().c_str(),
                     a.asset().c_str(), a.kind().c_str(), a.to().c_str());
      }
      if (!raised->empty() && deliverer != nullptr) deliverer->Wake();
    });
  }
  if (targets.metrics != nullptr && options.metrics_every_ms > 0) {
    const int64_t every = options.metrics_every_ms * kNsPerMs;
    // `failing` lives in the job: its runs never overlap (Jobs skips a job
    // still running), and each one starts after the previous one finished.
    jobs->Add(every, every, [metrics = targets.metrics, failing = false]() mutable {
      absl::Status s = metrics->Refresh();
      // Said once when it starts failing, once when it recovers.
      if (!s.ok() && !failing) {
        std::fprintf(stderr, "vigil coordinator: metrics refresh failed: %s\n",
                     std::string(s.message()).c_str());
      } else if (s.ok() && failing) {
        std::fprintf(stderr, "vigil coordinator: metrics refresh works again\n");
      }
      failing = !s.ok();
    });
  }
}

}  // namespace vigil::coordinator
