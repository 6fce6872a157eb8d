// Restore-point records of the coordinator (vigil.v1.PointRecord, one per
// (tenant, backup set, point time) in `meta`, keys::Point): their
// plausibility and their ransomware verdict.
//
// MergeStaged (ingest.h) upserts them in the last batch of a merge (which
// CompleteTask writes with the task's DONE record). A new point is recorded
// there with plausibility_checked = false; once the merge is written,
// RecheckPlausibility compares every such point with the previous point by
// time (contracts::ComparePoints, a merge-join of the two points' catalogue
// entries) and writes the findings (contracts::CheckPlausibility) with
// plausibility_checked = true in a second write. If the coordinator dies
// before that write is durable, the next completion of a task of the set
// finds the records still unchecked and computes them then: nothing is lost,
// and the comparison reads only the catalogue, so redoing it gives the same
// answer.
#pragma once

#include <string>
#include <vector>

#include "services/contracts/evaluate.h"
#include "services/contracts/model.h"
#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

class Coordinator;

// A stored point record as the evaluator's fact (every field it has).
contracts::PointFact ToPointFact(const v1::PointRecord& r);

// Dates the point fact `p` of a mirror (its record `r` has time 0: one
// point updated in place) by its last sync, as far as the evidence shows
// (docs/contracts.md, "Mirror freshness"):
//   - with a sync marker (set.sync_marker) present in the mirror: the
//     marker's mtime, proof of the last sync;
//   - otherwise a lower bound (p->time_is_lower_bound): the later of
//     `newest_mtime` (the newest mtime among its entries: rsync keeps the
//     source's, so unchanged data looks old) and the last check before Vigil
//     saw its content change (r.change_after_ns); 0 when neither dates it.
// p->time_basis says which. Reads the marker's catalogue entry.
storage::Status DateMirror(storage::Catalogue& cat, const std::string& tenant,
                           const contracts::BackupSet& set, const v1::PointRecord& r,
                           int64_t newest_mtime, contracts::PointFact* p);

// Every record of (tenant, backup_set), ascending time.
storage::StatusOr<std::vector<v1::PointRecord>> LoadPoints(storage::KvStore* kv,
                                                           const std::string& tenant,
                                                           const std::string& backup_set);

// Computes and stores the plausibility of every record of the set whose
// plausibility_checked is false, against the nearest earlier recorded point
// (present or gone, unless its entries were freed: FreeGonePoints), with its
// change-rate sample (changed_files / changed_bytes: files new or changed in
// content, and their bytes). A point with no earlier one is plausible.
//
// With spec.enabled, also the ransomware verdict and signals of every record
// whose verdict is UNSPECIFIED (new points, points recorded before verdicts
// existed: the set's next check fills them in, and ResetVerdictsAfter's
// points), in time order, against the newest earlier point whose verdict
// is CLEAN or CONTENT_NOT_JUDGED or that an operator accepted
// (compared_with_ns; 0 and judged on its own when there is none:
// contracts::ScanSignals, contracts::Judge, docs/ransomware.md). A CLEAN
// verdict of older rules (verdict_rules < contracts::kVerdictRules) is
// judged again for its content only: it becomes CONTENT_NOT_JUDGED or stays
// CLEAN, never flagged. Their plausibility is recomputed with them (the same
// answer: both are pure functions of the catalogue). A mirror's single
// point is judged once, when first recorded. With !spec.enabled verdicts
// stay as they are (UNSPECIFIED: not computed).
//
// Each point judged or compared keeps its tally (contracts::PointTally,
// storage::Versions::PutSummary, under the set's generation read before any
// entry): a later scan or comparison against it reads only the paths
// changed since (contracts::ScanSignals, ComparePoints), the same answer.
// With verdicts off, the comparison with the previous point is the scan's
// (contracts::ScanSignals' versus_reference, its verdict unused), so that
// the tallies are kept there too.
//
// One write (synced unless `sync` is false: then the caller's next synced
// write makes it durable, and a crash before it leaves the records to be
// checked again); nothing written if nothing was pending. REQUIRES: no
// merge of the set runs concurrently.
storage::Status RecheckPlausibility(storage::Catalogue& cat, const std::string& tenant,
                                    const std::string& backup_set, bool sync = true,
                                    const contracts::RansomwareSpec& spec = {});

// The ransomware thresholds of the tenant's contract in force at `now_ns`
// (its `ransomware:` block), the defaults when it has no contract.
storage::StatusOr<contracts::RansomwareSpec> RansomwareSpecFor(storage::KvStore* kv,
                                                               const std::string& tenant,
                                                               int64_t now_ns);

// Sets the verdict of every point of the set later than `point_ns` back to
// UNSPECIFIED (signals and compared_with_ns cleared), in one synced write:
// call it when a point's acceptance (accepted_ns) is recorded, since the
// later points were judged against an older reference. The next
// RecheckPlausibility of the set (the set's next check, or the caller
// right after, with RansomwareSpecFor's thresholds) judges them again
// against the accepted point; until then they are "not computed", never
// clean. Points whose entries were freed keep their verdict (nothing to
// judge them again with). REQUIRES: no merge or RecheckPlausibility of the
// set runs concurrently (hold the set's lock).
storage::Status ResetVerdictsAfter(storage::Catalogue& cat, const std::string& tenant,
                                   const std::string& backup_set, int64_t point_ns);

// Frees the catalogue entries of the set's points gone for at least
// `keep_ns` (0: none freed): each such point, once its plausibility was
// computed, loses the versions only it held and its verification records
// (storage::Catalogue::DeletePoint), and its record gets entries_freed_ns
// (digests cleared: never offered as held), in one synced write per point.
// The record stays: time, name, counts, verdict and findings, which the
// reports and the RPO history read. Such a point is never judged again nor a
// reference (RecheckPlausibility), cannot be accepted, and when listed again
// gets its entries again, and what was judged of them judged again
// (ingest.cc). Kept: the set's only recorded point (its erasure is the
// set's), and every point while no point of the set is present (a set
// directory unreachable or emptied: everything looks gone). At most 16
// points per call (the rest at the next). FailedPrecondition, nothing
// freed, while a merge of the set is unfinished (Versions::Recording).
// Returns the points freed. REQUIRES: the set's lock (no merge of it runs).
storage::StatusOr<int> FreeGonePoints(storage::Catalogue& cat, const std::string& tenant,
                                      const std::string& backup_set, int64_t now_ns,
                                      int64_t keep_ns);

// Fills status->points from the records of status->backup_set().
storage::Status FillPoints(Coordinator& c, v1::BackupSetStatus* status);

}  // namespace vigil::coordinator
