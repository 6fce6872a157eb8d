// Reports, proofs and offboarding through a coordinator (Admin and
// TenantPortal services): `vigil report`, `vigil proof include|list|get`,
// `vigil portal reports|report`, `vigil tenant offboard`. Offline proof
// verification is in proof_commands.h. Exit codes as admin_commands.h.
#pragma once

#include <cstdint>
#include <string>

#include "services/cli/admin_commands.h"

namespace vigil::cli {

struct ReportArgs {
  ClientArgs client;
  std::string tenant;
  std::string period;           // empty: the last complete month
  std::string format = "html";  // html | json | html,json
  std::string output;           // default: TENANT-PERIOD.FORMAT
  std::string proof;            // default: OUTPUT without extension + .proof.json
  std::string from;             // render this proof file instead (no server)
  bool allow_unmonitored = false;
};
// Issues the report and its one signed proof; writes the proof statement,
// its detached signature (PROOF.sig) and the report in each format asked,
// all from that one statement. A proof file already present is never
// replaced (refused before issuing when its name is known). With `from`:
// renders that proof's report offline, issuing nothing.
int RunReport(const ReportArgs& args);

struct ProofFetchArgs {
  ClientArgs client;
  std::string tenant;
  std::string backup_set;  // include
  std::string path;        // include
  uint64_t seq = 0;        // 0 = latest
  std::string period;      // get: latest of that period
  std::string output;      // include: default stdout; get: default TENANT-PERIOD.proof.json
  bool json = false;       // list
};
int RunProofInclude(const ProofFetchArgs& args);
int RunProofList(const ProofFetchArgs& args);
int RunProofGet(const ProofFetchArgs& args);

struct PortalReportArgs {
  ClientArgs client;
  std::string period;
  uint64_t seq = 0;
  std::string dir = ".";  // report: where to write the files
  bool json = false;      // reports: JSON listing
};
int RunPortalReports(const PortalReportArgs& args);
int RunPortalReport(const PortalReportArgs& args);

struct OffboardArgs {
  ClientArgs client;
  std::string tenant;
  std::string export_dir;
  bool yes = false;  // erase after exporting; without it: export only
};
int RunTenantOffboard(const OffboardArgs& args);

}  // namespace vigil::cli
