// Alerts end to end with the real `vigil` coordinator and worker processes:
// a check whose backups are too old turns the RPO verdict to fail while the
// webhook receiver is down (it answers 503; the check is not held up), the
// coordinator is killed with the alert undelivered, and after a restart the
// alert reaches the receiver — signed, and retried after the receiver's
// first 500.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

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

struct Hit {
  std::string body, timestamp, signature;
};

// A webhook receiver on loopback, on a port of its own (port 0) from start
// to end. Down at first: it answers 503 and counts the attempts. Once Up(),
// it records every request and answers the first with 500, the others with
// 204.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (!up_) {
        ++refused_;
        res.status = 503;
        return;
      }
      hits_.push_back({req.body, req.get_header_value("X-Vigil-Timestamp"),
                       req.get_header_value("X-Vigil-Signature")});
      res.status = hits_.size() == 1 ? 500 : 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void Up() {
    std::lock_guard lock(mu_);
    up_ = true;
  }
  int refused() {
    std::lock_guard lock(mu_);
    return refused_;
  }
  std::vector<Hit> hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::mutex mu_;
  bool up_ = false;        // guarded by mu_
  int refused_ = 0;        // guarded by mu_
  std::vector<Hit> hits_;  // guarded by mu_
};

TEST(AlertsProcessTest, UndeliveredAlertSurvivesARestartAndIsRetried) {
  TempDir tmp;
  const std::string root = tmp / "loc-a";
  for (int i = 0; i < 5; ++i) WriteFile(root + "/acme/fs/file" + std::to_string(i), "data");
  // The last sync was two days ago (file0 is the mirror's sync marker): the
  // RPO of 24 h fails.
  for (int i = 0; i < 5; ++i) {
    std::filesystem::last_write_time(
        root + "/acme/fs/file" + std::to_string(i),
        std::filesystem::file_time_type::clock::now() - std::chrono::hours(48));
  }
  Receiver rx;  // down for now
  MakeDirs(tmp / "secrets");
  WriteFile(tmp / "secrets/hook-key", std::string(kKey) + "\n");
  WriteFile(tmp / "acme.yaml",
            manifests::Head() + "effectiveFrom: 2026-01-01\n" +
                manifests::OneSet("fs", "fs-a", "loc-a", "acme/fs", {"syncMarker: file0"}) +
                manifests::kRpo24h +
                "---\napiVersion: vigil/v1\nkind: AlertChannel\nname: ops\nwebhook: " + rx.url() +
                "\nsecret: hook-key\n");
  Cluster cluster(tmp.path());
  CoordinatorOptions o;
  o.watch_every = "1s";
  o.flags = {"--secrets", tmp / "secrets", "--worker-quiet", "0"};
  ASSERT_TRUE(cluster.StartCoordinator(o));
  auto worker = cluster.StartWorker("worker", "loc-a=" + root);
  auto admin = [&](std::vector<std::string> args) { return cluster.Admin(args); };
  RunResult r = admin({"apply", "-f", tmp / "acme.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("alert channel ops"), std::string::npos) << r.out;
  // The check completes although the alert's receiver is dead.
  r = admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1/1 done"), std::string::npos) << r.out;
  // The watcher raises the alert: "alert ID: fail acme fs rpo -> fail".
  BackgroundProcess& coord = cluster.coordinator();
  ASSERT_TRUE(coord.WaitForOutput("fail acme fs rpo -> fail")) << coord.err();
  std::string err = coord.err();
  size_t at = err.find("vigil coordinator: alert ");
  ASSERT_NE(at, std::string::npos) << err;
  const std::string id = err.substr(at + 25, 32);
  // A delivery attempt fails meanwhile.
  ASSERT_TRUE(WaitFor([&] { return rx.refused() > 0; })) << coord.err();
  cluster.KillCoordinator();

  // The receiver comes up, answering 500 once; the coordinator restarts
  // with the watcher off: what arrives was in the outbox.
  rx.Up();
  o.watch_every = "0";
  ASSERT_TRUE(cluster.StartCoordinator(o));
  // Backoff before the retry: at most the 2 s base plus the initial
  // delay of the outbox left by the previous run (at most 10 min, but a
  // few attempts in half a second stay within seconds).
  WaitFor([&] { return rx.hits().size() >= 2; }, std::chrono::seconds(60));
  const size_t got = rx.hits().size();
  ASSERT_GE(got, 2u) << cluster.coordinator().err();
  for (const Hit& h : rx.hits()) {
    EXPECT_EQ(h.signature, "sha256=" + Hmac(kKey, h.timestamp + "." + h.body));
    auto j = nlohmann::json::parse(h.body);
    EXPECT_EQ(j["id"], id);
    EXPECT_EQ(j["tenant"], "acme");
    EXPECT_EQ(j["asset"], "fs");
    EXPECT_EQ(j["kind"], "rpo");
    EXPECT_EQ(j["event"], "fail");
    EXPECT_EQ(j["to"], "fail");
  }
  // Acknowledged once: no third copy. (The quiet period is what is
  // checked: a sleep, the receiver still listening.)
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(rx.hits().size(), 2u);
}

}  // namespace
}  // namespace vigil::testing
