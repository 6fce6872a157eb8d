// The `vigil` binary: parses the command line and hands over to a command.
// CLI11 is slow to compile: keep it to this file.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "services/cli/admin_commands.h"
#include "services/cli/exit_codes.h"
#include "services/cli/format_commands.h"
#include "services/cli/proof_commands.h"
#include "services/cli/report_commands.h"
#include "services/cli/serve_commands.h"
#include "services/cli/verify_command.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "Vigil verifies the backups an MSP keeps for its clients, checks them against each "
      "client's contract, and issues signed proofs the client can check offline.",
      "vigil"};
  app.set_version_flag("--version", std::string("vigil ") + VIGIL_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'vigil COMMAND --help' for the options of a command.");

  vigil::cli::VerifyArgs va;
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check a directory tree of backups against its catalogue, locally (no server). The "
      "first run records a baseline; later runs re-read and compare.");
  std::string format = "dir";
  verify->add_option("PATH", va.path, "Directory to verify (the bag, or the checksum file)")
      ->required();
  verify
      ->add_option("--format", format,
                   "What PATH is: dir (a tree of backups, checked against its catalogue), bagit "
                   "(a BagIt bag, RFC 8493), sumfile (a SHA256SUMS-style checksum file) or restic "
                   "(a restic repository)")
      ->check(CLI::IsMember({"dir", "bagit", "sumfile", "restic"}))
      ->capture_default_str();
  verify->add_option("--catalogue", va.catalogue,
                     "Catalogue directory (default: one per PATH under "
                     "$XDG_STATE_HOME/vigil/verify/; --format restic: none unless given, "
                     "then known packs are not re-read and vanished ones are reported)");
  verify->add_option("--max-age", va.max_age,
                     "Incremental: do not re-read entries verified within DURATION "
                     "(e.g. 12h, 7d, 2w) whose size and mtime are unchanged");
  verify->add_flag("--mutable", va.mutable_set,
                   "PATH is a mirror updated in place: a change with a new mtime is an update, "
                   "not a problem");
  verify->add_flag("--accept", va.accept,
                   "Record modified and missing entries as the new baseline (after a "
                   "legitimate change; --format restic: forget vanished snapshots and packs)");
  verify->add_flag("--json", va.json, "Print one JSON document on stdout (see below)");
  verify->add_flag("!--no-progress", va.progress, "Never show the progress bar");
  verify
      ->add_option("--algorithm", va.algorithm,
                   "Digest for new entries: xxh3-128 (default), sha256, sha512, sha1, md5")
      ->capture_default_str();
  verify->add_option("-j,--threads", va.threads, "Hashing threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  verify
      ->add_option("--list", va.list_limit, "Human output: at most N added/updated entries listed")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  std::string password_file;
  bool read_data = false;
  verify->add_option("--password-file", password_file,
                     "--format restic: read the repository password from FILE (without it, "
                     "only file names, layout and sizes are checked)");
  verify->add_flag("--read-data", read_data,
                   "--format restic: decrypt and hash every blob of every pack");
  verify->footer(vigil::cli::kVerifyHelpFooter);

  // --- Server side -------------------------------------------------------
  vigil::cli::CoordinatorArgs ca;
  CLI::App* coord = app.add_subcommand(
      "coordinator",
      "Run the coordinator: holds locations, tenants, tasks and catalogues in one RocksDB "
      "database, leases tasks to workers and ingests their observations (gRPC).");
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

  vigil::cli::WorkerArgs wa;
  CLI::App* work = app.add_subcommand(
      "worker",
      "Run a worker near the data: leases tasks for the locations it serves, hashes the backup "
      "sets and streams observations (never file contents) to the coordinator.");
  work->add_option("--coordinator", wa.coordinator, "Coordinator HOST:PORT")->required();
  work->add_option("--site", wa.site, "Site this worker runs at")->required();
  work->add_option("--location", wa.locations,
                   "NAME=PATH: a location this worker serves and its root directory "
                   "(repeatable)")
      ->required();
  work->add_option("--scratch", wa.scratch,
                   "Scratch directory for restore drills (created if missing; default "
                   "$TMPDIR/vigil-scratch-PID)");
  work->add_option("--secrets", wa.secrets,
                   "Directory of restic passwords, never sent anywhere: TENANT/SET.password, "
                   "else LOCATION.password");
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
  work->add_option("--batch-size", wa.batch_size, "Observations per streamed batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  work->add_option("--test-batch-delay-ms", wa.test_batch_delay_ms,
                   "Testing only: pause after each acknowledged batch")
      ->group("");

  vigil::cli::DevArgs da;
  CLI::App* dev = app.add_subcommand(
      "dev",
      "Try Vigil: a coordinator and two in-process workers on loopback, with the example law "
      "firm of deploy/examples/dev.yaml and sample backups; prints the address, a token and a "
      "first status.");
  dev->add_option("--data", da.data, "Data directory (default: a new one under $TMPDIR)");
  dev->add_option("--listen", da.listen, "HOST:PORT")->capture_default_str();
  dev->add_option("--examples", da.examples, "Directory holding dev.yaml");
  dev->add_flag("--once", da.once, "Exit after the first status instead of serving");

  // --- Admin clients -----------------------------------------------------
  auto client_options = [](CLI::App* cmd, vigil::cli::ClientArgs* c) {
    cmd->add_option("--coordinator", c->coordinator,
                    "Coordinator HOST:PORT (default: $VIGIL_COORDINATOR, else 127.0.0.1:7400)");
    cmd->add_option("--token-file", c->token_file,
                    "File holding the admin token (default: $VIGIL_TOKEN)");
    cmd->add_option("--tls-ca", c->tls_ca_file,
                    "CA (PEM) to verify the coordinator's TLS certificate (default: "
                    "$VIGIL_TLS_CA; none: plaintext)");
  };
  vigil::cli::ApplyArgs aa;
  CLI::App* apply = app.add_subcommand(
      "apply",
      "Create or update locations, tenants and contracts from YAML files (all or "
      "nothing).");
  apply->add_option("-f,--file", aa.files, "YAML file (multi-document; repeatable)")->required();
  apply->add_flag("--dry-run", aa.dry_run,
                  "Validate against the coordinator and print what would change; change nothing");
  client_options(apply, &aa.client);

  CLI::App* check = app.add_subcommand("check", "Run checks");
  check->require_subcommand(1);
  vigil::cli::CheckRunArgs cra;
  CLI::App* check_run =
      check->add_subcommand("run", "Queue a check of every backup set of a tenant");
  check_run->add_option("TENANT", cra.tenant, "Tenant name")->required();
  check_run->add_option("--asset", cra.asset, "Only this asset");
  check_run->add_flag("--drill", cra.drill,
                      "Queue a restore drill of each asset's first backup set instead of a check "
                      "(with --wait: exit 1 if a drill verdict fails)");
  check_run->add_flag("--wait", cra.wait,
                      "Wait for the check to finish, showing progress (exit 1 if it failed or "
                      "found problems)");
  check_run->add_option("--timeout", cra.timeout_s, "Seconds --wait waits at most")
      ->capture_default_str();
  client_options(check_run, &cra.client);

  vigil::cli::StatusArgs sa;
  CLI::App* status = app.add_subcommand("status", "Show tenants, backup sets and last checks");
  status->add_option("TENANT", sa.tenant, "Only this tenant");
  status->add_flag("--json", sa.json, "One JSON document on stdout (see below)");
  status->footer(vigil::cli::kStatusHelpFooter);
  client_options(status, &sa.client);

  CLI::App* admin = app.add_subcommand("admin", "Coordinator administration");
  admin->require_subcommand(1);
  vigil::cli::AdminBackupArgs aba;
  CLI::App* admin_backup = admin->add_subcommand(
      "backup",
      "Copy the coordinator's database (catalogues, tasks, evidence) to a new directory on its "
      "machine, consistently, while it runs. Restore: stop it, put the copy as DATA/db, start it.");
  admin_backup->add_option("DIR", aba.directory, "Absolute path of a directory to create")
      ->required();
  client_options(admin_backup, &aba.client);

  vigil::cli::TokenArgs ta;
  CLI::App* token = app.add_subcommand(
      "token",
      "Bearer tokens, stored hashed by the coordinator: admin (every admin call), tenant (one "
      "client's own status and reports, nothing else), enrol (one worker registration)");
  token->require_subcommand(1);
  CLI::App* token_issue = token->add_subcommand("issue", "Issue a token; it is printed once");
  token_issue->add_option("--kind", ta.kind, "admin | tenant | enrol")->required();
  token_issue->add_option("--tenant", ta.tenant, "The tenant a tenant token reads");
  token_issue->add_option("--site", ta.site,
                          "Enrol tokens: enrol only a worker of this site (default: any site; "
                          "the worker is bound to the site it enrols with either way)");
  token_issue->add_option("--name", ta.name, "A label shown by `vigil token list`");
  token_issue->add_option("--expires-in", ta.expires_in, "Lifetime, e.g. 90d (default: none)");
  client_options(token_issue, &ta.client);
  CLI::App* token_list = token->add_subcommand("list", "Every token issued, with its state");
  token_list->add_flag("--json", ta.json, "JSON on stdout");
  client_options(token_list, &ta.client);
  CLI::App* token_revoke = token->add_subcommand("revoke", "Revoke a token at once");
  token_revoke->add_option("ID", ta.id, "Token id (from `vigil token list`)")->required();
  client_options(token_revoke, &ta.client);
  CLI::App* token_rotate = token->add_subcommand(
      "rotate", "Issue a new token of the same kind, tenant and name, and revoke the old one");
  token_rotate->add_option("ID", ta.id, "Token id (from `vigil token list`)")->required();
  client_options(token_rotate, &ta.client);

  vigil::cli::PortalArgs pa;
  CLI::App* portal = app.add_subcommand(
      "portal",
      "What a client sees with its tenant token (--token-file): its own status and signed "
      "reports");
  portal->require_subcommand(1);
  CLI::App* portal_status =
      portal->add_subcommand("status", "The tenant's restore readiness, verdicts, backup sets");
  portal_status->add_flag("--json", pa.json, "JSON on stdout (the shape of `vigil status --json`)");
  client_options(portal_status, &pa.client);
  CLI::App* portal_reports =
      portal->add_subcommand("reports", "The tenant's signed reports (proofs), by seq and period");
  vigil::cli::PortalReportArgs pra;
  portal_reports->add_flag("--json", pra.json, "JSON on stdout");
  client_options(portal_reports, &pra.client);
  CLI::App* portal_report = portal->add_subcommand(
      "report",
      "Fetch one signed report: writes the proof statement, its signature, the report as JSON "
      "and as HTML into --dir");
  portal_report->add_option("--period", pra.period, "Period label, e.g. 2026-10 (default: any)");
  portal_report->add_option("--seq", pra.seq, "Proof number (default: the latest)");
  portal_report->add_option("--dir", pra.dir, "Directory to write into")->capture_default_str();
  client_options(portal_report, &pra.client);

  // --- Reports, proofs, offboarding -------------------------------------
  vigil::cli::ReportArgs ra;
  CLI::App* report = app.add_subcommand(
      "report",
      "Issue a tenant's compliance report for a period with its signed proof: writes the "
      "report (HTML or JSON) and the proof beside it (PROOF and PROOF.sig)");
  report->add_option("TENANT", ra.tenant, "Tenant name")->required();
  report->add_option("--period", ra.period,
                     "2026-10 (a month) or 2026-10-01..2026-10-15 (local dates, inclusive), in "
                     "the tenant's time zone (default: the last complete month)");
  report->add_option("--format", ra.format, "html or json")
      ->check(CLI::IsMember({"html", "json"}))
      ->capture_default_str();
  report->add_option("-o,--output", ra.output, "Report file (default: TENANT-PERIOD.FORMAT)");
  report->add_option("--proof", ra.proof,
                     "Proof file (default: the report's name with .proof.json; the signature "
                     "goes to PROOF.sig)");
  client_options(report, &ra.client);

  CLI::App* proof = app.add_subcommand("proof", "Signed proofs: verify offline, fetch, include");
  proof->require_subcommand(1);
  vigil::cli::ProofVerifyArgs pva;
  CLI::App* proof_verify = proof->add_subcommand(
      "verify", "Verify a proof offline (no server): signature, statement, check log chain");
  proof_verify->add_option("PROOF", pva.proof, "The proof statement file")->required();
  proof_verify
      ->add_option("--key", pva.key,
                   "The MSP's public key (msp.pub), or a key directory holding keys/*.pub")
      ->required();
  proof_verify->add_option("--signature", pva.signature, "Detached signature (default: PROOF.sig)");
  proof_verify->add_option("--previous", pva.previous,
                           "The previous proof: check that this one extends its history");
  proof_verify->add_option("--inclusion", pva.inclusion,
                           "An inclusion proof (vigil proof include) to check against this "
                           "proof's signed roots");
  proof_verify->add_flag("-q,--quiet", pva.quiet, "Print only the verdict and failures");
  proof_verify->footer(vigil::cli::kProofVerifyHelpFooter);
  vigil::cli::ProofFetchArgs pfa;
  CLI::App* proof_include = proof->add_subcommand(
      "include",
      "Issue the inclusion proof of one entry (path, size, hash) against the Merkle root a proof "
      "signed for its backup set");
  proof_include->add_option("--tenant", pfa.tenant, "Tenant")->required();
  proof_include->add_option("--backup-set", pfa.backup_set, "Backup set")->required();
  proof_include->add_option("--path", pfa.path, "Entry path within the restore point")->required();
  proof_include->add_option("--seq", pfa.seq, "Proof number (default: the latest)");
  proof_include->add_option("-o,--output", pfa.output, "Output file (default: stdout)");
  client_options(proof_include, &pfa.client);
  CLI::App* proof_list = proof->add_subcommand("list", "A tenant's proofs");
  proof_list->add_option("TENANT", pfa.tenant, "Tenant")->required();
  proof_list->add_flag("--json", pfa.json, "JSON on stdout");
  client_options(proof_list, &pfa.client);
  CLI::App* proof_get = proof->add_subcommand("get", "Fetch an issued proof (and its signature)");
  proof_get->add_option("TENANT", pfa.tenant, "Tenant")->required();
  proof_get->add_option("--seq", pfa.seq, "Proof number (default: the latest)");
  proof_get->add_option("--period", pfa.period, "The latest proof of this period");
  proof_get->add_option("-o,--output", pfa.output,
                        "Proof file (default: TENANT-PERIOD.proof.json)");
  client_options(proof_get, &pfa.client);

  CLI::App* tenant_cmd = app.add_subcommand("tenant", "Tenant life cycle");
  tenant_cmd->require_subcommand(1);
  vigil::cli::OffboardArgs oa;
  CLI::App* offboard = tenant_cmd->add_subcommand(
      "offboard",
      "End of contract (GDPR art. 28(3)(g)): export the tenant's proofs and reports, then with "
      "--yes erase its catalogue entries, records, check log and tokens, and keep a signed "
      "erasure record");
  offboard->add_option("TENANT", oa.tenant, "Tenant")->required();
  offboard->add_option("--export", oa.export_dir, "Directory to export into")->required();
  offboard->add_flag("--yes", oa.yes, "Erase after a successful export (default: export only)");
  client_options(offboard, &oa.client);

  // --- Signing keys and check logs (local, no server) -------------------
  CLI::App* keys = app.add_subcommand(
      "keys", "The MSP's Ed25519 signing keys for reports and proofs (local files, no server)");
  keys->require_subcommand(1);
  keys->footer(vigil::cli::kKeysHelpFooter);
  vigil::cli::KeysArgs ka;
  auto key_dir_option = [&ka](CLI::App* cmd) {
    cmd->add_option("--dir", ka.dir,
                    "Key directory (default: $XDG_CONFIG_HOME/vigil/keys, else "
                    "~/.config/vigil/keys)");
    cmd->footer(vigil::cli::kKeysHelpFooter);
  };
  CLI::App* keys_init = keys->add_subcommand(
      "init", "Create the signing key pair (refuses to overwrite an existing key)");
  key_dir_option(keys_init);
  CLI::App* keys_rotate = keys->add_subcommand(
      "rotate",
      "Make a new current signing key; the previous public key is kept so proofs signed with "
      "it still verify");
  key_dir_option(keys_rotate);
  CLI::App* keys_list =
      keys->add_subcommand("list", "List the key ids of the key directory and which is current");
  key_dir_option(keys_list);

  CLI::App* log = app.add_subcommand("log", "The tenants' hash-chained check logs");
  log->require_subcommand(1);
  vigil::cli::LogVerifyArgs lva;
  std::string log_tenant;
  CLI::App* log_verify = log->add_subcommand(
      "verify",
      "Recompute the check log of TENANT (default: every tenant) from the coordinator's "
      "database (opened read-only: the coordinator may be running) and name the first broken "
      "record.");
  log_verify->add_option("--data", lva.data, "The coordinator's data directory (DATA/db)")
      ->required();
  log_verify->add_option("TENANT", log_tenant, "Only this tenant");
  log_verify->footer(vigil::cli::kLogVerifyHelpFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return vigil::cli::kExitUsage;  // whatever CLI11's own code
  }

  if (verify->parsed() && format != "dir") {
    vigil::cli::FormatArgs fa;
    fa.format = format;
    fa.path = va.path;
    fa.json = va.json;
    fa.threads = va.threads;
    for (const char* opt :
         {"--catalogue", "--max-age", "--mutable", "--accept", "--algorithm", "--list"}) {
      if (verify->count(opt) == 0) continue;
      std::string o = opt;
      if (format == "restic" && (o == "--catalogue" || o == "--accept")) continue;
      fa.dir_only_options.push_back(opt);
    }
    fa.password_file = password_file;
    fa.catalogue = va.catalogue;
    fa.accept = va.accept;
    fa.read_data = read_data;
    for (const char* opt : {"--password-file", "--read-data"}) {
      if (verify->count(opt) > 0 && format != "restic") fa.restic_only_options.push_back(opt);
    }
    return vigil::cli::RunFormatVerify(fa);
  }
  if (verify->parsed() && verify->count("--password-file") + verify->count("--read-data") > 0) {
    std::fprintf(stderr,
                 "vigil verify: --password-file and --read-data apply to --format restic only\n");
    return vigil::cli::kExitUsage;
  }
  if (verify->parsed()) return vigil::cli::RunVerify(va);
  if (coord->parsed()) return vigil::cli::RunCoordinator(ca);
  if (work->parsed()) return vigil::cli::RunWorker(wa);
  if (dev->parsed()) return vigil::cli::RunDev(da);
  if (apply->parsed()) return vigil::cli::RunApply(aa);
  if (check_run->parsed()) return vigil::cli::RunCheckRun(cra);
  if (status->parsed()) return vigil::cli::RunStatus(sa);
  if (admin_backup->parsed()) return vigil::cli::RunAdminBackup(aba);
  if (token_issue->parsed() || token_list->parsed() || token_revoke->parsed() ||
      token_rotate->parsed()) {
    ta.action = token_issue->parsed()    ? "issue"
                : token_list->parsed()   ? "list"
                : token_revoke->parsed() ? "revoke"
                                         : "rotate";
    return vigil::cli::RunToken(ta);
  }
  if (portal_status->parsed()) return vigil::cli::RunPortalStatus(pa);
  if (portal_reports->parsed()) return vigil::cli::RunPortalReports(pra);
  if (portal_report->parsed()) return vigil::cli::RunPortalReport(pra);
  if (report->parsed()) return vigil::cli::RunReport(ra);
  if (proof_verify->parsed()) return vigil::cli::RunProofVerify(pva);
  if (proof_include->parsed()) return vigil::cli::RunProofInclude(pfa);
  if (proof_list->parsed()) return vigil::cli::RunProofList(pfa);
  if (proof_get->parsed()) return vigil::cli::RunProofGet(pfa);
  if (offboard->parsed()) return vigil::cli::RunTenantOffboard(oa);
  if (keys_init->parsed()) return vigil::cli::RunKeysInit(ka);
  if (keys_rotate->parsed()) return vigil::cli::RunKeysRotate(ka);
  if (keys_list->parsed()) return vigil::cli::RunKeysList(ka);
  if (log_verify->parsed()) {
    if (log_verify->count("TENANT") > 0) lva.tenant = log_tenant;
    return vigil::cli::RunLogVerify(lva);
  }
  return vigil::cli::kExitUsage;
}
