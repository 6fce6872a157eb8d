// Time in one place: the wall clock, civil (proleptic Gregorian) dates and
// their day numbers, and RFC 3339 timestamps read and written.
//
// A time is int64 nanoseconds since 1970-01-01T00:00:00Z (Unix time, leap
// seconds not counted), the unit of every record and message of Vigil. No
// time-zone database here: a zone's rules are services/contracts/
// calendar.h's (date/tz); an RFC 3339 text carries its own UTC offset.
//
// Used by the contract parser (effectiveFrom), the worker (restic snapshot
// times), the reports (times shown in their own offset), the coordinator
// and the CLI (times printed in UTC). All functions are pure and
// thread-safe, except that NowNs() reads the clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// Wall-clock time now, ns since the epoch (std::chrono::system_clock).
int64_t NowNs();

// --- Civil dates, proleptic Gregorian calendar (any year, no year 0 gap).

struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
};

bool IsLeapYear(int64_t year);
// 28 to 31. REQUIRES: 1 <= month <= 12.
int DaysInMonth(int64_t year, int month);
// Days from 1970-01-01 to the date (negative before it; H. Hinnant's
// days_from_civil). REQUIRES: a valid date (month 1-12, day 1 to
// DaysInMonth).
int64_t DaysFromCivil(int64_t year, int month, int day);
// The inverse: the date `days` after 1970-01-01.
CivilDate CivilFromDays(int64_t days);

// --- RFC 3339 (section 5.6) timestamps.

// A date-time as written, in its own offset:
// "2026-10-31T23:10:05.25+01:00".
struct DateTime {
  int year = 0, month = 0, day = 0;      // a valid date, year 0000 to 9999
  int hour = 0, minute = 0, second = 0;  // 0-23, 0-59, 0-60 (60: a leap second)
  int64_t nanosecond = 0;                // the fraction's first nine digits
  int offset_minutes = 0;                // east of UTC; "Z" is 0
  // How it was written, for callers stricter than RFC 3339:
  char separator = 'T';        // between date and time: 'T', 't' or ' '
  size_t fraction_digits = 0;  // digits after the '.' (0: no fraction)
};

// "2026-01-01" (RFC 3339 full-date, exactly): the date, or nullopt if the
// text is anything else or the date does not exist (2026-02-29).
std::optional<CivilDate> ParseDate(std::string_view text);

// An RFC 3339 date-time: a full-date, 'T' (or 't', or a space as RFC 3339
// allows in its section 5.6 note), HH:MM:SS, an optional '.' and one or more
// digits (any number of them: the first nine are kept), then 'Z' (or 'z')
// or an offset +HH:MM / -HH:MM. nullopt for anything else: a date that does
// not exist (2026-02-30, 2100-02-29), an hour past 23, a minute past 59, a
// second past 60, an offset past 23:59, a '.' without a digit, a missing
// offset, anything after the offset.
std::optional<DateTime> ParseDateTime(std::string_view text);

// `t` as ns since the epoch, its offset applied (a leap second counts as the
// first second of the next minute); nullopt when that falls outside int64
// nanoseconds (before 1677-09-21 or after 2262-04-11).
std::optional<int64_t> ToUnixNs(const DateTime& t);

// "2026-11-22T18:47:45.123456789Z": RFC 3339 in UTC, always nine fraction
// digits (any ns, negative too: "1969-12-31T23:59:59.999999999Z").
std::string FormatTimeUtc(int64_t ns_since_epoch);
// "2026-11-22T18:47:45Z", the nine fraction digits only when `ns` is not a
// whole second: "2026-11-22T18:47:45.250000000Z".
std::string FormatTimeUtcCompact(int64_t ns_since_epoch);

}  // namespace vigil
