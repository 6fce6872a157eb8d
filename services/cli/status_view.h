// How the CLI shows a coordinator's status (vigil.v1.GetStatusResponse):
// the text of `vigil status` and `vigil portal status`, the JSON document of
// their --json (its shape is kStatusHelpFooter, admin_commands.h), and the
// progress and count phrases `vigil check run --wait` shares with them.
// Rendering only: the commands that fetch the status are admin_commands.cc.
// No gRPC and no JSON library in this header. Thread-safe: no state.
#pragma once

#include <string>

#include "vigil/v1/admin.pb.h"
#include "vigil/v1/types.pb.h"

namespace vigil::cli {

// Prints every tenant of `r` on stdout: its verdicts and restore readiness,
// then each backup set with its catalogue, last task and format verdicts.
// Names and paths from the coordinator are escaped for the terminal.
void PrintStatus(const v1::GetStatusResponse& r);

// `r` as one JSON document, indented by 2, without a final newline.
std::string StatusJson(const v1::GetStatusResponse& r);

// A leased task's progress: "1,234 / 5,000 files, 1.2 MiB / 3.4 MiB (35%)",
// the totals and percentage only when known (vigil.v1.TaskProgress).
std::string ProgressText(const v1::TaskProgress& p);

// The damaged entries of `b` (BackupSetStatus.damaged), one per line after
// `indent`: "modified  PATH (restore point NAME)", the first ones the
// coordinator names, then "... and K more" for the rest of b.problems().
// Nothing when it has no problem. Paths are escaped for the terminal.
std::string DamagedText(const v1::BackupSetStatus& b, const std::string& indent);

// A task's diff counts: "3 added, 10 unchanged, 1 missing" (the counts that
// are not 0), or "nothing".
std::string CountsText(const v1::DiffCounts& c);

}  // namespace vigil::cli
