// The dashboard end to end in a real browser: a real `vigil coordinator`
// (--http-listen on loopback) and `vigil worker`, then tests/e2e/
// dashboard.spec.js (playwright-core driving Debian's headless chromium)
// logs in with the admin token, sees the tenant's row, has a backed-up file
// damaged and a check run, and sees the integrity cell turn to failing; then
// the tenant page with its evidence, history (the alert "not sent: no alert
// channel serves it", none being applied) and RPO-age chart; then a
// running check's progress bar; then a check that fails (the set's path
// made a symbolic link, which no worker follows) and its reason in the grid and on the tenant page.
// The tenant is in Europe/Paris, the browser in New York: every time is shown in the tenant's zone.
// Screenshots stay in build/tests/artifacts/dashboard/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr char kSpecDir[] = VIGIL_SOURCE_DIR "/tests/e2e";
constexpr char kArtifacts[] = VIGIL_ARTIFACT_DIR;

// The first executable of `names` on PATH (or an absolute path), or "".
std::string Which(const std::string& name) {
  if (name.front() == '/') return access(name.c_str(), X_OK) == 0 ? name : "";
  RunResult r = RunProcess({"/bin/sh", "-c", "command -v " + name});
  std::string p = r.exit_code == 0 ? r.out : "";
  while (!p.empty() && p.back() == '\n') p.pop_back();
  return p;
}

TEST(DashboardE2eTest, GridShowsTheTenantThenTheDamageAsAFailingCell) {
  const std::string node = Which("node");
  const char* env_chromium = getenv("CHROMIUM");
  const std::string chromium = Which(env_chromium ? env_chromium : "/usr/bin/chromium");
  const std::string playwright = std::string(kSpecDir) + "/node_modules/playwright-core";
  if (node.empty()) GTEST_SKIP() << "node not found (scripts/install-deps installs nodejs)";
  if (chromium.empty()) GTEST_SKIP() << "chromium not found (scripts/install-deps installs it)";
  if (!std::filesystem::exists(playwright)) {
    GTEST_SKIP() << "playwright-core not installed in " << kSpecDir
                 << "/node_modules: run tests/e2e/install (scripts/test does)";
  }

  TempDir tmp;
  const std::string root = tmp / "loc-a";
  // 16 files, one per batch, 400 ms apart: a check runs ~6 s, long enough
  // to be seen in progress on the tenant page and then in the grid.
  for (int i = 0; i < 16; ++i) {
    WriteFile(root + "/acme/fs/f" + std::to_string(i), "file " + std::to_string(i));
  }
  WriteFile(tmp / "acme.yaml", manifests::Head("loc-a", "Europe/Paris") + manifests::ImmutableFs() +
                                   manifests::kRpoAndIntegrity);
  Cluster cluster(tmp.path());
  CoordinatorOptions o;
  o.http = true;
  o.metrics_refresh = "1s";
  o.watch_every = "1s";
  ASSERT_TRUE(cluster.StartCoordinator(o));
  const std::string addr = cluster.addr(), http = cluster.http();
  const std::string token_file = cluster.admin_token_file(), token = cluster.AdminToken();
  // One file per batch, 400 ms after each: a check runs for about 3 s, long
  // enough for the spec to see its progress bar.
  auto worker = cluster.StartWorker("worker", "loc-a=" + root,
                                    {"--batch-size", "1", "--test-batch-delay-ms", "400"});
  ASSERT_TRUE(cluster.Apply(tmp / "acme.yaml"));
  RunResult r = cluster.RunCheck("acme");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // The damage, run by the spec between its two looks at the grid (one
  // browser session): a file rewritten, then a check that must fail.
  const std::string damage = "printf tampered > '" + root + "/acme/fs/f3' && exec '" + VigilBin() +
                             "' check run acme --wait --timeout 60 --coordinator " + addr +
                             " --token-file '" + token_file + "'";
  const std::string check = "exec '" + VigilBin() + "' check run acme --coordinator " + addr +
                            " --token-file '" + token_file + "'";
  const std::string fail = "mv '" + root + "/acme/fs' '" + root +
                           "/acme/fs.real' && ln -s fs.real '" + root + "/acme/fs' && exec '" +
                           VigilBin() + "' check run acme --wait --timeout 60 --coordinator " +
                           addr + " --token-file '" + token_file + "'";
  std::filesystem::create_directories(kArtifacts);
  r = RunProcess({"/usr/bin/env", "VIGIL_URL=http://" + http, "VIGIL_TOKEN=" + token,
                  "VIGIL_TENANT=acme", "VIGIL_DAMAGE_CMD=" + damage, "VIGIL_CHECK_CMD=" + check,
                  "VIGIL_FAIL_CMD=" + fail, "VIGIL_TENANT_ZONE=CET|CEST",
                  std::string("VIGIL_ARTIFACTS=") + kArtifacts, "CHROMIUM=" + chromium, "timeout",
                  "240", node, std::string(kSpecDir) + "/dashboard.spec.js"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ncoordinator:\n" << cluster.coordinator().err();
  EXPECT_TRUE(std::filesystem::exists(std::string(kArtifacts) + "/dashboard-fail.png"))
      << r.out << r.err;
  for (const char* png :
       {"/dashboard-tenant.png", "/dashboard-tenant-series.png", "/dashboard-failed.png"}) {
    EXPECT_TRUE(std::filesystem::exists(std::string(kArtifacts) + png)) << png;
  }
}

}  // namespace
}  // namespace vigil::testing
