// Small helpers shared by the storage unit tests: a temporary directory,
// file writing, hex, and an order on paths derived independently of the code
// under test.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.h"

namespace vigil::storage::testing {

// The tests' one temporary-directory type (tests/support/temp_dir.h).
using vigil::testing::TempDir;

// Writes `content` to `path` (creating parent directories), replacing it.
inline void WriteFile(const std::string& path, std::string_view content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << "open " << path;
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    ASSERT_GT(n, 0) << "write " << path;
    done += static_cast<size_t>(n);
  }
  ASSERT_EQ(::close(fd), 0);
}

// Sets a file's mtime (nanoseconds since the epoch), not following symlinks.
inline void SetMtime(const std::string& path, int64_t mtime_ns) {
  struct timespec ts[2];
  ts[0].tv_sec = mtime_ns / 1'000'000'000;
  ts[0].tv_nsec = mtime_ns % 1'000'000'000;
  ts[1] = ts[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

inline int64_t MtimeOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

inline std::string ToHex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

inline std::string FromHex(std::string_view hex) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nib(hex[i]) << 4 | nib(hex[i + 1])));
  }
  return out;
}

// memcmp order on unsigned bytes, shorter first on a common prefix.
inline int ByteCompare(std::string_view a, std::string_view b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

inline std::vector<std::string> SplitPath(std::string_view p) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = p.find('/', start);
    out.emplace_back(p.substr(start, end == std::string_view::npos ? p.npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// Reference order of relative paths, written from the definition rather than
// from the code under test: depth-first pre-order of the tree with each
// directory's children sorted by their name bytes (unsigned). That is,
// compare the lists of components lexicographically, a list before its
// extensions. Returns <0, 0, >0.
inline int ReferencePathOrder(std::string_view a, std::string_view b) {
  std::vector<std::string> x = SplitPath(a), y = SplitPath(b);
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    int c = ByteCompare(x[i], y[i]);
    if (c != 0) return c;
  }
  if (x.size() == y.size()) return 0;
  return x.size() < y.size() ? -1 : 1;
}

inline int Sign(int v) { return (v > 0) - (v < 0); }

}  // namespace vigil::storage::testing
