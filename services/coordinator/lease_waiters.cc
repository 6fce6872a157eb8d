#include "services/coordinator/lease_waiters.h"

#include <utility>

namespace vigil::coordinator {

LeaseWaiters::LeaseWaiters() : thread_([this] { Loop(); }) {}

LeaseWaiters::~LeaseWaiters() { Stop(); }

uint64_t LeaseWaiters::Generation() {
  MutexLock lock(&mu_);
  return generation_;
}

bool LeaseWaiters::Park(uint64_t generation, Deadline deadline, std::function<void()> retry) {
  {
    MutexLock lock(&mu_);
    if (stop_) return false;
    if (generation_ == generation) {
      parked_.emplace(deadline, std::move(retry));
      cv_.SignalAll();  // it may be the earliest deadline now
      return true;
    }
  }
  retry();  // a wake came after the caller's attempt
  return true;
}

void LeaseWaiters::Wake() {
  {
    MutexLock lock(&mu_);
    ++generation_;
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
    for (auto& [deadline, retry] : parked_) all.push_back(std::move(retry));
    parked_.clear();
  }
  cv_.SignalAll();
  for (auto& retry : all) retry();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void LeaseWaiters::Loop() {
  MutexLock lock(&mu_);
  uint64_t seen = generation_;
  while (!stop_) {
    auto woken = [&]() REQUIRES(mu_) { return stop_ || generation_ != seen; };
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
    if (generation_ != seen) {
      seen = generation_;
      for (auto& [deadline, retry] : parked_) due.push_back(std::move(retry));
      parked_.clear();
    } else {
      const auto now = std::chrono::steady_clock::now();
      auto end = parked_.upper_bound(now);
      for (auto it = parked_.begin(); it != end; ++it) due.push_back(std::move(it->second));
      parked_.erase(parked_.begin(), end);
    }
    lock.Unlock();
    for (auto& retry : due) retry();
    lock.Lock();
  }
}

}  // namespace vigil::coordinator
