// Small file helpers for commands that write what a user keeps (reports,
// proofs, exports): whole-file reads, and durable writes (temporary file,
// fsync, rename, fsync of the directory) so a crash leaves the old file or
// the new one, never half of one.
#pragma once

#include <string>
#include <string_view>

#include "storage/status.h"

namespace vigil {

// NotFound / PermissionDenied / Internal naming the path.
storage::StatusOr<std::string> ReadWholeFile(const std::string& path);
// Writes `bytes` to `path` durably (temporary file `path`.tmp created with
// `mode`, default 0644, before the umask; fsync; rename; fsync of the
// directory). Errors name the path.
storage::Status WriteFileDurably(const std::string& path, std::string_view bytes,
                                 unsigned mode = 0644);

}  // namespace vigil
