#include "tests/support/sshd_server.h"

#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

constexpr char kSshd[] = "/usr/sbin/sshd";

// The processes descended from `root` (children first found by scanning
// /proc for their parent), `root` excluded.
std::vector<pid_t> Descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  DIR* d = opendir("/proc");
  if (d == nullptr) return {};
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string stat;
    std::getline(in, stat);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    children.emplace(static_cast<pid_t>(ppid), static_cast<pid_t>(pid));
  }
  closedir(d);
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    auto [lo, hi] = children.equal_range(p);
    for (auto it = lo; it != hi; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool KeyGen(const std::string& file, std::string* error) {
  const RunResult r = RunProcess(
      {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vigil-test", "-f", file});
  if (r.exit_code != 0) {
    *error = "ssh-keygen failed for " + file + ": " + r.err;
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<SshdServer> SshdServer::Start(std::string* error) {
  std::unique_ptr<SshdServer> s(new SshdServer());
  const passwd* pw = getpwuid(geteuid());
  if (pw == nullptr) {
    *error = "no passwd entry for uid " + std::to_string(geteuid());
    return nullptr;
  }
  s->user_ = pw->pw_name;
  if (geteuid() == 0) {
    std::error_code ec;
    std::filesystem::create_directories("/run/sshd", ec);  // privilege separation
  }
  const std::string host_key = s->dir_ / "host_key";
  if (!KeyGen(host_key, error)) return nullptr;
  s->host_key_ = Trim(ReadFile(host_key + ".pub"));
  s->user_key_file_ = s->dir_ / "user_key";
  if (!KeyGen(s->user_key_file_, error)) return nullptr;
  WriteFile(s->dir_ / "authorized_keys", ReadFile(s->user_key_file_ + ".pub"));
  s->config_file_ = s->dir_ / "sshd_config";
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 20; ++i) {
    s->port_ = std::uniform_int_distribution<int>(20000, 60999)(rng);
    if (s->Launch(error)) return s;
    if (error->find("Address already in use") == std::string::npos) return nullptr;
  }
  return nullptr;
}

bool SshdServer::Launch(std::string* error) {
  const std::string d = dir_.path();
  WriteFile(config_file_,
            "ListenAddress 127.0.0.1\n"
            "Port " +
                std::to_string(port_) +
                "\n"
                "HostKey " +
                d +
                "/host_key\n"
                "PidFile " +
                d +
                "/sshd.pid\n"
                "AuthorizedKeysFile " +
                d +
                "/authorized_keys\n"
                "StrictModes no\n"
                "UsePAM no\n"
                "PasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n"
                "PubkeyAuthentication yes\n"
                "PermitRootLogin prohibit-password\n"
                "MaxStartups 100\n"
                "LogLevel VERBOSE\n"
                "Subsystem sftp internal-sftp\n");
  log_file_ = d + "/sshd." + std::to_string(++launches_);
  sshd_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{kSshd, "-D", "-e", "-f", config_file_}, log_file_);
  if (sshd_->WaitForOutput("Server listening on 127.0.0.1 port " + std::to_string(port_), 20000)) {
    return true;
  }
  *error = "sshd did not start on 127.0.0.1:" + std::to_string(port_) + ": " + Log();
  sshd_->Signal(SIGKILL);
  sshd_->Wait();
  sshd_.reset();
  return false;
}

std::string SshdServer::Log() const { return ReadFile(log_file_ + ".err"); }

std::string SshdServer::NewKey(const std::string& name, std::string* public_line) {
  const std::string file = dir_ / name;
  std::string error;
  if (!KeyGen(file, &error)) throw std::runtime_error(error);
  *public_line = Trim(ReadFile(file + ".pub"));
  return file;
}

void SshdServer::Kill() {
  if (sshd_ == nullptr) return;
  // The connections first (a connection outlives its listener), then the
  // listener, which reaps them.
  for (pid_t p : Descendants(sshd_->pid())) kill(p, SIGKILL);
  sshd_->Signal(SIGKILL);
  sshd_->Wait();
  sshd_.reset();
}

bool SshdServer::Restart(std::string* error) {
  Kill();
  return Launch(error);
}

void SshdServer::StopSessions() {
  if (sshd_ == nullptr) return;
  for (pid_t p : Descendants(sshd_->pid())) kill(p, SIGSTOP);
}

void SshdServer::ContinueSessions() {
  if (sshd_ == nullptr) return;
  for (pid_t p : Descendants(sshd_->pid())) kill(p, SIGCONT);
}

SshdServer::~SshdServer() {
  ContinueSessions();
  Kill();
}

}  // namespace vigil::testing
