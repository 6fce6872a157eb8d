#include "storage/tree_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "storage/open_beneath.h"

namespace vigil::storage {
namespace {

// Filesystems whose readdir() inode numbers are stat()'s, device for device
// (d_ino is the inode's number, every file of a directory on the
// directory's device), and whose directories' ctimes are the local
// kernel's, moved by every change of their names: ext2/3/4, XFS, Btrfs,
// tmpfs, ZFS, F2FS. Not overlayfs (layers on other devices), NFS (another
// machine's clock and caches) and the others: there the walker stats every
// file and reads every directory.
bool TrustedFsType(unsigned long f_type) {
  switch (f_type) {
    case 0xEF53UL:      // ext2/3/4
    case 0x58465342UL:  // XFS
    case 0x9123683EUL:  // Btrfs
    case 0x01021994UL:  // tmpfs
    case 0x2FC12FC1UL:  // ZFS
    case 0xF2F52010UL:  // F2FS
      return true;
    default:
      return false;
  }
}

bool InodeNumbersAreStats(int dir_fd) {
  struct statfs fs {};
  if (::fstatfs(dir_fd, &fs) != 0) return false;
  return TrustedFsType(static_cast<unsigned long>(fs.f_type));
}

// The filesystem's id (f_fsid; ext4's from its UUID), or false when it is
// not one whose ctimes and inode numbers the cache trusts.
bool TrustedFsid(int dir_fd, uint64_t* fsid) {
  struct statfs fs {};
  if (::fstatfs(dir_fd, &fs) != 0 || !TrustedFsType(static_cast<unsigned long>(fs.f_type))) {
    return false;
  }
  uint32_t v[2];
  static_assert(sizeof v == sizeof fs.f_fsid);
  std::memcpy(v, &fs.f_fsid, sizeof v);
  *fsid = uint64_t{v[0]} << 32 | v[1];
  return true;
}

int64_t CtimeNs(const struct stat& st) {
  return int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
}

}  // namespace

DirHandle::DirHandle(std::shared_ptr<DirHandle> parent, std::string name, dev_t dev, ino_t ino)
    : fd_(-1),
      lazy_(true),
      parent_(std::move(parent)),
      name_(std::move(name)),
      dev_(dev),
      ino_(ino) {}

DirHandle::~DirHandle() {
  if (fd_ >= 0) ::close(fd_);
}

int DirHandle::fd() const {
  if (lazy_) std::call_once(opened_, [this] { OpenLazily(); });
  if (fd_ < 0) errno = error_;
  return fd_;
}

void DirHandle::OpenLazily() const {
  const std::shared_ptr<DirHandle> parent = std::move(parent_);  // not needed after
  const int pfd = parent->fd();
  if (pfd < 0) {
    error_ = errno;
    return;
  }
  const int fd = ::openat(pfd, name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    error_ = errno == ELOOP || errno == ENOTDIR ? ENOENT : errno;  // not that directory now
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
    ::close(fd);
    error_ = ENOENT;  // another directory under its name: the one listed is gone
    return;
  }
  fd_ = fd;
}

StatusOr<std::unique_ptr<TreeWalker>> TreeWalker::Open(const std::string& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string msg = "cannot open directory '" + root + "': " + std::strerror(e);
    if (e == ENOENT) return absl::NotFoundError(msg);
    if (e == ENOTDIR) return absl::InvalidArgumentError(msg);
    return absl::PermissionDeniedError(msg);
  }
  return FromFd(fd, root);
}

StatusOr<std::unique_ptr<TreeWalker>> TreeWalker::OpenAt(int dir_fd, const std::string& rel,
                                                         const std::string& shown) {
  BeneathOpen o = OpenDirBeneath(dir_fd, rel);
  if (o.fd < 0) {
    if (o.symlink()) {
      return absl::InvalidArgumentError("cannot open directory '" + shown + "': '" +
                                        (o.link.empty() ? rel : o.link) +
                                        "' is a symbolic link, not followed");
    }
    std::string msg = "cannot open directory '" + shown + "': " + std::strerror(o.error);
    if (o.error == ENOENT) return absl::NotFoundError(msg);
    if (o.error == ENOTDIR || o.error == EXDEV) return absl::InvalidArgumentError(msg);
    return absl::PermissionDeniedError(msg);
  }
  return FromFd(o.fd, shown);
}

StatusOr<std::unique_ptr<TreeWalker>> TreeWalker::FromFd(int fd, const std::string& shown) {
  auto w = std::unique_ptr<TreeWalker>(new TreeWalker());
  Frame f;
  f.dir = std::make_shared<DirHandle>(fd);
  auto names = std::make_shared<std::vector<DirName>>();
  if (int e = ReadDirNames(fd, names.get()); e != 0) {
    return absl::PermissionDeniedError("cannot read directory '" + shown +
                                       "': " + std::strerror(e));
  }
  f.names = std::move(names);
  w->stack_.push_back(std::move(f));
  w->directories_ = 1;
  return w;
}

TreeWalker::~TreeWalker() = default;

void TreeWalker::Pop() {
  Frame& f = stack_.back();
  // A listing read now is remembered once walked, with what its walk
  // learnt of readdir's inode numbers; one found without that, again if
  // its walk learnt it. Not where they turned out not to be stat's (every
  // file is stat'ed there: nothing to gain).
  if ((f.remember && f.ino_agrees >= 0) || (f.found_unknown && f.ino_agrees > 0)) {
    cache_->Put(f.key, f.dir_ctime_ns, {f.names, f.ino_agrees, f.dev});
  }
  stack_.pop_back();
}

bool TreeWalker::Trusted(Frame& f) {
  if (f.fs_trusted < 0) {
    struct stat st {};
    const int fd = f.dir->fd();
    f.fs_trusted = fd >= 0 && ::fstat(fd, &st) == 0 && TrustedFsid(fd, &f.fsid) ? 1 : 0;
    f.own_dev = st.st_dev;
  }
  return f.fs_trusted > 0;
}

int TreeWalker::Push(Frame& f, const std::string& name, const struct stat& st,
                     const std::string& path) {
  Frame child;
  child.prefix = path + "/";
  // Only a sub-directory on its parent's filesystem, when that is one the
  // cache trusts (a mount point beneath is another filesystem: read).
  if (cache_ != nullptr && Trusted(f) && st.st_dev == f.own_dev) {
    const ListingCache::Key key{f.fsid, st.st_dev, st.st_ino};
    ListingCache::Listing l = cache_->Find(key, CtimeNs(st));
    if (l.names != nullptr) {
      child.dir = std::make_shared<DirHandle>(f.dir, name, st.st_dev, st.st_ino);
      child.names = std::move(l.names);
      child.ino_agrees = l.ino_agrees;
      child.dev = l.files_dev;
      child.fs_trusted = 1;
      child.fsid = f.fsid;
      child.own_dev = st.st_dev;
      child.key = key;
      child.dir_ctime_ns = CtimeNs(st);
      child.found_unknown = l.ino_agrees == 0;
      ++listings_reused_;
      ++directories_;
      stack_.push_back(std::move(child));  // invalidates f
      return 0;
    }
  }
  const int dfd = f.dir->fd();
  const int cfd =
      dfd < 0 ? -1 : ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0) return errno;
  child.dir = std::make_shared<DirHandle>(cfd);
  // Its identity and ctime read before its names, for the cache.
  struct stat before {};
  if (cache_ != nullptr && ::fstat(cfd, &before) == 0) {
    child.own_dev = before.st_dev;
    child.fs_trusted = TrustedFsid(cfd, &child.fsid) ? 1 : 0;
    child.key = {child.fsid, before.st_dev, before.st_ino};
    child.dir_ctime_ns = CtimeNs(before);
    child.remember = child.fs_trusted > 0 && cache_->Settled(child.dir_ctime_ns);
  }
  auto names = std::make_shared<std::vector<DirName>>();
  if (int err = ReadDirNames(cfd, names.get()); err != 0) return err;
  if (child.remember) {
    // And after them: a change while they were read is not remembered
    // under the ctime before it.
    struct stat after {};
    child.remember = ::fstat(cfd, &after) == 0 && CtimeNs(after) == child.dir_ctime_ns;
  }
  child.names = std::move(names);
  ++directories_;
  stack_.push_back(std::move(child));  // invalidates f
  return 0;
}

bool TreeWalker::Next(WalkEntry* e) {
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.next >= f.names->size()) {
      Pop();
      continue;
    }
    const DirName& dn = (*f.names)[f.next++];
    const unsigned char d_type = dn.type;
    const ino_t d_ino = dn.ino;
    struct stat st;
    {
      // Every field reset, the buffers of the path and the name kept (no
      // allocation per entry).
      std::string path = std::move(e->path);
      std::string name = std::move(e->name);
      *e = WalkEntry();
      e->path = std::move(path);
      e->name = std::move(name);
    }
    e->name.assign(dn.name);
    const std::string& name = e->name;
    e->path.assign(f.prefix).append(name);
    e->dir = f.dir;
    if (!stat_files_ && d_type == DT_REG) {
      e->type = EntryType::kFile;
      e->stat_pending = true;
      return true;
    }
    if (known_ && d_type == DT_REG && f.ino_agrees > 0) {
      e->dev = f.dev;
      e->ino = d_ino;
      if (known_(f.dev, d_ino, e)) {
        e->type = EntryType::kFile;
        e->from_known_inode = true;
        return true;
      }
    }
    const int dfd = f.dir->fd();  // (a directory listed from the cache: opened now)
    if (dfd < 0 || ::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // Vanished between readdir and stat (or its directory since it was
      // listed: gone, or another under its name).
      if (errno == ENOENT) continue;
      e->error = errno;
      e->error_text =
          std::string(dfd < 0 ? "cannot open its directory: " : "stat: ") + std::strerror(errno);
      return true;
    }
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->nlink = st.st_nlink;
    if (known_ && d_type == DT_REG && S_ISREG(st.st_mode)) {
      if (f.ino_agrees == 0) {
        f.dev = st.st_dev;
        f.ino_agrees = st.st_ino == d_ino && InodeNumbersAreStats(dfd) ? 1 : -1;
      } else if (st.st_dev != f.dev || st.st_ino != d_ino) {
        f.ino_agrees = -1;  // not the rule here after all: stat from now on
      }
    }
    e->mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    e->ctime_ns = CtimeNs(st);
    if (S_ISDIR(st.st_mode)) {
      if (int err = Push(f, name, st, e->path); err != 0) {  // (f invalid from here)
        if (err == ENOENT) continue;                         // vanished
        e->is_directory = true;
        e->error = err;
        e->error_text = std::string("cannot read directory: ") + std::strerror(err);
        return true;
      }
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      e->type = EntryType::kFile;
      e->size = static_cast<uint64_t>(st.st_size);
    } else if (S_ISLNK(st.st_mode)) {
      e->type = EntryType::kSymlink;
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
      ssize_t n = ::readlinkat(dfd, e->name.c_str(), target.data(), target.size());
      if (n < 0) {
        e->error = errno;
        e->error_text = std::string("readlink: ") + std::strerror(errno);
      } else {
        target.resize(static_cast<size_t>(n));
        e->link_target = std::move(target);
      }
      e->size = e->link_target.size();
    } else {
      e->type = EntryType::kOther;
      e->size = 0;
    }
    return true;
  }
  return false;
}

}  // namespace vigil::storage
