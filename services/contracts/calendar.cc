#include "services/contracts/calendar.h"

#include <date/tz.h>

#include <charconv>
#include <chrono>

#include "services/common/time.h"

namespace vigil::contracts {
namespace {

using std::chrono::duration_cast;
using std::chrono::nanoseconds;
using NsTime = date::sys_time<nanoseconds>;

const date::time_zone* Zone(const void* z) { return static_cast<const date::time_zone*>(z); }

int64_t ToNs(date::sys_seconds s) {
  return duration_cast<nanoseconds>(s.time_since_epoch()).count();
}

date::local_days LocalDay(const date::time_zone* z, int64_t t) {
  auto local = z->to_local(NsTime(nanoseconds(t)));
  return date::floor<date::days>(local);
}

int64_t StartOf(const date::time_zone* z, date::local_days d) {
  auto sys = z->to_sys(date::local_seconds(d), date::choose::earliest);
  return ToNs(sys);
}

// Local day `d` shifted into unit boundaries.
date::local_days UnitStart(CalendarUnit u, date::local_days d) {
  date::year_month_day ymd(d);
  switch (u) {
    case CalendarUnit::kDay:
      return d;
    case CalendarUnit::kWeek: {
      date::weekday wd(d);
      int since_monday = static_cast<int>((wd.c_encoding() + 6) % 7);
      return d - date::days(since_monday);
    }
    case CalendarUnit::kMonth:
      return date::local_days(ymd.year() / ymd.month() / 1);
    case CalendarUnit::kYear:
      return date::local_days(ymd.year() / 1 / 1);
  }
  return d;
}

date::local_days Advance(CalendarUnit u, date::local_days start, int n) {
  date::year_month_day ymd(start);
  switch (u) {
    case CalendarUnit::kDay:
      return start + date::days(n);
    case CalendarUnit::kWeek:
      return start + date::days(7 * n);
    case CalendarUnit::kMonth:
      return date::local_days(date::year_month_day(ymd.year() / ymd.month() / 1) + date::months(n));
    case CalendarUnit::kYear:
      return date::local_days(date::year_month_day(ymd.year() / 1 / 1) + date::years(n));
  }
  return start;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "2026-10-01" (services/common/time.h's ParseDate).
std::optional<date::year_month_day> ParseLocalDate(std::string_view s) {
  std::optional<CivilDate> d = ParseDate(s);
  if (!d) return std::nullopt;
  return date::year_month_day{date::year(static_cast<int>(d->year)),
                              date::month(static_cast<unsigned>(d->month)),
                              date::day(static_cast<unsigned>(d->day))};
}

}  // namespace

Calendar::Calendar(const std::string& tz_name) : name_(tz_name) {
  try {
    zone_ = date::locate_zone(tz_name);
  } catch (const std::exception&) {
    zone_ = nullptr;
  }
}

Interval Calendar::UnitContaining(CalendarUnit u, int64_t t) const { return UnitBefore(u, t, 0); }

Interval Calendar::UnitBefore(CalendarUnit u, int64_t t, int n) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  date::local_days start = Advance(u, UnitStart(u, LocalDay(z, t)), -n);
  date::local_days end = Advance(u, start, 1);
  return Interval{StartOf(z, start), StartOf(z, end)};
}

int64_t Calendar::LocalMidnight(int year, unsigned month, unsigned day) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  return StartOf(z, date::local_days(date::year(year) / date::month(month) / date::day(day)));
}

int64_t Calendar::LocalTime(int year, unsigned month, unsigned day, int hour, int minute) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  date::local_seconds ls =
      date::local_days(date::year(year) / date::month(month) / date::day(day)) +
      std::chrono::hours(hour) + std::chrono::minutes(minute);
  return ToNs(z->to_sys(ls, date::choose::earliest));
}

Calendar::Civil Calendar::ToCivil(int64_t t) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  auto local = z->to_local(NsTime(nanoseconds(t)));
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd(day);
  date::hh_mm_ss<nanoseconds> tod(local - day);
  Civil c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<unsigned>(ymd.month());
  c.day = static_cast<unsigned>(ymd.day());
  c.hour = static_cast<unsigned>(tod.hours().count());
  c.minute = static_cast<unsigned>(tod.minutes().count());
  c.weekday = (date::weekday(day).c_encoding() + 6) % 7;
  c.minute_of_day = static_cast<int>(c.hour * 60 + c.minute);
  return c;
}

std::string Calendar::Format(int64_t t) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  auto secs = date::floor<std::chrono::seconds>(NsTime(nanoseconds(t)));
  return date::format("%F %H:%M %Z", date::make_zoned(z, secs));
}

std::string Calendar::Rfc3339(int64_t t) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  auto secs = date::floor<std::chrono::seconds>(NsTime(nanoseconds(t)));
  return date::format("%FT%T%Ez", date::make_zoned(z, secs));
}

std::vector<Calendar::Span> Calendar::Spans(int64_t from, int64_t to) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  std::vector<Span> out;
  auto at = date::floor<std::chrono::seconds>(NsTime(nanoseconds(from)));
  const auto end = date::floor<std::chrono::seconds>(NsTime(nanoseconds(to)));
  // A zone changes its offset a few times a year: the loop is short.
  while (true) {
    date::sys_info info = z->get_info(at);
    out.push_back({out.empty() ? ToNs(at) : ToNs(info.begin),
                   static_cast<int32_t>(info.offset.count()), info.abbrev});
    if (info.end >= end || info.end <= at) break;
    at = info.end;
  }
  return out;
}

std::string Calendar::FormatDate(int64_t t) const {
  const date::time_zone* z = zone_ ? Zone(zone_) : date::locate_zone("UTC");
  return date::format("%F", LocalDay(z, t));
}

std::optional<Period> ParsePeriod(std::string_view text, const Calendar& cal, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Period> {
    if (error) *error = "bad period '" + std::string(text) + "': " + why;
    return std::nullopt;
  };
  if (text.size() == 7 && text[4] == '-') {
    int y, m;
    if (!ParseInt(text.substr(0, 4), &y) || !ParseInt(text.substr(5, 2), &m) || m < 1 || m > 12) {
      return fail("expected YYYY-MM, e.g. 2026-10");
    }
    int64_t start = cal.LocalMidnight(y, m, 1);
    return Period{std::string(text), cal.UnitContaining(CalendarUnit::kMonth, start)};
  }
  size_t dots = text.find("..");
  if (dots != std::string_view::npos) {
    auto a = ParseLocalDate(text.substr(0, dots));
    auto b = ParseLocalDate(text.substr(dots + 2));
    if (!a || !b) return fail("expected YYYY-MM-DD..YYYY-MM-DD (inclusive local dates)");
    if (*b < *a) return fail("the end date is before the start date");
    int64_t s = cal.LocalMidnight(static_cast<int>(a->year()), static_cast<unsigned>(a->month()),
                                  static_cast<unsigned>(a->day()));
    int64_t e =
        cal.UnitContaining(CalendarUnit::kDay, cal.LocalMidnight(static_cast<int>(b->year()),
                                                                 static_cast<unsigned>(b->month()),
                                                                 static_cast<unsigned>(b->day())))
            .end_ns;
    return Period{std::string(text), Interval{s, e}};
  }
  return fail("expected YYYY-MM or YYYY-MM-DD..YYYY-MM-DD");
}

Period MonthOf(int64_t t, const Calendar& cal) {
  Interval i = cal.UnitContaining(CalendarUnit::kMonth, t);
  auto c = cal.ToCivil(i.start_ns);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", c.year, c.month);
  return Period{buf, i};
}

}  // namespace vigil::contracts
