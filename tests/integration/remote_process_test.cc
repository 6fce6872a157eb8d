// Remote locations end to end, with real processes and real servers, nothing
// mounted: one file server backed up three times — on the office NAS (a
// filesystem location), on an SFTP server at a second site (Debian's sshd on
// loopback, tests/support/sshd_server.h) and in an offsite S3 bucket (a
// SigV4-verifying S3 server on loopback, tests/support/s3_server.h) — each a
// `dated-folders` set checked by a `vigil worker` of its own site, the
// remote ones with their credentials in the worker's --secrets directory and
// their addresses in the contract. What `vigil status --json` then says:
// the three copies were examined and agree; after the loss of the office,
// the offsite copies carry the asset; damage in the bucket is found; a
// server presenting another host key, or a bucket refusing the key, leaves
// the set unexamined with the reason, never a pass.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/worker/remote/s3_store.h"
#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"
#include "tests/support/s3_server.h"
#include "tests/support/sshd_server.h"

namespace vigil::testing {
namespace {

// The file server's two daily points: path -> content.
const std::vector<std::pair<std::string, std::map<std::string, std::string>>> kPoints = {
    {"2026-12-01",
     {{"docs/contract.txt", "the contract, first draft\n"},
      {"docs/budget 2027.csv", "line,amount\nrent,1200\n"},
      {"photos/\xC3\xA9t\xC3\xA9.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(3000, 'p')},
      {"empty", ""}}},
    {"2026-12-02",
     {{"docs/contract.txt", "the contract, signed\n"},
      {"docs/budget 2027.csv", "line,amount\nrent,1200\n"},
      {"photos/\xC3\xA9t\xC3\xA9.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(3000, 'p')},
      {"empty", ""},
      {"new/notes.md", "# notes\n"}}},
};

class RemoteProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    std::string err;
    sshd_ = SshdServer::Start(&err);
    ASSERT_NE(sshd_, nullptr) << err;
    s3_ = std::make_unique<S3Server>(std::vector<std::string>{"offsite"});
    // The same points in the three places.
    for (const auto& [point, files] : kPoints) {
      for (const auto& [path, content] : files) {
        for (const std::string& root : {tmp_ / "nas", tmp_ / "site2"}) {
          const std::string f = root + "/acme/server/" + point + "/" + path;
          MakeDirs(std::filesystem::path(f).parent_path().string());
          WriteFile(f, content);
        }
        Put(point + "/" + path, content);
      }
    }
    secrets_ = tmp_ / "secrets";
    MakeDirs(secrets_);
    ASSERT_EQ(::chmod(secrets_.c_str(), 0700), 0);
    WriteSecret("offsite.s3", "aws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
    WriteSecret("site2.ssh", ReadFile(sshd_->user_key_file()));
    ASSERT_TRUE(cluster_.StartCoordinator());
    ASSERT_NO_FATAL_FAILURE(Apply(sshd_->host_key()));
    office_ = Worker("office", "nas=" + tmp_ / "nas");
    cloud_ = Worker("cloud", "offsite");
    second_ = Worker("second", "site2");
  }

  std::unique_ptr<BackgroundProcess> Worker(const std::string& site, const std::string& location) {
    return cluster_.StartBareWorker(site, {"--site", site, "--location", location, "--token-file",
                                           cluster_.enrol_token_file(), "--secrets", secrets_});
  }
  void WriteSecret(const std::string& name, const std::string& content) {
    WriteFile(secrets_ + "/" + name, content);
    ASSERT_EQ(::chmod((secrets_ + "/" + name).c_str(), 0600), 0);
  }
  // An object of the bucket under the location's prefix and the set's path.
  void Put(const std::string& rel, const std::string& content) {
    auto s = worker::remote::PutS3ObjectForTest(s3_->Config("offsite"), S3Server::Credentials(),
                                                "vigil/acme/server/" + rel, content);
    ASSERT_TRUE(s.ok()) << s;
  }

  // The contract: three locations at three sites, one asset with a set in
  // each, three copies with one offsite required; the SFTP server pinned
  // by `host_key`.
  void Apply(const std::string& host_key) {
    using manifests::Location;
    const std::string s3 = "type: s3\noffsite: true\ns3:\n  endpoint: " + s3_->endpoint() +
                           "\n  bucket: offsite\n  prefix: vigil\n";
    const std::string sftp = "type: sftp\noffsite: true\nsftp:\n  host: 127.0.0.1\n  port: " +
                             std::to_string(sshd_->port()) + "\n  user: " + sshd_->user() +
                             "\n  hostKey: \"" + host_key + "\"\n  path: " + tmp_ / "site2" + "\n";
    const std::vector<std::string> fields = {"layout: dated-folders", "mutable: false"};
    WriteFile(
        tmp_ / "acme.yaml",
        manifests::Join({Location("nas", "office"), Location("offsite", "cloud", s3),
                         Location("site2", "second", sftp),
                         manifests::Tenant("acme", "Europe/Paris"), manifests::Contract("acme")}) +
            "assets:\n" +
            manifests::Asset("fileserver",
                             {manifests::BackupSet("local", "nas", "acme/server", fields),
                              manifests::BackupSet("cloud", "offsite", "acme/server", fields),
                              manifests::BackupSet("second", "site2", "acme/server", fields)}) +
            "commitments:\n  - copies: {min: 3, offsite: 1}\n");
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }

  RunResult Check() { return cluster_.RunCheck("acme", {}, 300); }
  nlohmann::json Tenant() { return cluster_.Status("acme")["tenants"][0]; }
  static nlohmann::json Commitment(const nlohmann::json& t, const std::string& kind) {
    for (const auto& c : t["commitments"]) {
      if (c["kind"] == kind) return c;
    }
    ADD_FAILURE() << "no " << kind << " commitment: " << t.dump(1);
    return {};
  }
  std::string WorkerLogs() const {
    return office_->err() + "\n" + cloud_->err() + "\n" + second_->err();
  }

  std::unique_ptr<SshdServer> sshd_;
  std::unique_ptr<S3Server> s3_;
  std::string secrets_;
  std::unique_ptr<BackgroundProcess> office_, cloud_, second_;
};

TEST_F(RemoteProcessTest, ThreeCopiesOnDiskSftpAndS3AreExaminedAndAgree) {
  RunResult r = Check();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << WorkerLogs();
  const nlohmann::json status = cluster_.Status("acme");
  for (const std::string set : {"local", "cloud", "second"}) {
    const nlohmann::json b = BackupSet(status, set);
    EXPECT_EQ(b["points"].size(), 2u) << set << ": " << b.dump(1);
    // 4 + 5 files and the directories beneath the points.
    EXPECT_EQ(b["catalogue_entries"], BackupSet(status, "local")["catalogue_entries"])
        << set << ": " << b.dump(1);
    EXPECT_EQ(b["problems"], 0) << set << ": " << b.dump(1);
  }
  const nlohmann::json t = status["tenants"][0];
  const nlohmann::json copies = Commitment(t, "copies");
  EXPECT_EQ(copies["verdict"], "pass") << copies.dump(1);
  // The office lost: the SFTP site and the bucket still hold the points.
  ASSERT_EQ(t["readiness"].size(), 1u) << t.dump(1);
  EXPECT_EQ(t["readiness"][0]["site_loss"]["readiness"], "ready") << t["readiness"].dump(1);
  // Each remote check said what it cost.
  EXPECT_NE(cloud_->err().find(" request(s), "), std::string::npos) << cloud_->err();
  EXPECT_NE(second_->err().find(" request(s), "), std::string::npos) << second_->err();
}

TEST_F(RemoteProcessTest, AByteFlippedInTheBucketIsFound) {
  ASSERT_EQ(Check().exit_code, 0) << WorkerLogs();
  // Same size, one byte changed, in the older point (a rewritten object).
  ASSERT_NO_FATAL_FAILURE(Put("2026-12-01/docs/contract.txt", "the contract, first draFt\n"));
  RunResult r = Check();
  const nlohmann::json status = cluster_.Status("acme");
  const nlohmann::json cloud = BackupSet(status, "cloud");
  EXPECT_EQ(cloud["problems"], 1) << cloud.dump(1) << r.out;
  ASSERT_EQ(cloud["damaged"].size(), 1u) << cloud.dump(1);
  EXPECT_EQ(cloud["damaged"][0]["path"], "docs/contract.txt");
  EXPECT_EQ(cloud["damaged"][0]["point_name"], "2026-12-01");
  EXPECT_EQ(cloud["damaged"][0]["state"], "modified");
  // The copies on disk and on the SFTP server are untouched.
  EXPECT_EQ(BackupSet(status, "local")["problems"], 0);
  EXPECT_EQ(BackupSet(status, "second")["problems"], 0);
}

TEST_F(RemoteProcessTest, AnotherHostKeyIsRefusedAndTheSetIsNotPassed) {
  std::string other;
  sshd_->NewKey("impostor", &other);
  ASSERT_NO_FATAL_FAILURE(Apply(other));
  Check();
  const nlohmann::json b = BackupSet(cluster_.Status("acme"), "second");
  EXPECT_EQ(b["points"].size(), 0u) << b.dump(1);
  EXPECT_NE(b["last_task"].dump().find("host key"), std::string::npos) << b.dump(1);
  EXPECT_NE(Commitment(Tenant(), "copies")["verdict"], "pass");
}

TEST_F(RemoteProcessTest, ABucketRefusingTheKeyIsAnErrorNotAVerdict) {
  WriteSecret("offsite.s3", "aws_access_key_id = S3RVER\naws_secret_access_key = wrong\n");
  Check();
  const nlohmann::json b = BackupSet(cluster_.Status("acme"), "cloud");
  EXPECT_EQ(b["points"].size(), 0u) << b.dump(1);
  EXPECT_NE(b["last_task"].dump().find("SignatureDoesNotMatch"), std::string::npos) << b.dump(1);
  EXPECT_NE(Commitment(Tenant(), "copies")["verdict"], "pass");
}

}  // namespace
}  // namespace vigil::testing
