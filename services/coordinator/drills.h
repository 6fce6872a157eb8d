// Restore drills on the coordinator's side (docs/contracts.md, "Restore
// drills").
//
// A drill task (TASK_KIND_DRILL) names one restore point of a backup set (the
// last clean one, contracts::LastCleanPoint; the newest good one when none is
// clean) and carries a sample of its files as the
// coordinator's catalogue holds them (path, size, digest): the worker restores those files to its
// scratch directory and compares the copies with the catalogue, never with its own reading of the
// source. The sample is deterministic and spread over the point: every k-th regular file with a
// digest, in catalogue key order, k = eligible files / sample size.
//
// The result is kept as a vigil.v1.DrillRecord (keys::Drill), written in the
// same synced batch that marks the task DONE; FillEvaluation turns the
// records into contracts::DrillFact for the restore_drill verdict and the
// readiness.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "services/contracts/evaluate.h"
#include "services/contracts/model.h"
#include "services/contracts/schedule.h"
#include "storage/catalogue.h"
#include "storage/kv.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::coordinator {

// Files per drill when the contract does not say (restoreDrill.sampleFiles).
inline constexpr uint32_t kDefaultDrillFiles = 100;
// Mismatching paths kept per drill record.
inline constexpr int kMaxMismatchPaths = 20;

// Every drill record of (tenant, backup_set), ascending time.
storage::StatusOr<std::vector<v1::DrillRecord>> LoadDrills(storage::KvStore* kv,
                                                           const std::string& tenant,
                                                           const std::string& backup_set);

contracts::DrillFact ToDrillFact(const v1::DrillRecord& r);

// Fills facts->drills from the records of (tenant, facts->name), and the
// time of the newest one into (*history)[{set, kRestoreDrill}] (untouched
// when the set has none).
storage::Status FillDrills(storage::KvStore* kv, const std::string& tenant,
                           contracts::BackupSetFacts* facts, contracts::CheckHistory* history);

// The sample limits of `asset`'s restoreDrill commitment in `contract`
// (defaults when it has none: kDefaultDrillFiles files, no byte limit).
void DrillLimits(const contracts::Contract* contract, const std::string& asset,
                 uint32_t* sample_files, uint64_t* sample_bytes);

// A DRILL task for `set` (not queued, no id): the last clean restore point
// of the set (contracts::CleanPointAt; when none is clean, the newest good
// one: present, not damaged, plausible, not flagged, and drill_skipped ends
// with "no clean restore point: drilled the newest good one, ..." unless no
// point of the set was ever examined for ransomware signals; time 0
// for a mirror without point records), the newer points passed over in
// drill_skipped with why (damaged, implausible, suspicious, encrypted, not
// yet examined for ransomware signals), up
// to `sample_files` (0 = kDefaultDrillFiles) regular files with a digest
// totalling at most `sample_bytes` (0 = no limit), spread over the point;
// drill_point_bytes = the sum of the point's entry sizes. A "restic" set's
// sample is the point's snapshot file alone, the limits go in
// drill_sample_files/bytes: the worker samples the snapshot's files (and
// reports its full size, DrillResult.point_bytes).
// FailedPrecondition when there is nothing good to drill (no point recorded
// for a layout other than mirror, every point gone, damaged, implausible or
// flagged: the message names them; no file with a digest in the catalogue: never
// checked).
storage::StatusOr<v1::Task> PlanDrill(storage::Catalogue& cat, const v1::BackupSet& set,
                                      const std::string& tenant_timezone, uint32_t sample_files,
                                      uint64_t sample_bytes);

// Checks a worker's DrillResult for drill task `t` and adds its DrillRecord
// (at_ns = now) to `batch`. InvalidArgument for an impossible result
// (negative or non-finite seconds, more files than sampled).
storage::Status PutDrillRecord(const v1::Task& t, const v1::DrillResult& result,
                               const std::string& worker_id, int64_t now, storage::KvBatch* batch);

}  // namespace vigil::coordinator
