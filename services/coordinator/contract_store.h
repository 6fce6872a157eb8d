// Contracts on the coordinator: YAML manifests parsed and validated against
// what is already applied, and the versions of each tenant's contract.
//
// A contract is stored as its canonical YAML (services/contracts/parse.h),
// one version per change, never rewritten: a report for a past period is
// judged against the version in force then, and can name it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "services/contracts/model.h"
#include "storage/kv.h"
#include "storage/status.h"
#include "vigil/v1/admin.pb.h"

namespace vigil::coordinator {

// A contract of a manifest, not yet stored.
struct PendingContract {
  std::string tenant;
  std::string canonical_yaml;
  int64_t effective_from_ns = 0;  // 0 = when applied
  std::string file;
  contracts::Contract model{};  // as parsed (Apply's coverage warnings)
};

// Parses req.files() as one file set, with the locations and tenants already
// stored as known names; appends the objects to *objects (locations, tenants,
// backup sets) and the contracts to *contracts. InvalidArgument with every
// error (file:line:column: field path: message) on bad input.
storage::Status ParseManifests(storage::KvStore* kv, const v1::ApplyRequest& req,
                               v1::ApplyRequest* objects, std::vector<PendingContract>* contracts);

// Every stored version of a tenant's contract, ascending.
storage::StatusOr<std::vector<v1::ContractVersion>> LoadContractVersions(storage::KvStore* kv,
                                                                         std::string_view tenant);

// Every stored location, in the contract model's form, by name.
storage::StatusOr<std::map<std::string, contracts::Location>> LoadLocations(storage::KvStore* kv);

// The stored versions parsed back into the model (effective_from_ns set from
// the stored version), ascending. DataLoss if one does not parse.
storage::StatusOr<std::vector<contracts::Contract>> LoadContracts(storage::KvStore* kv,
                                                                  std::string_view tenant);

}  // namespace vigil::coordinator
