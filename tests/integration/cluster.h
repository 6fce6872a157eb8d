// A Vigil deployment for the tests that run the real binary: one `vigil
// coordinator` and any number of `vigil worker`s as child processes on
// loopback, and the admin CLI pointed at them.
//
// Every listener binds port 0 and the cluster reads the address the process
// prints ("listening on", "http listening on", "https listening on"): no
// test probes a free port and hopes it stays free. A restart reuses the
// address the coordinator had, which its own (now dead) socket held.
//
// Files live in the directory given to the constructor (a test's TempDir,
// which must outlive the cluster):
//   DIR/DATA/               the coordinator's --data (DATA: options.data)
//   DIR/DATA/admin.token    the admin token the coordinator writes
//   DIR/worker.token        the enrolment token (WorkerTokenFile) given to
//                           the coordinator as --worker-token-file and to
//                           StartWorker's workers as --token-file
//   DIR/coordN.out, .err    the Nth coordinator start's output
//   DIR/NAME.out, .err      the output of the worker started as NAME
//
// Helpers that can fail report the reason (the process's output) as a test
// failure and return false or null; the caller decides whether to stop:
// ASSERT_TRUE(cluster.StartCoordinator()).
//
// Not thread-safe: the test's thread drives it. The coordinator still
// running is killed (SIGKILL) when the cluster goes; workers belong to the
// caller (BackgroundProcess kills its process when destroyed).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/test_util.h"

namespace vigil::testing {

struct CoordinatorOptions {
  // --listen. A restart passes the address the coordinator had.
  std::string listen = "127.0.0.1:0";
  // --data, relative to the cluster's directory (or an absolute path).
  std::string data = "data";
  // --worker-token-file with the fixed test token (WorkerTokenFile). If
  // false, none: a fresh coordinator writes a one-time DATA/enrol.token.
  bool enrol_token = true;
  // --admin-token-file; "" for the coordinator's own DATA/admin.token.
  std::string admin_token_file;
  // --lease-ttl, --watch-every, --metrics-refresh; "" for the default.
  std::string lease_ttl, watch_every, metrics_refresh;
  // --http-listen 127.0.0.1:0: its address in http().
  bool http = false;
  // --https-listen 127.0.0.1:0 (its certificate in `flags`, or the gRPC
  // one): its address in https().
  bool https = false;
  // Any further flags: TLS, --keys, --secrets, ...
  std::vector<std::string> flags;
  // Set in the environment of the coordinator process alone.
  std::map<std::string, std::string> env;

  // Client side. Clients dial CONNECT_HOST:PORT (a name the server's
  // certificate carries) instead of the address the coordinator printed.
  std::string connect_host;
  // Admin() adds --tls-ca TLS_CA.
  std::string tls_ca;
};

class Cluster {
 public:
  explicit Cluster(std::string dir) : dir_(std::move(dir)) {}
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts a coordinator (killing the one running, if any) and waits for
  // its addresses. False, with a test failure naming its output, if it
  // did not come up.
  [[nodiscard]] bool StartCoordinator(CoordinatorOptions o = {});
  // Starts it again with the last options on the address it had (same
  // data, same port): after the test stopped or killed it.
  [[nodiscard]] bool RestartCoordinator();
  // SIGKILL, and waits for it.
  void KillCoordinator();
  bool has_coordinator() const { return coord_ != nullptr; }
  BackgroundProcess& coordinator() { return *coord_; }
  const CoordinatorOptions& options() const { return options_; }

  // Where clients reach the coordinator (gRPC), and its HTTP and HTTPS
  // listeners (if started with them).
  const std::string& addr() const { return addr_; }
  const std::string& http() const { return http_; }
  const std::string& https() const { return https_; }

  // DIR/DATA/admin.token (or options.admin_token_file), and the token in
  // it without the newline.
  std::string admin_token_file() const;
  std::string AdminToken() const;
  // The enrolment token file of DIR (written on first use).
  std::string enrol_token_file() const;

  // `vigil worker --coordinator ADDR --site s1 --location LOCATION`, with
  // `--token-file` the enrolment token if the coordinator was given it,
  // then `flags`; output to DIR/NAME.{out,err}.
  std::unique_ptr<BackgroundProcess> StartWorker(const std::string& name,
                                                 const std::string& location,
                                                 const std::vector<std::string>& flags = {}) const;
  // `vigil worker --coordinator ADDR FLAGS...`: the test names site,
  // locations and token.
  std::unique_ptr<BackgroundProcess> StartBareWorker(const std::string& name,
                                                     const std::vector<std::string>& flags) const;

  // `vigil ARGS --coordinator ADDR --token-file ADMIN_TOKEN` (and --tls-ca).
  RunResult Admin(std::vector<std::string> args) const;
  // The same with another token (a tenant's, an issued admin token).
  RunResult As(const std::string& token_file, std::vector<std::string> args) const;
  // `vigil apply -f FILE`; false, with a test failure, unless it exits 0.
  [[nodiscard]] bool Apply(const std::string& file) const;
  // `vigil check run TENANT --wait --timeout TIMEOUT_S FLAGS...`.
  RunResult RunCheck(const std::string& tenant, const std::vector<std::string>& flags = {},
                     int timeout_s = 60) const;
  // `vigil status [TENANT] --json`, parsed; a test failure and null if the
  // call fails or does not print JSON.
  nlohmann::json Status(const std::string& tenant = "") const;
  // The same without a failure (the coordinator may be down): null then.
  nlohmann::json TryStatus(const std::string& tenant = "") const;

 private:
  std::string dir_;
  CoordinatorOptions options_;
  std::unique_ptr<BackgroundProcess> coord_;
  std::string listened_;  // the gRPC address as printed
  std::string addr_, http_, https_;
  int starts_ = 0;
};

// The backup set `name` of the first tenant of a `vigil status --json`; a
// test failure and an empty object if there is none.
nlohmann::json BackupSet(const nlohmann::json& status, const std::string& name);

// A test with a cluster in a fresh directory: tmp_ holds the test's files
// and the cluster's; Admin() is the cluster's.
class ClusterTest : public ::testing::Test {
 protected:
  RunResult Admin(std::vector<std::string> args) const { return cluster_.Admin(std::move(args)); }

  TempDir tmp_;
  Cluster cluster_{tmp_.path()};
};

}  // namespace vigil::testing
