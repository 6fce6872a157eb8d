// Verdicts and restore readiness for `vigil status`: builds a tenant's facts
// from the coordinator's records (restore-point records, catalogue, tasks),
// and judges the contract version in force over the tenant's current month
// (services/contracts/evaluate.h).
#pragma once

#include <vector>

#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

// Fills ts->readiness, ts->commitments, ts->contract_version and ts->scope.
// `tasks`: every task the coordinator holds (the done ones date the checks).
// Leaves them empty when the tenant has no contract in force at `now_ns`.
storage::Status FillEvaluation(storage::Catalogue& cat, const std::vector<v1::Task>& tasks,
                               const v1::Tenant& tenant, int64_t now_ns, v1::TenantStatus* ts);

}  // namespace vigil::coordinator
