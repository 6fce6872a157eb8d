// Commitment evaluation: from what Vigil measured of a tenant's backup sets
// (the facts below) and the contract in force, a verdict per asset and
// commitment over a period, each with its evidence, and the restore
// readiness of every asset.
//
// Pure: no I/O, no clock. The coordinator gathers the facts from its
// catalogue and results; tests build them by hand or by simulation. The
// same facts and the same instant always give the same evaluation.
//
// Verdicts (docs/contracts.md):
//   pass     the commitment held over the whole evaluated interval;
//   fail     it was broken at some instant of the interval (the evidence
//            says when and by how much);
//   unknown  Vigil could not tell: never checked, or not checked since the
//            deadline passed. Unknown is not pass: it is alerted when it
//            lasts past the commitment's cadence.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/common/message.h"
#include "services/contracts/calendar.h"
#include "services/contracts/model.h"

namespace vigil::contracts {

// --- Facts ---------------------------------------------------------------

// Ransomware verdict of a restore point (docs/ransomware.md), as
// v1.PointVerdict.
enum class PointVerdict {
  kNotComputed,  // signals not computed yet (or the point predates them)
  kClean,
  kSuspicious,
  kEncrypted,
  // No signal over a threshold, but too many changed or new files had no
  // content sample to rule out encryption (Judge, signals.h): not clean.
  kContentNotJudged,
};

// One restore point of a backup set, as Vigil saw it over time.
struct PointFact {
  int64_t time_ns = 0;        // identity: the point's time
  std::string name{};         // its current (or last) name
  int64_t first_seen_ns = 0;  // first inventory that listed it
  int64_t gone_ns = 0;        // first inventory that no longer listed it; 0 = present
  uint64_t files = 0;
  uint64_t bytes = 0;
  // First time a check found one of its entries modified, missing or
  // unreadable (0 = never): the point is not good from then on.
  int64_t damaged_ns = 0;
  std::string damage{};  // "3 entries modified: docs/a.pdf, ..."
  // Plausibility findings against the previous point (an emptied or
  // encrypted source): the point is not good from first_seen_ns.
  std::vector<std::string> implausible{};
  // Ransomware verdict against the previous clean point, and its signals
  // ("kind: message"). `accepted`: an operator declared the point clean
  // after a signal (who and why in accepted_by / accepted_reason).
  PointVerdict verdict = PointVerdict::kNotComputed;
  std::vector<std::string> signals{};
  bool accepted = false;
  int64_t accepted_ns = 0;  // when it was accepted (0 = not known)
  std::string accepted_by{};
  std::string accepted_reason{};
  // A mirror's time is when it was last synced, as far as the evidence
  // shows. With a declared sync marker that is the marker's mtime: proof of
  // the last sync. Without one, time_ns is only a lower bound (its newest
  // file's mtime, or the last check before Vigil saw its content change;
  // rsync keeps source mtimes, so unchanged data looks like a stopped job):
  // then time_is_lower_bound is set, and an age past the RPO makes the RPO
  // `unknown`, never `fail`. time_ns is 0 when nothing dates the mirror.
  bool time_is_lower_bound = false;
  std::string time_basis{};  // how time_ns was established ("" = the point's own time)
};

// Integrity coverage of one backup set over the entries of its present
// points, computed for the commitment's `reverify_within` window.
struct IntegrityFact {
  uint64_t entries = 0;            // entries in present points
  uint64_t verified_within = 0;    // of which re-read within the window
  int64_t oldest_verified_ns = 0;  // least recent re-read (0 = never)
  uint64_t failures = 0;           // entries currently modified/missing/unreadable
  // Sampled runs within the window: entries drawn at random, faults found.
  uint64_t sampled = 0;
  uint64_t sample_faults = 0;
  int64_t last_run_ns = 0;  // last integrity run (0 = never)
  // Non-empty: the location's daily read budget cannot re-read the set in
  // full within reverify_within (schedule.h JudgeReadBudget), with the
  // figures: the commitment is then at best unknown, never pass.
  std::string read_budget{};
};

// One restore drill: a sample of a restore point copied to the worker's
// scratch with cold reads and synced writes, then re-hashed.
struct DrillFact {
  int64_t at_ns = 0;
  int64_t point_time_ns = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;        // bytes copied
  double seconds = 0;        // wall time of the copy (reads + synced writes)
  uint64_t mismatches = 0;   // restored files whose hash differs from the catalogue
  uint64_t point_bytes = 0;  // full size of the restore point
  std::string error{};       // the drill could not run (non-empty = failed)
  // Newer points the drill passed over because they were not good (damaged
  // or implausible), each with why: "snapshots/1a2b... (2026-03-01 02:00):
  // damaged: ...". Empty: it drilled the newest point present.
  std::vector<std::string> skipped{};
};

// Content agreement of two copies of an asset, compared through the
// catalogue (same algorithm: digests; otherwise presence and size only).
struct CopyAgreement {
  std::string a, b;  // backup set names
  enum class State { kAgree, kDisagree, kNotEstablished } state = State::kNotEstablished;
  uint64_t matched = 0;    // entries of a found in b with the same digest
  uint64_t differing = 0;  // same path, different content
  uint64_t missing_in_b = 0;
  std::string detail{};  // why not established, which entries differ
};

// What the store of a set's remote location said at the newest check that
// asked it (v1::StoreEvidence, docs/remote.md "What the store says"): the
// store's word, not something Vigil read back. "" where it did not say,
// with the reason in *_unmeasured.
struct StoreSaid {
  std::string store{};  // "s3://host/bucket/prefix"
  int64_t measured_ns = 0;
  std::string versioning{};  // "enabled" | "suspended" | "off" | ""
  std::string versioning_unmeasured{};
  std::string object_lock{};  // "on" | "off" | ""
  std::string object_lock_unmeasured{};
  std::string default_mode{};  // "GOVERNANCE" | "COMPLIANCE" | ""
  uint32_t default_days = 0, default_years = 0;
  // Objects read whose retention the store gave (Object Lock on).
  uint64_t retained = 0, not_retained = 0;
  // Objects read compared with the store's upload record.
  uint64_t agree = 0, disagree = 0, absent = 0;
  std::vector<std::string> disagreeing{};  // the first few, with the digests
};

struct BackupSetFacts {
  std::string name{};
  // Inventories (listings of the restore points) run so far; 0 = never.
  // Monitoring of the set starts at its first inventory (or the contract's
  // effective time, if later): Vigil judges no time before it.
  int64_t first_inventory_ns = 0;
  int64_t last_inventory_ns = 0;
  std::vector<PointFact> points{};  // any order
  IntegrityFact integrity;
  std::vector<DrillFact> drills{};  // any order
  // What the last inventory found at the set's directory when it listed no
  // restore point: "does not exist", "empty" or "holds no restore point";
  // empty when it found points (or did not say).
  std::string no_backup{};
  // A set at a remote location: what its store said (absent: never asked).
  std::optional<StoreSaid> store_said{};
};

struct TenantFacts {
  std::map<std::string, BackupSetFacts> sets;  // by backup set name
  std::vector<CopyAgreement> copies{};
  // Backup sets found at the MSP's locations that no contract covers
  // (directory names under the tenant's area), for the scope section.
  std::vector<std::string> unscoped{};
};

// --- Results -------------------------------------------------------------

enum class Verdict { kPass, kFail, kUnknown };
const char* VerdictName(Verdict v);  // "pass" | "fail" | "unknown"

struct Evidence {
  std::string name{};   // "newest_good_point", "coverage_percent", ...
  std::string value{};  // human-readable, units included
  // "measured" by Vigil, or "declared" by the MSP (offsite, immutable).
  std::string basis = "measured";
  // `value` as a structured message (services/common/message.h), for
  // renderers in other languages; empty when it has none.
  Message message{};
};

struct CommitmentVerdict {
  std::string asset{};
  CommitmentKind kind = CommitmentKind::kRpo;
  Verdict verdict = Verdict::kUnknown;
  std::string summary{};      // one line a person reads first
  Message summary_message{};  // `summary`, structured (message.h)
  // For fail: the first instant of the monitored interval (from
  // max(interval start, monitored_from_ns)) at which it was broken: when
  // Vigil detected it. Never before monitoring began.
  int64_t failing_since_ns = 0;
  // For fail: when the failure began, as far as the evidence shows (an RPO
  // breach dated from the newest good point; a drill overdue since the last
  // drill plus its cadence). May precede monitoring; <= failing_since_ns.
  int64_t began_ns = 0;
  // When monitoring of the asset began: its first inventory, or the
  // contract's effective time if later (0 = never inventoried). The time of
  // the interval before it is "not monitored": judged neither pass nor fail.
  int64_t monitored_from_ns = 0;
  std::vector<Evidence> evidence{};
};

enum class Readiness { kReady, kAtRisk, kNotReady };
const char* ReadinessName(Readiness r);  // "ready" | "at risk" | "not ready"

// Restore readiness answers "could we restore it now, from what Vigil
// examined?"; the readiness after site loss answers the same if the primary
// site (the site of the location of the asset's first backup set) were
// lost: only backup sets on locations declared offsite, and on another
// site, count (docs/contracts.md gives each level).
struct AssetReadiness {
  std::string asset{};
  Readiness readiness = Readiness::kNotReady;
  // Why not ready; when ready, empty but for notes that do not lower the
  // level ("newest point not yet examined for ransomware signals").
  std::vector<std::string> reasons{};
  Readiness site_loss = Readiness::kNotReady;
  std::vector<std::string> site_loss_reasons{};  // empty when ready
  // `reasons` and `site_loss_reasons`, structured (message.h), one per reason.
  std::vector<Message> reason_messages{}, site_loss_reason_messages{};
  // As CommitmentVerdict::monitored_from_ns.
  int64_t monitored_from_ns = 0;
  // The asset's last clean point at the end of the interval, across its
  // backup sets (CleanPointAt): its set, time and name; empty/0 if none.
  std::string last_clean_set{};
  int64_t last_clean_ns = 0;
  std::string last_clean_name{};
};

// The structured form (message.h) of a point's damage text as the
// coordinator records it ("3 entries modified: a, b"); another text is kept
// as written.
Message DamageMessage(const std::string& damage);

struct ScopeFinding {
  std::string subject{};      // asset or backup set
  std::string finding{};      // "in scope, no backup found" / "found, not covered by the contract"
  Message finding_message{};  // `finding`, structured (message.h)
};

struct Evaluation {
  std::string tenant{};
  Interval interval{};                      // what was judged: [period start, min(period end, now))
  int64_t at_ns = 0;                        // "now"
  std::vector<AssetReadiness> readiness{};  // contract order of assets
  std::vector<CommitmentVerdict> verdicts{};  // asset order, then commitment order
  std::vector<ScopeFinding> scope{};
  std::vector<OutOfScope> out_of_scope{};

  const CommitmentVerdict* Find(const std::string& asset, CommitmentKind kind) const;
  const AssetReadiness* ReadinessOf(const std::string& asset) const;
};

struct EvaluateOptions {
  // An inventory older than this makes freshness "unknown" rather than a
  // statement about now. Default 0 = derive from the RPO (max_age).
  int64_t stale_inventory_ns = 0;
  // Drill throughput assumptions, stated in the evidence.
  std::string drill_assumptions =
      "full restore runs at the throughput measured on the sample (cold reads from the "
      "backup location, synced writes to the worker's scratch, one stream)";
};

// Judges `contract` over `period` as seen at `now_ns` (the interval ends at
// min(period.end, now)). `locations` by name (for offsite/immutable).
Evaluation Evaluate(const Tenant& tenant, const Contract& contract,
                    const std::map<std::string, Location>& locations, const TenantFacts& facts,
                    const Interval& period, int64_t now_ns, const EvaluateOptions& options = {});

// The rule the RPO verdict applies to a point at instant `t`: taken by then
// (time_ns <= t), still present, not yet found damaged, plausible, and not
// flagged suspicious or encrypted by its ransomware signals (unless an
// operator accepted it). Not examined yet (kNotComputed) is still good.
// Exposed for the dashboard's history of RPO age (coordinator/history.h).
bool GoodPointAt(const PointFact& p, int64_t t);
// Why `p` is not good at `t` by that rule, "" when it is: "not yet taken",
// "gone", "damaged: <what>", "implausible: <first finding>", "suspicious:
// <first signal>", "encrypted: <first signal>". Used by the
// retention verdict and by the coordinator when it picks a drill's point.
std::string WhyPointNotGood(const PointFact& p, int64_t t);

// A clean point at `t`: good at `t` (GoodPointAt) and examined for
// ransomware signals with nothing found (verdict kClean), or declared clean
// by an operator (accepted). A point not examined yet (kNotComputed) is not
// clean: Vigil does not say what it has not looked at.
bool CleanPointAt(const PointFact& p, int64_t t);
// The newest clean point among `points` at `t` (any order); nullptr if none.
// What status, the dashboard, readiness, drills and the report name as
// "the last clean point".
const PointFact* LastCleanPoint(const std::vector<PointFact>& points, int64_t t);

// The version of a tenant's contract in force at `t` among `versions`
// (effective_from_ns ascending); nullptr if none was yet.
const Contract* VersionInForce(const std::vector<Contract>& versions, int64_t t);

}  // namespace vigil::contracts
