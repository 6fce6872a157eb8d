// Helpers for tests that run the real `vigil` binary as a child process.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vigil::testing {

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string out, err;
  long max_rss_kib = 0;  // peak resident set of the child (wait4)
};

// Path of the vigil binary under test ($VIGIL_BIN, set by ctest).
std::string VigilBin();

// Runs argv[0] with argv, no stdin, capturing stdout and stderr. If `uid` is
// not -1, the child drops to that uid/gid (and no supplementary groups)
// before exec: how root-run CI tests a permission denial.
RunResult RunProcess(const std::vector<std::string>& argv, uid_t uid = static_cast<uid_t>(-1),
                     gid_t gid = static_cast<gid_t>(-1));

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// Creates parent directories as needed.
void MakeDirs(const std::string& path);

}  // namespace vigil::testing
