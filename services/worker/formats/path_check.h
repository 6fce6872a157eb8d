// Lexical checks of a relative path taken from an untrusted manifest (a
// BagIt manifest or fetch.txt, a checksum file), done before anything is
// opened: the parsers (bagit_parse.cc, sumfile_parse.cc) reject a path that
// would leave the directory; safe_io.h then opens what passed, confined
// beneath it. No file system access; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vigil::formats {

struct PathCheck {
  bool ok = false;
  std::string canonical;    // '.' and empty components removed: "data/a/b.txt"
  bool normalized = false;  // canonical differs from the input
  std::string code;         // when !ok: "path_escapes" or "path_invalid"
  std::string reason;       // when !ok: "'..' component", "absolute path", ...
};

// Checks a '/'-separated relative path taken from a manifest without touching
// the file system. Rejected: empty, NUL, absolute ("/x"), any ".." component,
// and, if `reject_tilde`, a leading '~' (home directory expansion).
PathCheck CheckRelativePath(std::string_view path, bool reject_tilde);

}  // namespace vigil::formats
