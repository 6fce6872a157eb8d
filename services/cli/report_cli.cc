// Reports, proofs and offboarding through a coordinator (`vigil report`,
// `proof include|list|get`, `tenant offboard`), and what runs locally with no
// server: `vigil proof verify`, `keys ...`, `log verify`. Flags only: the
// commands are report_commands.h and proof_commands.h.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "services/cli/cli_command.h"
#include "services/cli/commands.h"
#include "services/cli/proof_commands.h"
#include "services/cli/report_commands.h"

namespace vigil::cli {
namespace {

void AddReportCommand(CLI::App& app, int& exit_code) {
  auto [report, ra] = AddCommand<ReportArgs>(
      &app, "report",
      "Issue a tenant's compliance report for a period with one signed proof: writes the proof "
      "(PROOF and PROOF.sig) and the report rendered from it (HTML, JSON or both)",
      exit_code, RunReport);
  report->add_option("TENANT", ra.tenant, "Tenant name (not with --from)");
  report->add_option("--period", ra.period,
                     "2026-10 (a month) or 2026-10-01..2026-10-15 (local dates, inclusive), in "
                     "the tenant's time zone (default: the last complete month)");
  report->add_option("--format", ra.format, "html, json, or html,json for both (default: html)");
  report->add_option("-o,--output", ra.output,
                     "Report file (default: TENANT-PERIOD.FORMAT); with several formats, its "
                     "extension is replaced by each format's");
  report->add_option("--proof", ra.proof,
                     "Proof file (default: the report's name with .proof.json; the signature "
                     "goes to PROOF.sig). An existing proof file is never replaced");
  report->add_option("--from", ra.from,
                     "Render a proof you already have (PROOF.proof.json) in --format, offline: "
                     "no coordinator, no new proof");
  report->add_flag("--allow-unmonitored", ra.allow_unmonitored,
                   "Sign a proof even for a period in which no backup set had been inventoried "
                   "(every verdict then says \"not monitored\"); refused without it");
  AddClientOptions(report, &ra.client);
}

void AddProofCommands(CLI::App& app, int& exit_code) {
  CLI::App* proof = app.add_subcommand("proof", "Signed proofs: verify offline, fetch, include");
  proof->require_subcommand(1);
  auto [proof_verify, pva] = AddCommand<ProofVerifyArgs>(
      proof, "verify", "Verify a proof offline (no server): signature, statement, check log chain",
      exit_code, RunProofVerify);
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
  proof_verify->add_option("--backup-set", pva.backup_set,
                           "With --inclusion: the backup set the entry must be in (an inclusion "
                           "proof of another set's entry fails)");
  proof_verify->add_flag("-q,--quiet", pva.quiet, "Print only the verdict and failures");
  proof_verify->footer(kProofVerifyHelpFooter);
  auto fetch_args = std::make_shared<ProofFetchArgs>();
  ProofFetchArgs& pfa = *fetch_args;
  CLI::App* proof_include = AddRunner(
      proof, "include",
      "Issue the inclusion proof of one entry (path, size, hash) against the Merkle root a proof "
      "signed for its backup set",
      exit_code, fetch_args, RunProofInclude);
  // TENANT is positional, as in every command about one tenant; --tenant,
  // its spelling before, still works (hidden).
  proof_include->add_option("TENANT", pfa.tenant, "Tenant name (required)");
  proof_include->add_option("--tenant", pfa.tenant, "Tenant name")->group("");
  proof_include->callback([fetch_args, &exit_code] {
    if (fetch_args->tenant.empty()) throw CLI::RequiredError("TENANT");
    exit_code = RunProofInclude(*fetch_args);
  });
  proof_include->add_option("--backup-set", pfa.backup_set, "Backup set")->required();
  proof_include->add_option("--path", pfa.path, "Entry path within the restore point")->required();
  proof_include->add_option("--seq", pfa.seq, "Proof number (default: the latest)");
  proof_include->add_option("-o,--output", pfa.output, "Output file (default: stdout)");
  AddClientOptions(proof_include, &pfa.client);
  CLI::App* proof_list =
      AddRunner(proof, "list", "A tenant's proofs", exit_code, fetch_args, RunProofList);
  proof_list->add_option("TENANT", pfa.tenant, "Tenant name")->required();
  proof_list->add_flag("--json", pfa.json, "JSON on stdout");
  AddClientOptions(proof_list, &pfa.client);
  CLI::App* proof_get = AddRunner(proof, "get", "Fetch an issued proof (and its signature)",
                                  exit_code, fetch_args, RunProofGet);
  proof_get->add_option("TENANT", pfa.tenant, "Tenant name")->required();
  proof_get->add_option("--seq", pfa.seq, "Proof number (default: the latest)");
  proof_get->add_option("--period", pfa.period, "The latest proof of this period");
  proof_get->add_option("-o,--output", pfa.output,
                        "Proof file (default: TENANT-PERIOD.proof.json)");
  AddClientOptions(proof_get, &pfa.client);
}

void AddTenantCommands(CLI::App& app, int& exit_code) {
  CLI::App* tenant_cmd = app.add_subcommand("tenant", "Tenant life cycle");
  tenant_cmd->require_subcommand(1);
  auto [offboard, oa] = AddCommand<OffboardArgs>(
      tenant_cmd, "offboard",
      "End of contract (GDPR art. 28(3)(g)): export the tenant's proofs and reports, then with "
      "--yes erase its catalogue entries, records, check log and tokens, and keep a signed "
      "erasure record",
      exit_code, RunTenantOffboard);
  offboard->add_option("TENANT", oa.tenant, "Tenant name")->required();
  offboard->add_option("--export", oa.export_dir, "Directory to export into")->required();
  offboard->add_flag("--yes", oa.yes, "Erase after a successful export (default: export only)");
  AddClientOptions(offboard, &oa.client);
}

void AddKeysCommands(CLI::App& app, int& exit_code) {
  CLI::App* keys = app.add_subcommand(
      "keys", "The MSP's Ed25519 signing keys for reports and proofs (local files, no server)");
  keys->require_subcommand(1);
  keys->footer(kKeysHelpFooter);
  auto args = std::make_shared<KeysArgs>();
  KeysArgs& ka = *args;
  auto key_dir_option = [&ka](CLI::App* cmd) {
    cmd->add_option("--dir", ka.dir,
                    "Key directory (default: $XDG_CONFIG_HOME/vigil/keys, else "
                    "~/.config/vigil/keys)");
    cmd->footer(kKeysHelpFooter);
  };
  CLI::App* keys_init =
      AddRunner(keys, "init", "Create the signing key pair (refuses to overwrite an existing key)",
                exit_code, args, RunKeysInit);
  key_dir_option(keys_init);
  CLI::App* keys_rotate = AddRunner(
      keys, "rotate",
      "Make a new current signing key; the previous public key is kept so proofs signed with "
      "it still verify",
      exit_code, args, RunKeysRotate);
  key_dir_option(keys_rotate);
  CLI::App* keys_list =
      AddRunner(keys, "list", "List the key ids of the key directory and which is current",
                exit_code, args, RunKeysList);
  key_dir_option(keys_list);
}

// `vigil log verify`: TENANT is optional, and given only when on the command
// line.
struct LogOptions {
  LogVerifyArgs args;
  std::string tenant;
};

void AddLogCommands(CLI::App& app, int& exit_code) {
  CLI::App* log = app.add_subcommand("log", "The tenants' hash-chained check logs");
  log->require_subcommand(1);
  auto o = std::make_shared<LogOptions>();
  LogVerifyArgs& lva = o->args;
  CLI::App* log_verify = log->add_subcommand(
      "verify",
      "Recompute the check log of TENANT (default: every tenant) from the coordinator's "
      "database (opened read-only: the coordinator may be running) and name the first broken "
      "record.");
  log_verify->add_option("--data", lva.data, "The coordinator's data directory (DATA/db)")
      ->required();
  log_verify->add_option("TENANT", o->tenant, "Only this tenant");
  log_verify->footer(kLogVerifyHelpFooter);
  log_verify->callback([o, log_verify, &exit_code] {
    if (log_verify->count("TENANT") > 0) o->args.tenant = o->tenant;
    exit_code = RunLogVerify(o->args);
  });
}

}  // namespace

void AddReportCommands(CLI::App& app, int& exit_code) {
  AddReportCommand(app, exit_code);
  AddProofCommands(app, exit_code);
  AddTenantCommands(app, exit_code);
  AddKeysCommands(app, exit_code);
  AddLogCommands(app, exit_code);
}

}  // namespace vigil::cli
