#include "services/cli/http_endpoints.h"

#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "services/coordinator/dashboard.h"
#include "storage/kv.h"

namespace vigil::cli {
namespace {

http::Response Text(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

// Why `root` cannot be listed, "" if it can.
std::string ListProblem(const std::string& root) {
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return std::strerror(errno);
  closedir(d);
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorHttp>> CoordinatorHttp::Start(
    const std::string& listen, coordinator::Server* server,
    const coordinator::MetricsOptions& metrics) {
  std::unique_ptr<CoordinatorHttp> h(new CoordinatorHttp());
  h->server_ = server;
  h->metrics_ = std::make_unique<coordinator::CoordinatorMetrics>(&server->coordinator(), metrics);
  h->metrics_->Start();
  CoordinatorHttp* self = h.get();
  std::map<std::string, http::Handler> handlers;
  handlers["/healthz"] = [](const http::Request&) { return Text(200, "ok"); };
  handlers["/readyz"] = [self](const http::Request&) {
    if (self->stopping_) return Text(503, "not ready: shutting down");
    // One point read of the key every database has: cheap, and it fails
    // when RocksDB does (I/O error, background error), not when one
    // tenant's evaluation does (that shows in the metrics' freshness).
    std::string v;
    absl::Status s = self->server_->coordinator().catalogue().kv()->Get(storage::Space::kMeta,
                                                                        "format_version", &v);
    if (!s.ok()) return Text(503, "not ready: database not readable: " + std::string(s.message()));
    return Text(200, "ready");
  };
  handlers["/metrics"] = [self](const http::Request& req) {
    absl::Status auth =
        self->server_->coordinator().CheckAdminToken(http::BearerToken(req.authorization));
    if (!auth.ok()) return Text(401, "/metrics needs the admin token (Authorization: Bearer)");
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = self->metrics_->Exposition();
    if (r.body.empty()) return Text(503, "metrics not computed yet");
    return r;
  };
  // The dashboard: static assets (no data, no token), and its data behind
  // the admin token.
  auto asset = [](std::string_view body, const char* type) {
    return [body, type](const http::Request&) {
      http::Response r;
      r.content_type = type;
      r.body = std::string(body);
      r.headers = {{"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
                   {"X-Content-Type-Options", "nosniff"},
                   {"Cache-Control", "no-cache"}};
      return r;
    };
  };
  handlers["/"] = asset(coordinator::DashboardHtml(), "text/html; charset=utf-8");
  handlers["/dashboard.css"] = asset(coordinator::DashboardCss(), "text/css; charset=utf-8");
  handlers["/dashboard.js"] = asset(coordinator::DashboardJs(), "text/javascript; charset=utf-8");
  handlers["/api/dashboard"] = [self](const http::Request& req) {
    absl::Status auth =
        self->server_->coordinator().CheckAdminToken(http::BearerToken(req.authorization));
    if (!auth.ok()) return Text(401, "the dashboard needs the admin token");
    auto status = self->metrics_->last_status();
    if (status == nullptr) return Text(503, "status not computed yet");
    http::Response r;
    r.content_type = "application/json";
    r.headers = {{"Cache-Control", "no-store"}};
    r.body = coordinator::DashboardJson(*status,
                                        std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count(),
                                        // The lease manager's memory (a copy under its
                                        // lock, no disk read): current, unlike the
                                        // cached verdicts.
                                        self->server_->coordinator().leases().All());
    return r;
  };
  auto http = http::Server::Start(listen, std::move(handlers));
  if (!http.ok()) return http.status();
  h->http_ = std::move(*http);
  return h;
}

absl::StatusOr<std::unique_ptr<http::Server>> StartWorkerHttp(
    const std::string& listen, const worker::Worker* worker,
    const std::map<std::string, std::string>& locations) {
  std::map<std::string, http::Handler> handlers;
  handlers["/healthz"] = [](const http::Request&) { return Text(200, "ok"); };
  handlers["/readyz"] = [worker, locations](const http::Request&) {
    if (!worker->registered()) return Text(503, "not ready: not registered with the coordinator");
    for (const auto& [name, root] : locations) {
      // Location names, not paths: a probe reveals nothing of the layout.
      std::string problem = ListProblem(root);
      if (!problem.empty()) {
        return Text(503, "not ready: location '" + name + "' cannot be listed: " + problem);
      }
    }
    return Text(200, "ready");
  };
  return http::Server::Start(listen, std::move(handlers));
}

}  // namespace vigil::cli
