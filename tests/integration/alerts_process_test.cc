// Alerts end to end with the real `vigil` coordinator and worker processes:
// a check whose backups are too old turns the RPO verdict to fail while the
// webhook receiver is down (the check is not held up), the coordinator is
// killed with the alert undelivered, and after a restart the alert reaches
// the receiver — signed, and retried after the receiver's first 500.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

constexpr const char* kKey = "integration-hmac-key";

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  std::string s;
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", out[i]);
    s += hex;
  }
  return s;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

struct Hit {
  std::string body, timestamp, signature;
};

TEST(AlertsProcessTest, UndeliveredAlertSurvivesARestartAndIsRetried) {
  TempDir tmp;
  const std::string root = tmp / "loc-a";
  for (int i = 0; i < 5; ++i) WriteFile(root + "/acme/fs/file" + std::to_string(i), "data");
  // The newest backup is two days old: the RPO of 24 h fails.
  for (int i = 0; i < 5; ++i) {
    std::filesystem::last_write_time(
        root + "/acme/fs/file" + std::to_string(i),
        std::filesystem::file_time_type::clock::now() - std::chrono::hours(48));
  }
  const int port = FreePort();  // the receiver is down for now
  MakeDirs(tmp / "secrets");
  WriteFile(tmp / "secrets/hook-key", std::string(kKey) + "\n");
  WriteFile(tmp / "acme.yaml", R"(apiVersion: vigil/v1
kind: Location
name: loc-a
site: s1
---
apiVersion: vigil/v1
kind: Tenant
name: acme
timezone: UTC
---
apiVersion: vigil/v1
kind: Contract
tenant: acme
effectiveFrom: 2026-01-01
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: loc-a
        path: acme/fs
commitments:
  - rpo: 24h
---
apiVersion: vigil/v1
kind: AlertChannel
name: ops
webhook: http://127.0.0.1:)" + std::to_string(port) +
                                   R"(/hook
secret: hook-key
)");
  auto start = [&](const std::string& watch, int n) {
    auto p = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{VigilBin(), "coordinator", "--worker-token-file",
                                 WorkerTokenFile(tmp), "--listen", "127.0.0.1:0", "--data",
                                 tmp / "data", "--watch-every", watch, "--secrets", tmp / "secrets",
                                 "--worker-quiet", "0"},
        tmp / ("coord" + std::to_string(n)));
    return p;
  };
  auto coord = start("1s", 1);
  std::string addr = coord->WaitForLine("listening on ");
  ASSERT_FALSE(addr.empty()) << coord->err();
  BackgroundProcess worker({VigilBin(), "worker", "--token-file", WorkerTokenFile(tmp),
                            "--coordinator", addr, "--site", "s1", "--location", "loc-a=" + root},
                           tmp / "worker");
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--coordinator", addr, "--token-file", tmp / "data/admin.token"});
    return RunVigil(args);
  };
  RunResult r = admin({"apply", "-f", tmp / "acme.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("alert channel ops"), std::string::npos) << r.out;
  // The check completes although the alert's receiver is dead.
  r = admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1/1 done"), std::string::npos) << r.out;
  // The watcher raises the alert: "alert ID: fail acme fs rpo -> fail".
  ASSERT_TRUE(coord->WaitForOutput("fail acme fs rpo -> fail")) << coord->err();
  std::string err = coord->err();
  size_t at = err.find("vigil coordinator: alert ");
  ASSERT_NE(at, std::string::npos) << err;
  const std::string id = err.substr(at + 25, 32);
  // A few delivery attempts fail (connection refused) meanwhile.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  coord->Signal(SIGKILL);
  coord->Wait();

  // The receiver comes up, answering 500 once; the coordinator restarts
  // with the watcher off: what arrives was in the outbox.
  httplib::Server rx;
  std::mutex mu;
  std::vector<Hit> hits;
  rx.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    hits.push_back({req.body, req.get_header_value("X-Vigil-Timestamp"),
                    req.get_header_value("X-Vigil-Signature")});
    res.status = hits.size() == 1 ? 500 : 204;
  });
  ASSERT_TRUE(rx.bind_to_port("127.0.0.1", port));
  std::thread rx_thread([&] { rx.listen_after_bind(); });
  auto coord2 = start("0", 2);
  ASSERT_FALSE(coord2->WaitForLine("listening on ").empty()) << coord2->err();
  size_t got = 0;
  // Backoff before the retry: at most the 2 s base plus the initial
  // delay of the outbox left by the previous run (at most 10 min, but a
  // few attempts in half a second stay within seconds).
  for (int waited = 0; waited < 60000 && got < 2; waited += 100) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(mu);
    got = hits.size();
  }
  rx.stop();
  rx_thread.join();
  ASSERT_GE(got, 2u) << coord2->err();
  for (const Hit& h : hits) {
    EXPECT_EQ(h.signature, "sha256=" + Hmac(kKey, h.timestamp + "." + h.body));
    auto j = nlohmann::json::parse(h.body);
    EXPECT_EQ(j["id"], id);
    EXPECT_EQ(j["tenant"], "acme");
    EXPECT_EQ(j["asset"], "fs");
    EXPECT_EQ(j["kind"], "rpo");
    EXPECT_EQ(j["event"], "fail");
    EXPECT_EQ(j["to"], "fail");
  }
  // Acknowledged once: no third copy.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(hits.size(), 2u);
}

}  // namespace
}  // namespace vigil::testing
