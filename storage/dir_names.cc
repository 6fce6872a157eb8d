#include "storage/dir_names.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vigil::storage {

int ReadDirNames(int fd, std::vector<DirName>* out) {
  // closedir() closes the descriptor fdopendir() was given: list a copy.
  int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return errno;
  DIR* d = ::fdopendir(dup_fd);
  if (d == nullptr) {
    int e = errno;
    ::close(dup_fd);
    return e;
  }
  ::rewinddir(d);  // the copy shares its offset with `fd`
  const size_t first = out->size();
  int err = 0;
  while (true) {
    errno = 0;
    struct dirent* de = ::readdir(d);
    if (de == nullptr) {
      err = errno;
      break;
    }
    const char* n = de->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    out->push_back({n, de->d_type, de->d_ino});
  }
  ::closedir(d);
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
  return err;
}

}  // namespace vigil::storage
