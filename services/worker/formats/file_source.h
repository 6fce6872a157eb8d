// Where the BagIt and checksum-file readers (bagit.h, sumfile.h) find their
// files: a directory open at a descriptor (DirSource: a local set, the
// command line) or a directory of a storage::Store (StoreSource: an S3
// prefix, an SFTP directory, a LocalStore). The readers' logic (what is
// read, in which order, which finding each outcome gives) is written once
// against FileSource; only these few operations differ.
//
// Paths are relative to the source's directory, already checked lexically
// (path_check.h); "" is the directory itself. No symbolic link is followed
// by a StoreSource, nor by a DirSource with Symlinks::kRefuse.
//
// Store errors: a StoreSource tells a finding about the set (a file that is
// missing, a symbolic link, not a regular file) from a store that could not
// be read (credentials refused, unavailable after its retries, an answer
// that does not decode: storage/store.h's PermissionDenied, Unavailable,
// DataLoss, FailedPrecondition). The first of those is kept as
// store_error(); every later operation then fails at once, and the reader's
// report is not a verdict (the caller fails its task with store_error()).
//
// Thread safety: RunFileChecks runs its own threads; the other methods are
// called from one thread. A StoreSource's store must allow calls from
// several threads (store.h's default).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/worker/formats/safe_io.h"
#include "storage/status.h"
#include "storage/store.h"
#include "storage/tree_walker.h"

namespace vigil::formats {

// What is at a path, no link followed.
struct SourceEntry {
  int error = 0;  // errno when it could not be examined (ENOENT: nothing there)
  std::string error_text;
  storage::StoreEntryType type = storage::StoreEntryType::kFile;
  bool exists() const { return error == 0; }
};

// A name directly in a directory, with its type.
struct SourceName {
  std::string name;
  storage::StoreEntryType type = storage::StoreEntryType::kFile;
};

class FileSource {
 public:
  virtual ~FileSource() = default;

  // Reads the whole regular file `rel` into *content; EFBIG when it holds
  // more than `max_bytes` (nothing beyond max_bytes + 1 is read). Errors as
  // OpenBeneath's (safe_io.h): not_found, symlink, EINVAL not a regular file.
  virtual OpenedFile Read(const std::string& rel, uint64_t max_bytes, std::string* content) = 0;

  virtual SourceEntry Lstat(const std::string& rel) = 0;

  // The names directly in directory `rel`, sorted by name bytes. False with
  // *error (its text) when it cannot be listed.
  virtual bool List(const std::string& rel, std::vector<SourceName>* out, std::string* error) = 0;

  // A depth-first walk of directory `rel` in catalogue order (TreeWalker's,
  // StoreWalker's: the same entries); `shown` names it in errors. The
  // function fills the next entry, false at the end.
  using WalkNext = std::function<bool(storage::WalkEntry*)>;
  virtual storage::StatusOr<WalkNext> Walk(const std::string& rel, const std::string& shown) = 0;

  // RunFileChecks (safe_io.h) on this source's files: each read once for
  // all its algorithms, in parallel, a mismatch re-read once after dropping
  // what is cached (Store::DropCached).
  virtual void RunFileChecks(std::vector<FileCheck>* checks, int threads, size_t buffer_bytes) = 0;

  // OK unless a store could not be read (see above).
  virtual storage::Status store_error() const { return storage::Status(); }
};

// The directory open at `dir_fd` (not owned, not closed): the readers'
// descriptor path (openat beneath it, storage/open_beneath.h).
class DirSource final : public FileSource {
 public:
  DirSource(int dir_fd, Symlinks policy) : fd_(dir_fd), policy_(policy) {}
  OpenedFile Read(const std::string& rel, uint64_t max_bytes, std::string* content) override;
  SourceEntry Lstat(const std::string& rel) override;
  bool List(const std::string& rel, std::vector<SourceName>* out, std::string* error) override;
  storage::StatusOr<WalkNext> Walk(const std::string& rel, const std::string& shown) override;
  void RunFileChecks(std::vector<FileCheck>* checks, int threads, size_t buffer_bytes) override;

 private:
  const int fd_;
  const Symlinks policy_;
};

// The directory `base` of `store` (a store path; "" = its root). `store`
// must outlive the source. Manifests and sum files are read with ReadAt in
// chunks of at most 1 MiB; payload files are hashed with ReadAt in reads of
// the hasher's buffer size, stopping at the size Stat gave.
class StoreSource final : public FileSource {
 public:
  StoreSource(storage::Store& store, std::string base) : store_(store), base_(std::move(base)) {}
  OpenedFile Read(const std::string& rel, uint64_t max_bytes, std::string* content) override;
  SourceEntry Lstat(const std::string& rel) override;
  bool List(const std::string& rel, std::vector<SourceName>* out, std::string* error) override;
  storage::StatusOr<WalkNext> Walk(const std::string& rel, const std::string& shown) override;
  void RunFileChecks(std::vector<FileCheck>* checks, int threads, size_t buffer_bytes) override;
  storage::Status store_error() const override;

  // For a reader that streams a file itself (a restore drill): Stat of
  // `rel` as an open would see it (a regular file, size set; or why not:
  // not_found, symlink, EINVAL not a regular file), then ReadAt of it. A
  // failure that is the store's (not the file's) is also kept as
  // store_error(); after one, every call fails at once.
  OpenedFile Open(const std::string& rel);
  const std::string& base() const { return base_; }
  storage::StatusOr<size_t> ReadAt(const std::string& rel, uint64_t offset, void* buf, size_t len);

 private:
  std::string Path(const std::string& rel) const {
    return rel.empty() ? base_ : storage::JoinStorePath(base_, rel);
  }
  // What a failed store call about `rel` means: a finding (NotFound, a
  // link refused: InvalidArgument) as an OpenedFile, or else the store's
  // error, kept as store_error().
  OpenedFile Failure(const std::string& rel, const storage::Status& s);
  // Keeps `s` as the store's error unless one is kept already.
  void Fail(const storage::Status& s);

  storage::Store& store_;
  const std::string base_;
  mutable std::mutex mu_;
  storage::Status error_;  // guarded by mu_
};

}  // namespace vigil::formats
