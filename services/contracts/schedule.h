// Scheduling of checks from a contract's commitments: what is due, when it
// may start, how much it may read (the worker paces reads to the location's
// budget with services/common/io_budget.h). Pure (the clock is an argument), so tests
// simulate months in milliseconds; the coordinator calls it periodically.
//
// Cadences (docs/contracts.md):
//   inventory   every min(RPO / 2, 24 h) (24 h with no RPO): a missed backup
//               is noticed within half the RPO;
//   integrity   every min(reverify_within / 4, 24 h) with a byte budget or a
//               sample (rotating slices, each run under its budget), else a
//               full pass every reverify_within / 2;
//   drill       every `every` minus a tenth, so it lands inside the cadence.
// Each due time gets a deterministic jitter (hash of tenant, set, kind) so
// that a thousand tenants do not all start at midnight, and is pushed past
// the location's maintenance windows (its own backups run then).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/contracts/model.h"

namespace vigil::contracts {

enum class CheckKind { kInventory, kIntegrity, kRestoreDrill };
const char* CheckKindName(CheckKind k);  // "inventory" | "integrity" | "drill"

// When each (backup set, kind) last ran to completion (ns; absent = never).
using CheckHistory = std::map<std::pair<std::string, CheckKind>, int64_t>;

struct DueCheck {
  std::string tenant, asset, backup_set, location;
  CheckKind kind = CheckKind::kInventory;
  int64_t due_ns = 0;    // cadence from the last run, jitter included
  int64_t start_ns = 0;  // earliest start: max(due, now) past maintenance
  bool overdue = false;  // due_ns <= now
  // Integrity: bytes this run may read (0 = all); a sample size.
  uint64_t byte_budget = 0;
  uint32_t sample = 0;
  // The location's read budget, bytes/s (0 = none).
  uint64_t rate_limit_bytes_per_s = 0;
};

struct ScheduleOptions {
  int64_t max_jitter_ns = 10 * kMinuteNs;
  // Only checks whose start_ns is before now + horizon are returned.
  int64_t horizon_ns = 7 * kDayNs;
};

// Checks of `contract` due before now + horizon, most overdue first, then
// by start time.
std::vector<DueCheck> PlanChecks(const Tenant& tenant, const Contract& contract,
                                 const std::map<std::string, Location>& locations,
                                 const CheckHistory& history, int64_t now_ns,
                                 const ScheduleOptions& options = {});

// The cadence of `kind` for an asset under `commitments` (0 = not needed).
int64_t Cadence(CheckKind kind, const std::vector<const Commitment*>& commitments);

// True when `t` falls in one of the location's maintenance windows.
bool InMaintenance(const Location& loc, int64_t t);
// `t` itself if the location is readable then, else the end of the window
// (windows that touch or overlap are crossed in one go).
int64_t NextReadable(const Location& loc, int64_t t);

// Whether a location's daily read budget (`readBudget.bytesPerDay`) lets a
// backup set of `set_bytes` (the bytes of its present restore points at its
// last check; nullopt = unknown, never checked) be re-read in full within
// `reverify_within_ns` (its integrity commitment). Each set is judged alone
// against the whole budget (sets sharing the location share it: this is the
// best case). Requests are not judged (a full pass's requests are not
// known before it runs).
struct ReadBudgetCoverage {
  bool applies = false;     // the location has bytesPerDay and the set an integrity period
  bool size_known = false;  // set_bytes given
  bool reachable = true;    // a full pass fits the budget within the period
  uint64_t needed_per_day = 0;
  int64_t full_pass_ns = 0;  // a full pass at the budget (ceil to days)
  // When it does not apply: empty. Unknown size: "size unknown until its
  // first check". Unreachable: "reverifyWithin 30d needs 100.0 GiB/day over
  // 2.9 TiB; readBudget allows 20.0 GiB/day: full pass in 154 d". Reachable:
  // empty.
  std::string text{};
};
ReadBudgetCoverage JudgeReadBudget(const Location& loc, std::optional<uint64_t> set_bytes,
                                   int64_t reverify_within_ns);

}  // namespace vigil::contracts
