// Locale-aware formatting for reports: dates, numbers and sizes in English or
// French, and HTML escaping of untrusted text.
//
// Pure functions, no locale or time-zone database: a report's times are
// RFC 3339 strings already carrying the tenant's UTC offset, and they are
// shown in that offset, as written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/time.h"

namespace vigil::reports {

enum class Language { kEnglish, kFrench };

// "fr", "fr-FR", "fr_CA", "FR" -> French; anything else (including "") ->
// English.
Language LanguageFromTag(std::string_view tag);
// "en" | "fr": the value of <html lang>.
const char* LanguageTag(Language language);

// An RFC 3339 date-time broken down in its own UTC offset
// (services/common/time.h): year, month, day, hour, minute, second,
// offset_minutes (east of UTC; "Z" is 0).
using LocalTime = DateTime;

// Parses "2026-10-01T00:00:00+02:00", "2026-10-31T23:10:05.25Z" (T or t or a
// space between date and time, fractional seconds ignored): ParseDateTime()
// of services/common/time.h. Returns nullopt for anything else, including
// impossible dates (2026-02-30) and offsets beyond +-23:59.
std::optional<LocalTime> ParseRfc3339(std::string_view text);

// The calendar day before `t`'s (time fields kept).
LocalTime PreviousDay(const LocalTime& t);

// "1 October 2026" | "1er octobre 2026".
std::string FormatDate(const LocalTime& t, Language language);
// "1 October 2026, 03:12 (UTC+01:00)" | "1er octobre 2026 à 03:12 (UTC+01:00)".
std::string FormatDateTime(const LocalTime& t, Language language);
// The compact forms, for tables: "31 Oct 2026" | "31 oct. 2026"; "23:10 UTC+1"
// (minutes of the offset only when not zero: "UTC-4:30"); both joined by a
// space.
std::string FormatDateShort(const LocalTime& t, Language language);
std::string FormatClockShort(const LocalTime& t);
std::string FormatDateTimeShort(const LocalTime& t, Language language);

// "1,234,567" | "1 234 567" (U+202F NARROW NO-BREAK SPACE between groups,
// the French typographic thin space).
std::string FormatInteger(uint64_t n, Language language);
// `value` with `decimals` digits after the point: "1,234.5" | "1 234,5".
std::string FormatDecimal(double value, int decimals, Language language);
// Binary units with three significant digits: "512 B", "1.50 KiB",
// "91.9 GiB" | "512 o", "1,50 Kio", "91,9 Gio".
std::string FormatBytes(uint64_t bytes, Language language);

// Escapes & < > " ' for use in HTML text and quoted attributes. Invalid UTF-8
// and control characters other than tab and newline become U+FFFD, so the
// output is always valid UTF-8 and well-formed HTML text.
std::string EscapeHtml(std::string_view text);

}  // namespace vigil::reports
