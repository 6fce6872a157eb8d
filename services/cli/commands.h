// The `vigil` command line, one registration function per command group.
// Each adds its subcommands, their options (CLI11) and a callback that runs
// the command (the Run* functions of the *_commands.h headers, which know
// nothing of CLI11) and stores the command's exit code (exit_codes.h) in
// `exit_code`. main.cc calls them in this order, which is the order of
// `vigil --help`, then parses.
//
// CLI11 costs ~10 s of compile time per file including it: only main.cc and
// the *_cli.cc files that define these functions include it; this header
// declares CLI::App without it. The App and `exit_code` must outlive parsing.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace vigil::cli {

struct ClientArgs;

// `vigil verify` (verify_cli.cc).
void AddVerifyCommands(CLI::App& app, int& exit_code);

// `vigil coordinator`, `vigil worker`, `vigil dev` (serve_cli.cc).
void AddServeCommands(CLI::App& app, int& exit_code);

// `vigil apply`, `check run`, `status`, `admin backup`, `token
// issue|list|revoke|rotate`, `portal status|reports|report` (admin_cli.cc).
void AddAdminCommands(CLI::App& app, int& exit_code);

// `vigil report`, `proof verify|include|list|get`, `tenant offboard`, `keys
// init|rotate|list`, `log verify` (report_cli.cc).
void AddReportCommands(CLI::App& app, int& exit_code);

// The options of every command that talks to a coordinator: --coordinator,
// --token-file (help: a file holding `token`), --tls-ca, into *c
// (admin_cli.cc).
inline constexpr const char* kAdminToken =
    "the admin token (the coordinator's DATA/admin.token, or `vigil token issue --kind admin`)";
void AddClientOptions(CLI::App* cmd, ClientArgs* c, const char* token = kAdminToken);

}  // namespace vigil::cli
