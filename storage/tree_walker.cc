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
// directory's device): ext2/3/4, XFS, Btrfs, tmpfs, ZFS, F2FS. Not overlayfs
// (layers on other devices), NFS and the others: there the walker stats.
bool InodeNumbersAreStats(int dir_fd) {
  struct statfs fs {};
  if (::fstatfs(dir_fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
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

}  // namespace

DirHandle::~DirHandle() {
  if (fd_ >= 0) ::close(fd_);
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
  if (int e = ReadDirNames(fd, &f.names); e != 0) {
    return absl::PermissionDeniedError("cannot read directory '" + shown +
                                       "': " + std::strerror(e));
  }
  w->stack_.push_back(std::move(f));
  w->directories_ = 1;
  return w;
}

TreeWalker::~TreeWalker() = default;

bool TreeWalker::Next(WalkEntry* e) {
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.next >= f.names.size()) {
      stack_.pop_back();
      continue;
    }
    unsigned char d_type = f.names[f.next].type;
    const ino_t d_ino = f.names[f.next].ino;
    std::string name = std::move(f.names[f.next++].name);
    struct stat st;
    int dfd = f.dir->fd();
    {
      // Every field reset, the path's buffer kept (no allocation per entry).
      std::string path = std::move(e->path);
      *e = WalkEntry();
      e->path = std::move(path);
    }
    e->path.assign(f.prefix).append(name);
    e->dir = f.dir;
    if (!stat_files_ && d_type == DT_REG) {
      e->type = EntryType::kFile;
      e->stat_pending = true;
      e->name = std::move(name);
      return true;
    }
    if (known_ && d_type == DT_REG && f.ino_agrees > 0) {
      e->dev = f.dev;
      e->ino = d_ino;
      if (known_(f.dev, d_ino, e)) {
        e->type = EntryType::kFile;
        e->from_known_inode = true;
        e->name = std::move(name);
        return true;
      }
    }
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // vanished between readdir and stat
      e->error = errno;
      e->error_text = std::string("stat: ") + std::strerror(errno);
      e->name = std::move(name);
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
    e->ctime_ns = int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
    if (S_ISDIR(st.st_mode)) {
      int cfd = ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      Frame child;
      int err = cfd < 0 ? errno : 0;
      if (cfd >= 0) {
        child.dir = std::make_shared<DirHandle>(cfd);
        err = ReadDirNames(cfd, &child.names);
      }
      if (err != 0) {
        if (err == ENOENT) continue;  // vanished
        e->is_directory = true;
        e->error = err;
        e->error_text = std::string("cannot read directory: ") + std::strerror(err);
        e->name = std::move(name);
        return true;
      }
      ++directories_;
      child.prefix = e->path + "/";
      stack_.push_back(std::move(child));  // invalidates f
      continue;
    }
    e->name = std::move(name);
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
