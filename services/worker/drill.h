// Restore drills (TASK_KIND_DRILL; docs/contracts.md, "Restore drills").
//
// The sample's files are copied from the restore point to
// SCRATCH/drill-<task>-<attempt>/ as a restore would: cold reads (the
// source's cached pages are dropped first, POSIX_FADV_DONTNEED, so the
// read comes from the device), large sequential reads, and synced writes
// (each file fsync'ed before it is closed, then every directory created
// and the scratch directory itself: when the clock stops, the restored
// bytes are on stable storage). The copies are then re-read (pages dropped
// again) and compared with the size and digest of the coordinator's
// catalogue sent in the task, never with the source read. The drill
// directory is removed at the end, whatever happened.
//
// A "restic" set is drilled from the repository itself: the task's one
// sample entry names the snapshot (its file, SHA-256 = the snapshot id);
// formats/restic_restore.h restores a sample of its files (blob by blob:
// cold reads from the packs, decrypted, decompressed, checked against their
// ids; synced writes) into the drill directory, and each copy, re-read from
// the device, is compared with the blob ids and size its tree records. The
// result carries the snapshot's full size (DrillResult.point_bytes). The
// password comes from the worker's --secrets as for checks; none is the
// worker's fault (task error). The repository is read through a store
// (storage/store.h): a LocalStore at a filesystem location, the location's
// store (WorkerOptions::open_store) at an S3 or SFTP one; a store that
// cannot be read fails the task (no mismatch). Plain sets at a remote
// location are not drilled yet (the drill fails saying so).
//
// Errors: anything about the source (set or point gone, unreadable
// layout) is the drill's result (DrillResult.error); a file of the sample
// that cannot be read from the point is a mismatch; a scratch directory
// that cannot be written is the worker's fault (task error, re-queued).
//
// Thread safety: RunDrill runs on the task's own thread; several may run at
// once, each in its own drill directory.
#pragma once

#include "services/worker/task.h"

namespace vigil::worker {

// Runs the drill of attempt->task into host->options().scratch. kDone with
// drill set and drill_result filled (its error set when the drill could
// not run); kError for the worker's own faults; kLost or kStopped.
Outcome RunDrill(TaskHost* host, Attempt* attempt);

}  // namespace vigil::worker
