// The one path-resolution rule for everything read from a backup set: open
// beneath a directory already open, never following a symbolic link in any
// component, directories as well as files.
//
// Every reader (plain trees and their layouts, BagIt, checksum files,
// restic, restore drills) opens what it reads through this function or
// through openat(parent_fd, name, O_NOFOLLOW) on one component of a
// directory it opened the same way. Only the root the operator names (a
// location's root, a path given to `vigil verify`) is opened by its path,
// and may be reached through links.
//
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
// where the kernel has it (Linux 5.6); otherwise one component at a time,
// each directory with O_DIRECTORY | O_NOFOLLOW and the last one with
// O_NOFOLLOW. ".." never resolves (RESOLVE_BENEATH; the fallback refuses
// it lexically).
#pragma once

#include <fcntl.h>

#include <cerrno>
#include <string>
#include <string_view>

namespace vigil::storage {

enum class LinkPolicy {
  kRefuse,         // no component may be a symbolic link
  kFollowBeneath,  // links are followed while they stay beneath the
                   // directory (openat2 only; the fallback refuses them all)
};

struct BeneathOpen {
  int fd = -1;    // owned by the caller when >= 0
  int error = 0;  // errno when fd < 0: ELOOP (a link refused), EXDEV
                  // (resolution would leave the directory), ENOENT, ENOTDIR, ...
  // When a symbolic link was refused: the path (relative to the directory)
  // of the first component that is one, e.g. "keys" or "data/ab".
  std::string link;
  // Refused because of a symbolic link.
  bool symlink() const { return !link.empty() || error == ELOOP; }
  // Refused because resolution would leave the directory.
  bool escapes() const { return error == EXDEV; }
};

// Opens `rel` ('/'-separated, relative; "" or "." is the directory itself)
// beneath `dir_fd` with `flags` (O_RDONLY, O_DIRECTORY for a directory,
// O_NONBLOCK, O_NOATIME ...; O_CLOEXEC is added; O_NOATIME is dropped when
// refused with EPERM). Never follows a symbolic link with kRefuse. An
// absolute path or a ".." component fails with EXDEV without touching the
// file system.
BeneathOpen OpenBeneath(int dir_fd, std::string_view rel, int flags,
                        LinkPolicy policy = LinkPolicy::kRefuse);

// Opens the directory `rel` beneath `dir_fd` (O_RDONLY | O_DIRECTORY), no
// link followed.
inline BeneathOpen OpenDirBeneath(int dir_fd, std::string_view rel) {
  return OpenBeneath(dir_fd, rel, O_RDONLY | O_DIRECTORY);
}

// Tests only: false makes OpenBeneath() use its fallback (no openat2).
void UseOpenat2ForTesting(bool use);

}  // namespace vigil::storage
