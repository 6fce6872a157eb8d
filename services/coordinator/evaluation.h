// Verdicts and restore readiness for `vigil status`: builds a tenant's facts
// from the coordinator's records (restore-point records, catalogue, tasks),
// and judges the contract version in force over the tenant's current month
// (services/contracts/evaluate.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "services/contracts/evaluate.h"
#include "services/contracts/schedule.h"
#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

// A tenant judged under the contract version in force at `now`.
struct TenantEvaluation {
  std::vector<contracts::Contract> versions;  // every version, effective order
  size_t version_index = 0;                   // the one in force (if any)
  // Non-empty when the tenant has contracts but none is in force yet.
  std::string not_yet;
  contracts::Tenant tenant;
  std::map<std::string, contracts::Location> locations;
  contracts::TenantFacts facts;
  contracts::CheckHistory history;
  contracts::Evaluation evaluation;
  std::vector<contracts::DueCheck> due;  // checks due from `now`
  // The version in force; nullptr when none is (no contract, or not yet).
  const contracts::Contract* contract() const {
    return versions.empty() || !not_yet.empty() ? nullptr : &versions[version_index];
  }
};

// Gathers the tenant's facts from the coordinator's records and judges the
// contract in force at `now` over `period` (nullptr: the tenant's month
// holding `now`). Facts are those known now: points first seen, gone or
// damaged are dated, integrity coverage is measured at `now`.
storage::StatusOr<TenantEvaluation> EvaluateTenant(storage::Catalogue& cat,
                                                   const std::vector<v1::Task>& tasks,
                                                   const v1::Tenant& tenant,
                                                   const contracts::Interval* period, int64_t now);

// Fills ts->readiness, ts->commitments, ts->contract_version and ts->scope.
// `tasks`: every task the coordinator holds (the done ones date the checks).
// Leaves them empty when the tenant has no contract in force at `now_ns`.
storage::Status FillEvaluation(storage::Catalogue& cat, const std::vector<v1::Task>& tasks,
                               const v1::Tenant& tenant, int64_t now_ns, v1::TenantStatus* ts);

}  // namespace vigil::coordinator
