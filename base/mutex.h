// Annotated locks: std::mutex, std::shared_mutex and std::condition_variable
// wrapped so that Clang's -Wthread-safety can follow them (the std types
// carry no annotations). The names follow absl's (Mutex, MutexLock,
// ReaderMutexLock, WriterMutexLock, CondVar::Signal/SignalAll); the
// implementation is the standard library's, so behaviour, cost and
// ThreadSanitizer's view are those of the std types (docs/development.md,
// "Thread-safety annotations", says why not absl::Mutex).
//
//   Mutex mu_;
//   CondVar cv_;
//   bool stop_ GUARDED_BY(mu_) = false;
//
//   void Stop() {
//     { MutexLock lock(&mu_); stop_ = true; }
//     cv_.SignalAll();
//   }
//   void Loop() {
//     MutexLock lock(&mu_);
//     while (!cv_.WaitFor(&mu_, std::chrono::seconds(1), [this]() REQUIRES(mu_) { return stop_; }))
//     {
//       lock.Unlock();  // work without the lock
//       ...
//       lock.Lock();
//     }
//   }
//
// A predicate given to CondVar runs with the mutex held: mark the lambda
// REQUIRES(mu_) (or the analysis reports each guarded field it reads). The
// analysis does not check that it names the mutex passed to the wait.
//
// Thread safety: these are the locks; a Mutex or CondVar is used from any
// thread, a scoped lock (MutexLock, ...) by the thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "base/thread_annotations.h"

namespace vigil {

class CondVar;

// std::mutex: exclusive, not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// std::shared_mutex: one writer (Lock) or many readers (ReaderLock).
class CAPABILITY("shared_mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  void ReaderLock() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds `mu` from construction to destruction (std::unique_lock's role):
// Unlock() and Lock() let a loop drop it around slow work (the destructor
// unlocks only if it is held).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() {
    mu_->Unlock();
    held_ = false;
  }
  void Lock() ACQUIRE() {
    mu_->Lock();
    held_ = true;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// Holds `mu` shared (std::shared_lock's role).
class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex* mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_->ReaderLock(); }
  ~ReaderMutexLock() RELEASE() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// Holds `mu` exclusively (std::lock_guard<std::shared_mutex>'s role).
class SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterMutexLock() RELEASE() { mu_->Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// std::condition_variable on a Mutex. Each wait is called with `mu` held,
// releases it while blocked and holds it again on return; the predicate
// forms are std::condition_variable's (spurious wake-ups absorbed).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Blocks until signalled (or a spurious wake-up).
  void Wait(Mutex* mu) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's
  }
  // Blocks until pred() is true.
  template <typename Predicate>
  void Wait(Mutex* mu, Predicate pred) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock, std::move(pred));
    lock.release();
  }
  // Blocks until signalled or `timeout` passed (or a spurious wake-up).
  template <typename Rep, typename Period>
  void WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout)
      REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait_for(lock, timeout);
    lock.release();
  }
  // Blocks until pred() is true or `timeout` passed; returns pred().
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout, Predicate pred)
      REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool result = cv_.wait_for(lock, timeout, std::move(pred));
    lock.release();
    return result;
  }

  // Blocks until pred() is true or the clock reached `deadline`; returns
  // pred().
  template <typename Clock, typename Duration, typename Predicate>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline,
                 Predicate pred) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool result = cv_.wait_until(lock, deadline, std::move(pred));
    lock.release();
    return result;
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace vigil
