// The exit codes of the `vigil` binary: one table for every command.
//
// Scripts and systemd units act on these, and the help texts and docs
// (docs/formats.md, docs/proofs.md, docs/operations.md) name them: the values
// never change. Each command's header says which of them it returns and when.
//
//   0  kExitOk        done; a check or verification found no problem.
//   1  kExitProblems  the command ran and the answer is no: `verify` found
//                     integrity problems, `proof verify` an invalid proof,
//                     `log verify` a broken log, `check run --wait` a failed
//                     task, a problem, a failed drill verdict or a timeout,
//                     `tenant offboard` an export that did not read back
//                     intact; `keys init|rotate|list` could not do it (the
//                     key files; message on stderr).
//   2  kExitUsage     usage or input error: a bad flag or argument (CLI11's
//                     own errors included), an input file that cannot be
//                     read or parsed, a coordinator's INVALID_ARGUMENT, a
//                     database that cannot be opened by `log verify`, an
//                     address `coordinator` or `worker` cannot listen on
//                     (port in use, not this machine's).
//   3  kExitFailure   the service failed: a client's coordinator refused the
//                     call or could not be reached; `coordinator`, `worker`
//                     or `dev` could not start or stopped on an error.
//   4  kExitNoWorker  `check run --wait`: the check cannot finish because
//                     tasks of it are queued at a location no worker serves
//                     (Task.waiting); it says which location and how to
//                     start a worker, and returns once only such tasks
//                     have been left for 15 s (time for a worker being
//                     started to register) instead of waiting for
//                     --timeout. Also when the tasks left are deferred by
//                     their location's daily readBudget (Task.waiting says
//                     until when).
//
// Plain constants (not an enum class): they are what main() returns.
#pragma once

namespace vigil::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 3;
inline constexpr int kExitNoWorker = 4;

}  // namespace vigil::cli
