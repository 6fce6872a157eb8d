// The words Vigil shows for the values of its protobuf enums: one
// vocabulary for the CLI (`vigil status`, `vigil check run --wait`), the
// dashboard and its JSON API (/api/*).
//
// Task states are the proto's names in lower case: "queued", "leased",
// "done", "failed". A leased task is held by one worker until its lease
// expires (vigil.v1.Task.lease_expires_ns), and is not necessarily being
// worked on: a worker that died keeps its lease until it expires and the
// task is queued again. "running" is not used, as it would claim more than
// the coordinator knows.
//
// Header-only (plain functions of the generated enums): a target including it
// links `proto`. Thread-safe: no state.
#pragma once

#include "vigil/v1/types.pb.h"

namespace vigil {

// "queued", "leased", "done", "failed"; "unspecified" for any other value
// (not expected: every stored task has a state).
inline const char* TaskStateName(v1::TaskState s) {
  switch (s) {
    case v1::TASK_STATE_QUEUED:
      return "queued";
    case v1::TASK_STATE_LEASED:
      return "leased";
    case v1::TASK_STATE_DONE:
      return "done";
    case v1::TASK_STATE_FAILED:
      return "failed";
    default:
      return "unspecified";
  }
}

}  // namespace vigil
