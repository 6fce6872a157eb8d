// A task's backup set on disk: its directory opened beneath the location's
// root (docs/formats.md "Confinement"), or in the store of a remote
// location (S3, SFTP: WorkerOptions::open_store); the contract model's view
// of the set for discovery, and the check that a restore point is still
// what discovery found. Shared by CHECK tasks (check_task.cc) and restore
// drills (drill.cc). No gRPC.
//
// Thread safety: free functions; a SetDir may be used by one thread at a
// time (its descriptor is shared, never closed while a copy lives).
#pragma once

#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "services/contracts/model.h"
#include "services/contracts/restore_points.h"
#include "services/worker/task.h"
#include "storage/status.h"
#include "storage/store.h"
#include "storage/tree_walker.h"
#include "vigil/v1/types.pb.h"

namespace vigil::worker {

// A backup set's directory, open: everything of the set is read beneath
// this descriptor (storage/open_beneath.h), never by a path again.
struct SetDir {
  std::string path;  // location root + "/" + set path, for messages
  std::shared_ptr<storage::DirHandle> dir;
  int fd() const { return dir->fd(); }
};

// Opens the backup set's directory beneath its location root (`locations`:
// name -> root, WorkerOptions::locations). The root (the MSP's own
// --location NAME=PATH) is opened by its path and may be a symbolic link;
// the set's path beneath it may hold none, in any component (openat2
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or one component at a time with
// O_NOFOLLOW): a link is refused naming it. FailedPrecondition when the
// location is not served here or its root cannot be opened (the worker's
// fault); NotFound only when the set's directory (a component of its path)
// does not exist beneath the root (a CHECK reports that as evidence, not a
// failure); InvalidArgument or PermissionDenied about the set otherwise.
storage::StatusOr<SetDir> ResolveSetDir(const std::map<std::string, std::string>& locations,
                                        const v1::BackupSet& set);

// True when the task's location is read through a store (Location.kind
// "s3" or "sftp"); false for a filesystem location ("filesystem" or empty,
// read through descriptors as above).
bool IsRemoteLocation(const v1::Task& task);

// The store's counters as reported to the coordinator
// (CompleteTaskRequest.store_usage): what reading it cost so far.
v1::StoreUsage UsageOf(const storage::Store& store);

// A backup set in the store of a remote location: everything of the set is
// read through `store` beneath `path`, no link followed.
struct StoreSetDir {
  std::unique_ptr<storage::Store> store;
  std::string path;   // the set's directory, a store path
  std::string shown;  // Describe() + "/" + path, for messages
};

// Opens the store of the task's remote location through `options`'
// open_store and looks at the set's directory in it. FailedPrecondition
// when the location is not served here or this worker has no store
// factory (the worker's fault), or the store's own error opening it;
// NotFound only when the set's directory does not exist in the store (a
// CHECK reports that as evidence, not a failure); InvalidArgument when the
// set's path is not a relative path or it is not a directory (a symbolic
// link among them); the store's error otherwise.
storage::StatusOr<StoreSetDir> ResolveStoreSetDir(const WorkerOptions& options,
                                                  const v1::Task& task);

// The contract model's view of a task's backup set, for discovery.
// InvalidArgument for an unknown layout.
storage::StatusOr<contracts::BackupSet> ContractSet(const v1::BackupSet& b);

// The point is still where discovery found it, with the same time when the
// time came from its mtime (rsnapshot may rotate during a check: walking
// daily.1 after a rotation would read another point under this one's time).
// It is still of its kind (a directory, or a regular file for
// dated-files): a symbolic link swapped in is refused, never followed.
// kDone with *st filled, else kError saying what changed.
Outcome CheckPointUnchanged(const SetDir& dir, const contracts::DiscoveredPoint& point,
                            bool want_dir, struct stat* st);

// The same for a set in a store: the point's entry (Stat, no link
// followed) is still of its kind, with the same mtime when the time came
// from it. kDone with *e filled, else kError saying what changed.
Outcome CheckStorePointUnchanged(const StoreSetDir& dir, const contracts::DiscoveredPoint& point,
                                 bool want_dir, storage::StoreEntry* e);

}  // namespace vigil::worker
