#include "services/common/time.h"

#include <chrono>
#include <cstdio>

namespace vigil {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Reads exactly `n` decimal digits at *pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// "YYYY-MM-DD" at *pos, a date that exists.
bool ReadDate(std::string_view s, size_t* pos, int* year, int* month, int* day) {
  return Digits(s, pos, 4, year) && Expect(s, pos, '-') && Digits(s, pos, 2, month) &&
         Expect(s, pos, '-') && Digits(s, pos, 2, day) && *month >= 1 && *month <= 12 &&
         *day >= 1 && *day <= DaysInMonth(*year, *month);
}

// Floor division and remainder of ns by one second (the remainder in
// [0, 1e9), so that times before the epoch format as the civil time they are).
void SplitSeconds(int64_t ns, int64_t* secs, int64_t* frac) {
  *secs = ns / kNsPerSecond;
  *frac = ns % kNsPerSecond;
  if (*frac < 0) {
    *frac += kNsPerSecond;
    --*secs;
  }
}

std::string FormatUtc(int64_t ns, bool always_fraction) {
  int64_t secs, frac;
  SplitSeconds(ns, &secs, &frac);
  int64_t days = secs / kSecondsPerDay, rem = secs % kSecondsPerDay;
  if (rem < 0) {
    rem += kSecondsPerDay;
    --days;
  }
  CivilDate d = CivilFromDays(days);
  char buf[64];
  int n =
      std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d",
                    static_cast<long long>(d.year), d.month, d.day, static_cast<int>(rem / 3600),
                    static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (always_fraction || frac != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
    out += buf;
  }
  return out + "Z";
}

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilDate out;
  out.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  out.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  out.year = yoe + era * 400 + (out.month <= 2);
  return out;
}

std::optional<CivilDate> ParseDate(std::string_view s) {
  size_t p = 0;
  int y, m, d;
  if (!ReadDate(s, &p, &y, &m, &d) || p != s.size()) return std::nullopt;
  return CivilDate{y, m, d};
}

std::optional<DateTime> ParseDateTime(std::string_view s) {
  DateTime t;
  size_t p = 0;
  if (!ReadDate(s, &p, &t.year, &t.month, &t.day)) return std::nullopt;
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return std::nullopt;
  t.separator = s[p++];
  if (!Digits(s, &p, 2, &t.hour) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &t.minute) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &t.second) || t.hour > 23 || t.minute > 59 ||
      t.second > 60) {
    return std::nullopt;
  }
  if (p < s.size() && s[p] == '.') {
    const size_t start = ++p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (p - start < 9) t.nanosecond = t.nanosecond * 10 + (s[p] - '0');
      ++p;
    }
    t.fraction_digits = p - start;
    if (t.fraction_digits == 0) return std::nullopt;
    for (size_t k = t.fraction_digits; k < 9; ++k) t.nanosecond *= 10;
  }
  if (p >= s.size()) return std::nullopt;
  if (s[p] == 'Z' || s[p] == 'z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    const int sign = s[p++] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(s, &p, 2, &oh) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    t.offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  return t;
}

std::optional<int64_t> ToUnixNs(const DateTime& t) {
  // Years 0 to 9999: the seconds fit easily; the nanoseconds may not.
  int64_t secs = DaysFromCivil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 +
                 t.minute * 60 + t.second - int64_t{t.offset_minutes} * 60;
  int64_t frac = t.nanosecond;
  if (secs < 0 && frac > 0) {  // so that INT64_MIN itself does not overflow
    ++secs;
    frac -= kNsPerSecond;
  }
  int64_t ns;
  if (__builtin_mul_overflow(secs, kNsPerSecond, &ns) || __builtin_add_overflow(ns, frac, &ns)) {
    return std::nullopt;
  }
  return ns;
}

std::string FormatTimeUtc(int64_t ns) { return FormatUtc(ns, true); }

std::string FormatTimeUtcCompact(int64_t ns) { return FormatUtc(ns, false); }

}  // namespace vigil
