// Client commands talking to a coordinator: `vigil apply`, `vigil check
// run`, `vigil status`, `vigil admin backup`, `vigil token` (Admin service)
// and `vigil portal status` (TenantPortal, with a tenant token).
//
// Every command takes the coordinator's address (--coordinator, else
// $VIGIL_COORDINATOR, else 127.0.0.1:7400) and a token: the admin token, or
// a tenant token for `portal` (--token-file PATH, else $VIGIL_TOKEN_FILE, a
// path, else $VIGIL_TOKEN, the token itself; client.h). Exit codes
// (exit_codes.h): 0 success, 1 the check found problems or failed (check run
// --wait), 2 usage or input error, 3 the coordinator refused or could not be
// reached, 4 `check run --wait` left with tasks no worker serves.
#pragma once

#include <string>
#include <vector>

namespace vigil::cli {

struct ClientArgs {
  std::string coordinator;
  // File holding the token (default: $VIGIL_TOKEN_FILE; else the token
  // itself from $VIGIL_TOKEN).
  std::string token_file;
  // PEM CA file to verify the coordinator's TLS certificate with (default:
  // $VIGIL_TLS_CA; empty = plaintext).
  std::string tls_ca_file;
  // The token itself (`vigil dev`); wins over token_file.
  std::string token;
};

struct ApplyArgs {
  ClientArgs client;
  std::vector<std::string> files;
  // Validate and print what would change; change nothing.
  bool dry_run = false;
};
int RunApply(const ApplyArgs& args);

struct CheckRunArgs {
  ClientArgs client;
  std::string tenant;
  std::string asset;
  bool drill = false;  // a restore drill instead of a check
  // Run even inside a location's maintenance window (RunCheckRequest.force).
  bool force = false;
  bool wait = false;
  // --wait gives up after this many seconds (exit 1). Default 3600.
  int timeout_s = 3600;
};
int RunCheckRun(const CheckRunArgs& args);

struct StatusArgs {
  ClientArgs client;
  std::string tenant;
  bool json = false;
};
int RunStatus(const StatusArgs& args);

struct AdminBackupArgs {
  ClientArgs client;
  std::string directory;
};
int RunAdminBackup(const AdminBackupArgs& args);

// `vigil token issue|list|revoke|rotate` (admin token needed).
struct TokenArgs {
  ClientArgs client;
  std::string action;  // issue | list | revoke | rotate
  std::string kind;    // issue: admin | tenant | enrol
  std::string tenant;  // issue --kind tenant
  std::string site;    // issue --kind enrol: the worker's site; empty = any
  std::string name;
  std::string expires_in;  // issue: a duration ("90d"); empty = never
  std::string id;          // revoke, rotate
  bool json = false;       // list
};
int RunToken(const TokenArgs& args);

// `vigil portal status`: a client's own view, with its tenant token.
struct PortalArgs {
  ClientArgs client;
  bool json = false;
};
int RunPortalStatus(const PortalArgs& args);

// `vigil point accept TENANT SET POINT --reason TEXT` (admin token): declares
// a restore point clean after a ransomware signal (admin.proto AcceptPoint).
struct PointAcceptArgs {
  ClientArgs client;
  std::string tenant;
  std::string backup_set;
  std::string point;  // name as `vigil status` shows it, or time in ns
  std::string reason;
};
int RunPointAccept(const PointAcceptArgs& args);

inline constexpr const char* kStatusHelpFooter =
    R"(JSON output (--json): {"tenants": [{"name", "display_name", "timezone",
  "contract_version", "readiness": [{"asset", "readiness", "reasons": [...]}],
  "commitments": [{"asset", "kind", "verdict", "summary", "failing_since", "last_check",
                   "next_check", "evidence": [{"name", "value", "basis"}]}],
  "scope": [...], "backup_sets": [
  {"name", "asset", "location", "path", "path_base64", "catalogue_entries", "problems",
   "points": [{"time_ns", "name", "name_base64", "first_seen_ns", "gone_ns", "files",
               "bytes", "damaged_ns", "damage", "implausible", "last_verified_ns",
               "verdict", "signals": [{"kind", "message", "count", "threshold",
               "examples", "examples_base64"}], "compared_with_ns", "accepted_by",
               "accepted_ns", "accepted_reason", ...}],
   "last_clean_ns", "last_clean_name", "last_clean_name_base64",
   "damaged": [{"point_ns", "point_name", "path", "path_base64", "state"}],
   "last_task": {"id", "check_id", "state", "attempt", "worker", "entries",
                 "counts": {...}, "errors": [{"attempt", "worker", "message"}],
                 "progress": {"files_done", "bytes_done", "files_total",
                              "bytes_total", "started_ns", "updated_ns"}}}]}]}
"readiness" is one of "ready", "at risk", "not ready"; "verdict" one of "pass",
"fail", "unknown"; evidence "basis" is "measured", "declared" (by the MSP) or
"contract".
A point's "verdict" (ransomware signals, docs/ransomware.md) is "clean",
"suspicious", "encrypted", "content-not-judged" (no signal, but too many changed
files without a content sample to rule out encryption) or "not-computed" (not
examined yet); "accepted_ns" is
not 0 when an operator declared it clean (vigil point accept). "last_clean_ns":
the set's newest point that is good and examined clean, or accepted (0 and
"last_clean_name" empty when none).
"path" is the path as UTF-8 when it is valid UTF-8 (else absent); "path_base64" is
always present and exact (paths are bytes). "damaged": the first 10 of the
"problems" entries ("modified", "missing" or "unreadable").
"progress" (running tasks only, counted in regular files; totals 0 = unknown,
an estimate from the last check) is kept in the coordinator's memory.)";

}  // namespace vigil::cli
