// The worker's state directory: the identity a coordinator gave this worker
// (worker id and credential), kept across restarts so that a one-time
// enrolment token is needed only once (docs/operations.md, "Worker state").
//
// The file is DIR/worker-state, mode 0600, written durably (temporary file,
// fsync, rename, fsync of the directory: a crash leaves the old file or the
// new one). Text, one field a line:
//
//   # comment lines and blank lines are ignored
//   vigil-worker-state 1
//   worker_id w12
//   credential <64 lowercase hex digits>
//
// The first non-comment line is the format and its version; each field
// appears exactly once; unknown fields are refused (a newer format bumps
// the version). The credential is a secret: whoever holds it acts as the
// worker until it is replaced.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace vigil::worker {

struct WorkerState {
  // As returned by Register: the worker id and its credential.
  std::string worker_id;
  std::string credential;
};

// The state file's name inside the state directory.
inline constexpr const char kStateFileName[] = "worker-state";

// Parses the text of a state file. `file` names it in errors, which are
// DataLoss (FailedPrecondition for a format version this build does not
// know) and say
// the line, the byte offset of the problem in the file and the field, e.g.
// "worker state 'F': line 3 (byte 40): field 'credential': not 64 lowercase
// hex digits".
storage::StatusOr<WorkerState> ParseWorkerState(std::string_view text, const std::string& file);

// The text of a state file (ParseWorkerState reads it back).
std::string FormatWorkerState(const WorkerState& state);

// Reads DIR/worker-state. nullopt if there is none (a first start); an
// error naming the file if it cannot be read or does not parse.
storage::StatusOr<std::optional<WorkerState>> LoadWorkerState(const std::string& dir);

// Writes DIR/worker-state durably with mode 0600 (creating DIR, 0700, if
// missing). Errors name the file.
storage::Status SaveWorkerState(const std::string& dir, const WorkerState& state);

}  // namespace vigil::worker
