// The message catalogue of reports: a structured message (an id and typed
// arguments, services/common/message.h, as carried in the report JSON next
// to each English sentence: docs/reports.md "Messages") rendered as a
// sentence in English or French, with each language's plurals, units
// ("3 d 4 h" | "3 j 4 h") and number formats ("99.50 %" | "99,50 %").
//
// Used by html.cc for summaries, evidence values, readiness reasons, terms,
// incidents and scope findings; usable by any other renderer. Pure
// functions over a constant table: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"
#include "services/common/message.h"
#include "services/reports/format.h"

namespace vigil::reports {

struct ReportMessage;

// One argument, as read from the JSON: {"count": n}, {"bytes": n},
// {"rate": bytes per second}, {"duration": seconds}, {"time": RFC 3339},
// {"date": RFC 3339}, {"percent": fraction}, {"text": s},
// {"list": [messages]}, {"message": message}.
struct ReportMessageArg {
  // The kinds of services/common/message.h, whose kMessageArgKeys names
  // them in the JSON.
  using Kind = MessageArg::Kind;
  Kind kind = Kind::kText;
  uint64_t count = 0;                  // kCount, kBytes, kRate
  double seconds = 0;                  // kDuration
  LocalTime time{};                    // kTime, kDate
  double fraction = 0;                 // kPercent
  std::string text{};                  // kText
  std::vector<ReportMessage> items{};  // kList; kMessage (one)
};

struct ReportMessage {
  std::string id;
  std::vector<ReportMessageArg> args;
};

// Reads {"id": "...", "args": [...]} at `path` ("commitments[0].message").
// InvalidArgument names the path of the first problem. Never throws.
absl::StatusOr<ReportMessage> ParseMessage(const nlohmann::json& json, const std::string& path);

// `m` as a sentence in `language`, or nullopt when this build does not know
// its id or its arguments do not fit the id's (then the caller shows the
// English sentence of record, marked as English).
std::optional<std::string> RenderMessage(const ReportMessage& m, Language language);

// The pieces, for tests and other renderers: "3 d 4 h" | "3 j 4 h" (the two
// largest units; "0.4 s" under ten seconds), "99.50 %" | "99,50 %".
std::string FormatDuration(double seconds, Language language);
std::string FormatPercent(double fraction, Language language);
// Whether `n` takes the singular: English 1; French 0 and 1.
bool Singular(uint64_t n, Language language);

// Every id of the catalogue with its English and French templates, for the
// tests that check each entry ("{0}" an argument, "{0|one|other}" the
// singular or plural form chosen by count argument 0).
struct CatalogueEntry {
  const char* id;
  const char* en;
  const char* fr;
};
const std::vector<CatalogueEntry>& Catalogue();

}  // namespace vigil::reports
