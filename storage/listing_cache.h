// What a long-running walker remembers of the directories it listed: a
// directory whose change time (ctime) has not moved since it was listed has
// the same names, types and inode numbers, so a walk can take its listing
// from memory instead of opening and reading it (TreeWalker::
// set_listing_cache). A worker checks the same restore points again and
// again; most of their directories never change.
//
// Why the ctime and not the mtime: creating, removing or renaming a name in
// a directory moves both, but the mtime can be set back by anyone who owns
// the directory (utimensat) and no system call sets a ctime to a chosen
// value: the kernel sets it to its current time. A listing is remembered
// under (filesystem id, device, inode, ctime) — a directory removed and
// another created with its inode number has a new ctime; another disk
// mounted later on the same device number has another filesystem id
// (statfs f_fsid: ext4's comes from its UUID) — and only when:
//   - its filesystem is one whose directories' ctimes and readdir() inode
//     numbers are the kernel's own (ext2/3/4, XFS, Btrfs, tmpfs, ZFS, F2FS;
//     not NFS, FUSE, overlayfs: the walker's caller decides, see
//     TreeWalker);
//   - its ctime, read before its names and again after them (the same:
//     nothing changed while they were read), is settled: older than the wall
//     clock by `settle_ns` (2 s). A change made within the same tick of a
//     coarse filesystem clock as the ctime read would not move it (git's
//     "racy timestamp"); a change after the ctime read, once settled, gets
//     a later ctime. A wall clock set back by more than that, and a change
//     landing on the very nanosecond of the remembered ctime, would go
//     unseen until the directory changes again; so would a change written
//     to the disk without the kernel (offline tools such as debugfs):
//     said plainly in docs/storage.md.
//
// Memory is bounded: identical listings (the same directory in each of a
// set's hard-linked dated folders) are kept once, and when the listings and
// their keys pass `max_bytes`, those not used since the last sweep go, then
// (if that is not enough) others until a quarter of the bound is free; the
// one just added always stays.
//
// Thread-safe: tasks running at once share one cache.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "storage/dir_names.h"

namespace vigil::storage {

class ListingCache {
 public:
  struct Options {
    // Bytes of listings and keys kept at most (at least one listing is
    // always accepted). 0: nothing is remembered.
    size_t max_bytes = size_t{64} << 20;
    // How old a directory's ctime must be (by the wall clock) for its
    // listing to be remembered.
    int64_t settle_ns = 2'000'000'000;
    // The wall clock (CLOCK_REALTIME, ns); unset: the system's. A seam for
    // tests.
    std::function<int64_t()> now_ns;
  };
  explicit ListingCache(Options options);
  ListingCache(const ListingCache&) = delete;
  ListingCache& operator=(const ListingCache&) = delete;

  using Names = std::shared_ptr<const std::vector<DirName>>;
  // Which directory: its filesystem's id (statfs f_fsid), device and inode.
  struct Key {
    uint64_t fsid = 0;
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.fsid, k.dev, k.ino);
    }
  };
  // What was remembered of a directory: its names (sorted, as
  // ReadDirNames gives them) and what its walk learnt of them: whether
  // readdir's inode numbers were stat's there (1), not (-1) or not known
  // (0), and the device of its files.
  struct Listing {
    Names names;
    int ino_agrees = 0;
    dev_t files_dev = 0;
  };

  // The listing of directory `key` if it was remembered with change time
  // `ctime_ns`; names == nullptr otherwise.
  Listing Find(const Key& key, int64_t ctime_ns);
  // Whether a directory whose ctime (read before its names) is `ctime_ns`
  // may be remembered now.
  bool Settled(int64_t ctime_ns) const;
  // Remembers `listing` for directory `key` as of `ctime_ns` (REQUIRES:
  // Settled(ctime_ns) when the names were read, and the same ctime read
  // after them). Again for a key found: its listing's ino_agrees and
  // files_dev are updated.
  void Put(const Key& key, int64_t ctime_ns, Listing listing);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t directories = 0;  // keys remembered
    uint64_t listings = 0;     // distinct listings behind them
    size_t bytes = 0;
  };
  Stats stats() const;

 private:
  struct Slot {
    int64_t ctime_ns = 0;
    Listing listing;
    uint64_t content_hash = 0;  // of listing.names (the key into shared_)
    bool used = false;          // found since the last sweep
  };
  // Drops the slots not found since the last sweep, then (still above the
  // bound) others until a quarter of it is free, never `keep`.
  void SweepLocked(const Key& keep) REQUIRES(mu_);
  // One slot fewer uses its listing.
  void DropLocked(const Slot& slot) REQUIRES(mu_);

  const Options options_;
  mutable Mutex mu_;
  absl::flat_hash_map<Key, Slot> slots_ GUARDED_BY(mu_);
  // Distinct listings by a 64-bit hash of their content; the count of
  // slots using each.
  struct Shared {
    Names names;
    size_t users = 0;
    size_t bytes = 0;
  };
  absl::flat_hash_map<uint64_t, std::vector<Shared>> shared_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t hits_ GUARDED_BY(mu_) = 0;
  uint64_t misses_ GUARDED_BY(mu_) = 0;
  uint64_t listings_ GUARDED_BY(mu_) = 0;
};

}  // namespace vigil::storage
