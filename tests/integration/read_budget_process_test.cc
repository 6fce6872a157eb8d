// A location's daily read budget end to end (docs/remote.md "Cost"): a real
// `vigil worker` checks a set in an S3 bucket (the SigV4-verifying test
// server on loopback, tests/support/s3_server.h); `vigil status --json`
// shows what the check cost (requests made, bytes read: listing pages and
// object bodies, as the worker measured and logged them), and with a budget
// smaller than that the next check is not leased: it stays queued and says
// why.
//
// Thread safety: gtest tests, one thread each.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "services/worker/remote/s3_store.h"
#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"
#include "tests/support/s3_server.h"
#include "tests/support/wait.h"

namespace vigil::testing {
namespace {

// One dated point of a file server: path -> content. (A file at the
// point's top: the test server does not list a directory that holds only
// directories, docs/remote.md "Tests".)
const std::map<std::string, std::string> kFiles = {
    {"readme.txt", "the file server\n"},
    {"docs/contract.txt", "the contract, signed\n"},
    {"docs/budget.csv", "line,amount\nrent,1200\n"},
    {"photos/a.jpg", std::string(3000, 'p')},
};

class ReadBudgetProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    s3_ = std::make_unique<S3Server>(std::vector<std::string>{"offsite"});
    for (const auto& [path, content] : kFiles) {
      auto s = worker::remote::PutS3ObjectForTest(s3_->Config("offsite"), S3Server::Credentials(),
                                                  "vigil/acme/server/2026-12-01/" + path, content);
      ASSERT_TRUE(s.ok()) << s;
      bytes_ += content.size();
    }
    secrets_ = tmp_ / "secrets";
    MakeDirs(secrets_);
    ASSERT_EQ(::chmod(secrets_.c_str(), 0700), 0);
    const std::string key = secrets_ + "/offsite.s3";
    WriteFile(key, "aws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
    ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
    ASSERT_TRUE(cluster_.StartCoordinator());
    // 100 bytes a day: less than one check reads.
    const std::string s3 = "type: s3\noffsite: true\ns3:\n  endpoint: " + s3_->endpoint() +
                           "\n  bucket: offsite\n  prefix: vigil\nreadBudget: {bytesPerDay: 100}\n";
    WriteFile(
        tmp_ / "acme.yaml",
        manifests::Join({manifests::Location("offsite", "cloud", s3), manifests::Tenant(),
                         manifests::Contract("acme")}) +
            "assets:\n" +
            manifests::Asset("fileserver",
                             {manifests::BackupSet("cloud", "offsite", "acme/server",
                                                   {"layout: dated-folders", "mutable: false"})}) +
            manifests::kRpo24h);
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
    worker_ = cluster_.StartBareWorker("cloud",
                                       {"--site", "cloud", "--location", "offsite", "--token-file",
                                        cluster_.enrol_token_file(), "--secrets", secrets_});
  }

  std::unique_ptr<S3Server> s3_;
  std::string secrets_;
  uint64_t bytes_ = 0;  // of the objects of the point
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(ReadBudgetProcessTest, TheSpendIsReportedAndTheNextCheckWaitsForTheBudget) {
  // The first check runs (nothing spent yet), and reads more than 100 B.
  RunResult r = cluster_.RunCheck("acme", {}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
  nlohmann::json last = BackupSet(cluster_.Status("acme"), "cloud")["last_task"];
  ASSERT_EQ(last["state"], "done") << last.dump(1);
  ASSERT_TRUE(last.contains("store_usage")) << last.dump(1);
  const nlohmann::json usage = last["store_usage"];
  // Listings, HEADs and GETs; the bytes are the listing pages and the
  // objects' bodies (each read once).
  const uint64_t requests = usage["requests"].get<uint64_t>();
  const uint64_t read = usage["bytes_read"].get<uint64_t>();
  EXPECT_GT(requests, kFiles.size()) << usage.dump();
  EXPECT_GE(read, bytes_) << usage.dump();
  // What the worker measured and logged, exactly.
  EXPECT_NE(worker_->err().find(": " + std::to_string(requests) + " request(s), " +
                                std::to_string(read) + " byte(s) read, 0 retry(ies)"),
            std::string::npos)
      << usage.dump() << worker_->err();

  // The next check is queued and stays so: the day's budget is spent.
  RunResult queued = cluster_.Admin({"check", "run", "acme"});
  ASSERT_EQ(queued.exit_code, 0) << queued.out << queued.err;
  std::string waiting;
  EXPECT_TRUE(WaitFor([&] {
    last = BackupSet(cluster_.Status("acme"), "cloud")["last_task"];
    waiting = last.value("waiting", "");
    return !waiting.empty();
  })) << last.dump(1);
  EXPECT_NE(waiting.find("read budget of offsite spent: "), std::string::npos) << waiting;
  EXPECT_NE(waiting.find(" of 100 B (bytesPerDay) in the last 24 h; next check after "),
            std::string::npos)
      << waiting;
  // Several lease polls later, it is still queued (the worker polls every
  // second or so; the first check took one).
  RunResult again = cluster_.RunCheck("acme", {}, 3);
  EXPECT_NE(again.exit_code, 0) << again.out;
  EXPECT_EQ(BackupSet(cluster_.Status("acme"), "cloud")["last_task"]["state"], "queued");
}

}  // namespace
}  // namespace vigil::testing
