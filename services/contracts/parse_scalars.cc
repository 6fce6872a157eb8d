#include "services/contracts/parse_scalars.h"

#include <charconv>
#include <utility>

#include "services/contracts/parse.h"

namespace vigil::contracts {

std::string Quote(std::string_view s) {
  std::string out = "'";
  size_t n = 0;
  for (char c : s) {
    // Cut after 60 bytes, but not inside a UTF-8 sequence.
    if (++n > 60 && (static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      out += "...";
      break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::optional<int64_t> ParseDecimal(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i == s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v)) {
      return std::nullopt;
    }
  }
  return neg ? -v : v;
}

std::optional<double> ParsePlainNumber(std::string_view s) {
  size_t digits = 0, dot = std::string_view::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      ++digits;
    } else if (s[i] == '.' && dot == std::string_view::npos && i > 0 && i + 1 < s.size()) {
      dot = i;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0 || digits > 30) return std::nullopt;
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string FormatNumber(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

bool LooksNumeric(std::string_view s) {
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' && c != '_') {
      return false;
    }
  }
  return digit;
}

bool LooksLikeDuration(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start || i == s.size() || std::string_view("smhdw").find(s[i]) == s.npos) {
      return false;
    }
    ++i;
  }
  return true;
}

std::optional<uint64_t> ParseSize(std::string_view s, bool per_second, std::string* error) {
  std::string_view t = s;
  size_t i = 0;
  uint64_t whole = 0;
  size_t start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (__builtin_mul_overflow(whole, 10, &whole) ||
        __builtin_add_overflow(whole, static_cast<uint64_t>(t[i] - '0'), &whole)) {
      *error = "too large";
      return std::nullopt;
    }
    ++i;
  }
  if (i == start) {
    *error = "does not start with a number";
    return std::nullopt;
  }
  uint64_t frac = 0, frac_div = 1;
  bool has_frac = false;
  if (i < t.size() && t[i] == '.') {
    has_frac = true;
    ++i;
    size_t fs = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (frac_div < 1'000'000'000) {
        frac = frac * 10 + static_cast<uint64_t>(t[i] - '0');
        frac_div *= 10;
      }
      ++i;
    }
    if (i == fs) {
      *error = "no digit after '.'";
      return std::nullopt;
    }
  }
  while (i < t.size() && t[i] == ' ') ++i;
  std::string_view rest = t.substr(i);
  if (rest.empty()) {
    if (has_frac) {
      *error = "a fraction of a byte";
      return std::nullopt;
    }
    return whole;  // plain number of bytes
  }
  if (per_second) {
    if (rest.size() < 2 || rest.substr(rest.size() - 2) != "/s") {
      *error = "missing '/s' after the unit";
      return std::nullopt;
    }
    rest.remove_suffix(2);
  }
  static const std::pair<std::string_view, uint64_t> kUnits[] = {
      {"B", 1},
      {"KB", 1000},
      {"kB", 1000},
      {"MB", 1000'000},
      {"GB", 1000'000'000},
      {"TB", 1000'000'000'000},
      {"KiB", uint64_t{1} << 10},
      {"MiB", uint64_t{1} << 20},
      {"GiB", uint64_t{1} << 30},
      {"TiB", uint64_t{1} << 40},
  };
  for (const auto& [name, mult] : kUnits) {
    if (rest != name) continue;
    uint64_t v;
    if (__builtin_mul_overflow(whole, mult, &v)) {
      *error = "too large";
      return std::nullopt;
    }
    // frac / frac_div * mult, without overflow (frac_div <= 1e9, mult <= 2^40).
    unsigned __int128 f = static_cast<unsigned __int128>(frac) * mult / frac_div;
    if (__builtin_add_overflow(v, static_cast<uint64_t>(f), &v)) {
      *error = "too large";
      return std::nullopt;
    }
    return v;
  }
  *error = "unknown unit " + Quote(rest);
  return std::nullopt;
}

std::optional<ParsedTime> ParseTime(std::string_view s) {
  ParsedTime t;
  if (std::optional<CivilDate> d = ParseDate(s)) {
    if (d->year < 1970 || d->year > 2261) return std::nullopt;
    t.date_only = true;
    t.date = *d;
    t.ns = DaysFromCivil(d->year, d->month, d->day) * kDayNs;
    return t;
  }
  std::optional<DateTime> dt = ParseDateTime(s);
  if (!dt || dt->year < 1970 || dt->year > 2261 || dt->second == 60 || dt->fraction_digits > 9) {
    return std::nullopt;
  }
  std::optional<int64_t> ns = ToUnixNs(*dt);
  if (!ns || *ns < 0) return std::nullopt;
  t.ns = *ns;
  return t;
}

std::optional<int> ParseClockMinutes(std::string_view s) {
  auto digit = [&](size_t i) { return s[i] >= '0' && s[i] <= '9'; };
  if (s.size() != 5 || !digit(0) || !digit(1) || s[2] != ':' || !digit(3) || !digit(4)) {
    return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string FormatDuration(int64_t ns) {
  int64_t s = ns / kSecondNs;
  if (s <= 0) return "0s";
  std::string out;
  const std::pair<int64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& [secs, unit] : units) {
    if (s >= secs) {
      out += std::to_string(s / secs) + unit;
      s %= secs;
    }
  }
  return out;
}

}  // namespace vigil::contracts
