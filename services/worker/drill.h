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
