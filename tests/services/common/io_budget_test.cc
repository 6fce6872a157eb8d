// Unit tests of services/common/io_budget.h (moved from the contracts'
// scheduling tests with the class).
#include "services/common/io_budget.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

TEST(IoBudgetTest, SpacesReads) {
  IoBudget b(100 << 20);  // 100 MiB/s, bursts of one second's worth
  int64_t t0 = 1000 * kSecondNs;
  EXPECT_EQ(b.Acquire(50 << 20, t0), t0);  // within the first second's burst
  EXPECT_EQ(b.Acquire(50 << 20, t0), t0);
  // The burst is spent: the next 100 MiB wait one second.
  EXPECT_EQ(b.Acquire(100 << 20, t0), t0 + kSecondNs);
  // 100 more reads of 10 MiB booked at once: 1,200 MiB in all is 12 s of
  // budget; less the 1 s burst, the last one starts at 11 s.
  int64_t last = 0;
  for (int i = 0; i < 100; ++i) last = b.Acquire(10 << 20, t0);
  EXPECT_NEAR(static_cast<double>(last - t0) / kSecondNs, 11.0, 1e-6);
  // Idle time refills the bucket: 20 s later a 1-second read starts at once.
  EXPECT_EQ(b.Acquire(100 << 20, t0 + 20 * kSecondNs), t0 + 20 * kSecondNs);
  IoBudget unlimited(0);
  EXPECT_EQ(unlimited.Acquire(1ull << 40, t0), t0);
}

}  // namespace
}  // namespace vigil
