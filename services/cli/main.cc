// The `vigil` binary: builds the command line from the command groups of
// commands.h, parses it, and returns the exit code of the command that ran
// (exit_codes.h). CLI11 is slow to compile: only this file and the
// registration files (*_cli.cc) include it.
#include <CLI/CLI.hpp>
#include <string>

#include "services/cli/commands.h"
#include "services/cli/exit_codes.h"

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

  // Set by the callback of the command that ran (during app.parse()).
  int exit_code = vigil::cli::kExitUsage;
  vigil::cli::AddVerifyCommands(app, exit_code);
  vigil::cli::AddServeCommands(app, exit_code);
  vigil::cli::AddAdminCommands(app, exit_code);
  vigil::cli::AddReportCommands(app, exit_code);

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
  return exit_code;
}
