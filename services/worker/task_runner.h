// One attempt of a leased task, from the lease to its end: a heartbeat
// every third of the lease TTL (with the attempt's progress; a refused
// heartbeat marks the lease lost and the attempt stops at once), the work
// itself (check_task.h or drill.h), then CompleteTask, retried with backoff
// while the lease holds, or, when the worker stops, ReleaseTask to hand the
// lease back (docs/coordinator.md).
//
// Called by the lease loop (worker.cc) on the task's own thread.
// Thread safety: RunTask is reentrant; each call has its own heartbeat
// thread, joined before it returns.
#pragma once

#include "services/worker/task.h"

namespace vigil::worker {

class Connection;

// Runs `task` to its end (completed, refused, lost or handed back).
void RunTask(Connection* connection, TaskHost* host, const v1::Task& task);

}  // namespace vigil::worker
