// The coordinator and its workers as real processes on loopback (port 0):
// the full flow, failover after a worker is killed, a coordinator killed
// mid-ingest, a stale attempt refused, tokens checked.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 40;

class CoordinatorProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc-a";
    for (int i = 0; i < kFiles; ++i) {
      WriteFile(root_ + "/acme/fs/dir" + std::to_string(i % 4) + "/file" + std::to_string(i),
                "content of file " + std::to_string(i) + std::string(i * 10, 'z'));
    }
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head() + manifests::ImmutableFs() + manifests::kRpoAndIntegrity +
                  "outOfScope:\n  - item: laptops\n    reason: not backed up\n");
  }

  void StartCoordinator(const std::string& ttl) {
    CoordinatorOptions o;
    o.lease_ttl = ttl;
    ASSERT_TRUE(cluster_.StartCoordinator(o));
  }
  std::unique_ptr<BackgroundProcess> StartWorker(const std::string& name, int delay_ms = 0) {
    return cluster_.StartWorker(
        name, "loc-a=" + root_,
        {"--batch-size", "2", "--test-batch-delay-ms", std::to_string(delay_ms)});
  }
  void Apply() { ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml")); }
  // A coordinator with lease TTL `ttl`, the manifest applied, and a check of
  // acme leased by `*worker`, started as `name` (150 ms after each batch of
  // 2 files: about 3 s of work).
  void StartSlowCheck(const std::string& ttl, const std::string& name,
                      std::unique_ptr<BackgroundProcess>* worker) {
    StartCoordinator(ttl);
    Apply();
    *worker = StartWorker(name, 150);
    ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
    ASSERT_TRUE((*worker)->WaitForOutput("leased task")) << (*worker)->err();
  }
  nlohmann::json SetStatus() { return cluster_.Status("acme")["tenants"][0]["backup_sets"][0]; }
  static std::string State(const nlohmann::json& set) {
    return set["last_task"].is_object() ? set["last_task"]["state"].get<std::string>() : "";
  }
  // Polls until the running task's progress has passed `files` files (the
  // batches the coordinator acknowledged): a worker mid-ingest.
  void WaitForFilesDone(uint64_t files) {
    nlohmann::json s;
    ASSERT_TRUE(WaitFor([&] {
      s = SetStatus();
      return State(s) == "leased" && s["last_task"].contains("progress") &&
             s["last_task"]["progress"]["files_done"].get<uint64_t>() >= files;
    })) << s.dump();
  }
  // Polls until the set's last task is done or failed.
  nlohmann::json WaitForLastTask(int timeout_ms = 60000) {
    nlohmann::json s;
    if (WaitFor(
            [&] {
              s = SetStatus();
              return State(s) == "done" || State(s) == "failed";
            },
            std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(200))) {
      return s;
    }
    ADD_FAILURE() << "task did not finish";
    return SetStatus();
  }
  // A second, clean check must find exactly the files, all unchanged: the
  // catalogue equals that of a clean run.
  void ExpectCleanCatalogue() {
    RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    nlohmann::json s = SetStatus();
    EXPECT_EQ(s["catalogue_entries"], kFiles);
    EXPECT_EQ(s["problems"], 0);
    EXPECT_EQ(s["last_task"]["counts"]["unchanged"], kFiles) << s.dump();
    EXPECT_EQ(s["last_task"]["counts"]["added"], 0);
    EXPECT_EQ(s["last_task"]["counts"]["modified"], 0);
    EXPECT_EQ(s["last_task"]["counts"]["missing"], 0);
  }

  std::string root_;
};

TEST_F(CoordinatorProcessTest, ApplyCheckStatusFillsTheCatalogue) {
  WriteFile(root_ + "/acme/old-erp/dump.sql", "not in the contract");
  WriteFile(root_ + "/globex/fs/x", "another client");
  StartCoordinator("30s");
  auto w = StartWorker("w1");
  Apply();
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1/1 done"), std::string::npos) << r.out;
  nlohmann::json s = SetStatus();
  EXPECT_EQ(s["name"], "fs-a");
  EXPECT_EQ(s["catalogue_entries"], kFiles);
  EXPECT_EQ(s["last_task"]["counts"]["added"], kFiles);
  EXPECT_EQ(s["last_task"]["attempt"], 1);

  // Damage one file: the next check reports it (exit 1), as a problem.
  WriteFile(root_ + "/acme/fs/dir1/file5", "tampered");
  r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  s = SetStatus();
  EXPECT_EQ(s["problems"], 1);
  EXPECT_EQ(s["last_task"]["counts"]["modified"], 1);
  EXPECT_EQ(s["last_task"]["counts"]["unchanged"], kFiles - 1);

  RunResult human = Admin({"status"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("fs-a"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("40 entries, 1 with problems"), std::string::npos) << human.out;

  // The contract is judged: the damaged entry fails the integrity
  // commitment, and as the set's only restore point now holds a damaged
  // file the asset is not ready; the RPO still holds (monitoring began
  // moments ago); the out-of-scope item is listed.
  RunResult js = Admin({"status", "acme", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  nlohmann::json t = nlohmann::json::parse(js.out)["tenants"][0];
  EXPECT_EQ(t["contract_version"], 1) << t.dump(2);
  ASSERT_EQ(t["readiness"].size(), 1u) << t.dump(2);
  EXPECT_EQ(t["readiness"][0]["asset"], "fs");
  EXPECT_EQ(t["readiness"][0]["readiness"], "not ready") << t.dump(2);
  std::map<std::string, std::string> verdicts;
  for (const auto& c : t["commitments"]) verdicts[c["kind"]] = c["verdict"];
  EXPECT_EQ(verdicts["integrity"], "fail") << t.dump(2);
  EXPECT_EQ(verdicts["rpo"], "pass") << t.dump(2);
  EXPECT_NE(t["scope"].dump().find("laptops"), std::string::npos) << t.dump(2);
  // The worker surveyed the location: acme's old ERP dumps, kept beside
  // its file server but in no backup set, are reported; another client's
  // directory is not acme's business.
  EXPECT_NE(t["scope"].dump().find("loc-a:acme/old-erp"), std::string::npos) << t.dump(2);
  EXPECT_EQ(t["scope"].dump().find("globex"), std::string::npos) << t.dump(2);
  EXPECT_NE(human.out.find("restore readiness (contract v1)"), std::string::npos) << human.out;
}

TEST_F(CoordinatorProcessTest, AdminBackupRestoresToTheSameState) {
  StartCoordinator("30s");
  auto w = StartWorker("w1");
  Apply();
  ASSERT_EQ(Admin({"check", "run", "acme", "--wait", "--timeout", "60"}).exit_code, 0);
  RunResult r = Admin({"admin", "backup", tmp_ / "backup"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Admin({"admin", "backup", tmp_ / "backup"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  r = Admin({"admin", "backup", "relative/dir"});
  EXPECT_EQ(r.exit_code, 2);
  // Restore into a fresh data directory and serve from it.
  w.reset();
  cluster_.coordinator().Signal(SIGTERM);
  EXPECT_EQ(cluster_.coordinator().Wait(), 0);
  MakeDirs(tmp_ / "restored");
  ASSERT_EQ(rename((tmp_ / "backup").c_str(), (tmp_ / "restored/db").c_str()), 0);
  CoordinatorOptions restored;
  restored.data = "restored";
  restored.admin_token_file = cluster_.admin_token_file();
  ASSERT_TRUE(cluster_.StartCoordinator(restored));
  nlohmann::json s = SetStatus();
  EXPECT_EQ(s["catalogue_entries"], kFiles);
  EXPECT_EQ(s["last_task"]["state"], "done");
  EXPECT_EQ(s["last_task"]["counts"]["added"], kFiles);
}

TEST_F(CoordinatorProcessTest, KilledWorkerLeaseExpiresAndAnotherWorkerCompletes) {
  std::unique_ptr<BackgroundProcess> a;
  ASSERT_NO_FATAL_FAILURE(StartSlowCheck("2s", "wa", &a));
  ASSERT_NO_FATAL_FAILURE(WaitForFilesDone(6));  // a few batches in
  a->Signal(SIGKILL);
  EXPECT_EQ(a->Wait(), -SIGKILL);
  EXPECT_EQ(SetStatus()["last_task"]["state"], "leased");  // not done by the dead worker
  auto b = StartWorker("wb");
  nlohmann::json s = WaitForLastTask();
  EXPECT_EQ(s["last_task"]["state"], "done") << s.dump();
  EXPECT_EQ(s["last_task"]["attempt"], 2);
  ASSERT_EQ(s["last_task"]["errors"].size(), 1u);
  EXPECT_NE(s["last_task"]["errors"][0]["message"].get<std::string>().find("lease expired"),
            std::string::npos);
  EXPECT_EQ(s["last_task"]["entries"], kFiles);
  EXPECT_EQ(s["last_task"]["counts"]["added"], kFiles);
  ExpectCleanCatalogue();
}

TEST_F(CoordinatorProcessTest, KilledCoordinatorRestartsAndTheCheckCompletesOnce) {
  std::unique_ptr<BackgroundProcess> w;
  ASSERT_NO_FATAL_FAILURE(StartSlowCheck("10s", "w", &w));
  ASSERT_NO_FATAL_FAILURE(WaitForFilesDone(10));  // mid-ingest
  cluster_.coordinator().Signal(SIGKILL);
  EXPECT_EQ(cluster_.coordinator().Wait(), -SIGKILL);
  // The worker notices: its stream broke with batches unacknowledged.
  ASSERT_TRUE(WaitFor([&] { return w->err().find("resending batch") != std::string::npos; }))
      << w->err();
  ASSERT_TRUE(cluster_.RestartCoordinator());  // same data, same port
  nlohmann::json s = WaitForLastTask();
  EXPECT_EQ(s["last_task"]["state"], "done") << s.dump() << w->err();
  // Nothing lost, nothing counted twice (a batch stored twice would also
  // break the key order and fail the merge).
  EXPECT_EQ(s["last_task"]["entries"], kFiles);
  EXPECT_EQ(s["last_task"]["counts"]["added"], kFiles);
  EXPECT_EQ(s["catalogue_entries"], kFiles);
  EXPECT_NE(w->err().find("resending batch"), std::string::npos) << w->err();
  ExpectCleanCatalogue();
}

TEST_F(CoordinatorProcessTest, StaleAttemptIsRefusedAfterAPause) {
  std::unique_ptr<BackgroundProcess> a;
  ASSERT_NO_FATAL_FAILURE(StartSlowCheck("2s", "wa", &a));
  ASSERT_NO_FATAL_FAILURE(WaitForFilesDone(4));  // attempt 1 has sent batches
  a->Signal(SIGSTOP);                            // a frozen worker: its lease expires
  auto b = StartWorker("wb", 100);
  ASSERT_TRUE(b->WaitForOutput("leased task", 20000)) << b->err();
  a->Signal(SIGCONT);  // the late worker comes back with attempt 1
  EXPECT_TRUE(a->WaitForOutput("lost")) << a->err();
  nlohmann::json s = WaitForLastTask();
  EXPECT_EQ(s["last_task"]["state"], "done");
  EXPECT_EQ(s["last_task"]["attempt"], 2);
  EXPECT_EQ(s["last_task"]["entries"], kFiles);  // attempt 1's batches not counted
  ExpectCleanCatalogue();
}

TEST_F(CoordinatorProcessTest, SigtermHandsTheLeaseBack) {
  std::unique_ptr<BackgroundProcess> a;
  ASSERT_NO_FATAL_FAILURE(StartSlowCheck("30s", "wa", &a));
  a->Signal(SIGTERM);
  EXPECT_EQ(a->Wait(), 0) << a->err();
  EXPECT_NE(a->err().find("handed back task"), std::string::npos) << a->err();
  nlohmann::json s = SetStatus();
  EXPECT_EQ(s["last_task"]["state"], "queued");
  EXPECT_EQ(s["last_task"]["errors"].size(), 0u);
  // Without the hand-back, this would wait for the 30 s TTL.
  auto b = StartWorker("wb");
  s = WaitForLastTask(15000);
  EXPECT_EQ(s["last_task"]["state"], "done");
  EXPECT_EQ(s["last_task"]["attempt"], 2);
}

TEST_F(CoordinatorProcessTest, AdminCallsNeedTheToken) {
  StartCoordinator("30s");
  RunResult none = RunVigil({"status", "--coordinator", cluster_.addr()});
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("UNAUTHENTICATED"), std::string::npos) << none.err;
  WriteFile(tmp_ / "wrong.token", "not-the-token\n");
  RunResult wrong = RunVigil({"apply", "-f", tmp_ / "acme.yaml", "--coordinator", cluster_.addr(),
                              "--token-file", tmp_ / "wrong.token"});
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find("UNAUTHENTICATED"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("nothing applied"), std::string::npos);
  // Nothing was applied.
  RunResult s = Admin({"status", "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["tenants"].size(), 0u);
}

TEST_F(CoordinatorProcessTest, ApplyErrorsNameTheFileLineAndField) {
  StartCoordinator("30s");
  WriteFile(tmp_ / "bad.yaml", R"(apiVersion: vigil/v1
kind: Tenant
name: acme
timezone: UTC
---
apiVersion: vigil/v1
kind: Contract
tenant: acme
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: loc-a
        pth: acme/fs
)");
  RunResult r = Admin({"apply", "-f", tmp_ / "bad.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:14:9: Contract(acme).assets[0].backupSets[0].pth: unknown field "
                       "'pth'"),
            std::string::npos)
      << r.err;
  // Every error at once.
  EXPECT_NE(r.err.find("bad.yaml:12:9: Contract(acme).assets[0].backupSets[0].path: missing "
                       "required field"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing applied"), std::string::npos);
  // A reference the coordinator cannot resolve: refused as a whole.
  WriteFile(
      tmp_ / "unknown.yaml",
      manifests::Join({manifests::Tenant("acme"),
                       manifests::Contract("acme") + manifests::OneSet("fs", "fs-a", "nowhere")}));
  r = Admin({"apply", "-f", tmp_ / "unknown.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown location 'nowhere'"), std::string::npos) << r.err;
  RunResult s = Admin({"status", "--json"});
  EXPECT_EQ(nlohmann::json::parse(s.out)["tenants"].size(), 0u);
}

TEST_F(CoordinatorProcessTest, WorkerRefusesAPathThatEscapesItsLocation) {
  StartCoordinator("30s");
  MakeDirs(tmp_ / "outside");
  WriteFile(tmp_ / "outside/secret", "not yours");
  ASSERT_EQ(symlink((tmp_ / "outside").c_str(), (root_ + "/acme/escape").c_str()), 0);
  WriteFile(tmp_ / "escape.yaml",
            manifests::Head() + manifests::OneSet("fs", "fs-a", "loc-a", "acme/escape"));
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "escape.yaml"}).exit_code, 0);
  auto w = cluster_.StartWorker("w", "loc-a=" + root_);
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  nlohmann::json s = SetStatus();
  EXPECT_EQ(s["last_task"]["state"], "failed");
  EXPECT_EQ(s["last_task"]["errors"].size(), 3u);  // every attempt's error kept
  EXPECT_NE(s["last_task"]["errors"][0]["message"].get<std::string>().find("outside the location"),
            std::string::npos)
      << s.dump();
  EXPECT_EQ(s["catalogue_entries"], 0);
}

// Runs openssl; the certificates of the TLS test.
void Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = RunProcess(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

void MakeCert(const TempDir& d, const std::string& name, const std::string& ca,
              const std::string& extra_ext) {
  std::vector<std::string> req{"req",
                               "-newkey",
                               "ec",
                               "-pkeyopt",
                               "ec_paramgen_curve:P-256",
                               "-nodes",
                               "-keyout",
                               d / (name + ".key"),
                               "-out",
                               d / (name + ".csr"),
                               "-subj",
                               "/CN=" + name};
  if (!extra_ext.empty()) req.insert(req.end(), {"-addext", extra_ext});
  Openssl(req);
  Openssl({"x509", "-req", "-in", d / (name + ".csr"), "-CA", d / (ca + ".crt"), "-CAkey",
           d / (ca + ".key"), "-CAcreateserial", "-out", d / (name + ".crt"), "-days", "2",
           "-copy_extensions", "copy"});
}

void MakeCa(const TempDir& d, const std::string& name) {
  Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", d / (name + ".key"), "-out", d / (name + ".crt"), "-days", "2", "-subj",
           "/CN=" + name});
}

TEST_F(CoordinatorProcessTest, MutualTlsForWorkersAndTlsForAdmins) {
  TempDir pki;
  MakeCa(pki, "ca");
  MakeCert(pki, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  MakeCert(pki, "worker", "ca", "");
  MakeCa(pki, "rogue-ca");
  MakeCert(pki, "rogue", "rogue-ca", "");
  CoordinatorOptions tls;
  tls.flags = {"--tls-cert",       pki / "server.crt", "--tls-key",
               pki / "server.key", "--tls-client-ca",  pki / "ca.crt"};
  ASSERT_TRUE(cluster_.StartCoordinator(tls));

  // Admin over TLS (no client certificate needed; the token is).
  RunResult r = Admin({"apply", "-f", tmp_ / "acme.yaml", "--tls-ca", pki / "ca.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Plaintext to a TLS port: refused.
  r = Admin({"status"});
  EXPECT_EQ(r.exit_code, 3) << r.out;

  auto worker = [&](const std::string& log, std::vector<std::string> tls) {
    return cluster_.StartWorker(log, "loc-a=" + root_, tls);
  };
  // A worker without a client certificate is refused.
  auto no_cert = worker("nocert", {"--tls-ca", pki / "ca.crt"});
  EXPECT_EQ(no_cert->Wait(), 3) << no_cert->err();
  EXPECT_NE(no_cert->err().find("client certificate"), std::string::npos) << no_cert->err();
  // One signed by another CA never gets through the handshake.
  auto rogue = worker("rogue", {"--tls-ca", pki / "ca.crt", "--tls-cert", pki / "rogue.crt",
                                "--tls-key", pki / "rogue.key"});
  // The right one works.
  auto good = worker("good", {"--tls-ca", pki / "ca.crt", "--tls-cert", pki / "worker.crt",
                              "--tls-key", pki / "worker.key"});
  r = Admin({"check", "run", "acme", "--wait", "--timeout", "60", "--tls-ca", pki / "ca.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << good->err();
  EXPECT_EQ(rogue->err().find("registered"), std::string::npos) << rogue->err();
  EXPECT_NE(good->err().find("registered"), std::string::npos) << good->err();
  r = Admin({"status", "acme", "--json", "--tls-ca", pki / "ca.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["tenants"][0]["backup_sets"][0]["catalogue_entries"],
            kFiles);
}

TEST(DevTest, DevRunsTheExampleAndPrintsAStatus) {
  TempDir tmp;
  RunResult r = RunVigil({"dev", "--data", tmp / "dev", "--once", "--examples",
                          std::string(VIGIL_SOURCE_DIR) + "/deploy/examples"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("coordinator listening on 127.0.0.1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("admin token: vgl_"), std::string::npos);
  EXPECT_NE(r.out.find("3/3 done"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fileserver-offsite"), std::string::npos);
  EXPECT_NE(r.out.find("21 entries, 0 with problems"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vigil::testing
