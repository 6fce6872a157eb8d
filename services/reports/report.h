// A vigil.report/1 report, read and checked from its JSON (docs/reports.md).
//
// The renderers work from this struct, never from the JSON: every field they
// use has been checked for presence, type and domain here, so rendering
// cannot fail half-way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"
#include "services/reports/format.h"
#include "services/reports/messages.h"

namespace vigil::reports {

inline constexpr char kReportFormat[] = "vigil.report/1";

// A time as written in the JSON, and broken down in its offset.
struct ReportTime {
  std::string text;
  LocalTime local;
};

struct ReportEvidence {
  std::string name;   // "newest_good_point", ...
  std::string value;  // human-readable, units included
  std::string basis;  // "measured" | "declared" | "contract"
  // Optional (absent from older reports): the structured form of each
  // sentence (messages.h), rendered in the report's language when present.
  std::optional<ReportMessage> message;
};

struct ReportCommitment {
  std::string asset;
  std::string kind;     // "rpo" | "retention" | "copies" | "integrity" | "restore_drill" | other
  std::string verdict;  // "pass" | "fail" | "unknown"
  std::string summary;
  std::optional<ReportMessage> summary_message;
  std::optional<ReportTime> failing_since;
  // Optional (absent from older reports): when the failure began as far as
  // the evidence shows; when monitoring of the asset began (nothing before
  // it is judged).
  std::optional<ReportTime> began, monitored_from;
  std::vector<ReportEvidence> evidence;
};

struct ReportReadiness {
  std::string asset;
  std::string readiness;  // "ready" | "at risk" | "not ready"
  std::vector<std::string> reasons;
  // One per reason, or empty (older reports); nullopt: no structured form.
  std::vector<std::optional<ReportMessage>> reason_messages;
  // Optional (absent from older reports): the readiness if the primary
  // site were lost, and why; when monitoring began.
  std::optional<std::string> site_loss;  // "ready" | "at risk" | "not ready"
  std::vector<std::string> site_loss_reasons;
  std::vector<std::optional<ReportMessage>> site_loss_reason_messages;  // as reason_messages
  std::optional<ReportTime> monitored_from;
  // Optional (absent from reports before ransomware signals): the asset's
  // last clean restore point. `last_clean_known` false: the report does not
  // say; true with `last_clean` nullopt: it has none.
  struct CleanPoint {
    std::string backup_set, name;
    ReportTime time;
    std::string summary;  // "last clean point: SET/NAME (taken TIME)"
    std::optional<ReportMessage> message;
  };
  bool last_clean_known = false;
  std::optional<CleanPoint> last_clean;
};

struct ReportIncident {
  std::string asset;
  std::string kind;
  std::optional<ReportTime> began_at;  // optional: absent from older reports
  ReportTime detected_at;
  std::optional<ReportTime> resolved_at;  // nullopt: ongoing
  std::string summary;
  std::optional<ReportMessage> summary_message;
};

struct ReportFlag {
  bool value = false;
  std::string basis;  // "measured" | "declared" | "contract"
};

struct ReportMerkle {
  uint64_t tree_size = 0;
  std::string root;  // 64 lowercase or uppercase hex digits
};

struct ReportBackupSet {
  std::string name, asset, location, layout;
  ReportFlag offsite, immutable;
  uint64_t restore_points = 0, files = 0, bytes = 0;
  std::optional<ReportTime> last_inventory, last_verified;
  std::optional<ReportMerkle> merkle;
};

struct ReportContractAsset {
  std::string name;
  std::string description;  // may be empty
  std::vector<std::string> backup_sets;
};

struct ReportContractCommitment {
  std::string asset, kind, terms;
  std::optional<ReportMessage> terms_message;
};

struct Report {
  std::string tenant_name, tenant_display_name, time_zone;
  Language language = Language::kEnglish;
  std::string msp_name;  // empty when absent
  std::string period_label;
  ReportTime period_start, period_end;
  std::optional<ReportTime> evaluated_until;
  ReportTime generated_at;
  uint64_t contract_version = 0;
  std::string contract_sha256;
  std::optional<ReportTime> contract_effective_from;
  std::vector<ReportContractAsset> contract_assets;
  std::vector<ReportContractCommitment> contract_commitments;
  std::vector<ReportReadiness> readiness;
  std::vector<ReportCommitment> commitments;
  std::vector<ReportIncident> incidents;
  std::vector<ReportBackupSet> backup_sets;
  struct OutOfScope {
    std::string item, reason;
  };
  std::vector<OutOfScope> out_of_scope;
  struct ScopeFinding {
    std::string subject, finding;
    std::optional<ReportMessage> finding_message;
  };
  std::vector<ScopeFinding> scope_findings;
  uint64_t checks_run = 0, checks_failed = 0, entries_verified = 0;
  std::optional<uint64_t> bytes_verified;  // null: not measured
};

// Reads and checks `json`. InvalidArgument names the JSON path of the first
// problem ("commitments[2].verdict: missing"). Never throws.
absl::StatusOr<Report> ParseReport(const nlohmann::json& json);

}  // namespace vigil::reports
