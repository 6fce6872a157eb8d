#include "services/common/io_budget.h"

#include <algorithm>

namespace vigil {

int64_t IoBudget::Acquire(uint64_t bytes, int64_t now_ns) {
  constexpr int64_t kSecondNs = 1'000'000'000;
  if (rate_ == 0) return now_ns;
  // GCRA: next_free_ns_ is when every booked byte will have been "paid"
  // at the budget's rate. A read may start once the bytes booked before it,
  // plus its own, exceed one second's worth by no more than the burst.
  int64_t cost = static_cast<int64_t>(static_cast<double>(bytes) / static_cast<double>(rate_) *
                                      static_cast<double>(kSecondNs));
  int64_t tat = std::max(next_free_ns_, now_ns);
  int64_t start = std::max(now_ns, tat + cost - kSecondNs);
  next_free_ns_ = tat + cost;
  return start;
}

}  // namespace vigil
