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
  std::string format = "html";  // html | json
  std::string output;           // default: TENANT-PERIOD.html|json
  std::string proof;            // default: OUTPUT without extension + .proof.json
};
// Issues the report and its signed proof; writes the report (HTML or JSON),
// the proof statement and its detached signature (PROOF.sig).
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
