// Small text helpers shared by the services and the CLI: durations, sizes,
// UTF-8, and the lossless display of byte-string paths. (Times:
// services/common/time.h.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Parses "90s", "15m", "12h", "30d", "2w" and sums like "1d12h" into
// nanoseconds. Returns nullopt (with *error set) on anything else.
std::optional<int64_t> ParseDuration(std::string_view text, std::string* error);

// "1.5 GiB", "12.0 MiB", "512 B".
std::string HumanBytes(double bytes);
// "3 d 4 h", "31 h 5 min", "45 min", "12 s", "0.4 s" (two largest units).
std::string HumanDuration(int64_t ns);
// The units HumanDuration shows for `seconds`: the two largest non-zero of
// days ('d'), hours ('h'), minutes ('m'), seconds ('s'), stopping at a zero
// after the first ("3 d" rather than "3 d 0 h 5 min"). Renderers in other
// languages name the units themselves (services/reports/messages.h).
struct DurationPart {
  uint64_t count;
  char unit;
};
std::vector<DurationPart> DurationParts(uint64_t seconds);
// "1,234,567".
std::string GroupDigits(uint64_t n);

// Length of the valid UTF-8 sequence starting at s[i] (i < s.size()): 1 to
// 4, or 0 if it is invalid (a stray continuation byte, an overlong form, a
// surrogate, a code point above U+10FFFF, a sequence cut short).
size_t Utf8SequenceLength(std::string_view s, size_t i);
bool IsValidUtf8(std::string_view s);
// Printable form of a byte-string path for a terminal: valid UTF-8 is kept,
// control characters and invalid bytes become \n, \t, \\, \xNN escapes, so
// two different names never print the same.
std::string EscapeForTerminal(std::string_view s);
// The token of an authorization value "Bearer TOKEN" (an HTTP
// Authorization header or gRPC "authorization" metadata): the scheme in any
// case ("bearer", "BEARER"; RFC 7235 section 2.1), then one or more spaces,
// then the token, trailing spaces dropped. "" if the value is empty, of
// another scheme, or has no token. The one parser of the coordinator's
// gRPC services and HTTP endpoints.
std::string BearerToken(std::string_view authorization);
// Standard base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view bytes);

}  // namespace vigil
