// Depth-first walk of a storage::Store subtree in catalogue key order: the
// twin of TreeWalker (tree_walker.h) for a tree that is not a local
// directory (an S3 prefix, an SFTP directory, or a LocalStore in tests).
//
// The order is exactly TreeWalker's: each directory's children sorted by
// name bytes (std::string order, as dir_names.h and the catalogue's keys)
// and visited depth-first, so the walk merge-joins with a catalogue scan
// and a check over a store emits what a check of the same files on disk
// does. Memory is bounded by the largest single directory: one sorted
// listing per level of the current path (the store itself holds one page
// of a listing at a time).
//
// Entries carry TreeWalker's WalkEntry fields: path (relative to the walk's
// root), name, type, size, mtime_ns, link_target (symbolic links are
// reported, never followed), and for a directory that cannot be listed
// is_directory with error/error_text. A store has no inodes and no
// descriptors: dir is null, dev/ino/nlink are 0, stat_pending is false.
// Files are read through the store (FileHasher::ReadStore with
// JoinStorePath(root, path)).
//
// Thread safety: one walker per thread; the store may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"
#include "storage/store.h"
#include "storage/tree_walker.h"

namespace vigil::storage {

class StoreWalker {
 public:
  // Lists the directory `root` of `store` ("" for the store's root) and
  // returns a walker positioned before its first child. `shown` names the
  // root in errors. The store's own error when `root` cannot be listed
  // (NotFound when it does not exist; store.h), with `shown` prefixed.
  // `store` must outlive the walker.
  static StatusOr<std::unique_ptr<StoreWalker>> Open(Store& store, std::string_view root,
                                                     const std::string& shown);

  // Fills *e with the next entry; false at the end of the walk.
  bool Next(WalkEntry* e);

  // Directories listed so far, the root included.
  uint64_t directories() const { return directories_; }

 private:
  struct Frame {
    std::string prefix;                // relative to the walk's root: "a/b/" or ""
    std::vector<StoreEntry> children;  // sorted by name
    size_t next = 0;
  };
  StoreWalker(Store& store, std::string root) : store_(store), root_(std::move(root)) {}
  // The children of `dir` (a store path), sorted by name.
  Status ListSorted(const std::string& dir, std::vector<StoreEntry>* out);

  Store& store_;
  const std::string root_;  // the walk's root, a store path
  std::vector<Frame> stack_;
  uint64_t directories_ = 0;
};

}  // namespace vigil::storage
