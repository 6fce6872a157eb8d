#include "tests/integration/test_util.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vigil::testing {

std::string VigilBin() {
  const char* b = std::getenv("VIGIL_BIN");
  return b != nullptr ? b : "build/bin/vigil";
}

RunResult RunProcess(const std::vector<std::string>& argv, uid_t uid, gid_t gid) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (uid != static_cast<uid_t>(-1)) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  RunResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  r.max_rss_kib = ru.ru_maxrss;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

void MakeDirs(const std::string& path) { std::filesystem::create_directories(path); }

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string WorkerTokenFile(const std::string& dir) {
  const std::string file = dir + "/worker.token";
  if (!std::filesystem::exists(file)) WriteFile(file, "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n");
  return file;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

RunResult RunVigil(const std::vector<std::string>& args) {
  std::vector<std::string> argv{VigilBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::string& log_prefix)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

std::string BackgroundProcess::out() const { return ReadFile(out_path_); }
std::string BackgroundProcess::err() const { return ReadFile(err_path_); }

namespace {
bool Exited(pid_t pid, bool* reaped, int* status) {
  if (*reaped) return true;
  if (waitpid(pid, status, WNOHANG) == pid) *reaped = true;
  return *reaped;
}
}  // namespace

std::string BackgroundProcess::WaitForLine(const std::string& prefix, int timeout_ms) {
  std::string rest;
  WaitFor(
      [&] {
        std::istringstream in(out());
        std::string line;
        while (std::getline(in, line)) {
          if (line.rfind(prefix, 0) == 0 && !in.eof()) {
            rest = line.substr(prefix.size());
            return true;
          }
        }
        return Exited(pid_, &reaped_, &status_);
      },
      std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(20));
  return rest;
}

bool BackgroundProcess::WaitForOutput(const std::string& text, int timeout_ms) {
  bool found = false;
  WaitFor(
      [&] {
        found = out().find(text) != std::string::npos || err().find(text) != std::string::npos;
        return found || Exited(pid_, &reaped_, &status_);
      },
      std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(20));
  return found;
}

void BackgroundProcess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

int BackgroundProcess::Wait(int timeout_ms) {
  if (!WaitFor([&] { return Exited(pid_, &reaped_, &status_); },
               std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(20))) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return -WTERMSIG(status_);
  return -1;
}

}  // namespace vigil::testing
