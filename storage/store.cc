#include "storage/store.h"

#include <algorithm>

namespace vigil::storage {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& p, int retry, double jitter01) {
  if (retry < 1) retry = 1;
  const int64_t first = std::max<int64_t>(p.first_backoff.count(), 0);
  const int64_t cap = std::max<int64_t>(p.max_backoff.count(), 0);
  int64_t d = first;
  for (int i = 1; i < retry && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  const double j = 0.5 + 0.5 * std::clamp(jitter01, 0.0, 0.999999);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d) * j));
}

Status CheckStorePath(std::string_view path, std::string_view what) {
  if (path.empty()) return absl::OkStatus();
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view c = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (c.empty() || c == "." || c == ".." || c.find('\0') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          std::string(what) + ": '" +
          std::string(path.substr(0, std::min<size_t>(path.size(), 200))) +
          "' is not a relative path (empty, '.', '..' or NUL component at byte " +
          std::to_string(start) + ")");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return absl::OkStatus();
}

std::string JoinStorePath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string s;
  s.reserve(dir.size() + 1 + name.size());
  s.append(dir);
  s.push_back('/');
  s.append(name);
  return s;
}

}  // namespace vigil::storage
