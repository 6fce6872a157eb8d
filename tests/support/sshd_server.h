// A real OpenSSH server for the SFTP tests: Debian's /usr/sbin/sshd on
// 127.0.0.1, started by the test itself with a fresh ed25519 host key and user
// key (ssh-keygen) in a temporary directory, serving SFTP (internal-sftp).
//
// Who logs in: the current user (getpwuid(geteuid())); tests run as root
// here and in CI, so that is root (sshd's default PermitRootLogin
// prohibit-password allows a key). A non-root sshd can only serve its own
// user, which is the same user, so the fixture works unprivileged too. As
// root sshd needs its privilege-separation directory /run/sshd: the fixture
// creates it when missing.
//
// Port: sshd cannot listen on port 0, so the fixture picks a random high
// port, starts `sshd -D -e -f CONFIG` on it and, when sshd's log (its
// stderr, in a file) says "Address already in use", tries another (no
// probe-then-reuse). Ready = the log says "Server listening".
//
// Kill() ends the listener and every connection process it forked (a
// connection outlives its listener otherwise), all with SIGKILL; Restart()
// starts sshd again on the same port with the same keys; StopSessions()
// freezes (SIGSTOP) the connection processes, leaving the listener to
// accept new ones: a server that stops answering mid-session. The
// destructor kills what is left. Only processes this fixture started (and
// their children) are signalled.
//
// Used by tests/services/worker/remote/sftp_store_test.cc. Needs
// tests/support/sshd_server.cc and tests/integration/test_util.cc (the
// child process) in the test's SOURCES.
//
// Thread safety: none; one owner (a test or its fixture).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil::testing {

class BackgroundProcess;

class SshdServer {
 public:
  // Starts sshd; nullptr and *error (with sshd's log) when it cannot.
  static std::unique_ptr<SshdServer> Start(std::string* error);
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  // The host key's public line, "ssh-ed25519 AAAA..." (what a location pins).
  const std::string& host_key() const { return host_key_; }
  // The authorized user key's private key file.
  const std::string& user_key_file() const { return user_key_file_; }
  const std::string& dir() const { return dir_.path(); }
  // What sshd logged so far.
  std::string Log() const;

  // A new ed25519 key pair in the fixture's directory (not authorized):
  // returns the private key file; *public_line gets the .pub line.
  std::string NewKey(const std::string& name, std::string* public_line);

  void Kill();
  // Starts sshd again on port(); false and *error when it cannot.
  bool Restart(std::string* error);
  void StopSessions();
  void ContinueSessions();

 private:
  SshdServer() = default;
  bool Launch(std::string* error);

  TempDir dir_;
  std::string user_;
  std::string host_key_;
  std::string user_key_file_;
  std::string config_file_;
  std::string log_file_;
  int port_ = 0;
  int launches_ = 0;
  std::unique_ptr<BackgroundProcess> sshd_;
};

}  // namespace vigil::testing
