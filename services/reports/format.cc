#include "services/reports/format.h"

#include <cmath>
#include <cstdio>

#include "services/common/text.h"

namespace vigil::reports {
namespace {

constexpr const char* kMonthsEn[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
constexpr const char* kMonthsFr[] = {"janvier",   "février", "mars",     "avril",
                                     "mai",       "juin",    "juillet",  "août",
                                     "septembre", "octobre", "novembre", "décembre"};
constexpr const char* kMonthsShortEn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr const char* kMonthsShortFr[] = {"janv.", "févr.", "mars",  "avr.", "mai",  "juin",
                                          "juil.", "août",  "sept.", "oct.", "nov.", "déc."};

// U+202F NARROW NO-BREAK SPACE: French digit grouping (and never a line break
// inside a number).
constexpr const char* kThinSpace = "\u202f";

std::string Two(int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

std::string Offset(const LocalTime& t) {
  int off = t.offset_minutes;
  std::string out = off < 0 ? "UTC-" : "UTC+";
  if (off < 0) off = -off;
  return out + Two(off / 60) + ":" + Two(off % 60);
}

// "UTC+1", "UTC-4:30", "UTC+0": the compact form for tables.
std::string ShortOffset(const LocalTime& t) {
  int off = t.offset_minutes;
  std::string out = off < 0 ? "UTC-" : "UTC+";
  if (off < 0) off = -off;
  out += std::to_string(off / 60);
  if (off % 60 != 0) out += ":" + Two(off % 60);
  return out;
}

std::string Clock(const LocalTime& t) { return Two(t.hour) + ":" + Two(t.minute); }

// Groups the decimal digits of `digits` (no sign) by three.
std::string Group(const std::string& digits, Language language) {
  const std::string sep = language == Language::kFrench ? kThinSpace : ",";
  std::string out;
  size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return out;
}

void AppendReplacement(std::string* out) { *out += "\xEF\xBF\xBD"; }

}  // namespace

Language LanguageFromTag(std::string_view tag) {
  if (tag.size() >= 2 && (tag[0] == 'f' || tag[0] == 'F') && (tag[1] == 'r' || tag[1] == 'R') &&
      (tag.size() == 2 || tag[2] == '-' || tag[2] == '_')) {
    return Language::kFrench;
  }
  return Language::kEnglish;
}

const char* LanguageTag(Language language) { return language == Language::kFrench ? "fr" : "en"; }

std::optional<LocalTime> ParseRfc3339(std::string_view text) { return ParseDateTime(text); }

LocalTime PreviousDay(const LocalTime& t) {
  LocalTime r = t;
  CivilDate d = CivilFromDays(DaysFromCivil(t.year, t.month, t.day) - 1);
  r.year = static_cast<int>(d.year);
  r.month = d.month;
  r.day = d.day;
  return r;
}

std::string FormatDate(const LocalTime& t, Language language) {
  if (language == Language::kFrench) {
    return (t.day == 1 ? std::string("1er") : std::to_string(t.day)) + " " +
           kMonthsFr[t.month - 1] + " " + std::to_string(t.year);
  }
  return std::to_string(t.day) + " " + kMonthsEn[t.month - 1] + " " + std::to_string(t.year);
}

std::string FormatDateTime(const LocalTime& t, Language language) {
  return FormatDate(t, language) + (language == Language::kFrench ? " à " : ", ") + Clock(t) +
         " (" + Offset(t) + ")";
}

std::string FormatDateShort(const LocalTime& t, Language language) {
  const char* month =
      language == Language::kFrench ? kMonthsShortFr[t.month - 1] : kMonthsShortEn[t.month - 1];
  return std::to_string(t.day) + " " + month + " " + std::to_string(t.year);
}

std::string FormatClockShort(const LocalTime& t) { return Clock(t) + " " + ShortOffset(t); }

std::string FormatDateTimeShort(const LocalTime& t, Language language) {
  return FormatDateShort(t, language) + " " + FormatClockShort(t);
}

std::string FormatInteger(uint64_t n, Language language) {
  return Group(std::to_string(n), language);
}

std::string FormatDecimal(double value, int decimals, Language language) {
  if (!std::isfinite(value)) return "-";
  if (decimals < 0) decimals = 0;
  if (decimals > 9) decimals = 9;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::fabs(value));
  std::string s = buf;
  size_t dot = s.find('.');
  std::string whole = dot == std::string::npos ? s : s.substr(0, dot);
  std::string out = (value < 0 && s.find_first_not_of("0.") != std::string::npos) ? "-" : "";
  out += Group(whole, language);
  if (dot != std::string::npos) {
    out += language == Language::kFrench ? "," : ".";
    out += s.substr(dot + 1);
  }
  return out;
}

std::string FormatBytes(uint64_t bytes, Language language) {
  const bool fr = language == Language::kFrench;
  static constexpr const char* kEn[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  static constexpr const char* kFr[] = {"Kio", "Mio", "Gio", "Tio", "Pio", "Eio"};
  if (bytes < 1024) return FormatInteger(bytes, language) + (fr ? " o" : " B");
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  // Three significant digits; 1023.5 KiB would print as "1024" and 9.996 as
  // "10.00", both still correct values, merely one digit longer.
  int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  std::string unit_name = fr ? kFr[unit] : kEn[unit];
  return FormatDecimal(v, decimals, language) + (fr ? kThinSpace : " ") + unit_name;
}

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        case '\t':
        case '\n':
          out += static_cast<char>(c);
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            AppendReplacement(&out);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      AppendReplacement(&out);
      ++i;
      continue;
    }
    // C1 controls (U+0080-U+009F) are as unwelcome in HTML as C0 ones.
    if (len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
      AppendReplacement(&out);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace vigil::reports
