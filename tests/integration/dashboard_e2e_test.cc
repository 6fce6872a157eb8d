// The dashboard end to end in a real browser: a real `vigil coordinator`
// (--http-listen on loopback) and `vigil worker`, then tests/e2e/
// dashboard.spec.js (playwright-core driving Debian's headless chromium)
// logs in with the admin token, sees the tenant's row, has a backed-up file
// damaged and a check run, and sees the integrity cell turn to failing; then
// the tenant page with its evidence, history (the alert "not sent: no alert
// channel serves it", none being applied) and RPO-age chart; then a
// running check's progress bar; then a check that fails (the set's path
// made a symbolic link, which no worker follows) and its reason in the grid and on the tenant page.
// Before the spec, the coordinator is stopped and the set's restore point
// given a "suspicious" ransomware verdict with one signal, as the signals
// would (a test seam: their computation is tested elsewhere); the spec sees
// its badge in the grid, the "Ransomware signals" table and "no clean point".
// The tenant is in Europe/Paris, the browser in New York: every time is shown in the tenant's zone.
// Screenshots stay in build/tests/artifacts/dashboard/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
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
  const std::string addr = cluster.addr();
  const std::string token_file = cluster.admin_token_file(), token = cluster.AdminToken();
  // One file per batch, 400 ms after each: a check runs for about 3 s, long
  // enough for the spec to see its progress bar.
  auto worker = cluster.StartWorker("worker", "loc-a=" + root,
                                    {"--batch-size", "1", "--test-batch-delay-ms", "400"});
  ASSERT_TRUE(cluster.Apply(tmp / "acme.yaml"));
  RunResult r = cluster.RunCheck("acme");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // The set's point made suspicious, in the stopped coordinator's database.
  cluster.KillCoordinator();
  {
    coordinator::CoordinatorOptions co;
    co.data_dir = tmp / "data/db";
    auto c = coordinator::Coordinator::Open(co);
    ASSERT_TRUE(c.ok()) << c.status();
    auto points = (*c)->Points("acme", "fs-a");
    ASSERT_TRUE(points.ok() && !points->empty()) << points.status();
    v1::PointRecord p = points->back();
    p.set_verdict(v1::POINT_VERDICT_SUSPICIOUS);
    v1::PointSignal* sig = p.add_signals();
    sig->set_kind("ransom-notes");
    sig->set_message("a file named README-DECRYPT.txt in 3 directories; threshold 3");
    sig->set_count(3);
    sig->set_threshold(3);
    sig->add_examples("README-DECRYPT.txt");
    storage::KvBatch b;
    b.Put(storage::Space::kMeta, coordinator::keys::Point("acme", "fs-a", p.time_ns()),
          p.SerializeAsString());
    ASSERT_TRUE((*c)->catalogue().kv()->Write(b, {.sync = true}).ok());
  }
  ASSERT_TRUE(cluster.RestartCoordinator());
  const std::string http_now = cluster.http();

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
  r = RunProcess({"/usr/bin/env", "VIGIL_URL=http://" + http_now,
                  "VIGIL_SIGNAL=a file named README-DECRYPT.txt in 3 directories",
                  "VIGIL_TOKEN=" + token, "VIGIL_TENANT=acme", "VIGIL_DAMAGE_CMD=" + damage,
                  "VIGIL_CHECK_CMD=" + check, "VIGIL_FAIL_CMD=" + fail,
                  "VIGIL_TENANT_ZONE=CET|CEST", std::string("VIGIL_ARTIFACTS=") + kArtifacts,
                  "CHROMIUM=" + chromium, "timeout", "240", node,
                  std::string(kSpecDir) + "/dashboard.spec.js"});
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
