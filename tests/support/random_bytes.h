// Deterministic pseudo-random bytes for test data (xorshift64): the same
// `n` bytes for the same `seed` on every run, so tests stay hermetic while
// the content looks random to compressors and chunkers. Header-only, pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vigil::testing {

inline std::string Bytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace vigil::testing
