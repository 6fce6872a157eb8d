// Parses `vigil apply -f FILE...`: multi-document YAML (apiVersion vigil/v1)
// with kinds Location, Tenant and Contract, into one Admin.Apply request.
// The schema and its validation are services/contracts/parse.h's
// (ParseManifest); see deploy/examples/law-firm.yaml for a full example.
//
// Errors name the file, line, column and field, all at once:
//   "f.yaml:13:9: Contract(acme).assets[0].backupSets[0].pth: unknown field 'pth'; ..."
// References to locations and tenants that are not in the files are left to
// the coordinator, which knows what was applied before.
//
// `vigil apply` uses this as a first check (every error at once, no round
// trip) and then sends the files themselves: the coordinator parses them
// again against what it holds and stores the contracts as versions
// (services/coordinator/contract_store.h). ManifestToApplyRequest gives the
// objects as the Admin API carries them (services/contracts/proto_bridge.h).
#pragma once

#include <string>
#include <vector>

#include "services/contracts/parse.h"
#include "storage/status.h"
#include "vigil/v1/admin.pb.h"

namespace vigil::cli {

// Parses every file of `files` as one file set and appends its objects to
// *req. On error *req is unchanged.
storage::Status ParseApplyFiles(const std::vector<contracts::SourceFile>& files,
                                v1::ApplyRequest* req);

// ParseApplyFiles() of one file: `text`, named `file` in errors.
storage::Status ParseApplyYaml(const std::string& file, const std::string& text,
                               v1::ApplyRequest* req);

// The part of a parsed manifest the coordinator's Apply takes.
void ManifestToApplyRequest(const contracts::Manifest& m, v1::ApplyRequest* req);

}  // namespace vigil::cli
