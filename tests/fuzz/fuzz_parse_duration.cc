// libFuzzer target: vigil::ParseDuration on arbitrary text, checked against
// a reference parser written with 128-bit arithmetic (so it cannot overflow).
// Built with -fno-sanitize-recover, so a signed overflow inside the parser
// aborts the run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/text.h"

namespace {

// "<digits><unit>" repeated, units s m h d w, total <= INT64_MAX ns.
std::optional<int64_t> Reference(std::string_view t) {
  if (t.empty()) return std::nullopt;
  constexpr __int128 kMax = INT64_MAX;
  __int128 total = 0;
  size_t i = 0;
  while (i < t.size()) {
    size_t start = i;
    __int128 n = 0;
    bool big = false;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      n = n * 10 + (t[i] - '0');
      if (n > kMax) big = true, n = kMax + 1;  // saturate
      ++i;
    }
    if (i == start || i == t.size()) return std::nullopt;
    // The units by their letter (a table, not the parser's switch).
    static constexpr std::string_view kLetters = "smhdw";
    static constexpr int64_t kSeconds[] = {1, 60, 3600, 86400, 7 * 86400};
    const size_t u = kLetters.find(t[i]);
    if (u == std::string_view::npos) return std::nullopt;
    const __int128 unit = kSeconds[u];
    ++i;
    if (big) return std::nullopt;
    total += n * unit * 1'000'000'000;
    if (total > kMax) return std::nullopt;
  }
  return static_cast<int64_t>(total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string error;
  std::optional<int64_t> got = vigil::ParseDuration(in, &error);
  std::optional<int64_t> want = Reference(in);
  if (got.has_value() != want.has_value()) std::abort();
  if (got && *got != *want) std::abort();
  if (!got && error.empty()) std::abort();
  return 0;
}
