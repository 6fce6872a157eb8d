// Unit tests of services/common/time.h: civil-day arithmetic, RFC 3339 read
// and written. The grammar is the union of what the three parsers it
// replaces accepted (contracts' effectiveFrom, the worker's restic snapshot
// times, the reports' times); what a caller refuses on top of it is tested
// with that caller (parse_test.cc, format_tasks_test.cc, format_test.cc).
#include "services/common/time.h"

#include <gtest/gtest.h>

#include <climits>

namespace vigil {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(CivilTest, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));  // divisible by 400
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_FALSE(IsLeapYear(2026));
  EXPECT_EQ(DaysInMonth(2026, 2), 28);
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
  EXPECT_EQ(DaysInMonth(2026, 4), 30);
  EXPECT_EQ(DaysInMonth(2026, 12), 31);
}

TEST(CivilTest, DaysFromCivilAndBack) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2026, 1, 1), 1767225600 / 86400);
  EXPECT_EQ(DaysFromCivil(0, 1, 1), -719528);
  // Every day of 5,000 years either side of the epoch, one after the other.
  CivilDate expected{-3030, 1, 1};
  for (int64_t d = DaysFromCivil(-3030, 1, 1); d < DaysFromCivil(6970, 1, 1); ++d) {
    CivilDate c = CivilFromDays(d);
    ASSERT_EQ(c.year, expected.year) << d;
    ASSERT_EQ(c.month, expected.month) << d;
    ASSERT_EQ(c.day, expected.day) << d;
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
    if (++expected.day > DaysInMonth(expected.year, expected.month)) {
      expected.day = 1;
      if (++expected.month > 12) {
        expected.month = 1;
        ++expected.year;
      }
    }
  }
}

TEST(ParseDateTest, FullDatesOnly) {
  auto d = ParseDate("2026-01-31");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->year, 2026);
  EXPECT_EQ(d->month, 1);
  EXPECT_EQ(d->day, 31);
  EXPECT_TRUE(ParseDate("2028-02-29").has_value());
  EXPECT_TRUE(ParseDate("0000-01-01").has_value());
  for (const char* bad : {"", "2026-02-29", "2100-02-29", "2026-04-31", "2026-13-01", "2026-00-10",
                          "2026-01-00", "2026-1-01", "26-01-01", "2026/01/01", "+2026-01-01",
                          "-001-01-01", "2026-01-01 ", "2026-01-01T00:00:00Z", "2026-01-0x"}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
}

TEST(ParseDateTimeTest, FieldsAsWritten) {
  auto t = ParseDateTime("2026-11-01T03:12:09+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->year, 2026);
  EXPECT_EQ(t->month, 11);
  EXPECT_EQ(t->day, 1);
  EXPECT_EQ(t->hour, 3);
  EXPECT_EQ(t->minute, 12);
  EXPECT_EQ(t->second, 9);
  EXPECT_EQ(t->nanosecond, 0);
  EXPECT_EQ(t->offset_minutes, 60);
  EXPECT_EQ(t->separator, 'T');
  EXPECT_EQ(t->fraction_digits, 0u);

  auto west = ParseDateTime("2026-03-08 10:00:00-04:30");
  ASSERT_TRUE(west.has_value());
  EXPECT_EQ(west->separator, ' ');
  EXPECT_EQ(west->offset_minutes, -270);
  auto lower = ParseDateTime("2026-03-08t10:00:00z");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ(lower->separator, 't');
  EXPECT_EQ(lower->offset_minutes, 0);
  EXPECT_EQ(ParseDateTime("2026-03-08T10:00:00-00:00")->offset_minutes, 0);
  EXPECT_TRUE(ParseDateTime("2028-02-29T00:00:00Z").has_value());  // leap year
  EXPECT_TRUE(ParseDateTime("2000-02-29T00:00:00Z").has_value());
  EXPECT_EQ(ParseDateTime("2016-12-31T23:59:60Z")->second, 60);  // a leap second
}

TEST(ParseDateTimeTest, FractionsKeepNanoseconds) {
  auto t = ParseDateTime("2026-10-31T23:10:05.25Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->nanosecond, 250'000'000);
  EXPECT_EQ(t->fraction_digits, 2u);
  t = ParseDateTime("2026-10-31T23:10:05.123456789Z");
  EXPECT_EQ(t->nanosecond, 123'456'789);
  EXPECT_EQ(t->fraction_digits, 9u);
  // Digits past the ninth are read and dropped (Go's parser keeps ns too).
  t = ParseDateTime("2026-10-31T23:10:05.1234567891999Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->nanosecond, 123'456'789);
  EXPECT_EQ(t->fraction_digits, 13u);
  EXPECT_EQ(ParseDateTime("2026-10-31T23:10:05.000000001+02:00")->nanosecond, 1);
}

TEST(ParseDateTimeTest, RefusesWhatIsNotRfc3339) {
  for (const char* bad : {
           "",
           "yesterday",
           "2026-10-01",
           "2026-10-01T00:00:00",     // no offset
           "2026-10-01T00:00+02:00",  // no seconds
           "2026-02-29T00:00:00Z",    // not a leap year
           "2100-02-29T00:00:00Z",    // nor is 2100
           "2026-04-31T00:00:00Z",    // day past the month's end
           "2026-02-31T00:00:00Z",
           "2026-13-01T00:00:00Z",
           "2026-00-01T00:00:00Z",
           "2026-10-32T00:00:00Z",
           "2026-10-00T00:00:00Z",
           "2026-10-01T24:00:00Z",
           "2026-10-01T00:60:00Z",
           "2026-10-01T00:00:61Z",
           "2026-10-01T00:00:00+24:00",
           "2026-10-01T00:00:00+01:60",
           "2026-10-01T00:00:00+0100",  // offset without ':'
           "2026-10-01T00:00:00+01",    // offset without minutes
           "2026-10-01T00:00:00+01:00:00",
           "2026-10-01T00:00:00Z ",  // anything after the offset
           "2026-10-01T00:00:00Zjunk",
           "2026-10-01T00:00:00.Z",   // '.' without a digit
           "2026-10-01T00:00:00,5Z",  // ',' is not RFC 3339's
           "2026-1O-01T00:00:00Z",    // letter O
           "+2026-10-01T00:00:00Z",
           "2026-10-01X00:00:00Z",
           "2026-10-01T0:00:00Z",
           "2026-10-01T00:00:00 Z",
           "20261001T000000Z",
       }) {
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << bad;
  }
}

// Seconds since the epoch of a UTC civil time.
int64_t Utc(int y, int mo, int d, int h, int mi, int s) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

TEST(ToUnixNsTest, OffsetsFractionsLeapSecondsAndRange) {
  auto ns = [](const char* text) { return ToUnixNs(*ParseDateTime(text)); };
  EXPECT_EQ(ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ns("2026-03-01T10:00:00Z"), Utc(2026, 3, 1, 10, 0, 0) * kSec);
  EXPECT_EQ(ns("2026-03-01T10:00:00+01:00"), Utc(2026, 3, 1, 9, 0, 0) * kSec);
  EXPECT_EQ(ns("2026-03-01T00:30:00-02:30"), Utc(2026, 3, 1, 3, 0, 0) * kSec);
  EXPECT_EQ(ns("2026-03-01T10:00:00.5Z"), Utc(2026, 3, 1, 10, 0, 0) * kSec + kSec / 2);
  EXPECT_EQ(ns("1969-12-31T23:59:59.123456789Z"), -kSec + 123'456'789);
  EXPECT_EQ(ns("2026-03-29T08:30:00+02:00"), 1774765800 * kSec);
  // A leap second is the first second of the next minute.
  EXPECT_EQ(ns("2016-12-31T23:59:60Z"), Utc(2017, 1, 1, 0, 0, 0) * kSec);
  // The ends of int64 nanoseconds, and one past them.
  EXPECT_EQ(ns("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(ns("2262-04-11T23:47:16.854775808Z"), std::nullopt);
  EXPECT_EQ(ns("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(ns("1677-09-21T00:12:43.145224191Z"), std::nullopt);
  EXPECT_EQ(ns("9999-12-31T23:59:59Z"), std::nullopt);
  EXPECT_EQ(ns("0000-01-01T00:00:00Z"), std::nullopt);
}

TEST(FormatTimeTest, FormatTimeUtc) {
  EXPECT_EQ(FormatTimeUtc(0), "1970-01-01T00:00:00.000000000Z");
  // 2026-11-22T18:47:45Z = 1795373265 s (date -u -d @1795373265).
  EXPECT_EQ(FormatTimeUtc(1795373265 * kSec + 5), "2026-11-22T18:47:45.000000005Z");
  EXPECT_EQ(FormatTimeUtc(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatTimeUtc(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatTimeUtc(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
}

TEST(FormatTimeTest, CompactDropsAWholeSecondsFraction) {
  EXPECT_EQ(FormatTimeUtcCompact(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeUtcCompact(1767225600 * kSec), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeUtcCompact(1774765800 * kSec + kSec / 4), "2026-03-29T06:30:00.250000000Z");
  EXPECT_EQ(FormatTimeUtcCompact(-3600 * kSec), "1969-12-31T23:00:00Z");
}

TEST(FormatTimeTest, WhatIsWrittenReadsBack) {
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{1}, 1795373265 * kSec + 5,
                    951782400 * kSec /* 2000-02-29 */, INT64_MAX, INT64_MIN}) {
    for (const std::string& text : {FormatTimeUtc(t), FormatTimeUtcCompact(t)}) {
      auto parsed = ParseDateTime(text);
      ASSERT_TRUE(parsed.has_value()) << text;
      EXPECT_EQ(ToUnixNs(*parsed), t) << text;
    }
  }
}

TEST(NowNsTest, IsTheWallClock) {
  const int64_t now = NowNs();
  EXPECT_GT(now, Utc(2025, 1, 1, 0, 0, 0) * kSec);
  EXPECT_LT(now, Utc(2200, 1, 1, 0, 0, 0) * kSec);
}

}  // namespace
}  // namespace vigil
