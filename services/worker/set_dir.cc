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

Outcome CheckPointUnchanged(const SetDir& dir, const contracts::DiscoveredPoint& point,
                            bool want_dir, struct stat* st) {
  if (fstatat(dir.fd(), point.name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
    return {Outcome::kError,
            "restore point '" + point.name + "' vanished during the check: " + std::strerror(errno),
            0};
  }
  if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
    return {Outcome::kError,
            "restore point '" + point.name + "' is no longer a " +
                (want_dir ? "directory" : "regular file"),
            0};
  }
  const int64_t mtime = int64_t{st->st_mtim.tv_sec} * 1'000'000'000 + st->st_mtim.tv_nsec;
  if (point.time_source == "mtime" && mtime != point.time_ns) {
    return {Outcome::kError,
            "restore point '" + point.name + "' changed during the check (rotated?)", 0};
  }
  return {};
}

}  // namespace vigil::worker
