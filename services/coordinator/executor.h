// A small pool of threads for the coordinator's disk work, so that gRPC's
// callback threads never block on RocksDB or a lock (a reactor callback runs
// on gRPC's own threads: blocking there stalls every call).
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace vigil::coordinator {

class Executor {
 public:
  explicit Executor(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Executor() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    cv_.SignalAll();
    for (auto& t : threads_) t.join();
  }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs fn on a pool thread. Work posted after destruction started is
  // dropped (the server is shut down first, so no reactor is waiting on it).
  void Post(std::function<void()> fn) {
    {
      MutexLock lock(&mu_);
      if (stop_) return;
      queue_.push_back(std::move(fn));
    }
    cv_.Signal();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> fn;
      {
        MutexLock lock(&mu_);
        cv_.Wait(&mu_, [this]() REQUIRES(mu_) { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace vigil::coordinator
