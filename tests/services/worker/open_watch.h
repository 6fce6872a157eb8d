// OpenWatch: tells whether a file was opened or read while it was watched
// (inotify), to prove that a path a manifest names outside the bag or the
// checksum file's directory is never opened.
#pragma once

#include <sys/inotify.h>
#include <unistd.h>

#include <string>

namespace vigil::testing {

class OpenWatch {
 public:
  explicit OpenWatch(const std::string& path) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    wd_ = fd_ >= 0 ? ::inotify_add_watch(fd_, path.c_str(), IN_OPEN | IN_ACCESS) : -1;
  }
  ~OpenWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;

  bool ok() const { return wd_ >= 0; }
  // True if the file was opened or read since the last call.
  bool Opened() {
    char buf[4096];
    return ::read(fd_, buf, sizeof buf) > 0;
  }

 private:
  int fd_ = -1;
  int wd_ = -1;
};

}  // namespace vigil::testing
