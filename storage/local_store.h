// storage::Store over a local directory: the test double of the remote
// stores (real files, real system calls) and the reference for how a Store
// behaves. The worker's store readers (StoreWalker, FileHasher::ReadStore,
// contracts::DiscoverRestorePointsIn) are tested over it against their
// descriptor-based twins on the same tree.
//
// Everything is opened beneath the root by the rule of storage/open_beneath.h:
// no symbolic link is followed in any component of a path asked (refused
// with InvalidArgument naming the link); a link listed or stat'ed is reported
// as kSymlink with its target. List reads the directory with readdir (the
// C library's getdents in page-sized batches) and stats each child with
// fstatat(AT_SYMLINK_NOFOLLOW); ReadAt preads an O_NOFOLLOW descriptor,
// keeping the last one open so that sequential reads of one file open it
// once. Every call counts one request; ReadAt counts the bytes it returns.
//
// Errors follow store.h: NotFound (ENOENT), PermissionDenied (EACCES, EPERM),
// FailedPrecondition (a component is not a directory; ReadAt on anything but
// a regular file), InvalidArgument (a bad path, a symbolic link in one),
// Unavailable (any other errno, e.g. EIO). Messages name Describe() and the
// path.
//
// Thread safety: every method may be called from several threads at once
// (the cached descriptor is shared under a mutex, read without it).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace vigil::storage {

class LocalStore final : public Store {
 public:
  // Opens `root` (a directory, named by its path: the operator's, it may be
  // reached through links). NotFound / InvalidArgument (not a directory) /
  // PermissionDenied otherwise.
  static StatusOr<std::unique_ptr<LocalStore>> Open(const std::string& root);
  // Opens the directory `rel` beneath the directory open at `dir_fd` (not
  // owned, not closed) by the rule of storage/open_beneath.h: no symbolic
  // link followed in any component of `rel` ("" = `dir_fd` itself).
  // `shown` is what Describe() says (the directory's path, for messages).
  // Errors as Open's; InvalidArgument naming a link in `rel`.
  static StatusOr<std::unique_ptr<LocalStore>> OpenAt(int dir_fd, const std::string& rel,
                                                      const std::string& shown);
  ~LocalStore() override;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  std::string Describe() const override { return root_; }
  Status List(std::string_view dir, const std::function<bool(StoreEntry&&)>& each) override;
  StatusOr<StoreEntry> Stat(std::string_view path) override;
  StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf, size_t len) override;
  // posix_fadvise(DONTNEED) on the whole file (opened beneath the root, no
  // link followed; the descriptor ReadAt keeps when it is that file).
  void DropCached(std::string_view path) override;

 private:
  struct OpenFile;
  LocalStore(std::string root, int fd) : root_(std::move(root)), root_fd_(fd) {}
  // The status for errno `err` about `path` ("what": the operation).
  Status Error(int err, std::string_view what, std::string_view path) const;
  // InvalidArgument: `link` (a component of `path`) is a symbolic link.
  Status LinkRefused(std::string_view what, std::string_view path, const std::string& link) const;

  const std::string root_;
  const int root_fd_;
  std::mutex mu_;
  std::shared_ptr<OpenFile> last_;  // guarded by mu_: the last file ReadAt opened
};

}  // namespace vigil::storage
