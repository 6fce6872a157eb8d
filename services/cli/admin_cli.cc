// The commands an MSP's administrator runs against a coordinator: `vigil
// apply`, `check run`, `status`, `admin backup`, `token ...`, `point accept`, and the
// client's own view with a tenant token, `vigil portal ...`. Flags only: the
// commands are admin_commands.h and report_commands.h.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "services/cli/admin_commands.h"
#include "services/cli/cli_command.h"
#include "services/cli/commands.h"
#include "services/cli/report_commands.h"

namespace vigil::cli {
namespace {

void AddApplyCommand(CLI::App& app, int& exit_code) {
  auto [apply, aa] = AddCommand<ApplyArgs>(
      &app, "apply",
      "Create or update locations, tenants and contracts from YAML files (all or "
      "nothing).",
      exit_code, RunApply);
  apply->add_option("-f,--file", aa.files, "YAML file (multi-document; repeatable)")->required();
  apply->add_flag("--dry-run", aa.dry_run,
                  "Validate against the coordinator and print what would change; change nothing");
  AddClientOptions(apply, &aa.client);
}

void AddCheckCommands(CLI::App& app, int& exit_code) {
  CLI::App* check = app.add_subcommand("check", "Run checks");
  check->require_subcommand(1);
  auto [check_run, cra] = AddCommand<CheckRunArgs>(
      check, "run", "Queue a check of every backup set of a tenant", exit_code, RunCheckRun);
  check_run->add_option("TENANT", cra.tenant, "Tenant name")->required();
  check_run->add_option("--asset", cra.asset, "Only this asset");
  check_run->add_flag("--drill", cra.drill,
                      "Queue a restore drill of each asset's first backup set instead of a check "
                      "(with --wait: exit 1 if a drill verdict fails)");
  check_run->add_flag("--force", cra.force,
                      "Check even a location inside one of its maintenance windows (refused "
                      "without it: the storage is being written or maintained then)");
  check_run->add_flag(
      "--wait", cra.wait,
      "Wait for the check to finish, showing progress (exit 1 if it failed or "
      "found problems, 4 once only tasks that no worker serves have been left for 15 s)");
  check_run->add_option("--timeout", cra.timeout_s, "Seconds --wait waits at most")
      ->capture_default_str();
  AddClientOptions(check_run, &cra.client);
}

void AddStatusCommand(CLI::App& app, int& exit_code) {
  auto [status, sa] = AddCommand<StatusArgs>(
      &app, "status", "Show tenants, backup sets and last checks", exit_code, RunStatus);
  status->add_option("TENANT", sa.tenant, "Only this tenant");
  status->add_flag("--json", sa.json, "One JSON document on stdout (see below)");
  status->footer(kStatusHelpFooter);
  AddClientOptions(status, &sa.client);
}

void AddAdminBackupCommand(CLI::App& app, int& exit_code) {
  CLI::App* admin = app.add_subcommand("admin", "Coordinator administration");
  admin->require_subcommand(1);
  auto [admin_backup, aba] = AddCommand<AdminBackupArgs>(
      admin, "backup",
      "Copy the coordinator's database (catalogues, tasks, evidence) to a new directory on its "
      "machine, consistently, while it runs. Restore: stop it, put the copy as DATA/db, start it.",
      exit_code, RunAdminBackup);
  admin_backup->add_option("DIR", aba.directory, "Absolute path of a directory to create")
      ->required();
  AddClientOptions(admin_backup, &aba.client);
}

// `vigil token issue|list|revoke|rotate`: one RunToken, told which.
void AddTokenCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TokenArgs>();
  TokenArgs& ta = *args;
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
  AddClientOptions(token_issue, &ta.client);
  CLI::App* token_list = token->add_subcommand("list", "Every token issued, with its state");
  token_list->add_flag("--json", ta.json, "JSON on stdout");
  AddClientOptions(token_list, &ta.client);
  CLI::App* token_revoke = token->add_subcommand("revoke", "Revoke a token at once");
  token_revoke->add_option("ID", ta.id, "Token id (from `vigil token list`)")->required();
  AddClientOptions(token_revoke, &ta.client);
  CLI::App* token_rotate = token->add_subcommand(
      "rotate", "Issue a new token of the same kind, tenant and name, and revoke the old one");
  token_rotate->add_option("ID", ta.id, "Token id (from `vigil token list`)")->required();
  AddClientOptions(token_rotate, &ta.client);
  auto run = [args, &exit_code](const char* action) {
    return [args, &exit_code, action] {
      args->action = action;
      exit_code = RunToken(*args);
    };
  };
  token_issue->callback(run("issue"));
  token_list->callback(run("list"));
  token_revoke->callback(run("revoke"));
  token_rotate->callback(run("rotate"));
}

void AddPointCommands(CLI::App& app, int& exit_code) {
  CLI::App* point = app.add_subcommand("point", "Restore points");
  point->require_subcommand(1);
  auto [accept, pa] = AddCommand<PointAcceptArgs>(
      point, "accept",
      "Declare a restore point flagged suspicious or encrypted clean (a legitimate big change: "
      "an upgrade, an import). It then counts as the last clean point, and the later points "
      "are examined again against it. Recorded with who (the admin token's name), when and "
      "why.",
      exit_code, RunPointAccept);
  accept->add_option("TENANT", pa.tenant, "Tenant name")->required();
  accept->add_option("SET", pa.backup_set, "Backup set name")->required();
  accept
      ->add_option("POINT", pa.point,
                   "The restore point: its name as `vigil status` shows it, or its time in "
                   "ns (`vigil status --json`, points[].time_ns)")
      ->required();
  accept->add_option("--reason", pa.reason, "Why it is clean (required; kept with the point)")
      ->required();
  AddClientOptions(accept, &pa.client);
}

// What a portal command's --token-file holds.
constexpr const char* kTenantToken =
    "the client's tenant token (`vigil token issue --kind tenant`)";

void AddPortalCommands(CLI::App& app, int& exit_code) {
  CLI::App* portal = app.add_subcommand(
      "portal",
      "What a client sees with its tenant token (--token-file): its own status and signed "
      "reports");
  portal->require_subcommand(1);
  auto [portal_status, pa] = AddCommand<PortalArgs>(
      portal, "status", "The tenant's restore readiness, verdicts, backup sets", exit_code,
      RunPortalStatus);
  portal_status->add_flag("--json", pa.json, "JSON on stdout (the shape of `vigil status --json`)");
  AddClientOptions(portal_status, &pa.client, kTenantToken);
  auto report_args = std::make_shared<PortalReportArgs>();
  PortalReportArgs& pra = *report_args;
  CLI::App* portal_reports =
      AddRunner(portal, "reports", "The tenant's signed reports (proofs), by seq and period",
                exit_code, report_args, RunPortalReports);
  portal_reports->add_flag("--json", pra.json, "JSON on stdout");
  AddClientOptions(portal_reports, &pra.client, kTenantToken);
  CLI::App* portal_report = AddRunner(
      portal, "report",
      "Fetch one signed report: writes the proof statement, its signature, the report as JSON "
      "and as HTML into --dir",
      exit_code, report_args, RunPortalReport);
  portal_report->add_option("--period", pra.period, "Period label, e.g. 2026-10 (default: any)");
  portal_report->add_option("--seq", pra.seq, "Proof number (default: the latest)");
  portal_report->add_option("--dir", pra.dir, "Directory to write into")->capture_default_str();
  AddClientOptions(portal_report, &pra.client, kTenantToken);
}

}  // namespace

void AddClientOptions(CLI::App* cmd, ClientArgs* c, const char* token) {
  cmd->add_option("--coordinator", c->coordinator,
                  "Coordinator's gRPC HOST:PORT, its --listen (default: $VIGIL_COORDINATOR, "
                  "else 127.0.0.1:7400)");
  cmd->add_option("--token-file", c->token_file,
                  std::string("File holding ") + token +
                      ". Default: the file named by $VIGIL_TOKEN_FILE, else the token itself "
                      "in $VIGIL_TOKEN");
  cmd->add_option("--tls-ca", c->tls_ca_file,
                  "CA (PEM) to verify the coordinator's TLS certificate (default: "
                  "$VIGIL_TLS_CA; none: plaintext)");
}

void AddAdminCommands(CLI::App& app, int& exit_code) {
  AddApplyCommand(app, exit_code);
  AddCheckCommands(app, exit_code);
  AddStatusCommand(app, exit_code);
  AddAdminBackupCommand(app, exit_code);
  AddTokenCommands(app, exit_code);
  AddPointCommands(app, exit_code);
  AddPortalCommands(app, exit_code);
}

}  // namespace vigil::cli
