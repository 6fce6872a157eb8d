// The HTTP endpoints of `vigil coordinator` (--http-listen, --https-listen)
// and `vigil worker` (--http-listen): /healthz, /readyz and, on the
// coordinator, /metrics and the dashboard. Semantics in docs/operations.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/http_server.h"
#include "services/coordinator/metrics.h"
#include "services/coordinator/server.h"
#include "services/worker/worker.h"

namespace vigil::cli {

struct CoordinatorHttpOptions {
  // HOST:PORT of plain HTTP; "" = none. Serves every endpoint below when
  // https_listen is empty, else only /healthz and /readyz (kubelet probes
  // present no client certificate and carry no token; the admin token then
  // never travels in clear).
  std::string http_listen;
  // HOST:PORT of HTTPS with `tls`; "" = none. Serves every endpoint.
  std::string https_listen;
  http::TlsFiles tls;
};

// The coordinator's endpoints. Owns the metrics refresher.
class CoordinatorHttp {
 public:
  // `server` is not owned and must outlive this object. At least one of
  // the listen addresses must be set.
  //   /healthz  200 "ok" while the process serves HTTP.
  //   /readyz   200 "ready" while the database answers a point read,
  //             takes writes (KvStore::WriteHealth) and gRPC serves; 503
  //             with the reason otherwise ("not ready: database writes
  //             failing (no space) in DIR: ..."; also once SetStopping()
  //             was called).
  //   /metrics  Prometheus text format 0.0.4, refreshed every
  //             metrics.refresh_ms; needs "Authorization: Bearer ADMIN_TOKEN"
  //             (401 otherwise) unless the coordinator has no admin token.
  //   /, /dashboard.css, /dashboard.js  the dashboard page (no data in it).
  //   /api/dashboard  the dashboard's grid (coordinator/dashboard.h) from
  //             the last metrics refresh; admin token as for /metrics.
  //   /api/tenant?name=T  one tenant's page (coordinator/dashboard.h
  //             TenantJson): cached status plus the watcher's transitions of
  //             the last 90 days; 404 for an unknown tenant.
  //   /api/workers  registered workers and their leases (WorkersJson).
  // Errors: as http::Server::Start and StartTls.
  static absl::StatusOr<std::unique_ptr<CoordinatorHttp>> Start(
      const CoordinatorHttpOptions& options, coordinator::Server* server,
      const coordinator::MetricsOptions& metrics);
  // Bound addresses, "" for a listener not configured.
  std::string http_address() const { return http_ ? http_->address() : ""; }
  std::string https_address() const { return https_ ? https_->address() : ""; }
  // /readyz answers 503 "shutting down" from now on.
  void SetStopping() { stopping_ = true; }

 private:
  CoordinatorHttp() = default;
  coordinator::Server* server_ = nullptr;
  std::unique_ptr<coordinator::CoordinatorMetrics> metrics_;
  std::atomic<bool> stopping_{false};
  // Last: stopped first.
  std::unique_ptr<http::Server> http_, https_;
};

// The worker's endpoints:
//   /healthz  200 "ok".
//   /readyz   200 "ready" once the coordinator accepted the worker's
//             registration and every location root can be listed; 503 with
//             the reason otherwise.
// `worker` is not owned and must outlive the returned server.
absl::StatusOr<std::unique_ptr<http::Server>> StartWorkerHttp(
    const std::string& listen, const worker::Worker* worker,
    const std::map<std::string, std::string>& locations);

}  // namespace vigil::cli
