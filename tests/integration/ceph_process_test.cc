// restic's own `s3:` backend writing into Ceph's object gateway, and Vigil
// checking what it wrote, end to end with real processes: Debian's restic
// 0.14 (`restic -r s3:http://127.0.0.1:PORT/offsite/...` with
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) backs up two points of a file
// server into a bucket of a one-node Ceph cluster on loopback
// (tests/support/ceph_rgw.h); a coordinator and a `vigil worker
// --location offsite --secrets DIR` then check that repository as a restic
// set at an s3 location. Nothing is uploaded by the test itself except the
// damage: one byte flipped in a pack of a second repository, found
// invalid, naming the pack.
//
// One cluster per test (ctest runs each test in its own process);
// the cluster takes ~5 s to start, restic and the check a few seconds.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/worker/remote/s3_store.h"
#include "tests/integration/cluster.h"
#include "tests/support/ceph_rgw.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

const std::vector<std::string> kRestic = {"format: restic", "layout: restic-snapshots"};

const std::vector<std::pair<std::string, std::map<std::string, std::string>>> kPoints = {
    {"2026-12-01",
     {{"docs/contract.txt", "the contract, first draft\n"},
      {"photos/a.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(30000, 'p')}}},
    {"2026-12-02",
     {{"docs/contract.txt", "the contract, signed\n"},
      {"photos/a.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(30000, 'p')},
      {"new/notes.md", "# notes\n"}}},
};

class CephProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    std::string error;
    rgw_ = CephRgw::Start(&error);
    ASSERT_NE(rgw_, nullptr) << error;
    std::cout << "ceph start-up: " << rgw_->startup_report() << "\n";
    ASSERT_TRUE(rgw_->CreateBucket("offsite").ok());
    for (const auto& [point, files] : kPoints) {
      for (const auto& [path, content] : files) {
        const std::string f = tmp_ / ("server/" + point + "/" + path);
        MakeDirs(std::filesystem::path(f).parent_path().string());
        WriteFile(f, content);
      }
    }
    secrets_ = tmp_ / "secrets";
    MakeDirs(secrets_);
    ASSERT_EQ(::chmod(secrets_.c_str(), 0700), 0);
    WriteSecret("offsite.s3", "aws_access_key_id = " + rgw_->access_key_id() +
                                  "\naws_secret_access_key = " + rgw_->secret_access_key() + "\n");
    WriteSecret("offsite.password", "pw\n");
  }
  void TearDown() override {
    if (HasFailure() && rgw_ != nullptr) std::cout << rgw_->Logs();
  }

  void WriteSecret(const std::string& name, const std::string& content) {
    WriteFile(secrets_ + "/" + name, content);
    ASSERT_EQ(::chmod((secrets_ + "/" + name).c_str(), 0600), 0);
  }

  // restic, with its s3 backend, on the repository at `prefix` of the
  // bucket.
  RunResult RunRestic(const std::string& prefix, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "AWS_ACCESS_KEY_ID=" + rgw_->access_key_id(),
                                     "AWS_SECRET_ACCESS_KEY=" + rgw_->secret_access_key(),
                                     "RESTIC_PASSWORD=pw",
                                     "restic",
                                     "-r",
                                     "s3:" + rgw_->endpoint() + "/offsite/vigil/" + prefix,
                                     "--no-cache",
                                     "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  void Restic(const std::string& prefix, const std::vector<std::string>& args) {
    const RunResult r = RunRestic(prefix, args);
    ASSERT_EQ(r.exit_code, 0) << "restic " << args[0] << ": " << r.out << r.err;
  }
  // A repository of the file server's two points, one snapshot each.
  void ResticRepo(const std::string& prefix) {
    ASSERT_NO_FATAL_FAILURE(Restic(prefix, {"init"}));
    for (const auto& [point, files] : kPoints) {
      ASSERT_NO_FATAL_FAILURE(Restic(prefix, {"backup", "--host", "office", "--time",
                                              point + " 12:00:00", tmp_ / ("server/" + point)}));
    }
  }

  // The keys of the packs of the repository at `prefix` (data/XX/ID), as
  // the S3 store lists them.
  std::vector<std::string> Packs(const std::string& prefix) {
    auto store = worker::remote::OpenS3Store(rgw_->Config("offsite", "vigil/" + prefix),
                                             rgw_->Credentials(), storage::RetryPolicy{});
    EXPECT_TRUE(store.ok()) << store.status();
    std::vector<std::string> dirs, packs;
    EXPECT_TRUE((*store)
                    ->List("data",
                           [&](storage::StoreEntry&& e) {
                             dirs.push_back("data/" + e.name);
                             return true;
                           })
                    .ok());
    for (const std::string& d : dirs) {
      EXPECT_TRUE((*store)
                      ->List(d,
                             [&](storage::StoreEntry&& e) {
                               packs.push_back(d + "/" + e.name);
                               return true;
                             })
                      .ok());
    }
    return packs;
  }

  void Apply() {
    // Declared immutable, in a bucket made without Object Lock: what the
    // store says contradicts the declaration.
    const std::string s3 =
        "type: s3\noffsite: true\nimmutable: true\ns3:\n  endpoint: " + rgw_->endpoint() +
        "\n  bucket: offsite\n  prefix: vigil\n";
    WriteFile(
        tmp_ / "acme.yaml",
        manifests::Join({manifests::Location("offsite", "cloud", s3),
                         manifests::Tenant("acme", "Europe/Paris"), manifests::Contract("acme")}) +
            "assets:\n" +
            manifests::Asset(
                "fileserver",
                {manifests::BackupSet("cloud", "offsite", "acme/repo", kRestic),
                 manifests::BackupSet("damaged", "offsite", "acme/damaged", kRestic)}) +
            "commitments:\n  - copies: {min: 1}\n");
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }

  std::unique_ptr<CephRgw> rgw_;
  std::string secrets_;
};

TEST_F(CephProcessTest, ResticsOwnS3BackendWritesARepositoryVigilChecksAndFindsAFlippedByte) {
  ASSERT_NO_FATAL_FAILURE(ResticRepo("acme/repo"));
  ASSERT_NO_FATAL_FAILURE(ResticRepo("acme/damaged"));
  // restic itself finds both repositories sound before the damage.
  ASSERT_NO_FATAL_FAILURE(Restic("acme/damaged", {"check", "--read-data"}));

  // One byte flipped in the middle of a pack of the second repository:
  // same size, same key.
  const std::vector<std::string> packs = Packs("acme/damaged");
  ASSERT_FALSE(packs.empty());
  const std::string pack = packs.front();
  const std::string key = "vigil/acme/damaged/" + pack;
  CephRgw::Reply got = rgw_->Send({.bucket = "offsite", .key = key});
  ASSERT_EQ(got.code, 200) << got.body;
  std::string body = got.body;
  ASSERT_GT(body.size(), 100u);
  body[body.size() / 2] ^= 0x01;
  ASSERT_TRUE(rgw_->PutObject("offsite", key, body).ok());

  ASSERT_TRUE(cluster_.StartCoordinator());
  ASSERT_NO_FATAL_FAILURE(Apply());
  auto worker =
      cluster_.StartBareWorker("cloud", {"--site", "cloud", "--location", "offsite", "--token-file",
                                         cluster_.enrol_token_file(), "--secrets", secrets_});
  RunResult r = cluster_.RunCheck("acme", {}, 300);
  const nlohmann::json status = cluster_.Status("acme");

  const nlohmann::json cloud = BackupSet(status, "cloud");
  EXPECT_EQ(cloud["points"].size(), 2u) << cloud.dump(1) << r.out << r.err << worker->err();
  EXPECT_EQ(cloud["problems"], 0) << cloud.dump(1);
  const nlohmann::json& verdicts = cloud["format_verdicts"]["verdicts"];
  ASSERT_EQ(verdicts.size(), 1u) << cloud.dump(1);
  EXPECT_EQ(verdicts[0]["valid"], true) << cloud.dump(1);
  EXPECT_EQ(verdicts[0]["error_count"], 0) << cloud.dump(1);
  EXPECT_NE(worker->err().find("restic repository valid, 2 snapshot(s)"), std::string::npos)
      << worker->err();

  const nlohmann::json damaged = BackupSet(status, "damaged");
  const nlohmann::json& dv = damaged["format_verdicts"]["verdicts"];
  ASSERT_EQ(dv.size(), 1u) << damaged.dump(1) << worker->err();
  EXPECT_EQ(dv[0]["valid"], false) << damaged.dump(1);
  EXPECT_NE(damaged["format_verdicts"].dump().find(pack.substr(pack.rfind('/') + 1)),
            std::string::npos)
      << damaged.dump(1);
  // The bucket's own word, measured by the check: no Object Lock, against
  // the declaration; the finding names the store.
  EXPECT_NE(status.dump().find("declared immutable, but the store says Object Lock is off (s3://"),
            std::string::npos)
      << status.dump(1);
  // restic agrees: its own check over the same backend fails.
  const RunResult check = RunRestic("acme/damaged", {"check", "--read-data"});
  EXPECT_NE(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace vigil::testing
