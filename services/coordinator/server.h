// The coordinator's gRPC adapter: Admin, WorkerGateway and TenantPortal on
// one port, with gRPC health checking and reflection. Each call's work is
// handed to the Coordinator on an executor; nothing else runs here (the
// node, node.h, owns the coordinator, the executor and the periodic jobs).
// gRPC stays inside server.cc: this header is cheap to include.
//
// Thread safety: address() and Shutdown() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/executor.h"
#include "storage/status.h"

namespace vigil::coordinator {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see address()).
  std::string listen = "127.0.0.1:7400";
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
};

class Server {
 public:
  // Starts serving `c`, running the calls' work on `executor`. Neither is
  // owned: both must outlive the server, and the executor must run what it
  // is given until Shutdown() returned. InvalidArgument for a client CA
  // without a certificate; Unavailable if the address cannot be bound.
  static storage::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                          Coordinator* c, Executor* executor);
  virtual ~Server() = default;
  // The bound address, e.g. "127.0.0.1:40123".
  virtual std::string address() const = 0;
  // Stops accepting calls, cancels streams, waits for handlers. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace vigil::coordinator
