// A coordinator node: everything one `vigil coordinator` process runs, built
// from one options struct. It owns the Coordinator (the database), the
// executor doing the calls' disk work, the gRPC adapter (server.h), the
// periodic jobs (jobs.h: lease expiry, scheduling, the verdict watcher, the
// metrics refresh), alert delivery (delivery.h) and the HTTP endpoints
// (http_api.h: probes, /metrics, the dashboard, /api/*). `vigil coordinator`
// maps its flags to NodeOptions; `vigil dev`, the tests and the benchmarks
// start a node the same way.
//
// Thread safety: address(), http_address(), https_address() and
// coordinator() may be called from any thread; Shutdown() too (idempotent).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/delivery.h"
#include "services/coordinator/http_api.h"
#include "services/coordinator/metrics.h"
#include "services/coordinator/watcher.h"
#include "storage/status.h"

namespace vigil::coordinator {

class Executor;
class Jobs;
class Server;

struct NodeOptions {
  // gRPC: host:port to listen on; port 0 picks a free port (see address()).
  std::string listen = "127.0.0.1:7400";
  CoordinatorOptions coordinator;
  // Threads doing disk work for the RPCs and the periodic jobs. Default 16:
  // they mostly wait for WAL fsyncs, and the more calls wait at once, the
  // more share one fsync (group commit; docs/BENCHMARKS.md, "Issue 3": 4
  // threads dispatched about half as many tasks per second).
  int executor_threads = 16;
  // gRPC TLS, mutual TLS for workers and the largest message: see
  // ServerOptions (server.h).
  std::string tls_cert_pem;
  std::string tls_key_pem;
  std::string tls_client_ca_pem;
  int max_message_bytes = 16 << 20;
  // How often the scheduler queues the checks the contracts make due
  // (Coordinator::ScheduleDue), ms; its first pass is at start. 0 = never:
  // checks run only on `vigil check run`.
  int64_t schedule_every_ms = 0;
  // How often the verdict watcher runs (watcher.h), ms. 0 = never (tests
  // call Watcher::RunOnce themselves).
  int64_t watch_every_ms = 0;
  WatcherOptions watcher;
  // The alert delivery thread always runs (it drains the outbox left by a
  // previous run too).
  DeliveryOptions delivery;
  // The HTTP endpoints; none unless http.http_listen or http.https_listen
  // is set. Only then are metrics computed: once before the endpoints
  // serve, then every metrics.refresh_ms (at least 100 ms).
  HttpApiOptions http;
  MetricsOptions metrics;
  // Where to write the first-start enrolment token ("" = none;
  // docs/coordinator.md, "Authentication"): if no enrol token was ever
  // issued and this file does not exist, a one-time enrol token (any site)
  // is issued and written there (mode 0600, synced).
  std::string first_enrol_token_file;
};

class Node {
 public:
  // What failed to start, for the caller's exit code: an address to listen
  // on that cannot be served (gRPC or HTTP: taken, not this machine's, its
  // TLS files) is the operator's (`vigil coordinator` exits 2); anything
  // else is the node's (exit 3).
  enum class Failure { kNode, kListen };

  // Opens the database, starts gRPC, delivery, the periodic jobs and the
  // HTTP endpoints, then writes the first-start enrolment token. Errors:
  // those of Coordinator::Open, Server::Start and HttpApi::Start; issuing or
  // writing the enrolment token ("cannot write the enrolment token to
  // 'FILE': ..."; the token is then revoked). `failure`, if given, says
  // which part failed.
  static storage::StatusOr<std::unique_ptr<Node>> Start(const NodeOptions& options,
                                                        Failure* failure = nullptr);
  ~Node();  // Shutdown()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The bound gRPC address, e.g. "127.0.0.1:40123".
  std::string address() const;
  // The bound HTTP and HTTPS addresses, "" for a listener not configured.
  std::string http_address() const;
  std::string https_address() const;
  // True if Start wrote a first-start enrolment token to
  // options.first_enrol_token_file.
  bool wrote_first_enrol_token() const { return wrote_first_enrol_token_; }
  Coordinator& coordinator() { return *coordinator_; }

  // /readyz answers 503 from now on; then the jobs stop (each run in
  // flight finishes), delivery stops, gRPC stops (calls in flight finish),
  // the executor drains, the HTTP endpoints stop. The database stays open
  // until destruction. Idempotent.
  void Shutdown();

 private:
  Node() = default;
  storage::Status Init(const NodeOptions& options, Failure* failure);
  storage::Status IssueFirstEnrolToken(const std::string& file);

  // Built in this order by Init; Shutdown() stops them in its own order.
  RealClock real_clock_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Watcher> watcher_;
  std::unique_ptr<Deliverer> deliverer_;
  std::unique_ptr<CoordinatorMetrics> metrics_;
  std::unique_ptr<Jobs> jobs_;
  std::unique_ptr<HttpApi> http_;
  bool wrote_first_enrol_token_ = false;
  Mutex shutdown_mu_;  // one Shutdown at a time
  bool shut_down_ GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace vigil::coordinator
