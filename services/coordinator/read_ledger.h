// The coordinator's read-budget ledger: what checks and drills spent at each
// location in the last 24 hours (bytes read, store requests), and whether a
// queued task may be leased under the location's daily read budget
// (Location.read_budget, the contract's `readBudget`; docs/remote.md
// "Cost").
//
// The spend is each DONE task's Task.store_usage, dated by its finished_ns:
// the ledger holds no state of its own on disk. It is rebuilt from the task
// records at start (Rebuild) and fed each completion (Add), so it survives a
// restart exactly as the task records do. What it does not see: attempts
// that failed (their spend is only in the worker's log) and tasks erased at
// offboarding.
//
// The rule (Decide), for a task at a location with a budget:
//   - nothing spent in the last 24 h and nothing leased there: leased, even
//     when its estimate alone passes the budget (a set larger than a day's
//     budget is read once a day, alone, rather than never);
//   - spent >= budget (bytes or requests): deferred until enough of the
//     spend is 24 h old (whatever the task's estimate);
//   - spent + the tasks leased there now + this task's estimate > budget:
//     deferred likewise. The estimate of a task is what the set's last task
//     of the same kind (inventory, integrity check, drill) spent; none known
//     = 0.
//
// Used by Coordinator::LeaseTask (the gate) and TasksWithWaiting (the
// reason shown in status). Thread safety: thread-safe (one mutex); Decide
// may be called under the lease manager's mutex (the ledger calls nothing
// back).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

class ReadLedger {
 public:
  static constexpr int64_t kWindowNs = 24LL * 3600 * 1'000'000'000;

  struct Spend {
    uint64_t bytes = 0;
    uint64_t requests = 0;
  };

  // Forgets everything and takes the spend of every DONE task with a
  // store_usage in `tasks`.
  void Rebuild(const std::vector<v1::Task>& tasks);
  // Records a DONE task's spend (at its finished_ns, at its location).
  // Idempotent per task id. A task without store_usage is ignored.
  void Add(const v1::Task& done);

  // What was spent at `location` in (now - 24 h, now].
  Spend SpentAt(const std::string& location, int64_t now_ns);
  // The spend of the set's last DONE task of `task`'s kind (the estimate of
  // `task`); zero when none is known.
  Spend EstimateOf(const v1::Task& task);

  struct Decision {
    bool admit = true;
    // When deferred: "read budget of LOC spent: X of Y bytes in the last
    // 24 h; next check after T" (T in UTC).
    std::string why{};
    int64_t next_ns = 0;  // when deferred: when it may be leased (0 = admitted)
  };
  // May `task` be leased now under `budget` at its location, with
  // `leased_here` the tasks leased there now (their estimates count as
  // spent)? See the rule above.
  Decision Decide(const v1::Task& task, const v1::ReadBudget& budget,
                  const std::vector<const v1::Task*>& leased_here, int64_t now_ns);

 private:
  struct Entry {
    int64_t at_ns = 0;
    Spend spend;
  };
  // "tenant/set/kind" of a task (kind: inventory, integrity or drill).
  static std::string EstimateKey(const v1::Task& t);
  void AddLocked(const v1::Task& done) REQUIRES(mu_);
  // Drops entries older than the window before `now_ns`.
  void PruneLocked(const std::string& location, int64_t now_ns) REQUIRES(mu_);
  // The entries of (now - 24 h, now] at `location`, oldest first.
  std::vector<Entry> WindowLocked(const std::string& location, int64_t now_ns) const REQUIRES(mu_);
  Spend EstimateLocked(const v1::Task& task) REQUIRES(mu_);

  Mutex mu_;
  // By location, then by task id (idempotent Add).
  std::map<std::string, std::map<uint64_t, Entry>> spent_ GUARDED_BY(mu_);
  // By EstimateKey: the latest finished task's (at, spend).
  std::map<std::string, Entry> last_ GUARDED_BY(mu_);
};

}  // namespace vigil::coordinator
