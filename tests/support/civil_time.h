// UTC civil time to an instant since the Unix epoch, computed with glibc's
// timegm: independent of the date code under test (services/common's), so
// a test can state an expected instant without trusting what it checks.
//
// Used by the restore-point and format-task unit tests and by the process
// tests (formats, points). Header-only; thread-safe.
#pragma once

#include <time.h>

#include <cstdint>

namespace vigil::testing {

// y-mo-d h:mi:s UTC (month 1-12), in seconds since the Unix epoch.
inline int64_t UtcSeconds(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  struct tm t = {};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  return int64_t{timegm(&t)};
}

// The same instant in ns since the Unix epoch.
inline int64_t UtcNs(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return UtcSeconds(y, mo, d, h, mi, s) * 1'000'000'000;
}

}  // namespace vigil::testing
