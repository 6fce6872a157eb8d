// OpenWatch: tells whether a file or directory was opened or read while it
// was watched (inotify IN_OPEN | IN_ACCESS; on a directory this covers the
// directory being opened or listed and any file directly in it being opened
// or read), by any process: it proves that a path outside a bag, a checksum
// file's directory, a repository or a backup set is never opened.
#pragma once

#include <sys/inotify.h>
#include <unistd.h>

#include <map>
#include <string>

namespace vigil::testing {

class OpenWatch {
 public:
  OpenWatch() { fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }
  explicit OpenWatch(const std::string& path) : OpenWatch() { Add(path); }
  ~OpenWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;

  // Watches one more path; false (and ok() false) if it cannot be watched.
  bool Add(const std::string& path) {
    int wd = fd_ >= 0 ? ::inotify_add_watch(fd_, path.c_str(), IN_OPEN | IN_ACCESS) : -1;
    if (wd < 0) {
      failed_ = true;
      return false;
    }
    paths_[wd] = path;
    return true;
  }

  bool ok() const { return fd_ >= 0 && !paths_.empty() && !failed_; }
  // True if a watched path was opened or read since the last call; what was
  // is then in what().
  bool Opened() {
    alignas(struct inotify_event) char buf[8192];
    bool any = false;
    while (true) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        auto* e = reinterpret_cast<const struct inotify_event*>(buf + off);
        auto it = paths_.find(e->wd);
        if (it != paths_.end() && (e->mask & (IN_OPEN | IN_ACCESS)) != 0) {
          any = true;
          what_ += it->second;
          if (e->len > 0) what_ += "/" + std::string(e->name);
          what_ += (e->mask & IN_OPEN) ? " opened\n" : " read\n";
        }
        off += static_cast<ssize_t>(sizeof(struct inotify_event) + e->len);
      }
    }
    return any;
  }
  // The events Opened() found, one per line ("PATH opened").
  const std::string& what() const { return what_; }

 private:
  int fd_ = -1;
  bool failed_ = false;
  std::map<int, std::string> paths_;
  std::string what_;
};

}  // namespace vigil::testing
