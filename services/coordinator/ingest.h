// Observation ingest: staging of streamed batches, and their merge into the
// catalogue when a task completes.
//
// A batch is staged under (task, attempt, seq) in the `tasks` keyspace
// together with the attempt's last acknowledged seq, in one synced write:
// once StageBatch returns, the batch survives a crash, and it is then (and
// only then) acknowledged to the worker. A batch with seq <= the last
// acknowledged one is not stored again (a resend after a reconnect).
//
// Restore points: the batch with seq 1 lists the points present in the set
// (ObservationBatch.points; a mirror without a list has the one point of
// time 0), and observations carry their point's time in ascending order.
// ValidateBatchPoints() refuses a batch that breaks these rules before it is
// staged; the attempt's last restore_point_ns is kept in its ack record.
//
// Digest algorithms: each entry is recorded with the set's content_hash
// (contracts::ContentHashOf). An entry whose record holds another
// algorithm's digest is compared with the observation's digest of that
// algorithm (Observation.previous_digest, sent when the task asked for it:
// AddRehash) and, when equal, recorded with the set's algorithm
// (DiffCounts.rehashed); without one it is judged by its metadata only
// (storage::Classify), never by comparing two algorithms' digests.
//
// MergeStaged() streams the staged observations of an attempt, in seq order,
// split by restore point, through the catalogue's merge-join diff
// (storage/diff.h) on each listed point's key range and records the
// outcome like a local verification pass: new entries are added, changed
// ones get a problem record with the evidence, entries not observed are
// marked missing, and unchanged ones are verified now: by the point's range
// record when the point was read whole (nothing written per entry), by a
// fresh VerifyRecord otherwise. Restore points not recorded yet are written
// as the catalogue's writer records a new point (sharing what is unchanged
// with their neighbour, storage/versions.h). Running it twice on the
// same observations records the same catalogue state (apart from times).
//
// Held points (Task.held_points, Observation.held; docs/storage.md "Held
// restore points"): a point the worker found the same as at an earlier
// check is one held marker, its only observation. The merge accepts it
// when it carries the proofs of the digests the point record holds
// (services/common/listing_digest.h; else InvalidArgument: the attempt is
// refused and runs again), counts the entries the record counted, and
// writes nothing per entry (a point read whole gets its range record). A
// point sent whole gets new digests when its catalogue now holds exactly
// what the worker saw (no problem, nothing left unrecorded), else none.
//
// Crash safety: a large merge writes its catalogue changes in several
// batches. Each intermediate batch ends at an entry boundary and carries,
// atomically, the merge's progress (keys::MergeProgress: how far its writes
// went, the counts and damage found so far, and the merge's time). A merge
// redone after a crash (the worker repeats CompleteTask) resumes there: the
// entries before that point are neither written nor counted again, so its
// counts are those of an uninterrupted merge, not "unchanged" for what the
// interrupted one had already added.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::coordinator {

// Most observations accepted in one batch.
inline constexpr int kMaxObservationsPerBatch = 4096;

// Checks a batch's observations: paths valid and relative, types and digest
// algorithms known, digest lengths right; a held marker with nothing but
// its point and proofs of 32 bytes; a content sample only on a file
// read (with a digest), entropy at most 128 (format ids above the known ones
// are kept: a newer worker). InvalidArgument naming the path (and, for a
// sample, the field: "observations[i].sample.entropy").
storage::Status ValidateBatch(const v1::ObservationBatch& batch);

// True for the layout of a set with one point of time 0 ("" or "mirror").
bool IsMirrorLayout(const v1::BackupSet& set);

// The restore points listed by an attempt (see above), ascending time.
storage::StatusOr<std::vector<v1::RestorePointSeen>> ListedPoints(storage::KvStore* kv,
                                                                  const v1::BackupSet& set,
                                                                  uint64_t task, uint32_t attempt);

// Last acknowledged seq of an attempt (0 if none).
storage::StatusOr<uint64_t> LastAcked(storage::KvStore* kv, uint64_t task, uint32_t attempt);

// What StageBatches did: every batch up to seq `acked` is durable (0: none
// of this attempt yet), `acked_before` the attempt's last acknowledged seq
// found before this group (batches up to it were resends), and `status` is
// why it stopped early (OK if every batch was taken).
struct StageResult {
  uint64_t acked = 0;
  uint64_t acked_before = 0;
  storage::Status status;
  // What the held markers of the batches staged now stand for: their
  // points' files as last sent, and the bytes of those read whole (a
  // content proof); for the task's progress and /metrics.
  uint64_t held_files = 0, held_bytes = 0;
};

// Checks and stages batches of one attempt, in order, in one synced write
// (a stream's window of unacknowledged batches costs one WAL fsync). Each
// batch is checked with ValidateBatch() and the restore-point rules above
// (`points` only in seq 1, ascending unique times, names empty or valid
// relative paths; every restore_point_ns among the listed points and never
// below the attempt's previous one: InvalidArgument naming the field); a batch
// with seq <= the last acknowledged one is a resend (not stored, acknowledged
// again) and seq > last + 1 is a gap (OutOfRange). The batches before the
// first refused one are staged and acknowledged; the refused one and those
// after it change nothing.
// REQUIRES: the caller checked the lease; all batches name the same
// (task_id, attempt).
StageResult StageBatches(storage::KvStore* kv, const v1::BackupSet& set,
                         const std::vector<const v1::ObservationBatch*>& batches);

struct MergeResult {
  v1::DiffCounts counts;
  uint64_t entries = 0;
  uint64_t bytes_read = 0;  // sizes of the files observed with a digest
  uint64_t writes = 0;      // intermediate batches this call wrote
  // Points the worker sent a held marker for, and the entries they hold
  // (included in `entries` and `counts`).
  uint32_t points_held = 0;
  uint64_t entries_held = 0;
  // Held directory markers, and the entries beneath them taken from the
  // reference point (included in `entries` and `counts`, not in
  // entries_held).
  uint32_t dirs_held = 0;
  uint64_t entries_in_held_dirs = 0;
  // Held directories of a new point after the reference whose entries it
  // shares with the reference as stored: neither read nor written
  // (included in dirs_held).
  uint32_t dirs_shared = 0;
  int64_t now_ns = 0;  // the merge's time (an interrupted one's, when resumed)
};

// Catalogue writes a merge accumulates before writing an intermediate
// batch (at the next entry boundary). 4 MiB, or the test hook
// VIGIL_TEST_MERGE_BATCH_BYTES (a positive byte count: tests make small
// merges write many batches).
size_t MergeBatchBytes();

// Test hook (never set in production): with the environment variable
// VIGIL_TEST_CRASH_POINT=STAGE:N, the process prints "test crash point
// STAGE:N" to stderr and raises SIGKILL on itself when TestCrashPoint(STAGE,
// N) is reached. Stage "merge": N = 0 as a merge starts, N = k after its k-th
// intermediate batch is written, N = k + 1 after the write group holding
// its last batch and the task's DONE record (CompleteTask).
void TestCrashPoint(std::string_view stage, uint64_t n);

// Merges the staged observations of (task, attempt) into the catalogue, one
// listed restore point after the other (each on its own key range), and
// committing with a WAL sync. `now_ns` stamps first-seen / verified times.
// The result is also written, in the merge's last atomic batch, under the
// meta key `marker_key` (keys::Merged), so that a caller finding the marker
// knows the merge is complete and its counts. The same last batch upserts the
// set's PointRecords (keys::Point): name, files and bytes observed,
// last_checked_ns, first_seen_ns for a new point (with
// plausibility_checked = false: see points.h), damaged_ns / damage the first
// time a point's diff finds entries modified, missing or unreadable, and
// gone_ns for recorded points no longer listed (a listed one comes back with
// gone_ns = 0). Counts and entries are summed over the points.
//
// With `last_batch` non-null, the merge's last batch (point records and the
// rest of the catalogue writes) is moved there unwritten and no marker is
// written: the caller writes it atomically with the task's DONE record
// (CompleteTask), so a finished merge is exactly a DONE task, and one synced
// write does both. A crash before that write redoes the merge from its last
// intermediate batch (see "Crash safety" above; `now_ns` is then the
// interrupted merge's, returned in MergeResult::now_ns).
struct MergeOptions {
  // Catalogue writes accumulated before an intermediate batch; 0: the
  // default (MergeBatchBytes()).
  size_t batch_bytes = 0;
  // Test seam: called after the k-th intermediate batch is written (k = 1,
  // 2, ...); a non-OK status stops the merge there and is returned, as if
  // the process had died at that point.
  std::function<storage::Status(uint64_t k)> after_write;
};
storage::StatusOr<MergeResult> MergeStaged(storage::Catalogue& cat, const v1::BackupSet& set,
                                           uint64_t task, uint32_t attempt, int64_t now_ns,
                                           const std::string& marker_key,
                                           storage::KvBatch* last_batch = nullptr,
                                           const MergeOptions& options = {});

// CHECK tasks (not restic): sets Task.rehash_from when the set's catalogue
// holds digests of another algorithm than its content_hash (the record
// keys::CatalogueHash a merge writes; absent: XXH3-128, the one algorithm
// checks used before contentHash was honoured). Called when the task is
// leased (the field is never stored). An unknown content_hash adds
// nothing (the worker fails the task, naming it).
storage::Status AddRehash(storage::KvStore* kv, v1::Task* task);

// The records of the points of `set` whose checks may be held, by point
// time: none for a restic or dated-files set, nor while its catalogue needs
// a re-hash (see AddRehash); else the point records that hold digests
// (PointRecord.digests) of points the catalogue still records. What leases
// offer, and what staging and the merge check held markers against.
storage::StatusOr<std::map<int64_t, v1::PointRecord>> HoldablePoints(storage::KvStore* kv,
                                                                     const v1::BackupSet& set);

// Held directories (Task.held_dirs, Observation.held_dir; docs/storage.md
// "Held directories"): the merge of a set's newest listed point, when it
// records that point consistent, keeps the digests of its directories
// (DirDigester, services/common/listing_digest.h) as the set's *reference*
// (keys::HeldDirs: one reference per set, rewritten whole). A later check
// is offered them; a worker sends a held directory marker instead of the
// entries beneath a directory it found the same, and the merge takes those
// entries from the reference point's catalogue (Versions::ScanUnder), so
// that everything downstream (diff, new versions, verification, digests)
// sees the point as if sent whole. Only directories with at least
// kMinHeldDirEntries entries beneath them are kept, at most kMaxHeldDirs
// per set (a larger tree keeps none), and at most kMaxHeldDirOffers
// offered per lease (those with most entries beneath them; paths of at most
// kMaxHeldDirOfferBytes in all).
inline constexpr uint64_t kMinHeldDirEntries = 16;
inline constexpr size_t kMaxHeldDirs = 65536;
inline constexpr size_t kMaxHeldDirOffers = 8192;
inline constexpr size_t kMaxHeldDirOfferBytes = 2 << 20;  // of paths

// The set's reference point, when its directory records may be used: the
// head record names a point of `holdable` (HoldablePoints) that has
// entries, whose listing digest is the one the directories were computed
// with; `content` when its content digest is too (else only listing
// digests are offered and proved). nullopt otherwise.
struct HeldDirRef {
  int64_t point_ns = 0;
  bool content = false;
};
storage::StatusOr<std::optional<HeldDirRef>> HeldDirReference(
    storage::KvStore* kv, const v1::BackupSet& set,
    const std::map<int64_t, v1::PointRecord>& holdable);

// CHECK tasks: sets Task.held_points to the offers of HoldablePoints() for
// this task and attempt, and Task.held_dirs to those of the reference's
// directories (above). Called when the task is leased (never stored).
storage::Status AddHeldPoints(storage::KvStore* kv, v1::Task* task);

// Adds to `b` the removal of every staged batch and ack key of `task`, and of
// the merge markers and progress records of its attempts (keys::Merged,
// keys::MergeProgress), as point deletes of the
// keys found now: no range tombstones, which RocksDB 7.8 re-fragments on
// every read of the memtable holding them (one per completed task made
// every Get slower as tasks completed). REQUIRES: no batch of the task can be
// staged any more (its lease is being ended under the caller's locks; a
// batch racing in is refused once the task is DONE).
storage::Status DropStaged(storage::KvStore* kv, storage::KvBatch* b, uint64_t task);

}  // namespace vigil::coordinator
