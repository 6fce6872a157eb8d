// LeaseWaiters (lease_waiters.h): a parked call is retried once, on a wake,
// at its deadline or at Stop(); a wake between the caller's attempt and its
// Park() is not lost.
#include "services/coordinator/lease_waiters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace vigil::coordinator {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A retry that fulfils a promise (once).
struct Retried {
  std::promise<Clock::time_point> promise;
  std::future<Clock::time_point> future = promise.get_future();
  std::atomic<int> calls{0};
  std::function<void()> Fn() {
    return [this] {
      if (calls.fetch_add(1) == 0) promise.set_value(Clock::now());
    };
  }
  bool Within(milliseconds d) { return future.wait_for(d) == std::future_status::ready; }
};

TEST(LeaseWaitersTest, AWakeRetriesEveryParkedCallOnce) {
  LeaseWaiters w;
  Retried a, b;
  const auto far = Clock::now() + std::chrono::hours(1);
  ASSERT_TRUE(w.Park(w.Generation(), far, a.Fn()));
  ASSERT_TRUE(w.Park(w.Generation(), far, b.Fn()));
  EXPECT_EQ(w.parked(), 2u);
  EXPECT_FALSE(a.Within(milliseconds(50)));  // nothing until the wake
  w.Wake();
  ASSERT_TRUE(a.Within(std::chrono::seconds(10)));
  ASSERT_TRUE(b.Within(std::chrono::seconds(10)));
  EXPECT_EQ(w.parked(), 0u);
  w.Wake();  // nothing parked: nothing retried again
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(a.calls.load(), 1);
  EXPECT_EQ(b.calls.load(), 1);
}

TEST(LeaseWaitersTest, AWakeBeforeParkRetriesAtOnce) {
  LeaseWaiters w;
  const uint64_t before = w.Generation();
  w.Wake();  // a task queued during the caller's attempt
  Retried a;
  ASSERT_TRUE(w.Park(before, Clock::now() + std::chrono::hours(1), a.Fn()));
  EXPECT_EQ(a.calls.load(), 1);  // run by Park itself
  EXPECT_EQ(w.parked(), 0u);
}

TEST(LeaseWaitersTest, ACallIsRetriedAtItsDeadlineInOrder) {
  LeaseWaiters w;
  Retried late, early;
  const auto t0 = Clock::now();
  ASSERT_TRUE(w.Park(w.Generation(), t0 + milliseconds(400), late.Fn()));
  ASSERT_TRUE(
      w.Park(w.Generation(), t0 + milliseconds(100), early.Fn()));  // earlier: wakes the loop
  ASSERT_TRUE(early.Within(std::chrono::seconds(10)));
  ASSERT_TRUE(late.Within(std::chrono::seconds(10)));
  const auto e = early.future.get(), l = late.future.get();
  EXPECT_GE(e, t0 + milliseconds(100));
  EXPECT_GE(l, t0 + milliseconds(400));
  EXPECT_LE(e, l);
}

TEST(LeaseWaitersTest, StopRetriesEveryParkedCallAndParksNoMore) {
  Retried a;
  {
    LeaseWaiters w;
    ASSERT_TRUE(w.Park(w.Generation(), Clock::now() + std::chrono::hours(1), a.Fn()));
    w.Stop();
    EXPECT_EQ(a.calls.load(), 1);  // by Stop itself
    Retried b;
    EXPECT_FALSE(w.Park(w.Generation(), Clock::now() + std::chrono::hours(1), b.Fn()));
    EXPECT_EQ(b.calls.load(), 0);  // the caller answers itself
    w.Stop();                      // idempotent
  }
  EXPECT_EQ(a.calls.load(), 1);
}

}  // namespace
}  // namespace vigil::coordinator
