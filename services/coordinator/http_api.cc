#include "services/coordinator/http_api.h"

#include <chrono>
#include <map>

#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/model.h"
#include "services/coordinator/alerts.h"
#include "services/coordinator/dashboard.h"
#include "services/coordinator/history.h"

namespace vigil::coordinator {
namespace {

http::Response Text(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

// How far back a tenant page's history goes.
constexpr int64_t kHistoryNs = int64_t{90} * 24 * 3600 * 1000000000;

http::Response Json(std::string body) {
  http::Response r;
  r.content_type = "application/json";
  r.headers = {{"Cache-Control", "no-store"}};
  r.body = std::move(body);
  return r;
}

// `s` with its message prefixed by the flag it concerns.
absl::Status ForFlag(const char* flag, const absl::Status& s) {
  return absl::Status(s.code(), std::string(flag) + ": " + std::string(s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpApi>> HttpApi::Start(const HttpApiOptions& options,
                                                        Coordinator* c,
                                                        const CoordinatorMetrics* metrics) {
  if (options.http_listen.empty() && options.https_listen.empty()) {
    return absl::InvalidArgumentError("no HTTP or HTTPS listen address");
  }
  std::unique_ptr<HttpApi> h(new HttpApi());
  h->c_ = c;
  h->metrics_ = metrics;
  HttpApi* self = h.get();
  std::map<std::string, http::Handler> handlers;
  handlers["/healthz"] = [](const http::Request&) { return Text(200, "ok"); };
  handlers["/readyz"] = [self](const http::Request&) {
    if (self->stopping_) return Text(503, "not ready: shutting down");
    // One point read of the key every database has: cheap, and it fails
    // when RocksDB does (I/O error, background error), not when one
    // tenant's evaluation does (that shows in the metrics' freshness).
    absl::Status s = self->c_->CheckReadable();
    if (!s.ok()) return Text(503, "not ready: database not readable: " + std::string(s.message()));
    // Writes refused (a full disk): checks cannot progress, workers' batches
    // are refused. The store resumes by itself once space is freed.
    if (absl::Status w = self->c_->WriteHealth(); !w.ok()) {
      return Text(503, "not ready: " + std::string(w.message()));
    }
    return Text(200, "ready");
  };
  handlers["/metrics"] = [self](const http::Request& req) {
    absl::Status auth = self->c_->CheckAdminToken(BearerToken(req.authorization));
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
  handlers["/"] = asset(DashboardHtml(), "text/html; charset=utf-8");
  handlers["/dashboard.css"] = asset(DashboardCss(), "text/css; charset=utf-8");
  handlers["/dashboard.js"] = asset(DashboardJs(), "text/javascript; charset=utf-8");
  handlers["/api/dashboard"] = [self](const http::Request& req) {
    absl::Status auth = self->c_->CheckAdminToken(BearerToken(req.authorization));
    if (!auth.ok()) return Text(401, "the dashboard needs the admin token");
    auto status = self->metrics_->last_status();
    if (status == nullptr) return Text(503, "status not computed yet");
    // The tasks from the lease manager's memory (a copy under its lock, no
    // disk read): current, unlike the cached verdicts.
    return Json(DashboardJson(*status, NowNs(), self->c_->TasksWithWaiting()));
  };
  // A tenant's page: its commitments with their evidence (cached status),
  // and the verdict watcher's transitions of the last 90 days (one bounded
  // range read of the database per view).
  handlers["/api/tenant"] = [self](const http::Request& req) {
    Coordinator& c = *self->c_;
    if (!c.CheckAdminToken(BearerToken(req.authorization)).ok()) {
      return Text(401, "the dashboard needs the admin token");
    }
    auto name = req.params.find("name");
    if (name == req.params.end() || name->second.empty()) return Text(400, "?name=TENANT needed");
    if (!contracts::IsValidName(name->second)) {
      return Text(400, std::string("?name= must be a tenant name (") + contracts::kNameRule + ")");
    }
    auto status = self->metrics_->last_status();
    if (status == nullptr) return Text(503, "status not computed yet");
    const int64_t now = NowNs(), from = now - kHistoryNs;
    auto transitions = LoadTransitions(c.catalogue().kv(), name->second, from, now + 1);
    if (!transitions.ok()) {
      return Text(500, "history not readable: " + std::string(transitions.status().message()));
    }
    auto series = TenantHistory(c.catalogue(), name->second, from, now);
    if (!series.ok()) {
      return Text(500, "history not readable: " + std::string(series.status().message()));
    }
    auto deliveries = LoadDeliveriesCreated(c.catalogue().kv(), from, now + 1);
    if (!deliveries.ok()) {
      return Text(500,
                  "alert deliveries not readable: " + std::string(deliveries.status().message()));
    }
    std::string body = TenantJson(*status, name->second, now, from, *transitions,
                                  c.TasksWithWaiting(), *series, *deliveries);
    if (body.empty()) return Text(404, "no such tenant");
    return Json(std::move(body));
  };
  handlers["/api/workers"] = [self](const http::Request& req) {
    Coordinator& c = *self->c_;
    if (!c.CheckAdminToken(BearerToken(req.authorization)).ok()) {
      return Text(401, "the dashboard needs the admin token");
    }
    auto workers = c.Workers();
    if (!workers.ok()) {
      return Text(500, "workers not readable: " + std::string(workers.status().message()));
    }
    return Json(WorkersJson(*workers, c.leases().All(), NowNs()));
  };
  if (options.https_listen.empty()) {
    auto http = http::Server::Start(options.http_listen, std::move(handlers));
    if (!http.ok()) return ForFlag("--http-listen", http.status());
    h->http_ = std::move(*http);
    return h;
  }
  // HTTPS serves everything; plain HTTP (if any) only the probes, so that
  // neither the token nor tenant data ever crosses it.
  std::map<std::string, http::Handler> probes{{"/healthz", handlers["/healthz"]},
                                              {"/readyz", handlers["/readyz"]}};
  auto https = http::Server::StartTls(options.https_listen, options.tls, std::move(handlers));
  if (!https.ok()) return ForFlag("--https-listen", https.status());
  h->https_ = std::move(*https);
  if (!options.http_listen.empty()) {
    auto http = http::Server::Start(options.http_listen, std::move(probes));
    if (!http.ok()) return ForFlag("--http-listen", http.status());
    h->http_ = std::move(*http);
  }
  return h;
}

}  // namespace vigil::coordinator
