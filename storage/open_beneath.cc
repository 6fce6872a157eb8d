#include "storage/open_beneath.h"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

namespace vigil::storage {
namespace {

std::atomic<bool> g_no_openat2{false};

// The components of `rel`, "." and empty ones dropped; false for an
// absolute path or a ".." component.
bool Split(std::string_view rel, std::vector<std::string>* out) {
  if (!rel.empty() && rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view c = rel.substr(start, slash - start);
    if (c == "..") return false;
    if (!c.empty() && c != ".") out->emplace_back(c);
    start = slash + 1;
  }
  return true;
}

// The first `n` components joined with '/'; "." for none.
std::string Join(const std::vector<std::string>& comps, size_t n) {
  if (n == 0) return ".";
  std::string out = comps[0];
  for (size_t i = 1; i < n; ++i) out.append("/").append(comps[i]);
  return out;
}

int OpenAt(int dir_fd, const char* name, int flags) {
  int fd = ::openat(dir_fd, name, flags);
  if (fd < 0 && errno == EPERM && (flags & O_NOATIME) != 0) {
    fd = ::openat(dir_fd, name, flags & ~O_NOATIME);
  }
  return fd;
}

// The first of `comps` that is a symbolic link, as the path up to it; ""
// if none is. Walks with O_PATH descriptors: nothing is followed or read.
std::string FindLink(int dir_fd, const std::vector<std::string>& comps) {
  int cur = -1;  // -1: dir_fd
  std::string found;
  for (size_t i = 0; i < comps.size(); ++i) {
    const int base = cur < 0 ? dir_fd : cur;
    struct stat st;
    if (::fstatat(base, comps[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) break;
    if (S_ISLNK(st.st_mode)) {
      found = Join(comps, i + 1);
      break;
    }
    if (i + 1 == comps.size() || !S_ISDIR(st.st_mode)) break;
    int next = ::openat(base, comps[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cur >= 0) ::close(cur);
    cur = next;
    if (cur < 0) break;
  }
  if (cur >= 0) ::close(cur);
  return found;
}

BeneathOpen Failed(int dir_fd, const std::vector<std::string>& comps, int err) {
  BeneathOpen r;
  r.error = err;
  if (err == ELOOP || err == EXDEV || err == ENOTDIR) {
    r.link = FindLink(dir_fd, comps);
    if (!r.link.empty() && err == ENOTDIR) r.error = ELOOP;
  }
  return r;
}

// Without openat2: one component at a time, never following a link.
BeneathOpen Walk(int dir_fd, const std::vector<std::string>& comps, int flags) {
  BeneathOpen r;
  if (comps.empty()) {
    r.fd = OpenAt(dir_fd, ".", flags);
    if (r.fd < 0) r.error = errno;
    return r;
  }
  int cur = dir_fd;
  for (size_t i = 0; i < comps.size(); ++i) {
    const bool last = i + 1 == comps.size();
    int fd = last ? OpenAt(cur, comps[i].c_str(), flags | O_NOFOLLOW)
                  : ::openat(cur, comps[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    if (cur != dir_fd) ::close(cur);
    if (fd < 0) return Failed(dir_fd, comps, err);
    cur = fd;
  }
  r.fd = cur;
  return r;
}

}  // namespace

void UseOpenat2ForTesting(bool use) { g_no_openat2.store(!use, std::memory_order_relaxed); }

BeneathOpen OpenBeneath(int dir_fd, std::string_view rel, int flags, LinkPolicy policy) {
  flags |= O_CLOEXEC;
  std::vector<std::string> comps;
  if (!Split(rel, &comps)) {
    BeneathOpen r;
    r.error = EXDEV;
    return r;
  }
  if (!g_no_openat2.load(std::memory_order_relaxed)) {
    const std::string path = Join(comps, comps.size());
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = static_cast<uint64_t>(flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    if (policy == LinkPolicy::kRefuse) how.resolve |= RESOLVE_NO_SYMLINKS;
    long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    if (fd < 0 && errno == EPERM && (flags & O_NOATIME) != 0) {
      how.flags = static_cast<uint64_t>(flags & ~O_NOATIME);
      fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    }
    if (fd >= 0) {
      BeneathOpen r;
      r.fd = static_cast<int>(fd);
      return r;
    }
    const int e = errno;
    if (e == ENOSYS) g_no_openat2.store(true, std::memory_order_relaxed);
    // ENOSYS: an older kernel; EPERM/EINVAL: a seccomp filter or a kernel
    // that refuses these flags. Anything else is the answer.
    if (e != ENOSYS && e != EPERM && e != EINVAL) return Failed(dir_fd, comps, e);
  }
  return Walk(dir_fd, comps, flags);
}

}  // namespace vigil::storage
