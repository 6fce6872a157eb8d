// The `vigil` binary: builds the command line from the command groups of
// commands.h, parses it, and returns the exit code of the command that ran
// (exit_codes.h). CLI11 is slow to compile: only this file and the
// registration files (*_cli.cc) include it.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "services/cli/commands.h"
#include "services/cli/exit_codes.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "dev"
#endif

namespace {

// Edit distance (insertions, deletions, substitutions) of two short words.
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The option (for "--x") or subcommand (for a word) of `cmd` closest to
// `arg`, if it is close enough to be a typo; "" if none.
std::string Closest(const CLI::App& cmd, const std::string& arg) {
  std::vector<std::string> names;
  if (arg.rfind("--", 0) == 0) {
    for (const CLI::Option* o : cmd.get_options()) {
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
    }
  } else if (arg.rfind('-', 0) != 0) {
    for (const CLI::App* sub : cmd.get_subcommands([](const CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
    }
  }
  std::string word = arg.substr(0, arg.find('='));
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& n : names) {
    size_t d = Distance(word, n);
    if (d < best_d) best_d = d, best = n;
  }
  return best;
}

// CLI11's error, said of the command it concerns: "vigil check run:
// unknown option '--timout' (did you mean --timeout?)", then where its
// options are listed.
int UsageError(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* cmd = &app;
  std::string name = "vigil";
  while (!cmd->get_subcommands().empty()) {
    cmd = cmd->get_subcommands().front();
    name += " " + cmd->get_name();
  }
  // What was left over is what went wrong, most often: an unknown option,
  // a mistyped command (CLI11 then says only "A subcommand is required").
  std::string what;
  for (const std::string& arg : app.remaining(/*recurse=*/true)) {
    if (!what.empty()) what += "; ";
    const bool option = arg.size() > 1 && arg[0] == '-';
    what += (option ? "unknown option '" : "unexpected argument '") + arg + "'";
    if (std::string near = Closest(*cmd, arg); !near.empty()) {
      what += " (did you mean " + near + "?)";
    }
  }
  if (what.empty() || dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) {
    what += (what.empty() ? "" : "; ") + std::string(e.what());
  }
  std::fprintf(stderr, "%s: %s\nRun '%s --help' for its options.\n", name.c_str(), what.c_str(),
               name.c_str());
  return vigil::cli::kExitUsage;  // whatever CLI11's own code
}

// "Run 'vigil check COMMAND --help'" under each group of subcommands (a
// leaf command's help ends with its own footer, if any).
void AddGroupFooters(CLI::App& group, const std::string& name) {
  for (CLI::App* sub : group.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_subcommands([](CLI::App*) { return true; }).empty()) continue;
    const std::string sub_name = name + " " + sub->get_name();
    const std::string own = sub->get_footer();
    sub->footer((own.empty() ? "" : own + "\n\n") + "Run '" + sub_name +
                " COMMAND --help' for the options of a command.");
    AddGroupFooters(*sub, sub_name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Vigil verifies the backups an MSP keeps for its clients, checks them against each "
      "client's contract, and issues signed proofs the client can check offline.",
      "vigil"};
  app.set_version_flag("--version", std::string("vigil ") + VIGIL_VERSION);
  app.require_subcommand(1);

  // Set by the callback of the command that ran (during app.parse()).
  int exit_code = vigil::cli::kExitUsage;
  vigil::cli::AddVerifyCommands(app, exit_code);
  vigil::cli::AddServeCommands(app, exit_code);
  vigil::cli::AddAdminCommands(app, exit_code);
  vigil::cli::AddReportCommands(app, exit_code);
  // After the commands: a subcommand inherits the footer its parent has
  // when it is added.
  app.footer("Run 'vigil COMMAND --help' for the options of a command.");
  AddGroupFooters(app, "vigil");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e);
  }
  return exit_code;
}
