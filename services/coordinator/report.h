// A tenant's compliance report for a period (docs/reports.md, schema
// "vigil.report/1"): restore readiness, the contract in force, every
// commitment's verdict with its evidence, incidents, backup sets, scope.
// The JSON is the data; services/reports/html.h renders it for people, and
// services/coordinator/proofs.h signs it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/common/message.h"
#include "services/contracts/calendar.h"
#include "services/contracts/evaluate.h"
#include "services/contracts/model.h"
#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

struct ReportOptions {
  std::string msp_name;  // empty: no "msp" object
};

// What BuildReport learnt beside the report itself (not part of it).
struct ReportFacts {
  // When monitoring of the tenant began as far as the period's evaluated
  // interval shows: the earliest first inventory of any of its backup sets
  // (or the contract's effective time if later), at or before the interval's
  // end; 0 = no set was inventoried by then (every verdict is "not
  // monitored").
  int64_t monitored_from_ns = 0;
};

// The report of `tenant` over `period` as known at `now` (the evaluated
// interval ends at min(period end, now)). `tasks`: every task the
// coordinator holds. Each backup set's "merkle" is null: the proof fills it
// (proofs.h). FailedPrecondition when no contract was in force during the
// period. `facts` (optional) receives what the report rests on.
storage::StatusOr<nlohmann::json> BuildReport(storage::Catalogue& cat,
                                              const std::vector<v1::Task>& tasks,
                                              const v1::Tenant& tenant,
                                              const contracts::Period& period, int64_t now,
                                              const ReportOptions& options = {},
                                              ReportFacts* facts = nullptr);

// The parts of the report made from an evaluation (`ev` of `contract` over
// `period`, judged until `until`, with the `facts` it rests on):
// {"terms": contract.commitments[], "readiness", "commitments", "incidents"
// (failing verdicts, damaged and implausible points of the period; BuildReport
// adds failed checks), "out_of_scope", "scope_findings"}, each sentence with
// its structured message. BuildReport uses it; tests render it.
nlohmann::json EvaluationReportParts(const contracts::Contract& contract,
                                     const contracts::TenantFacts& facts,
                                     const contracts::Evaluation& ev,
                                     const contracts::Calendar& cal,
                                     const contracts::Interval& period, int64_t until);

// The period named by `text` ("2026-10" or "2026-10-01..2026-10-15") in the
// tenant's calendar; empty text = the last complete month before `now`.
// InvalidArgument naming the text otherwise.
storage::StatusOr<contracts::Period> ReportPeriod(const std::string& text,
                                                  const contracts::Calendar& cal, int64_t now);

// One line stating a commitment's terms ("newest good restore point younger
// than 1d 2h").
std::string CommitmentTerms(const contracts::Commitment& c);
// The same, structured (services/common/message.h).
Message CommitmentTermsMessage(const contracts::Commitment& c);

// A structured message as the report JSON carries it (docs/reports.md
// "Messages"): {"id", "args": [{"count": n}, {"time": RFC 3339 in `cal`'s
// zone}, ...]}; null for an empty message.
nlohmann::json MessageJson(const Message& m, const contracts::Calendar& cal);

}  // namespace vigil::coordinator
