#include "services/reports/format.h"

#include <gtest/gtest.h>

#include <tuple>

#include "services/common/time.h"

namespace vigil::reports {
namespace {

// ParseRfc3339 is common/time.h's ParseDateTime, whose fields time_test.cc
// checks one by one: a report reads what it reads, offsets included.
TEST(ReportFormat, ParsesRfc3339WithItsOffset) {
  auto fields = [](const LocalTime& t) {
    return std::tie(t.year, t.month, t.day, t.hour, t.minute, t.second, t.nanosecond,
                    t.offset_minutes, t.separator, t.fraction_digits);
  };
  for (const char* s :
       {"2026-11-01T03:12:09+01:00", "2026-10-31T23:10:05.123456Z", "2026-03-08 10:00:00-04:30"}) {
    auto t = ParseRfc3339(s);
    auto want = ParseDateTime(s);
    ASSERT_TRUE(t.has_value()) << s;
    ASSERT_TRUE(want.has_value()) << s;
    EXPECT_EQ(fields(*t), fields(*want)) << s;
  }
  EXPECT_EQ(ParseRfc3339("2026-11-01T03:12:09+01:00")->offset_minutes, 60);
  EXPECT_EQ(ParseRfc3339("2026-10-31T23:10:05.123456Z")->offset_minutes, 0);
  EXPECT_EQ(ParseRfc3339("2026-03-08 10:00:00-04:30")->offset_minutes, -270);
}

TEST(ReportFormat, RejectsWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "yesterday", "2026-10-01", "2026-10-01T00:00:00", "2026-10-01T00:00+02:00",
        "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-10-32T00:00:00Z",
        "2026-10-01T24:00:00Z", "2026-10-01T00:00:00+24:00", "2026-10-01T00:00:00Z ",
        "2026-10-01T00:00:00.Z", "2026-1O-01T00:00:00Z", "+2026-10-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseRfc3339("2028-02-29T00:00:00Z").has_value());  // leap year
}

TEST(ReportFormat, DatesInBothLanguages) {
  LocalTime t = *ParseRfc3339("2026-10-01T00:00:00+02:00");
  EXPECT_EQ(FormatDate(t, Language::kEnglish), "1 October 2026");
  EXPECT_EQ(FormatDate(t, Language::kFrench), "1er octobre 2026");
  LocalTime u = *ParseRfc3339("2026-08-15T03:12:00+02:00");
  EXPECT_EQ(FormatDate(u, Language::kFrench), "15 août 2026");
  EXPECT_EQ(FormatDateTime(u, Language::kEnglish), "15 August 2026, 03:12 (UTC+02:00)");
  EXPECT_EQ(FormatDateTime(u, Language::kFrench), "15 août 2026 à 03:12 (UTC+02:00)");
  EXPECT_EQ(FormatDateTimeShort(u, Language::kFrench), "15 août 2026 03:12 UTC+2");
  LocalTime w = *ParseRfc3339("2026-03-08T10:00:00-04:30");
  EXPECT_EQ(FormatDateTimeShort(w, Language::kEnglish), "8 Mar 2026 10:00 UTC-4:30");
  EXPECT_EQ(FormatClockShort(*ParseRfc3339("2026-03-08T10:00:00Z")), "10:00 UTC+0");
}

TEST(ReportFormat, PreviousDayCrossesMonthsYearsAndLeapDays) {
  auto prev = [](const char* s) {
    return FormatDate(PreviousDay(*ParseRfc3339(s)), Language::kEnglish);
  };
  EXPECT_EQ(prev("2026-11-01T00:00:00+01:00"), "31 October 2026");
  EXPECT_EQ(prev("2027-01-01T00:00:00+01:00"), "31 December 2026");
  EXPECT_EQ(prev("2028-03-01T00:00:00Z"), "29 February 2028");
  EXPECT_EQ(prev("2026-03-01T00:00:00Z"), "28 February 2026");
  EXPECT_EQ(prev("2026-10-15T00:00:00Z"), "14 October 2026");
}

TEST(ReportFormat, NumbersInBothLanguages) {
  EXPECT_EQ(FormatInteger(0, Language::kEnglish), "0");
  EXPECT_EQ(FormatInteger(999, Language::kFrench), "999");
  EXPECT_EQ(FormatInteger(1234567, Language::kEnglish), "1,234,567");
  EXPECT_EQ(FormatInteger(1234567, Language::kFrench), "1\u202f234\u202f567");
  EXPECT_EQ(FormatInteger(18446744073709551615ull, Language::kEnglish),
            "18,446,744,073,709,551,615");
  EXPECT_EQ(FormatDecimal(1234.5, 1, Language::kFrench), "1\u202f234,5");
  EXPECT_EQ(FormatDecimal(1234.5, 2, Language::kEnglish), "1,234.50");
  EXPECT_EQ(FormatDecimal(-2.25, 1, Language::kEnglish), "-2.2");
  EXPECT_EQ(FormatDecimal(-0.01, 1, Language::kEnglish), "0.0");
}

TEST(ReportFormat, SizesInBinaryUnits) {
  EXPECT_EQ(FormatBytes(512, Language::kEnglish), "512 B");
  EXPECT_EQ(FormatBytes(512, Language::kFrench), "512 o");
  EXPECT_EQ(FormatBytes(1536, Language::kEnglish), "1.50 KiB");
  EXPECT_EQ(FormatBytes(1536, Language::kFrench), "1,50\u202fKio");
  EXPECT_EQ(FormatBytes(98765432100ull, Language::kEnglish), "92.0 GiB");
  EXPECT_EQ(FormatBytes(5ull << 40, Language::kEnglish), "5.00 TiB");
  EXPECT_EQ(FormatBytes(18446744073709551615ull, Language::kEnglish), "16.0 EiB");
}

TEST(ReportFormat, LanguageTags) {
  EXPECT_EQ(LanguageFromTag("fr"), Language::kFrench);
  EXPECT_EQ(LanguageFromTag("fr-CA"), Language::kFrench);
  EXPECT_EQ(LanguageFromTag("FR_fr"), Language::kFrench);
  EXPECT_EQ(LanguageFromTag("en"), Language::kEnglish);
  EXPECT_EQ(LanguageFromTag("fry"), Language::kEnglish);
  EXPECT_EQ(LanguageFromTag("de"), Language::kEnglish);
  EXPECT_EQ(LanguageFromTag(""), Language::kEnglish);
}

TEST(ReportFormat, EscapesMarkupAndRepairsBadBytes) {
  EXPECT_EQ(EscapeHtml("<script>alert('x&y')</script>"),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;");
  EXPECT_EQ(EscapeHtml("a\"b"), "a&quot;b");
  EXPECT_EQ(EscapeHtml("Société générale — 日本"), "Société générale — 日本");
  EXPECT_EQ(EscapeHtml("tab\tnl\n"), "tab\tnl\n");
  // Invalid UTF-8, an overlong '/', a surrogate, C0 and C1 controls.
  EXPECT_EQ(EscapeHtml("a\xff"
                       "b"),
            "a\uFFFDb");
  EXPECT_EQ(EscapeHtml("\xC0\xAF"), "\uFFFD\uFFFD");
  EXPECT_EQ(EscapeHtml("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(EscapeHtml(std::string("x\0y", 3)), "x\uFFFDy");
  EXPECT_EQ(EscapeHtml("\xC2\x85"), "\uFFFD");
  EXPECT_EQ(EscapeHtml("\xE2\x82"), "\uFFFD\uFFFD");  // truncated sequence
}

}  // namespace
}  // namespace vigil::reports
