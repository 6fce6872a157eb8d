// What failed, where operators look (issue 16): through a real `vigil
// coordinator` (--http-listen on loopback), `vigil worker` and the CLI,
//   - a check that failed (its backup set's path is a symbolic link, which
//     no worker follows) is on the
//     dashboard's API, grid and tenant page, with its reason, and in human
//     `vigil status`;
//   - damaged files are named, the first 10 then a count, by
//     `vigil check run --wait` and human `vigil status`;
//   - `vigil dev` serves the dashboard, prints its address and how to log
//     in, and its serving mode prints commands that work as printed.
// Each starts its own processes on port 0; nothing is shared between tests.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cluster.h"
#include "tests/integration/http_get.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

class VisibilityProcessTest : public ClusterTest {
 protected:
  // A coordinator with its dashboard (status recomputed every second) and
  // one worker serving loc-a at ROOT.
  void Start() {
    CoordinatorOptions o;
    o.http = true;
    o.metrics_refresh = "1s";
    o.flags = {"--max-attempts", "2"};
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    worker_ = cluster_.StartWorker("worker", "loc-a=" + root_);
  }

  // GET /api/PATH with the admin token, parsed (null unless 200 and JSON).
  nlohmann::json Api(const std::string& path) const {
    HttpReply r = HttpGet(cluster_.http(), path, "Bearer " + cluster_.AdminToken());
    if (r.status != 200) return nullptr;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json(nullptr) : j;
  }

  std::string root_ = tmp_ / "loc-a";
  std::unique_ptr<BackgroundProcess> worker_;
};

// The backup set's path is a symbolic link (the worker refuses to follow
// it): every attempt of the check fails with the worker's reason. The dashboard used to show only
// "not ready" with an empty task list; now its grid row, its list of failed checks and the tenant
// page carry the reason.
TEST_F(VisibilityProcessTest, AFailedCheckAndItsReasonAreOnTheDashboardAndInStatus) {
  WriteFile(root_ + "/acme/fs/f1", "one");
  std::filesystem::create_directory_symlink("fs", root_ + "/acme/caisse");
  WriteFile(tmp_ / "acme.yaml", manifests::Head() +
                                    manifests::OneSet("fs", "caisse", "loc-a", "acme/caisse") +
                                    manifests::kRpo24h);
  Start();
  ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  RunResult r = cluster_.RunCheck("acme");
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string why = "acme/caisse': 'acme/caisse' is a symbolic link, not followed";
  ASSERT_NE(r.out.find(why), std::string::npos) << r.out;

  // The grid: the failed check with its reason, listed and on its row.
  nlohmann::json grid;
  ASSERT_TRUE(WaitFor([&] {
    grid = Api("/api/dashboard");
    return !grid.is_null() && grid["failed"].size() == 1 && !grid["rows"].empty();
  })) << grid.dump(2);
  const nlohmann::json& f = grid["failed"][0];
  EXPECT_EQ(f["tenant"], "acme");
  EXPECT_EQ(f["backup_set"], "caisse");
  EXPECT_EQ(f["state"], "failed");
  EXPECT_NE(f["reason"].get<std::string>().find(why), std::string::npos) << f.dump(2);
  EXPECT_EQ(f["errors"].size(), 2u) << f.dump(2);  // --max-attempts 2
  const nlohmann::json& row = grid["rows"][0];
  EXPECT_EQ(row["asset"], "fs");
  ASSERT_EQ(row["failed"].size(), 1u) << row.dump(2);
  EXPECT_EQ(row["failed"][0]["reason"], f["reason"]);
  EXPECT_EQ(row["rank"], 0);
  // The tenant page.
  nlohmann::json page = Api("/api/tenant?name=acme");
  ASSERT_FALSE(page.is_null());
  ASSERT_EQ(page["failed"].size(), 1u) << page.dump(2);
  EXPECT_EQ(page["failed"][0]["reason"], f["reason"]);
  // The page draws them (ids the script fills).
  HttpReply html = HttpGet(cluster_.http(), "/");
  EXPECT_NE(html.body.find("id=\"failed\""), std::string::npos);
  EXPECT_NE(html.body.find("id=\"tenant-failed\""), std::string::npos);

  // Human status: the failed check and its reason.
  r = Admin({"status", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("failed (attempt 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(why), std::string::npos) << r.out;
}

// Twelve files damaged: `check run --wait` and human `status` name the
// first ten (they used to give only a count) and count the rest. The
// tenant is in Europe/Paris: status gives every time in its zone, as the
// summaries do (it used to put UTC beside them).
TEST_F(VisibilityProcessTest, DamagedPathsAreNamedByCheckRunAndStatus) {
  for (int i = 0; i < 20; ++i) {
    WriteFile(root_ + "/acme/fs/doc-" + std::to_string(100 + i) + ".pdf",
              "document " + std::to_string(i));
  }
  WriteFile(tmp_ / "acme.yaml", manifests::Head("loc-a", "Europe/Paris") +
                                    manifests::ImmutableFs() + manifests::kRpoAndIntegrity);
  Start();
  ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  RunResult r = cluster_.RunCheck("acme");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (int i = 0; i < 12; ++i) {
    WriteFile(root_ + "/acme/fs/doc-" + std::to_string(100 + i) + ".pdf", "tampered");
  }
  r = cluster_.RunCheck("acme");
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  auto expect_named = [](const std::string& out) {
    EXPECT_NE(out.find("acme/fs-a: 12 damaged"), std::string::npos) << out;
    for (int i = 0; i < 10; ++i) {
      EXPECT_NE(out.find("modified   doc-" + std::to_string(100 + i) + ".pdf"), std::string::npos)
          << i << "\n"
          << out;
    }
    EXPECT_EQ(out.find("doc-110.pdf"), std::string::npos) << out;  // the 11th: counted
    EXPECT_NE(out.find("... and 2 more"), std::string::npos) << out;
  };
  expect_named(r.out);
  r = Admin({"status", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // status has no "acme/fs-a: 12 damaged" header line: its catalogue line
  // counts them.
  EXPECT_NE(r.out.find("12 with problems"), std::string::npos) << r.out;
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(r.out.find("modified   doc-" + std::to_string(100 + i) + ".pdf"), std::string::npos)
        << r.out;
  }
  EXPECT_NE(r.out.find("... and 2 more"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("UTC"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("monitored since 20"), std::string::npos) << r.out;
  EXPECT_GE(CountOf(r.out, " CET") + CountOf(r.out, " CEST"), 3u) << r.out;
  // --json carries the same ten.
  nlohmann::json set = BackupSet(cluster_.Status("acme"), "fs-a");
  ASSERT_EQ(set["damaged"].size(), 10u) << set.dump(2);
  EXPECT_EQ(set["damaged"][0]["path"], "doc-100.pdf");
  EXPECT_EQ(set["damaged"][0]["state"], "modified");
}

// `vigil dev` serves the dashboard: the address it prints answers over
// HTTP, the token it prints opens /api/dashboard (the example tenant's rows
// there), and the commands of its serving mode work as printed in a shell
// whose PATH has no vigil.
TEST(VigilDevTest, ServesTheDashboardAndPrintsCommandsThatWork) {
  TempDir tmp;
  BackgroundProcess dev({VigilBin(), "dev", "--data", tmp / "dev"}, tmp / "dev");
  const std::string url = dev.WaitForLine("dashboard: http://", 60000);
  ASSERT_FALSE(url.empty()) << dev.out() << dev.err();
  const std::string addr = url.substr(0, url.find('/'));
  EXPECT_NE(url.find("log in with the admin token"), std::string::npos) << url;
  const std::string token = dev.WaitForLine("admin token: ", 1000);
  ASSERT_FALSE(token.empty()) << dev.out();
  HttpReply page = HttpGet(addr, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/dashboard.js"), std::string::npos) << page.body;
  EXPECT_EQ(HttpGet(addr, "/api/dashboard").status, 401);
  nlohmann::json grid;
  EXPECT_TRUE(WaitFor([&] {
    HttpReply r = HttpGet(addr, "/api/dashboard", "Bearer " + token);
    grid = nlohmann::json::parse(r.body, nullptr, false);
    return r.status == 200 && !grid.is_discarded() && !grid["rows"].empty();
  })) << grid.dump();
  EXPECT_EQ(grid["rows"][0]["tenant"], "dupont-avocats");

  // The serving mode's commands, run as printed.
  const std::string exports = dev.WaitForLine("  export PATH=", 120000);
  ASSERT_FALSE(exports.empty()) << dev.out() << dev.err();
  RunResult r = RunProcess({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "/bin/sh", "-c",
                            "export PATH=" + exports + "\nvigil status dupont-avocats"});
  EXPECT_EQ(r.exit_code, 0) << exports << "\n" << r.out << r.err;
  EXPECT_NE(r.out.find("dupont-avocats"), std::string::npos) << r.out;
  dev.Signal(SIGTERM);
  EXPECT_EQ(dev.Wait(), 0) << dev.err();
}

}  // namespace
}  // namespace vigil::testing
