// The coordinator's gRPC server: Admin, WorkerGateway and TenantPortal
// on one port, with gRPC health checking and reflection. gRPC stays inside
// server.cc: this header is cheap to include.
#pragma once

#include <memory>
#include <string>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/delivery.h"
#include "services/coordinator/watcher.h"
#include "storage/status.h"

namespace vigil::coordinator {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see address()).
  std::string listen = "127.0.0.1:7400";
  CoordinatorOptions coordinator;
  // How often the scheduler queues the checks the contracts make due
  // (Coordinator::ScheduleDue), ms. 0 = never: checks run only on
  // `vigil check run`.
  int64_t schedule_every_ms = 0;
  // Threads doing disk work for the RPCs. Default 16: they mostly wait for
  // WAL fsyncs, and the more calls wait at once, the more share one fsync
  // (group commit; docs/BENCHMARKS.md, "Issue 3": 4 threads dispatched
  // about half as many tasks per second).
  int executor_threads = 16;
  // TLS: PEM server certificate chain and private key. Both empty =
  // plaintext (loopback and tests only).
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // PEM CA certificates for client certificates. Non-empty (requires TLS):
  // mutual TLS for workers — every WorkerGateway call must come with a
  // client certificate signed by this CA (UNAUTHENTICATED otherwise); admin
  // clients may connect without one (they present the admin token).
  std::string tls_client_ca_pem;
  // Largest message accepted, bytes. Default 16 MiB.
  int max_message_bytes = 16 << 20;
  // How often the verdict watcher runs (services/coordinator/watcher.h),
  // ms. 0 = never (tests call Watcher::RunOnce themselves).
  int64_t watch_every_ms = 0;
  WatcherOptions watcher;
  // The alert delivery thread always runs (it drains the outbox left by a
  // previous run too).
  DeliveryOptions delivery;
};

class Server {
 public:
  // Opens the database and starts serving. Unavailable if the address
  // cannot be bound.
  static storage::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  virtual ~Server() = default;
  // The bound address, e.g. "127.0.0.1:40123".
  virtual std::string address() const = 0;
  // Stops accepting calls, cancels streams, waits for handlers. Idempotent.
  virtual void Shutdown() = 0;
  virtual Coordinator& coordinator() = 0;
};

}  // namespace vigil::coordinator
