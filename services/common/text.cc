#include "services/common/text.h"

#include <cmath>
#include <cstdio>

namespace vigil {

std::optional<int64_t> ParseDuration(std::string_view text, std::string* error) {
  if (text.empty()) {
    *error = "empty duration";
    return std::nullopt;
  }
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > (INT64_MAX - (text[i] - '0')) / 10) {
        *error = "duration too large: '" + std::string(text) + "'";
        return std::nullopt;
      }
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i == text.size()) {
      *error = "bad duration '" + std::string(text) + "' at byte " + std::to_string(i) +
               ": expected a number followed by s, m, h, d or w";
      return std::nullopt;
    }
    int64_t unit;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        *error = "bad duration '" + std::string(text) + "' at byte " + std::to_string(i) +
                 ": unit must be s, m, h, d or w";
        return std::nullopt;
    }
    ++i;
    constexpr int64_t kNs = 1'000'000'000;
    if (n > INT64_MAX / kNs / unit || total > INT64_MAX - n * unit * kNs) {
      *error = "duration too large: '" + std::string(text) + "'";
      return std::nullopt;
    }
    total += n * unit * kNs;
  }
  return total;
}

std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[u]);
  }
  return buf;
}

std::string HumanDuration(int64_t ns) {
  std::string sign = ns < 0 ? "-" : "";
  uint64_t v = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  constexpr uint64_t kSec = 1'000'000'000ULL;
  if (v < 10 * kSec) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.1f s", sign.c_str(), static_cast<double>(v) / kSec);
    return buf;
  }
  std::string out;
  for (const DurationPart& p : DurationParts(v / kSec)) {
    out += (out.empty() ? "" : " ") + std::to_string(p.count) + " " +
           (p.unit == 'm' ? std::string("min") : std::string(1, p.unit));
  }
  return sign + out;
}

std::vector<DurationPart> DurationParts(uint64_t s) {
  struct Unit {
    uint64_t secs;
    char name;
  };
  static const Unit kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  std::vector<DurationPart> parts;
  for (const Unit& u : kUnits) {
    if (parts.size() == 2) break;
    uint64_t n = s / u.secs;
    if (n == 0) {
      if (!parts.empty()) break;  // "3 d" rather than "3 d 0 h 5 min"
      continue;
    }
    parts.push_back({n, u.name});
    s -= n * u.secs;
  }
  return parts;
}

std::string GroupDigits(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string EscapeForTerminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n = Utf8SequenceLength(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    if (n == 1 && c >= 0x20 && c != 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    ++i;
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  static const char kTab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto u = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = u(i) << 16 | u(i + 1) << 8 | u(i + 2);
    out += {kTab[v >> 18], kTab[(v >> 12) & 63], kTab[(v >> 6) & 63], kTab[v & 63]};
  }
  if (in.size() - i == 1) {
    uint32_t v = u(i) << 16;
    out += {kTab[v >> 18], kTab[(v >> 12) & 63], '=', '='};
  } else if (in.size() - i == 2) {
    uint32_t v = u(i) << 16 | u(i + 1) << 8;
    out += {kTab[v >> 18], kTab[(v >> 12) & 63], kTab[(v >> 6) & 63], '='};
  }
  return out;
}

std::string BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  std::string_view v = authorization;
  if (v.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return "";
  }
  v.remove_prefix(kScheme.size());
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  if (!space(v.front())) return "";  // "Bearerx", not the Bearer scheme
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace vigil
