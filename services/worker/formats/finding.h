// Findings: the errors and warnings a format check reports.
//
// A finding names where it was found (a tag file, manifest or sum file, its
// line, and a byte offset when one is meaningful) and, separately, the path it
// is about. `code` is a stable identifier (listed in docs/formats.md) for
// programs; `message` is for people and already has paths escaped for a
// terminal. Paths in `path` are raw bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::formats {

struct Finding {
  std::string code;     // e.g. "digest_mismatch"
  std::string file;     // file the finding is located in ("manifest-sha256.txt"); may be empty
  uint64_t line = 0;    // 1-based line in `file`; 0 = the file as a whole
  int64_t offset = -1;  // byte offset in `file` (raw bytes); -1 = not meaningful
  std::string path;     // path the finding is about (raw bytes); may be empty
  std::string message;  // human text, without the location

  // "manifest-sha256.txt:12: digest mismatch for data/a.txt" (with
  // " (byte offset N)" appended when `offset` is set).
  std::string ToString() const;
};

// Collects findings in the order they are made.
struct Findings {
  std::vector<Finding> errors;
  std::vector<Finding> warnings;

  Finding& Error(std::string code, std::string file, uint64_t line, std::string message,
                 std::string path = {}, int64_t offset = -1);
  Finding& Warning(std::string code, std::string file, uint64_t line, std::string message,
                   std::string path = {}, int64_t offset = -1);
};

// Display form of a path inside a message: EscapeForTerminal(), quoted with
// '' when it holds a space or is empty, so that message boundaries stay clear.
std::string ShowPath(std::string_view path);

// Input text quoted for a message: 'TEXT', escaped for a terminal, its first
// 80 bytes followed by "..." when longer.
std::string Excerpt(std::string_view text);

}  // namespace vigil::formats
