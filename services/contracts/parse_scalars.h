// The scalars of a contract's YAML, read and written: decimal integers,
// durations' shape, sizes and rates ("50MiB", "1.5 GB", "50MiB/s"), dates
// and timestamps, clock times ("08:30"), and how a value is quoted in an
// error message. Internal to the contracts library: the parser
// (parse.cc) and the canonical form (canonical.cc) use them; what other
// code needs is public in parse.h (ParseDuration, FormatDuration).
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/time.h"

namespace vigil::contracts {

// `s` between single quotes for an error message: control characters as
// '?', cut after 60 bytes (not inside a UTF-8 sequence) with "...".
std::string Quote(std::string_view s);

// A decimal integer with an optional sign; nullopt on anything else or on
// overflow.
std::optional<int64_t> ParseDecimal(std::string_view s);
// Digits with an optional fraction ("7.5", "3", "0.25"): no sign, no
// exponent; nullopt on anything else.
std::optional<double> ParsePlainNumber(std::string_view s);
// The shortest text that ParsePlainNumber reads back as `v` ("0.5", "3").
// REQUIRES: v finite, >= 0.
std::string FormatNumber(double v);
// Digits with '.', '-', '+', 'e', '_': what a YAML number would look like
// (to say "expected an integer" rather than "not a number").
bool LooksNumeric(std::string_view s);
// Digits and a unit (s, m, h, d, w), one or more times: what ParseDuration
// reads, whatever the size of the numbers.
bool LooksLikeDuration(std::string_view s);
// "50MiB", "1.5 GB", "4096" (bytes); with per_second, "50MiB/s". On
// failure, nullopt and why in *error.
std::optional<uint64_t> ParseSize(std::string_view s, bool per_second, std::string* error);

struct ParsedTime {
  bool date_only = false;
  CivilDate date;  // for date_only
  int64_t ns = 0;  // for date_only: UTC midnight
};

// "2026-01-01" or RFC 3339 "2026-01-01T08:00:00[.fff][Z|+01:00]"
// (services/common/time.h), years 1970 to 2261 and not before the epoch;
// stricter than RFC 3339: no leap second, at most nine fraction digits.
std::optional<ParsedTime> ParseTime(std::string_view s);

// "HH:MM" from 00:00 to 23:59: minutes since midnight.
std::optional<int> ParseClockMinutes(std::string_view s);

}  // namespace vigil::contracts
