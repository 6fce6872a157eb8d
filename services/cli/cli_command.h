// Registering one `vigil` subcommand with CLI11: the arguments struct it
// fills, kept alive by its callback, and the callback that runs the command
// (a Run* function of the *_commands.h headers) after parsing and stores its
// exit code. Included by the *_cli.cc files only (it includes CLI11: see
// commands.h).
//
//   auto [apply, a] = AddCommand<ApplyArgs>(&app, "apply", "...", exit_code, RunApply);
//   apply->add_option("-f,--file", a.files, "...");
//
// Several subcommands that share one arguments struct (`proof include|list|
// get`) take it with AddRunner().
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <utility>

namespace vigil::cli {

// A subcommand and the arguments its options fill.
template <typename Args>
struct Command {
  CLI::App* cmd;
  Args& args;
};

// Subcommand `name` of `parent`, which after parsing runs run(*args) and
// stores the result in `exit_code` (both must outlive parsing).
template <typename Args>
CLI::App* AddRunner(CLI::App* parent, std::string name, std::string description, int& exit_code,
                    std::shared_ptr<Args> args, int (*run)(const Args&)) {
  CLI::App* cmd = parent->add_subcommand(std::move(name), std::move(description));
  cmd->callback([args = std::move(args), run, &exit_code] { exit_code = run(*args); });
  return cmd;
}

// The same with arguments of its own.
template <typename Args>
Command<Args> AddCommand(CLI::App* parent, std::string name, std::string description,
                         int& exit_code, int (*run)(const Args&)) {
  auto args = std::make_shared<Args>();
  Args& a = *args;
  return {
      AddRunner(parent, std::move(name), std::move(description), exit_code, std::move(args), run),
      a};
}

}  // namespace vigil::cli
