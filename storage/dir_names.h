// Listing one directory that is open as a descriptor: the names in it, in
// byte order, with the type readdir() reports. Every reader that works from
// descriptors (the tree walker, the restic reader and restore, layout
// discovery) lists directories this way, so none resolves a path again.
//
// Thread-safe: no shared state; `fd` itself is not moved (the listing reads
// a duplicate of it) and stays the caller's.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vigil::storage {

struct DirName {
  std::string name;
  unsigned char type = 0;  // d_type: DT_REG, DT_DIR, DT_LNK, ... or DT_UNKNOWN
  ino_t ino = 0;           // d_ino: the inode the name links to, as the directory says

  bool operator<(const DirName& o) const { return name < o.name; }
};

// Appends the entries of the directory open at `fd`, except "." and "..",
// sorted by name (std::string's byte order, as the catalogue's keys), to
// *out. 0, or the errno of the failure (entries read before it are kept).
int ReadDirNames(int fd, std::vector<DirName>* out);

}  // namespace vigil::storage
