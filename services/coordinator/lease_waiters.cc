#include "services/coordinator/lease_waiters.h"

#include <utility>

namespace vigil::coordinator {

LeaseWaiters::LeaseWaiters() : thread_([this] { Loop(); }) {}

LeaseWaiters::~LeaseWaiters() { Stop(); }

uint64_t LeaseWaiters::Generation() {
  MutexLock lock(&mu_);
  return generation_;
}

bool LeaseWaiters::WokenSinceLocked(uint64_t generation, const std::set<std::string>& locations) {
  if (all_woken_at_ > generation) return true;
  for (const std::string& l : locations) {
    auto it = woken_at_.find(l);
    if (it != woken_at_.end() && it->second > generation) return true;
  }
  return false;
}

bool LeaseWaiters::Park(uint64_t generation, Deadline deadline, std::set<std::string> locations,
                        std::function<void()> retry) {
  {
    MutexLock lock(&mu_);
    if (stop_) return false;
    if (!WokenSinceLocked(generation, locations)) {
      parked_.emplace(deadline, Waiter{std::move(locations), std::move(retry)});
      cv_.SignalAll();  // it may be the earliest deadline now
      return true;
    }
  }
  retry();  // a wake came after the caller's attempt
  return true;
}

void LeaseWaiters::Wake(const std::string& location) {
  {
    MutexLock lock(&mu_);
    woken_at_[location] = ++generation_;
    pending_.insert(location);
  }
  cv_.SignalAll();
}

void LeaseWaiters::Wake() {
  {
    MutexLock lock(&mu_);
    all_woken_at_ = ++generation_;
    pending_all_ = true;
  }
  cv_.SignalAll();
}

size_t LeaseWaiters::parked() {
  MutexLock lock(&mu_);
  return parked_.size();
}

void LeaseWaiters::Stop() {
  std::vector<std::function<void()>> all;
  {
    MutexLock lock(&mu_);
    stop_ = true;
    for (auto& [deadline, w] : parked_) all.push_back(std::move(w.retry));
    parked_.clear();
  }
  cv_.SignalAll();
  for (auto& retry : all) retry();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void LeaseWaiters::Loop() {
  MutexLock lock(&mu_);
  while (!stop_) {
    auto woken = [&]() REQUIRES(mu_) { return stop_ || pending_all_ || !pending_.empty(); };
    if (parked_.empty()) {
      cv_.Wait(&mu_, [&]() REQUIRES(mu_) { return woken() || !parked_.empty(); });
    } else {
      const Deadline first = parked_.begin()->first;
      cv_.WaitUntil(&mu_, first, [&]() REQUIRES(mu_) {
        return woken() || parked_.empty() || parked_.begin()->first < first;
      });
    }
    if (stop_) break;
    std::vector<std::function<void()>> due;
    if (pending_all_ || !pending_.empty()) {
      // The calls a wake concerns: every one, or those serving a location
      // woken.
      auto concerned = [&](const Waiter& w) REQUIRES(mu_) {
        if (pending_all_) return true;
        for (const std::string& l : w.locations) {
          if (pending_.count(l) != 0) return true;
        }
        return false;
      };
      for (auto it = parked_.begin(); it != parked_.end();) {
        if (concerned(it->second)) {
          due.push_back(std::move(it->second.retry));
          it = parked_.erase(it);
        } else {
          ++it;
        }
      }
      pending_all_ = false;
      pending_.clear();
    }
    const auto now = std::chrono::steady_clock::now();
    auto end = parked_.upper_bound(now);
    for (auto it = parked_.begin(); it != end; ++it) due.push_back(std::move(it->second.retry));
    parked_.erase(parked_.begin(), end);
    lock.Unlock();
    for (auto& retry : due) retry();
    lock.Lock();
  }
}

}  // namespace vigil::coordinator
