// storage::Store over a local directory (local_store.h).
#include "storage/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "storage/open_beneath.h"

namespace vigil::storage {

// A file ReadAt opened, kept for the next read of the same path.
struct LocalStore::OpenFile {
  std::string path;
  int fd = -1;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// The entry for a child `name` of the directory open at `dir_fd`, from
// fstatat(AT_SYMLINK_NOFOLLOW); a link's target read, never followed.
// errno on failure.
int StatChild(int dir_fd, const char* name, StoreEntry* e) {
  struct stat st;
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  e->mtime_ns = MtimeNs(st);
  if (S_ISREG(st.st_mode)) {
    e->type = StoreEntryType::kFile;
    e->size = static_cast<uint64_t>(st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    e->type = StoreEntryType::kDirectory;
    e->size = 0;
  } else if (S_ISLNK(st.st_mode)) {
    e->type = StoreEntryType::kSymlink;
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
    ssize_t n = ::readlinkat(dir_fd, name, target.data(), target.size());
    if (n < 0) return errno;
    target.resize(static_cast<size_t>(n));
    e->link_target = std::move(target);
    e->size = e->link_target.size();
  } else {
    e->type = StoreEntryType::kOther;
    e->size = 0;
  }
  return 0;
}

}  // namespace

StatusOr<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string msg = "cannot open directory '" + root + "': " + std::strerror(e);
    if (e == ENOENT) return absl::NotFoundError(msg);
    if (e == ENOTDIR) return absl::InvalidArgumentError(msg);
    return absl::PermissionDeniedError(msg);
  }
  return std::unique_ptr<LocalStore>(new LocalStore(root, fd));
}

StatusOr<std::unique_ptr<LocalStore>> LocalStore::OpenAt(int dir_fd, const std::string& rel,
                                                         const std::string& shown) {
  BeneathOpen o = OpenDirBeneath(dir_fd, rel);
  if (o.fd < 0) {
    const std::string where = rel.empty() ? shown : shown + "/" + rel;
    if (o.symlink()) {
      return absl::InvalidArgumentError("cannot open directory '" + where + "': '" +
                                        (o.link.empty() ? rel : o.link) +
                                        "' is a symbolic link, not followed");
    }
    std::string msg = "cannot open directory '" + where + "': " + std::strerror(o.error);
    if (o.error == ENOENT) return absl::NotFoundError(msg);
    if (o.error == ENOTDIR) return absl::InvalidArgumentError(msg);
    return absl::PermissionDeniedError(msg);
  }
  return std::unique_ptr<LocalStore>(new LocalStore(shown, o.fd));
}

LocalStore::~LocalStore() { ::close(root_fd_); }

Status LocalStore::LinkRefused(std::string_view what, std::string_view path,
                               const std::string& link) const {
  return absl::InvalidArgumentError(root_ + ": " + std::string(what) + " '" + std::string(path) +
                                    "': '" + link + "' is a symbolic link, not followed");
}

Status LocalStore::Error(int err, std::string_view what, std::string_view path) const {
  std::string msg =
      root_ + ": " + std::string(what) + " '" + std::string(path) + "': " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case ENOTDIR:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

Status LocalStore::List(std::string_view dir, const std::function<bool(StoreEntry&&)>& each) {
  if (Status s = CheckStorePath(dir, root_ + ": directory"); !s.ok()) return s;
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  BeneathOpen o = OpenDirBeneath(root_fd_, dir);
  if (o.fd < 0) {
    if (o.symlink()) {
      return LinkRefused("directory", dir, o.link.empty() ? std::string(dir) : o.link);
    }
    return Error(o.error, "directory", dir);
  }
  DIR* d = ::fdopendir(o.fd);  // owns o.fd from here
  if (d == nullptr) {
    const int e = errno;
    ::close(o.fd);
    return Error(e, "directory", dir);
  }
  const int fd = ::dirfd(d);
  Status status;
  while (true) {
    errno = 0;
    struct dirent* de = ::readdir(d);
    if (de == nullptr) {
      if (errno != 0) status = Error(errno, "reading directory", dir);
      break;
    }
    const char* n = de->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    StoreEntry e;
    e.name = n;
    if (int err = StatChild(fd, n, &e); err != 0) {
      if (err == ENOENT) continue;  // vanished between readdir and stat
      status = Error(err, "stat", JoinStorePath(dir, e.name));
      break;
    }
    if (!each(std::move(e))) break;
  }
  ::closedir(d);
  return status;
}

StatusOr<StoreEntry> LocalStore::Stat(std::string_view path) {
  if (Status s = CheckStorePath(path, root_ + ": path"); !s.ok()) return s;
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  StoreEntry e;
  e.name = std::string(path);
  if (path.empty()) {
    struct stat st;
    if (::fstat(root_fd_, &st) != 0) return Error(errno, "stat", path);
    e.type = StoreEntryType::kDirectory;
    e.mtime_ns = MtimeNs(st);
    return e;
  }
  const size_t slash = path.rfind('/');
  const std::string_view parent =
      slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  BeneathOpen o = OpenDirBeneath(root_fd_, parent);
  if (o.fd < 0) {
    if (o.symlink()) {
      return LinkRefused("path", path, o.link.empty() ? std::string(parent) : o.link);
    }
    // A component that is a file: nothing at `path`.
    return Error(o.error == ENOTDIR ? ENOENT : o.error, "stat", path);
  }
  const int err = StatChild(o.fd, name.c_str(), &e);
  ::close(o.fd);
  if (err != 0) return Error(err, "stat", path);
  return e;
}

StatusOr<size_t> LocalStore::ReadAt(std::string_view path, uint64_t offset, void* buf, size_t len) {
  if (Status s = CheckStorePath(path, root_ + ": file"); !s.ok()) return s;
  if (path.empty()) return absl::FailedPreconditionError(root_ + ": the root is not a file");
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(mu_);
    // A read from the start opens the file again: a new pass sees the file
    // as it is now, not the one a previous pass held open.
    if (last_ != nullptr && offset != 0 && last_->path == path) f = last_;
  }
  if (f == nullptr) {
    // O_NONBLOCK: a FIFO in the file's place does not hang the open.
    BeneathOpen o = OpenBeneath(root_fd_, path, O_RDONLY | O_NONBLOCK | O_NOATIME);
    if (o.fd < 0) {
      if (o.symlink()) {
        return LinkRefused("file", path, o.link.empty() ? std::string(path) : o.link);
      }
      return Error(o.error, "open", path);
    }
    f = std::make_shared<OpenFile>();
    f->path = std::string(path);
    f->fd = o.fd;
    struct stat st;
    if (::fstat(f->fd, &st) != 0) return Error(errno, "fstat", path);
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(root_ + ": '" + std::string(path) +
                                           "' is not a regular file");
    }
    std::lock_guard lock(mu_);
    last_ = f;
  }
  size_t got = 0;
  auto* p = static_cast<char*>(buf);
  while (got < len) {
    ssize_t n = ::pread(f->fd, p + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(errno, "read", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  counters_.bytes_read.fetch_add(got, std::memory_order_relaxed);
  return got;
}

void LocalStore::DropCached(std::string_view path) {
  if (!CheckStorePath(path, root_).ok() || path.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (last_ != nullptr && last_->path == path) {
      ::posix_fadvise(last_->fd, 0, 0, POSIX_FADV_DONTNEED);
      return;
    }
  }
  BeneathOpen o = OpenBeneath(root_fd_, path, O_RDONLY | O_NONBLOCK | O_NOATIME);
  if (o.fd < 0) return;
  ::posix_fadvise(o.fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(o.fd);
}

}  // namespace vigil::storage
