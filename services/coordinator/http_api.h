// The coordinator's HTTP endpoints (`vigil coordinator --http-listen`,
// `--https-listen`): /healthz, /readyz, /metrics, the dashboard and its
// /api/*. Semantics in docs/operations.md. The node (node.h) starts them
// and owns what they read; they read the database only through the
// Coordinator's calls.
//
// Thread safety: handlers run on the HTTP servers' threads, concurrently;
// SetStopping may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/http_server.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/metrics.h"

namespace vigil::coordinator {

struct HttpApiOptions {
  // HOST:PORT of plain HTTP; "" = none. Serves every endpoint below when
  // https_listen is empty, else only /healthz and /readyz (kubelet probes
  // present no client certificate and carry no token; the admin token then
  // never travels in clear).
  std::string http_listen;
  // HOST:PORT of HTTPS with `tls`; "" = none. Serves every endpoint.
  std::string https_listen;
  http::TlsFiles tls;
};

class HttpApi {
 public:
  // `c` and `metrics` are not owned and must outlive this object; the
  // caller refreshes `metrics` (the node's metrics job). At least one of
  // the listen addresses must be set.
  //   /healthz  200 "ok" while the process serves HTTP.
  //   /readyz   200 "ready" while the database answers a point read and
  //             takes writes (Coordinator::CheckReadable, WriteHealth); 503
  //             with the reason otherwise ("not ready: database writes
  //             failing (no space) in DIR: ..."; also once SetStopping()
  //             was called).
  //   /metrics  Prometheus text format 0.0.4 from the last refresh; needs
  //             "Authorization: Bearer ADMIN_TOKEN" (401 otherwise) unless
  //             the coordinator has no admin token.
  //   /, /dashboard.css, /dashboard.js  the dashboard page (no data in it).
  //   /api/dashboard  the dashboard's grid (coordinator/dashboard.h) from
  //             the last metrics refresh; admin token as for /metrics.
  //   /api/tenant?name=T  one tenant's page (coordinator/dashboard.h
  //             TenantJson): cached status plus the watcher's transitions of
  //             the last 90 days with what became of their alerts (the
  //             deliveries created in those days); 404 for an unknown tenant.
  //   /api/workers  registered workers and their leases (WorkersJson).
  // Errors: as http::Server::Start and StartTls, the message prefixed by
  // the flag of the listener ("--http-listen: ...").
  static absl::StatusOr<std::unique_ptr<HttpApi>> Start(const HttpApiOptions& options,
                                                        Coordinator* c,
                                                        const CoordinatorMetrics* metrics);
  // Bound addresses, "" for a listener not configured.
  std::string http_address() const { return http_ ? http_->address() : ""; }
  std::string https_address() const { return https_ ? https_->address() : ""; }
  // /readyz answers 503 "shutting down" from now on.
  void SetStopping() { stopping_ = true; }

 private:
  HttpApi() = default;
  Coordinator* c_ = nullptr;
  const CoordinatorMetrics* metrics_ = nullptr;
  std::atomic<bool> stopping_{false};
  // Last: stopped first.
  std::unique_ptr<http::Server> http_, https_;
};

}  // namespace vigil::coordinator
