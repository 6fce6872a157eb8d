// The HTML form of a tenant's period report.
//
// Input: the report JSON, format "vigil.report/1" (every field, its meaning
// and units: docs/reports.md). Output: one self-contained HTML5 document in
// UTF-8 -- inline CSS, no script, no external asset of any kind -- readable
// on screen and printable on A4, in the tenant's language (English or French;
// any other language renders in English).
//
// Sections, in this order: title (tenant, period); restore readiness per
// asset; the contract (version, assets, commitments as written); each
// commitment's verdict with its evidence (every item labelled measured,
// declared or contract); incidents; backup sets (offsite and immutable with
// their basis, counts, sizes, Merkle roots); the out-of-scope list; backups
// found outside the scope; the checks summary; a footer (generation time,
// contract SHA-256, how to verify the signed proof).
//
// Every string taken from the JSON is HTML-escaped: tenant names, paths and
// summaries are untrusted.
//
// Pure: no I/O, no clock, no global state; thread-safe. The same JSON always
// gives the same bytes.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace vigil::reports {

// Page margins of the printed report (CSS @page, A4 portrait), in
// millimetres. Nothing is laid out outside them.
inline constexpr double kPageMarginTopMm = 14;
inline constexpr double kPageMarginSideMm = 14;
inline constexpr double kPageMarginBottomMm = 16;

// Renders `report` as HTML.
//
// Returns InvalidArgument if the JSON is not a vigil.report/1 report: a
// required field missing, a value of the wrong type or outside its domain
// (an unknown verdict, a time that is not RFC 3339, a hash that is not 64 hex
// digits). The message names the JSON path of the first problem found, e.g.
// `commitments[2].verdict: missing` or `backup_sets[0].bytes: expected an
// unsigned integer, got string`. Never throws, whatever the input.
absl::StatusOr<std::string> RenderReportHtml(const nlohmann::json& report);

}  // namespace vigil::reports
