// A task's backup set on disk (set_dir.h).
#include "services/worker/set_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/key_codec.h"
#include "storage/open_beneath.h"

namespace vigil::worker {

storage::StatusOr<SetDir> ResolveSetDir(const std::map<std::string, std::string>& locations,
                                        const v1::BackupSet& set) {
  auto it = locations.find(set.location());
  if (it == locations.end()) {
    return absl::FailedPreconditionError("location '" + set.location() + "' not served here");
  }
  if (it->second.empty()) {
    // Served as remote (--location NAME) but declared a directory.
    return absl::FailedPreconditionError(
        "location '" + set.location() +
        "' is a filesystem location in the contract, but this worker serves it as a remote "
        "location (--location " +
        set.location() + " without =PATH): give its directory, --location " + set.location() +
        "=PATH");
  }
  if (!storage::IsValidRelativePath(set.path())) {
    return absl::InvalidArgumentError("backup set path '" + set.path() +
                                      "' is not a relative path inside the location");
  }
  int root = open(it->second.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    // The worker's own --location: its fault, not the set's.
    return absl::FailedPreconditionError("location root '" + it->second +
                                         "': " + std::strerror(errno));
  }
  const std::string want = it->second + "/" + set.path();
  storage::BeneathOpen o = storage::OpenDirBeneath(root, set.path());
  close(root);
  if (o.fd < 0) {
    if (o.symlink()) {
      return absl::PermissionDeniedError(
          "backup set directory '" + want + "': '" + (o.link.empty() ? set.path() : o.link) +
          "' is a symbolic link, not followed (a link in a backup set's path could lead "
          "outside the location root)");
    }
    if (o.error == ENOENT) {
      return absl::NotFoundError("backup set directory '" + want + "': " + std::strerror(o.error));
    }
    return absl::PermissionDeniedError("backup set directory '" + want +
                                       "': " + std::strerror(o.error));
  }
  return SetDir{want, std::make_shared<storage::DirHandle>(o.fd)};
}

v1::StoreUsage UsageOf(const storage::Store& store) {
  const storage::StoreCounters& c = store.counters();
  v1::StoreUsage u;
  u.set_requests(c.requests.load());
  u.set_bytes_read(c.bytes_read.load());
  u.set_retries(c.retries.load());
  return u;
}

bool IsRemoteLocation(const v1::Task& task) {
  const std::string& kind = task.location().kind();
  return !kind.empty() && kind != "filesystem";
}

storage::StatusOr<StoreSetDir> ResolveStoreSetDir(const WorkerOptions& options,
                                                  const v1::Task& task) {
  const v1::BackupSet& set = task.backup_set();
  const std::string& kind = task.location().kind();
  const std::string where = "location '" + set.location() + "' (" + kind + ")";
  if (kind != "s3" && kind != "sftp") {
    return absl::FailedPreconditionError(where + ": unknown location kind");
  }
  auto served = options.locations.find(set.location());
  if (served == options.locations.end()) {
    return absl::FailedPreconditionError(where + " not served here");
  }
  if (!served->second.empty()) {
    // Served as a directory (--location NAME=PATH, e.g. a bucket mounted by
    // hand) but declared remote: which one is read would be a guess.
    return absl::FailedPreconditionError(
        where + " is served by this worker as the directory '" + served->second +
        "' (--location NAME=PATH); a remote location is served by its name alone, --location " +
        set.location());
  }
  if (!options.open_store) {
    return absl::FailedPreconditionError(where + ": this worker cannot read " + kind +
                                         " locations (no store configured)");
  }
  if (!storage::IsValidRelativePath(set.path())) {
    return absl::InvalidArgumentError("backup set path '" + set.path() +
                                      "' is not a relative path inside the location");
  }
  auto store = options.open_store(task.location());
  if (!store.ok()) {
    return storage::Status(store.status().code(),
                           where + ": " + std::string(store.status().message()));
  }
  if (*store == nullptr) return absl::FailedPreconditionError(where + ": no store opened");
  StoreSetDir dir;
  dir.store = std::move(*store);
  dir.path = set.path();
  dir.shown = dir.store->Describe() + "/" + set.path();
  auto e = dir.store->Stat(dir.path);
  if (!e.ok()) {
    return storage::Status(e.status().code(), "backup set directory '" + dir.shown +
                                                  "': " + std::string(e.status().message()));
  }
  if (e->type == storage::StoreEntryType::kSymlink) {
    return absl::InvalidArgumentError("backup set directory '" + dir.shown +
                                      "' is a symbolic link, not followed");
  }
  if (e->type != storage::StoreEntryType::kDirectory) {
    return absl::InvalidArgumentError("backup set directory '" + dir.shown +
                                      "' is not a directory");
  }
  return dir;
}

storage::StatusOr<contracts::BackupSet> ContractSet(const v1::BackupSet& b) {
  contracts::BackupSet c;
  c.name = b.name();
  c.location = b.location();
  c.path = b.path();
  c.format = b.format().empty() ? "dir" : b.format();
  const std::string& l = b.layout();
  if (l.empty() || l == "mirror") {
    c.layout = contracts::Layout::kMirror;
  } else if (l == "dated-folders") {
    c.layout = contracts::Layout::kDatedFolders;
  } else if (l == "rsnapshot") {
    c.layout = contracts::Layout::kRsnapshot;
  } else if (l == "dated-files") {
    c.layout = contracts::Layout::kDatedFiles;
  } else if (l == "bagit-bags") {
    c.layout = contracts::Layout::kBagitBags;
  } else if (l == "restic-snapshots") {
    c.layout = contracts::Layout::kResticSnapshots;
  } else {
    return absl::InvalidArgumentError("unknown restore-point layout '" + l + "'");
  }
  c.pattern = b.pattern();
  c.time_from_mtime = b.time_from_mtime();
  if (!b.content_hash().empty()) c.content_hash = b.content_hash();
  c.mutable_ = b.mutable_();
  return c;
}

namespace {

// What became of a point since discovery: `why` when it could not be
// looked at, else whether it is still of its kind with the same time.
Outcome JudgePoint(const contracts::DiscoveredPoint& point, const std::string& why, bool want_dir,
                   bool of_kind, int64_t mtime_ns) {
  if (!why.empty()) {
    return {Outcome::kError, "restore point '" + point.name + "' vanished during the check: " + why,
            0};
  }
  if (!of_kind) {
    return {Outcome::kError,
            "restore point '" + point.name + "' is no longer a " +
                (want_dir ? "directory" : "regular file"),
            0};
  }
  if (point.time_source == "mtime" && mtime_ns != point.time_ns) {
    return {Outcome::kError,
            "restore point '" + point.name + "' changed during the check (rotated?)", 0};
  }
  return {};
}

}  // namespace

Outcome CheckPointUnchanged(const SetDir& dir, const contracts::DiscoveredPoint& point,
                            bool want_dir, struct stat* st) {
  if (fstatat(dir.fd(), point.name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
    return JudgePoint(point, std::strerror(errno), want_dir, false, 0);
  }
  return JudgePoint(point, "", want_dir, want_dir ? S_ISDIR(st->st_mode) : S_ISREG(st->st_mode),
                    int64_t{st->st_mtim.tv_sec} * 1'000'000'000 + st->st_mtim.tv_nsec);
}

Outcome CheckStorePointUnchanged(const StoreSetDir& dir, const contracts::DiscoveredPoint& point,
                                 bool want_dir, storage::StoreEntry* e) {
  auto st = dir.store->Stat(storage::JoinStorePath(dir.path, point.name));
  if (!st.ok()) return JudgePoint(point, std::string(st.status().message()), want_dir, false, 0);
  const auto want = want_dir ? storage::StoreEntryType::kDirectory : storage::StoreEntryType::kFile;
  Outcome o = JudgePoint(point, "", want_dir, st->type == want, st->mtime_ns);
  if (o.kind == Outcome::kDone) *e = std::move(*st);
  return o;
}

}  // namespace vigil::worker
