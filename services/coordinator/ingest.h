// Observation ingest: staging of streamed batches, and their merge into the
// catalogue when a task completes.
//
// A batch is staged under (task, attempt, seq) in the `tasks` keyspace
// together with the attempt's last acknowledged seq, in one synced write:
// once StageBatch returns, the batch survives a crash, and it is then (and
// only then) acknowledged to the worker. A batch with seq <= the last
// acknowledged one is not stored again (a resend after a reconnect).
//
// MergeStaged() streams the staged observations of an attempt, in seq order,
// through the catalogue's merge-join diff (storage/diff.h) and records the
// outcome like a local verification pass: new entries are added, unchanged
// ones get a fresh VerifyRecord, changed ones a problem record with the
// evidence, entries not observed are marked missing. Running it twice on the
// same observations records the same catalogue state (apart from times).
#pragma once

#include <cstdint>

#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::coordinator {

// Most observations accepted in one batch.
inline constexpr int kMaxObservationsPerBatch = 4096;

// Checks a batch's observations: paths valid and relative, types and digest
// algorithms known, digest lengths right. InvalidArgument naming the path.
storage::Status ValidateBatch(const v1::ObservationBatch& batch);

// Last acknowledged seq of an attempt (0 if none).
storage::StatusOr<uint64_t> LastAcked(storage::KvStore* kv, uint64_t task, uint32_t attempt);

// Stages a batch durably (see above). Returns the seq to acknowledge.
// OutOfRange if seq > last acknowledged + 1 (a gap).
// REQUIRES: the caller checked the lease and validated the batch.
storage::StatusOr<uint64_t> StageBatch(storage::KvStore* kv, const v1::ObservationBatch& batch);

struct MergeResult {
  v1::DiffCounts counts;
  uint64_t entries = 0;
};

// Merges the staged observations of (task, attempt) into the catalogue scope
// of `set` (restore point 0), committing with a WAL sync. `now_ns` stamps
// first-seen / verified times. The result is also written, in the merge's
// last atomic batch, under the meta key `marker_key` (keys::Merged), so that
// a caller finding the marker knows the merge is complete and its counts.
storage::StatusOr<MergeResult> MergeStaged(storage::Catalogue& cat, const v1::BackupSet& set,
                                           uint64_t task, uint32_t attempt, int64_t now_ns,
                                           const std::string& marker_key);

// Adds to `b` the removal of every staged batch and ack key of `task`.
void DropStaged(storage::KvBatch* b, uint64_t task);

}  // namespace vigil::coordinator
