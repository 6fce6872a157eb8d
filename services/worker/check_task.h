// CHECK tasks: what a worker does with a leased check of a backup set.
//
//   - plain sets (dir, bagit, sumfile): restore points discovered by the
//     set's layout (services/contracts/restore_points.h), each walked
//     (dated-files: the point file itself) and every regular file hashed
//     (xxh3-128) at the task's read rate, hard-linked files read once per
//     task; points the scheduler marked metadata-only are listed, not read.
//     Observations go out in numbered batches on the attempt's stream, the
//     first with the list of points. Then the format's own verdicts
//     (format_tasks.h: bags validated, checksum files verified) go with the
//     completion;
//   - restic sets: the repository verified with the native reader instead
//     of a walk (format_tasks.h CheckResticRepository): its snapshots are the
//     points, one observation each; the verdict and the pack list go with
//     the completion.
//
// Everything of the set is read beneath its directory's descriptor, no link
// followed (set_dir.h). Metadata and hashes only, never contents.
//
// Thread safety: RunCheck runs on the task's own thread; several run at
// once (one per leased task).
#pragma once

#include <string>
#include <vector>

#include "services/worker/task.h"
#include "storage/store.h"

namespace vigil::worker {

// Runs the check of attempt->task (a CHECK task). kDone with the last
// batch's seq, the verdicts and packs; kError with a message about the set;
// kLost or kStopped when the lease was lost or the worker stops meanwhile.
Outcome RunCheck(TaskHost* host, Attempt* attempt);

// Directory names two levels below a location's root ("A/B"), hidden
// names skipped, symlinks not followed, at most 10,000: what is stored
// there, for the coordinator's scope check. Names only, never contents.
std::vector<std::string> SurveyLocation(const std::string& root);
// The same of a remote location's store (the root of the store: an S3
// prefix, an SFTP directory): one listing of the root and one of each
// directory in it (S3: one request per 1,000 children); a directory that
// cannot be listed contributes nothing. The local survey above is this one
// over a LocalStore. RunCheck surveys a remote location with the check's
// own store once the check is done (Outcome::location_dirs).
std::vector<std::string> SurveyLocation(storage::Store& store);

}  // namespace vigil::worker
