// The worker's connection to its coordinator: the gRPC channel (TLS or
// plaintext, reconnection backoff), the worker's identity (Register, Resume,
// the id and credential every call carries), the description of a failed
// call for the log, the retry backoff, and the channel watcher that wakes
// retries when the coordinator is back (docs/coordinator.md,
// "Reconnection").
//
// Used by worker.cc (the lease loop), task_runner.cc (heartbeats,
// completion) and stream.cc (the observation stream). The only worker
// header that includes gRPC: the task code (check_task.h, drill.h, task.h)
// does without it.
//
// Thread safety: every method may be called from any thread (the lease
// loop, the task threads and their heartbeat threads share one Connection);
// Register() and Resume() are called by the lease loop only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/common/connect_errors.h"
#include "services/worker/state.h"
#include "services/worker/worker.h"
#include "vigil/v1/worker.grpc.pb.h"

namespace vigil::worker {

// Retries (registration, leasing, completion, the observation stream's
// resend) wait kRetryInitialMs after a first failure, doubling up to
// kRetryMaxMs; a wait ends early when the channel connects again.
inline constexpr int kRetryInitialMs = 100;
inline constexpr int kRetryMaxMs = 2000;

// A failure worth retrying: the coordinator unreachable, restarting, busy
// or out of disk; anything else is an answer.
bool Retryable(grpc::StatusCode c);

class Connection {
 public:
  // Builds the channel to options.coordinator (not connected yet).
  // `options` must outlive the Connection.
  explicit Connection(const WorkerOptions& options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  v1::WorkerGateway::Stub* stub() { return stub_.get(); }

  // The id the coordinator gave this worker; empty before Register or
  // Resume succeeded, or after Forget().
  std::string WorkerId();
  // True once the coordinator accepted this worker, false after Forget().
  bool registered() const { return registered_; }
  // The coordinator's lease TTL (30 s until it said otherwise).
  uint32_t ttl_ms() const { return ttl_ms_; }
  // DIR/worker-state of options.state_dir, for messages.
  std::string StateFile() const;

  // Registers with options.enrol_token; on success keeps the id and
  // credential (and stores them in the state directory, if any).
  grpc::Status Register();
  // Resumes as the stored worker (worker.proto Resume); on failure the id
  // and credential are cleared again.
  grpc::Status Resume(const WorkerState& stored);
  // The coordinator no longer recognises this worker: registered() turns
  // false and WorkerId() empty, so that the lease loop registers again.
  void Forget();

  // Adds the worker's id and credential to a call, and a deadline when
  // deadline_ms > 0.
  void Prepare(grpc::ClientContext* ctx, int deadline_ms);

  // A failed call's error for the log. When the connection or its TLS
  // handshake failed, the likely cause (common/connect_errors.h: a client
  // certificate the coordinator refuses, the wrong --tls-ca, TLS on one
  // side only) and the delay before the next attempt; else gRPC's message.
  ConnectFailure ConnectFailureOf(const grpc::Status& s) const;
  std::string DescribeConnectError(const grpc::Status& s, int retry_in_ms) const;
  // The delay after `ms`: doubling to 2 s, or to 30 s while the TLS
  // handshake keeps failing (a retry every second does not fix a
  // certificate).
  int NextBackoffMs(int ms, const grpc::Status& s) const;

  // "worker ID: line" on stderr when options.verbose.
  void Log(const std::string& line);

  // Runs until stopped() is true: keeps a thread waiting on the channel's
  // state, asks it to connect whenever it is idle, and calls on_ready()
  // each time it becomes READY. gRPC's synchronous calls poll for network
  // events only while a call is in flight; between retries that failed fast
  // (the channel in TRANSIENT_FAILURE), nothing else polls, and the outcome
  // of gRPC's own reconnection attempt waits for its backup poller (every
  // 5 s).
  void WatchChannel(const std::function<bool()>& stopped, const std::function<void()>& on_ready);

 private:
  const WorkerOptions& o_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkerGateway::Stub> stub_;
  Mutex id_mu_;  // a re-registration races running tasks
  std::string worker_id_ GUARDED_BY(id_mu_);
  std::string credential_ GUARDED_BY(id_mu_);
  std::atomic<bool> registered_{false};
  std::atomic<uint32_t> ttl_ms_{30000};
};

}  // namespace vigil::worker
