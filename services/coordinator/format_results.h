// What the coordinator does with the format results of a CHECK task
// (bagit, sumfile and restic sets; docs/formats.md "Through the system").
//
// Records (meta keyspace, see keys.h):
//   "coord/fverdict/" Str(tenant) Str(backup_set)      -> vigil.v1.FormatVerdicts
//       the verdicts of the set's last check, replaced by every check that
//       sends some
//   "coord/rpack/" Str(tenant) Str(backup_set) ID(32)   -> vigil.v1.ResticPackRecord
//       one per restic pack found good, with its last verification time;
//       a set's packs are one key range
//
// Every write goes into the batch that marks the task DONE (one synced,
// atomic write): a repeated completion rewrites the same state.
#pragma once

#include <cstdint>

#include "storage/kv.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::coordinator {

// Re-verification window of restic packs when the contract in force has no
// integrity commitment (`reverifyWithin`) for the set's asset.
inline constexpr int64_t kDefaultPackReverifyNs = int64_t{30} * 86400 * 1'000'000'000;
// Limits of one CompleteTaskRequest (worker.proto).
inline constexpr int kMaxFormatVerdicts = 10'000;
inline constexpr int kMaxResticPacks = 300'000;

// CHECK tasks of a "restic" set: fills task->restic_known_packs with the
// packs verified within the re-verification window (the contract's
// integrity reverifyWithin for the set's asset, else the default). Other
// tasks are left alone.
storage::Status AddKnownPacks(storage::KvStore* kv, int64_t now_ns, v1::Task* task);

// Checks the format fields of a completion: counts within the limits above,
// pack ids of 32 bytes, verdict formats known, texts valid UTF-8 (protobuf
// already refuses invalid UTF-8 in strings), no verdict for a "dir" set.
// InvalidArgument naming the field.
storage::Status ValidateFormatResults(const v1::BackupSet& set, const v1::CompleteTaskRequest& req);

// Adds to `batch` the outcome of a validated completion of `task` (after its
// observations were merged and its point records written):
//   - the verdicts, as the set's FormatVerdicts (restic: packs_vanished
//     filled in);
//   - restic packs: verified ones remembered (verification time now), bad
//     ones forgotten (read again next time), skipped ones kept, recorded
//     ones no longer present forgotten and counted as vanished;
//   - an invalid verdict marks its restore point damaged (damaged_ns = now,
//     unless already damaged; damage = the format, target and first error);
//     restic: every present snapshot (a bad pack may hold any snapshot's
//     data). A verdict of a point not listed (dated-files' checksum
//     files, point 0) marks nothing.
// Nothing is added for a task without format results.
storage::Status ApplyFormatResults(storage::KvStore* kv, const v1::Task& task,
                                   const v1::CompleteTaskRequest& req, int64_t now_ns,
                                   storage::KvBatch* batch);

// Fills status->format_verdicts from the set's record (left absent if none).
storage::Status FillFormatVerdicts(storage::KvStore* kv, v1::BackupSetStatus* status);

}  // namespace vigil::coordinator
