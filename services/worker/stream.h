// The Observe stream of one task attempt, reopened after failures. Up to
// kWindow (8) batches are in flight unacknowledged (the coordinator stores a
// window with one synced write); they are kept until acknowledged and, when
// the stream breaks, all resent in order on a new one (the coordinator
// acknowledges again, without storing twice, what it already had).
//
// A stream that fails (a Write or Read returns false: the coordinator
// ended the call, e.g. refusing a batch while its disk is full, or the
// connection broke) is shut down in order: WritesDone, every ack still
// on its way read (and applied: those batches are stored), then Finish
// for the status. Finish with an ack left unread waits for ever.
//
// A watchdog thread cancels the call when the lease is lost, when the
// worker stops (after 2 s), or when one Write, Read or Finish has waited
// 60 s (or two lease TTLs, if longer): no call blocks for ever, whatever
// the connection does.
//
// Retryable failures are retried with backoff (100 ms doubling to 2 s)
// for as long as the lease holds, however long the coordinator refuses
// (its leases survive that). But heartbeats alone do not keep a task
// alive that makes no progress: once its streams kept breaking for ten
// lease TTLs with no batch acknowledged while heartbeats succeed, the
// attempt ends with an error. A batch refused because the lease is gone
// sets attempt->lost.
//
// Used through TaskHost::OpenStream (task.h) by the task code; tested in
// tests/services/worker/stream_test.cc against a scripted coordinator.
// Thread safety: one thread uses the stream; its watchdog is internal.
#pragma once

#include <memory>

#include "services/worker/task.h"

namespace vigil::worker {

class Connection;

// A new stream for `attempt` (not connected until the first Send). All
// three must outlive it.
std::unique_ptr<ObservationSink> OpenObservationStream(Connection* connection, TaskHost* host,
                                                       Attempt* attempt);

}  // namespace vigil::worker
