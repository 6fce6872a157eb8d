// Calendar arithmetic in a tenant's time zone: local days, ISO weeks,
// months and years as [start, end) intervals of UTC nanoseconds, and the
// reporting periods built on them. Uses Howard Hinnant's date/tz (the system
// tz database): DST changes make local days 23 or 25 hours long, and that is
// what a contract's "daily" means.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::contracts {

enum class CalendarUnit { kDay, kWeek, kMonth, kYear };

struct Interval {
  int64_t start_ns = 0;  // inclusive
  int64_t end_ns = 0;    // exclusive
  bool Contains(int64_t t) const { return t >= start_ns && t < end_ns; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

// A zone resolved once (lookups by name are not free). Unknown names fall
// back to UTC and report it through ok().
class Calendar {
 public:
  explicit Calendar(const std::string& tz_name);
  bool ok() const { return zone_ != nullptr; }
  const std::string& name() const { return name_; }

  // The local day / ISO week (Monday first) / month / year holding `t`.
  Interval UnitContaining(CalendarUnit u, int64_t t) const;
  // The unit `n` units before the one holding `t` (n = 1: the previous one).
  Interval UnitBefore(CalendarUnit u, int64_t t, int n) const;
  // UTC ns of local midnight starting the given civil date (DST gaps resolve
  // to the earliest valid instant).
  int64_t LocalMidnight(int year, unsigned month, unsigned day) const;
  // UTC ns of a local civil time; in a DST gap, the earliest valid instant
  // after it; in an overlap, the earlier of the two.
  int64_t LocalTime(int year, unsigned month, unsigned day, int hour, int minute) const;
  // Local civil fields of `t`.
  struct Civil {
    int year;
    unsigned month, day, hour, minute;
    unsigned weekday;  // 0 = Monday .. 6 = Sunday
    int minute_of_day;
  };
  Civil ToCivil(int64_t t) const;
  // "2026-10-31 23:00 CET"
  std::string Format(int64_t t) const;
  // "2026-10-31"
  std::string FormatDate(int64_t t) const;
  // RFC 3339 with the zone's offset at `t`, to the second:
  // "2026-10-31T23:00:00+01:00".
  std::string Rfc3339(int64_t t) const;
  // The zone's offsets over [from, to): one span per offset in force, in
  // order, the first starting at or before `from`. What a viewer in
  // another zone needs to show times as Format() does (the dashboard).
  struct Span {
    int64_t begin_ns;    // inclusive (may precede `from`)
    int32_t offset_s;    // local = UTC + offset
    std::string abbrev;  // "CET", "-03": Format()'s %Z
  };
  std::vector<Span> Spans(int64_t from, int64_t to) const;

 private:
  std::string name_;
  const void* zone_ = nullptr;  // const date::time_zone*
};

// A reporting period: "2026-10" (a month) or "2026-10-01..2026-10-15"
// (inclusive local dates), in the calendar's zone. nullopt (with *error) on
// anything else.
struct Period {
  std::string label;
  Interval interval;
};
std::optional<Period> ParsePeriod(std::string_view text, const Calendar& cal, std::string* error);
// The month holding `t`.
Period MonthOf(int64_t t, const Calendar& cal);

}  // namespace vigil::contracts
