// Helpers for tests that run the real `vigil` binary as a child process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

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

// TempDir: tests/support/temp_dir.h (included above).

// A child process running in the background (a coordinator, a worker), its
// stdout and stderr sent to files. Killed with SIGKILL on destruction if
// still running.
class BackgroundProcess {
 public:
  // Starts argv; output goes to `log_prefix`.out / .err.
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_prefix);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until stdout holds a line starting with `prefix`; returns the rest
  // of that line, or "" after `timeout_ms` or if the process exited.
  std::string WaitForLine(const std::string& prefix, int timeout_ms = 20000);
  // Waits until stdout or stderr contains `text`; false on timeout.
  bool WaitForOutput(const std::string& text, int timeout_ms = 20000);
  void Signal(int sig);
  // Waits for the process to end (at most timeout_ms, then SIGKILL); returns
  // its exit code, or -signal if killed by a signal.
  int Wait(int timeout_ms = 20000);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string out_path_, err_path_;
};

// WaitFor: tests/support/wait.h (included above).

// Occurrences of `needle` in `text` (overlapping ones too).
size_t CountOf(const std::string& text, const std::string& needle);

// Runs the vigil binary with `args` (argv[0] added).
RunResult RunVigil(const std::vector<std::string>& args);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// Creates parent directories as needed.
void MakeDirs(const std::string& path);

// The fixed worker enrolment token of a test deployment (workers must
// enrol): writes a token to DIR/worker.token if it is not there yet and
// returns that path, for `vigil coordinator --worker-token-file` and
// `vigil worker --token-file`.
std::string WorkerTokenFile(const std::string& dir);
inline std::string WorkerTokenFile(const TempDir& dir) { return WorkerTokenFile(dir.path()); }

}  // namespace vigil::testing
