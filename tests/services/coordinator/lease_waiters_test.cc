// LeaseWaiters (lease_waiters.h): a parked call is retried once, on a wake
// of a location it serves (or of every call), at its deadline or at Stop();
// a wake between the caller's attempt and its Park() is not lost.
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
  ASSERT_TRUE(w.Park(w.Generation(), far, {"loc"}, a.Fn()));
  ASSERT_TRUE(w.Park(w.Generation(), far, {"loc"}, b.Fn()));
  EXPECT_EQ(w.parked(), 2u);
  EXPECT_FALSE(a.Within(milliseconds(50)));  // nothing until the wake
  w.Wake("loc");
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
  w.Wake("loc");  // a task queued during the caller's attempt
  Retried a;
  ASSERT_TRUE(w.Park(before, Clock::now() + std::chrono::hours(1), {"loc"}, a.Fn()));
  EXPECT_EQ(a.calls.load(), 1);  // run by Park itself
  EXPECT_EQ(w.parked(), 0u);
}

// A task queued at one location retries the calls of the workers serving
// it, not every held call: a burst of tasks at one hour costs a lease
// attempt per task, not one per held worker.
TEST(LeaseWaitersTest, AWakeOfALocationRetriesOnlyTheCallsServingIt) {
  Retried paris, lyon, both;  // outlive the waiters
  LeaseWaiters w;
  const auto far = Clock::now() + std::chrono::hours(1);
  ASSERT_TRUE(w.Park(w.Generation(), far, {"nas-paris"}, paris.Fn()));
  ASSERT_TRUE(w.Park(w.Generation(), far, {"nas-lyon"}, lyon.Fn()));
  ASSERT_TRUE(w.Park(w.Generation(), far, {"nas-lyon", "nas-paris"}, both.Fn()));
  w.Wake("nas-paris");
  ASSERT_TRUE(paris.Within(std::chrono::seconds(10)));
  ASSERT_TRUE(both.Within(std::chrono::seconds(10)));
  EXPECT_FALSE(lyon.Within(milliseconds(100))) << "Lyon's worker serves no Paris task";
  EXPECT_EQ(w.parked(), 1u);
  w.Wake("nas-marseille");  // served by nobody held
  EXPECT_FALSE(lyon.Within(milliseconds(100)));
  w.Wake();  // an applied change: every call
  ASSERT_TRUE(lyon.Within(std::chrono::seconds(10)));
  EXPECT_EQ(w.parked(), 0u);
  EXPECT_EQ(paris.calls.load() + lyon.calls.load() + both.calls.load(), 3);
}

TEST(LeaseWaitersTest, AWakeBeforeParkRetriesAtOnceOnlyIfItConcernsTheCall) {
  Retried paris, lyon, any;  // outlive the waiters (Stop retries what is parked)
  LeaseWaiters w;
  const uint64_t before = w.Generation();
  w.Wake("nas-lyon");
  ASSERT_TRUE(w.Park(before, Clock::now() + std::chrono::hours(1), {"nas-paris"}, paris.Fn()));
  EXPECT_EQ(paris.calls.load(), 0) << "a Lyon task is no reason to ask again";
  ASSERT_TRUE(w.Park(before, Clock::now() + std::chrono::hours(1), {"nas-lyon"}, lyon.Fn()));
  EXPECT_EQ(lyon.calls.load(), 1);  // run by Park itself
  EXPECT_EQ(w.parked(), 1u);
  const uint64_t later = w.Generation();
  w.Wake();
  ASSERT_TRUE(w.Park(later, Clock::now() + std::chrono::hours(1), {"nas-nice"}, any.Fn()));
  EXPECT_EQ(any.calls.load(), 1) << "a wake of every call concerns every call";
}

TEST(LeaseWaitersTest, ACallIsRetriedAtItsDeadlineInOrder) {
  LeaseWaiters w;
  Retried late, early;
  const auto t0 = Clock::now();
  ASSERT_TRUE(w.Park(w.Generation(), t0 + milliseconds(400), {"loc"}, late.Fn()));
  ASSERT_TRUE(w.Park(w.Generation(), t0 + milliseconds(100), {"loc"},
                     early.Fn()));  // earlier: wakes the loop
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
    ASSERT_TRUE(w.Park(w.Generation(), Clock::now() + std::chrono::hours(1), {"loc"}, a.Fn()));
    w.Stop();
    EXPECT_EQ(a.calls.load(), 1);  // by Stop itself
    Retried b;
    EXPECT_FALSE(w.Park(w.Generation(), Clock::now() + std::chrono::hours(1), {"loc"}, b.Fn()));
    EXPECT_EQ(b.calls.load(), 0);  // the caller answers itself
    w.Stop();                      // idempotent
  }
  EXPECT_EQ(a.calls.load(), 1);
}

}  // namespace
}  // namespace vigil::coordinator
