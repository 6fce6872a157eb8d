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

// Fills status->points from the records of status->backup_set().
storage::Status FillPoints(Coordinator& c, v1::BackupSetStatus* status);

}  // namespace vigil::coordinator
