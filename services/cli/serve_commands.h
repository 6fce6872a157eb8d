// Long-running commands: `vigil coordinator`, `vigil worker`, `vigil dev`.
// They stop cleanly on SIGINT/SIGTERM (a worker hands its lease back first).
#pragma once

#include <string>
#include <vector>

namespace vigil::cli {

struct CoordinatorArgs {
  // host:port; port 0 picks a free port. The bound address is printed as
  // "listening on HOST:PORT".
  std::string listen = "127.0.0.1:7400";
  std::string data;
  // File holding the admin token. Default: DATA/admin.token, created with a
  // random token (mode 0600) on first start.
  std::string admin_token_file;
  // File holding the coordinator's fixed worker enrolment token (multi-use,
  // any site). Default: none; every worker then enrols with a one-time
  // enrol token: on first start (no enrol token ever issued, no
  // DATA/enrol.token) one is issued and written to DATA/enrol.token (mode
  // 0600), more with `vigil token issue --kind enrol`.
  std::string worker_token_file;
  // Allow --listen on a non-loopback address without --tls-cert/--tls-key,
  // and --http-listen on one without --https-listen (the dashboard, /api/*
  // and /metrics in clear). Default false: refused (exit 2).
  bool insecure = false;
  std::string lease_ttl = "30s";
  int max_attempts = 3;
  // How often the scheduler looks for due checks ("0" = never).
  std::string schedule_every = "0";
  // TLS certificate chain and key (PEM files); mutual TLS for workers when
  // a client CA is given. See coordinator::NodeOptions.
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;
  // The MSP's signing key directory (vigil keys init); empty = no reports
  // or proofs can be issued.
  std::string keys_dir;
  std::string msp_name;
  // Alerts (docs/alerts.md): verdict watcher period ("0" = off), secrets
  // directory, re-notification period, grace of an overdue check, silence
  // of a location's workers ("" = 10 heartbeat periods, 10 x lease-ttl / 3), age
  // after which an undelivered alert is given up.
  std::string watch_every = "1m";
  std::string secrets_dir;
  std::string renotify_every = "24h";
  std::string overdue_grace = "1h";
  std::string worker_quiet;
  std::string alert_max_age = "24h";
  // A restore point gone this long has its catalogue entries freed at its
  // set's next check ("0" = never; coordinator::CoordinatorOptions).
  std::string free_gone_points_after = "30d";
  // Plain-HTTP /healthz, /readyz, /metrics and the dashboard
  // (docs/operations.md): HOST:PORT, port 0 picks a free port, printed as
  // "http listening on HOST:PORT". Default "" = off. With https_listen set,
  // only /healthz and /readyz.
  std::string http_listen;
  // HTTPS for every endpoint (docs/operations.md), printed as "https
  // listening on HOST:PORT". Default "" = off. Certificate chain and key
  // (PEM files): https_cert_file/https_key_file, both or neither; neither =
  // tls_cert_file/tls_key_file (the gRPC certificate).
  std::string https_listen;
  std::string https_cert_file, https_key_file;
  // How often /metrics is recomputed. Default 15s.
  std::string metrics_refresh = "15s";
};
int RunCoordinator(const CoordinatorArgs& args);

struct WorkerArgs {
  std::string coordinator;
  std::string site;
  std::vector<std::string> locations;  // NAME=PATH
  std::string scratch;
  // restic passwords (worker.h WorkerOptions::secrets). Empty = none.
  std::string secrets;
  std::string token_file;
  // --state-dir (worker.h WorkerOptions::state_dir): the worker id and
  // credential across restarts. Default "" = $STATE_DIRECTORY (set by
  // systemd's StateDirectory=; the first one if several), else none.
  std::string state_dir;
  int batch_size = 512;
  uint32_t capacity = 1;  // --capacity: tasks at once, 1..64
  // --listing-cache-mb (worker.h WorkerOptions::listing_cache_bytes).
  uint32_t listing_cache_mb = 64;
  int test_batch_delay_ms = 0;
  // TLS: CA to verify the coordinator; client certificate and key (mTLS).
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  // Plain-HTTP /healthz and /readyz, as for the coordinator. Default off.
  std::string http_listen;
};
int RunWorker(const WorkerArgs& args);

struct DevArgs {
  // Default: a new directory under $TMPDIR.
  std::string data;
  std::string listen = "127.0.0.1:0";
  // Default: deploy/examples next to the source tree the binary was built
  // from, else ./deploy/examples.
  std::string examples;
  // Print the first status and exit instead of serving until Ctrl-C.
  bool once = false;
};
int RunDev(const DevArgs& args);

}  // namespace vigil::cli
