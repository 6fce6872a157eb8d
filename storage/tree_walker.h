// Depth-first walk of a directory tree in catalogue key order.
//
// Each directory's children are sorted by name bytes and visited depth-first,
// which is exactly the order of the catalogue's keys (see key_codec.h), so
// the walk can be merge-joined with a catalogue scan. Memory is bounded by
// the largest single directory (its names), not by the tree.
//
// Symlinks are reported as links with their target and never followed
// (every directory is opened with openat(O_DIRECTORY | O_NOFOLLOW) on its
// parent's descriptor).
// Special files (devices, FIFOs, sockets) are reported, never opened.
// Directories are descended into, not reported, except when they cannot be
// read (then reported with `error`). Names are raw bytes.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/dir_names.h"
#include "storage/entry.h"
#include "storage/listing_cache.h"
#include "storage/status.h"

namespace vigil::storage {

// An open directory, shared by the entries read from it so that files can be
// opened relative to it (openat) after the walk has moved on.
//
// A directory whose listing the walk took from a ListingCache is opened
// only when something needs it (a file to stat or read, a sub-directory to
// open): `name` beneath `parent`, no link followed, and it must still be the
// directory (dev, ino) the listing is of. Thread-safe: readers on other
// threads may ask for fd() at once.
class DirHandle {
 public:
  explicit DirHandle(int fd) : fd_(fd) {}
  DirHandle(std::shared_ptr<DirHandle> parent, std::string name, dev_t dev, ino_t ino);
  ~DirHandle();
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;
  // The descriptor; -1 with errno set when the directory could not be
  // opened when first asked for (ENOENT: gone, or another directory now
  // under its name).
  int fd() const;

 private:
  void OpenLazily() const;
  mutable int fd_;
  mutable int error_ = 0;
  const bool lazy_ = false;
  mutable std::once_flag opened_;
  mutable std::shared_ptr<DirHandle> parent_;  // until opened
  std::string name_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

struct WalkEntry {
  std::string path;  // relative to the root, '/'-separated
  std::string name;  // last component (for openat on dir)
  std::shared_ptr<DirHandle> dir;
  EntryType type = EntryType::kFile;
  bool is_directory = false;  // only set for unreadable directories
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  // The inode's change time (TreeWalker: from stat; 0 from a store): a
  // hard link added, a chmod or a write moves it, and an inode number
  // reused by a new file gets a new one.
  int64_t ctime_ns = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  nlink_t nlink = 1;
  std::string link_target;
  // A regular file (by the directory's d_type) that was not stat'ed, see
  // TreeWalker::set_stat_files(): size, mtime_ns, dev, ino and nlink are
  // unknown (0) until whoever opens it fills them from fstat.
  bool stat_pending = false;
  // Filled by TreeWalker::set_known_inode's callback, not by a stat.
  bool from_known_inode = false;
  int error = 0;  // errno if the entry could not be examined/read
  std::string error_text;
  // StoreWalker, a regular file: what the store recorded of its content at
  // upload (StoreEntry::etag, checksum_sha256); empty from TreeWalker.
  std::string etag;
  std::string checksum_sha256;
};

class TreeWalker {
 public:
  // Opens `root` (must be a directory) by its path: the directory the
  // operator names (`vigil verify DIR`), which may be reached through links.
  // InvalidArgument/NotFound otherwise.
  static StatusOr<std::unique_ptr<TreeWalker>> Open(const std::string& root);
  // Opens the directory `rel` beneath the open directory `dir_fd` ("" or
  // "." for dir_fd itself) by the rule of storage/open_beneath.h: no
  // symbolic link is followed in any component (InvalidArgument naming the
  // link). `shown` names it in errors. What is read from a backup set.
  static StatusOr<std::unique_ptr<TreeWalker>> OpenAt(int dir_fd, const std::string& rel,
                                                      const std::string& shown);
  ~TreeWalker();

  // Fills *e with the next entry; false at the end of the walk.
  bool Next(WalkEntry* e);

  uint64_t directories() const { return directories_; }

  // If false, regular files whose type the directory listing gives (d_type)
  // are returned without a stat of their own, with stat_pending set: one
  // system call fewer per file for a reader that fstat()s the open file
  // anyway. Directories, symlinks, special files and DT_UNKNOWN are stat'ed
  // as always. Takes effect from the next Next(). Default: true.
  void set_stat_files(bool on) { stat_files_ = on; }

  // Attributes of an inode the caller stat'ed already (a hard-linked file
  // met under another name earlier in the same pass): for a regular file
  // (d_type) whose directory entry names inode `ino` of the directory's
  // device `dev`, `known` may fill size, mtime_ns, ctime_ns and nlink and return
  // true; the file is then not stat'ed again (e->dev and e->ino are set).
  // Only on filesystems known to give readdir() the inode numbers stat()
  // gives, on the directory's device (ext4, XFS, Btrfs, tmpfs, ZFS, F2FS;
  // not overlayfs, NFS...), and in a directory where that holds for its
  // first regular file, which is always stat'ed (and for every file stat'ed
  // after it). Unset: every file is stat'ed.
  using KnownInode = std::function<bool(dev_t dev, ino_t ino, WalkEntry* e)>;
  void set_known_inode(KnownInode known) { known_ = std::move(known); }

  // Sub-directories whose (filesystem, device, inode, ctime) `cache`
  // remembers are not opened nor read: their names come from it
  // (storage/listing_cache.h, which says when that holds), and the
  // directory is opened only if one of its entries must be stat'ed or read
  // (DirHandle). Only on the filesystems named at set_known_inode, and for
  // a sub-directory on its parent's filesystem (not a mount point). Listings
  // read here are remembered once walked. The walk's root is always read.
  // Unset: every directory is read.
  void set_listing_cache(ListingCache* cache) { cache_ = cache; }
  // Directories whose listing came from the cache.
  uint64_t listings_reused() const { return listings_reused_; }

 private:
  struct Frame {
    std::shared_ptr<DirHandle> dir;
    std::string prefix;         // "a/b/" or "" at the root
    ListingCache::Names names;  // sorted
    size_t next = 0;
    // Its first regular file stat'ed: its device, and whether readdir's
    // inode numbers are stat's here (1), not (-1) or not known yet (0).
    dev_t dev = 0;
    int ino_agrees = 0;
    // With a cache: whether the directory's filesystem is one the cache
    // trusts (1), not (0) or not looked at yet (-1), its id and the
    // directory's device.
    int fs_trusted = -1;
    uint64_t fsid = 0;
    dev_t own_dev = 0;
    // The directory's key in the cache and its ctime: read now and to be
    // remembered once walked (remember), or found there with ino_agrees
    // not known (found_unknown: remembered again if its walk learns it).
    ListingCache::Key key;
    int64_t dir_ctime_ns = 0;
    bool remember = false;
    bool found_unknown = false;
  };
  // Whether frame `f`'s directory is on a filesystem the cache trusts
  // (looked at once per frame read from disk; a frame from the cache
  // inherits its parent's).
  bool Trusted(Frame& f);
  // Pops the walked frame on top, remembering its listing if it may be.
  void Pop();
  // Pushes directory `name` of frame `f` (stat'ed as `st`), from the cache
  // or read now; 0, or the errno of a failure to open or read it.
  int Push(Frame& f, const std::string& name, const struct stat& st, const std::string& path);
  TreeWalker() = default;
  // Takes ownership of `fd`, an open directory.
  static StatusOr<std::unique_ptr<TreeWalker>> FromFd(int fd, const std::string& shown);
  std::vector<Frame> stack_;
  uint64_t directories_ = 0;
  bool stat_files_ = true;
  KnownInode known_;
  ListingCache* cache_ = nullptr;
  uint64_t listings_reused_ = 0;
};

}  // namespace vigil::storage
