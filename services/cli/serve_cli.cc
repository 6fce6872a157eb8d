// `vigil coordinator`, `vigil worker` and `vigil dev`: their flags, mapped
// onto the argument structs of serve_commands.h, which run them.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "services/cli/cli_command.h"
#include "services/cli/commands.h"
#include "services/cli/serve_commands.h"

namespace vigil::cli {
namespace {

// `vigil coordinator`.
void AddCoordinatorCommand(CLI::App& app, int& exit_code) {
  auto [coord, ca] = AddCommand<CoordinatorArgs>(
      &app, "coordinator",
      "Run the coordinator: holds locations, tenants, tasks and catalogues in one RocksDB "
      "database, leases tasks to workers and ingests their observations (gRPC).",
      exit_code, RunCoordinator);
  coord
      ->add_option("--listen", ca.listen,
                   "HOST:PORT to listen on (port 0: any free port); an address other than "
                   "loopback needs --tls-cert and --tls-key, or --insecure")
      ->capture_default_str();
  coord->add_flag("--insecure", ca.insecure,
                  "Accept plaintext on a non-loopback address: --listen without --tls-cert, "
                  "--http-listen (dashboard, /metrics) without --https-listen. Tokens, "
                  "credentials and verdicts then cross the network in clear");
  coord->add_option("--data", ca.data, "Data directory (the database is DATA/db)")->required();
  coord->add_option("--admin-token-file", ca.admin_token_file,
                    "File holding the admin token (default: DATA/admin.token, created with a "
                    "random token on first start)");
  coord->add_option("--worker-token-file", ca.worker_token_file,
                    "File holding a fixed enrolment token, usable by any number of workers of "
                    "any site (default: none: workers enrol with one-time tokens, the first of "
                    "which a fresh coordinator writes to DATA/enrol.token)");
  coord->add_option("--lease-ttl", ca.lease_ttl, "Lease time to live (e.g. 30s, 2m)")
      ->capture_default_str();
  coord
      ->add_option("--schedule-every", ca.schedule_every,
                   "Queue the checks the contracts make due, looking this often (e.g. 1m); "
                   "0: only on `vigil check run`")
      ->capture_default_str();
  coord->add_option("--max-attempts", ca.max_attempts, "Attempts before a task is marked failed")
      ->capture_default_str();
  coord->add_option("--tls-cert", ca.tls_cert_file, "TLS certificate chain (PEM)");
  coord->add_option("--tls-key", ca.tls_key_file, "TLS private key (PEM)");
  coord->add_option("--tls-client-ca", ca.tls_client_ca_file,
                    "CA (PEM) signing worker certificates: mutual TLS for every worker call");
  coord->add_option("--keys", ca.keys_dir,
                    "The MSP's signing key directory (`vigil keys init --dir DIR`): needed to "
                    "issue reports, proofs and erasure records");
  coord->add_option("--msp-name", ca.msp_name, "The MSP's name, shown in reports");
  coord
      ->add_option("--free-gone-points-after", ca.free_gone_points_after,
                   "Free the catalogue entries of a restore point gone from its backup set "
                   "this long (its record, verdict and findings stay; docs/storage.md); 0: "
                   "never")
      ->capture_default_str();
  coord
      ->add_option("--watch-every", ca.watch_every,
                   "Evaluate every contract this often and raise alerts (docs/alerts.md); 0: off")
      ->capture_default_str();
  coord->add_option("--secrets", ca.secrets_dir,
                    "Directory of the files alert channels name (webhook HMAC keys, SMTP "
                    "passwords)");
  coord
      ->add_option("--renotify-every", ca.renotify_every,
                   "Re-send an ongoing failure or silence this often; 0: never")
      ->capture_default_str();
  coord
      ->add_option("--overdue-grace", ca.overdue_grace,
                   "A due check not done this long after is alerted as silence")
      ->capture_default_str();
  coord->add_option("--worker-quiet", ca.worker_quiet,
                    "A location whose workers made no call this long is alerted as silent "
                    "(default: 10 heartbeat periods, 10 x lease-ttl / 3); 0: off");
  coord
      ->add_option("--alert-max-age", ca.alert_max_age,
                   "Give up an undelivered alert after this long (logged)")
      ->capture_default_str();
  coord->add_option("--http-listen", ca.http_listen,
                    "HOST:PORT for plain-HTTP /healthz and /readyz, and, unless --https-listen "
                    "is given, /metrics and the dashboard (/) with the admin token, which then "
                    "travels in clear (so a non-loopback address then needs --insecure); port "
                    "0: any free port (default: off)");
  coord->add_option("--https-listen", ca.https_listen,
                    "HOST:PORT for HTTPS (TLS 1.2+): /metrics, the dashboard (/), /api/*, "
                    "/healthz and /readyz; --http-listen then serves only /healthz and /readyz "
                    "(default: off)");
  coord->add_option("--https-cert", ca.https_cert_file,
                    "Certificate chain (PEM) for --https-listen (default: --tls-cert's)");
  coord->add_option("--https-key", ca.https_key_file,
                    "Private key (PEM, unencrypted) for --https-listen (default: --tls-key's)");
  coord
      ->add_option("--metrics-refresh", ca.metrics_refresh,
                   "How often /metrics and the dashboard's verdicts are recomputed")
      ->capture_default_str();
}

// `vigil worker`.
void AddWorkerCommand(CLI::App& app, int& exit_code) {
  auto [work, wa] = AddCommand<WorkerArgs>(
      &app, "worker",
      "Run a worker near the data: leases tasks for the locations it serves, hashes the backup "
      "sets and streams observations (never file contents) to the coordinator.",
      exit_code, RunWorker);
  work->add_option("--coordinator", wa.coordinator, "Coordinator HOST:PORT")->required();
  work->add_option("--site", wa.site, "Site this worker runs at")->required();
  work->add_option("--location", wa.locations,
                   "NAME=PATH: a location this worker serves and its root directory; NAME "
                   "alone: a remote location (type s3 or sftp: its address comes from the "
                   "contract, its credentials from --secrets DIR/NAME.s3 or DIR/NAME.ssh) "
                   "(repeatable)")
      ->required();
  work->add_option("--scratch", wa.scratch,
                   "Scratch directory for restore drills (created if missing; default "
                   "$TMPDIR/vigil-scratch-PID)");
  work->add_option("--secrets", wa.secrets,
                   "Directory of secrets, never sent anywhere: restic passwords "
                   "(TENANT/SET.password, else LOCATION.password) and remote locations' "
                   "credentials (LOCATION.s3, LOCATION.ssh; mode 0600 or stricter)");
  work->add_option("--token-file", wa.token_file,
                   "File holding the enrolment token: the coordinator's DATA/enrol.token (one "
                   "worker), one from `vigil token issue --kind enrol`, or the coordinator's "
                   "--worker-token-file. Needed to register (not to resume from --state-dir)");
  work->add_option("--state-dir", wa.state_dir,
                   "Directory keeping the worker id and credential across restarts (created "
                   "0700; default: $STATE_DIRECTORY as set by systemd, else none: every start "
                   "registers again)");
  work->add_option("--tls-ca", wa.tls_ca_file, "CA (PEM) to verify the coordinator's certificate");
  work->add_option("--tls-cert", wa.tls_cert_file, "Client certificate (PEM) for mutual TLS");
  work->add_option("--tls-key", wa.tls_key_file, "Client private key (PEM) for mutual TLS");
  work->add_option("--http-listen", wa.http_listen,
                   "HOST:PORT for plain-HTTP /healthz and /readyz; port 0: any free port "
                   "(default: off)");
  work->add_option("--capacity", wa.capacity,
                   "Tasks run at once (each with its own lease); reported to the coordinator")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  work->add_option("--listing-cache-mb", wa.listing_cache_mb,
                   "Memory (MiB) for remembering the listings of checked directories: a "
                   "directory whose ctime has not moved since a check read it is not read again "
                   "(docs/storage.md); 0: every check reads every directory")
      ->capture_default_str()
      ->check(CLI::Range(0, 65536));
  work->add_option("--batch-size", wa.batch_size, "Observations per streamed batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  work->add_option("--test-batch-delay-ms", wa.test_batch_delay_ms,
                   "Testing only: pause after each acknowledged batch")
      ->group("");
}

// `vigil dev`.
void AddDevCommand(CLI::App& app, int& exit_code) {
  auto [dev, da] = AddCommand<DevArgs>(
      &app, "dev",
      "Try Vigil: a coordinator and two in-process workers on loopback, with the example law "
      "firm of deploy/examples/dev.yaml and sample backups; prints the address, the admin token, "
      "the dashboard's address (http://127.0.0.1:PORT/, log in with that token) and a first "
      "status.",
      exit_code, RunDev);
  dev->add_option("--data", da.data, "Data directory (default: a new one under $TMPDIR)");
  dev->add_option("--listen", da.listen, "HOST:PORT")->capture_default_str();
  dev->add_option("--examples", da.examples, "Directory holding dev.yaml");
  dev->add_flag("--once", da.once, "Exit after the first status instead of serving");
}

}  // namespace

void AddServeCommands(CLI::App& app, int& exit_code) {
  AddCoordinatorCommand(app, exit_code);
  AddWorkerCommand(app, exit_code);
  AddDevCommand(app, exit_code);
}

}  // namespace vigil::cli
