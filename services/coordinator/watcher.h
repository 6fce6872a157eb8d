// The verdict watcher: evaluates every tenant with a contract in force (the
// same evaluation as `vigil status`, services/coordinator/evaluation.h) and
// every registered worker, keeps the current state of each subject, records
// every transition, and raises alerts into the durable outbox — all in one
// synced write per pass. It never sends anything itself (delivery.h does,
// on its own thread): a dead receiver cannot slow a check. docs/alerts.md.
//
// States of a subject (tenant, asset, commitment kind): the verdict ("pass",
// "fail", "unknown"), or "silent" when the asset's last inventory is older
// than its cadence (services/contracts/schedule.h) plus `overdue_grace_ns`
// (the check did not run), or the verdict has been "unknown" for longer
// than the commitment's cadence. Workers, per location they serve (tenant
// "", asset = location, kind "worker"): "pass", or "silent" when no worker
// serving the location made a call for worker_quiet_ns.
//
// Alerts: "fail" / "silent" when a subject enters that state, "recovery"
// when it is back to "pass" after one of those, "reminder" while it stays in
// fail or silence, at most every renotify_every_ns. One alert per
// transition: no storm.
//
// Ransomware (docs/alerts.md): each present restore point whose verdict is
// suspicious or encrypted (PointRecord.verdict) and that no operator
// accepted raises one alert, kind "ransomware", event the verdict, with the
// point, its signals and the set's last clean point (Alert.point). The
// point is remembered as a subject (tenant, backup set, RansomwareSubject)
// whose state is the verdict alerted: the next passes do not alert it again,
// unless it went from suspicious to encrypted. No transition is recorded for
// it (a point's verdict is the point's record, not a state over time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "services/coordinator/clock.h"
#include "services/coordinator/coordinator.h"
#include "storage/status.h"
#include "vigil/v1/alerts.pb.h"

namespace vigil::coordinator {

struct WatcherOptions {
  // A check not done this long after it was due (last inventory older
  // than its cadence plus this): silent. Default 1 h.
  int64_t overdue_grace_ns = 3'600'000'000'000;
  // Re-notify an ongoing fail or silence at most this often; 0 = never.
  // Default 24 h.
  int64_t renotify_every_ns = 86'400'000'000'000;
  // A location whose workers made no LeaseTask or Heartbeat call for this
  // long: silent. 0 = workers are not watched. Default 100 s (10 heartbeat periods of
  // the default 30 s lease).
  int64_t worker_quiet_ns = 100'000'000'000;
};

// What the watcher saw of one subject in one pass (input of Advance).
struct Observation {
  std::string tenant, asset, kind;
  std::string verdict;  // "pass", "fail", "unknown"
  // A due check not done past the grace (or a worker gone quiet).
  bool overdue = false;
  // The commitment's cadence (unknown for longer = silent); 0 = none.
  int64_t cadence_ns = 0;
  std::string summary;
  std::vector<v1::EvidenceItem> evidence;
};

// One step of a subject: the record to keep, and the transition and alert
// to write, if any.
struct Step {
  v1::VerdictRecord record;
  bool changed = false;  // record differs from the previous one
  bool has_transition = false;
  v1::Transition transition;
  bool has_alert = false;
  v1::Alert alert;  // id left empty: the caller assigns it
};

// The verdict-record kind remembering the ransomware alert of the point of
// time `point_ns`: "ransomware@<point_ns>" (asset = the backup set).
std::string RansomwareSubject(int64_t point_ns);

// Whether a point whose verdict is now `verdict` ("suspicious" or
// "encrypted") is alerted, given the verdict it was alerted with ("" =
// never): once per point, and again only when it turns encrypted.
bool PointAlertDue(const std::string& alerted, const std::string& verdict);

// The pure decision (unit-tested on its own): `prev` is nullptr when the
// subject was never seen.
Step Advance(const v1::VerdictRecord* prev, const Observation& obs, int64_t now_ns,
             const WatcherOptions& options);

class Watcher {
 public:
  // `c` and `clock` are not owned.
  Watcher(Coordinator* c, Clock* clock, WatcherOptions options)
      : c_(c), clock_(clock), options_(options) {}

  // One pass (see above). Returns the alerts raised (already in the outbox).
  // Thread-compatible: one pass at a time (the node's watch job never
  // overlaps itself, jobs.h; tests call it directly).
  storage::StatusOr<std::vector<v1::Alert>> RunOnce();

 private:
  Coordinator* c_;
  Clock* clock_;
  WatcherOptions options_;
};

}  // namespace vigil::coordinator
