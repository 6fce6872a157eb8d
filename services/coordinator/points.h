// Restore-point records of the coordinator (vigil.v1.PointRecord, one per
// (tenant, backup set, point time) in `meta`, keys::Point).
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
// (present or gone: its entries stay in the catalogue). A point with no
// earlier one is plausible. One write (synced unless `sync` is false: then
// the caller's next synced write makes it durable, and a crash before it
// leaves the records to be checked again); nothing written if nothing was
// pending. REQUIRES: no merge of the set runs concurrently.
storage::Status RecheckPlausibility(storage::Catalogue& cat, const std::string& tenant,
                                    const std::string& backup_set, bool sync = true);

// Resets to POINT_VERDICT_UNSPECIFIED the verdict of every point of the
// set later than `point_ns` (after an operator accepted that point as clean:
// their signals are computed again against it), in one write.
// (Owned by the signals work, h19-signals; see points.cc.)
storage::Status ResetVerdictsAfter(storage::Catalogue& cat, const std::string& tenant,
                                   const std::string& backup_set, int64_t point_ns);

// Fills status->points from the records of status->backup_set().
storage::Status FillPoints(Coordinator& c, v1::BackupSetStatus* status);

}  // namespace vigil::coordinator
