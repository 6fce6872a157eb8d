// Restore drills end to end with real processes on loopback: a `vigil
// coordinator` and a `vigil worker --scratch`, a check, then `vigil check run
// --drill`: the sample restored to the scratch and compared with the
// catalogue, the verdict and readiness in `vigil status --json`; a file
// silently corrupted in the backup (same size, same mtime: a check would not
// re-read it as changed metadata) fails the next drill.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

class DrillProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    scratch_ = tmp_ / "scratch";
    const std::string point = root_ + "/acme/snaps/daily.0";
    // Five files (the sample takes up to five: all of them), in folders,
    // one with a name that is not UTF-8.
    WriteFile(point + "/docs/a.txt", std::string(5000, 'a'));
    WriteFile(point + "/docs/sub/b.bin", std::string(70000, 'b'));
    WriteFile(point + "/c.txt", "c");
    WriteFile(point + "/d.dat", std::string(300000, 'd'));
    WriteFile(point + "/raw\xff.bin", std::string(1000, 'r'));
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1790000000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, point.c_str(), ts, 0), 0);
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head("loc", "Europe/Paris") +
                  manifests::OneSet("fs", "snaps", "loc", "acme/snaps", {"layout: rsnapshot"}) +
                  "commitments:\n  - restoreDrill: {every: 30d, rto: 8h, sampleFiles: 5}\n");
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + root_, {"--scratch", scratch_});
  }

  nlohmann::json Status() { return cluster_.Status("acme")["tenants"][0]; }
  static nlohmann::json DrillVerdict(const nlohmann::json& t) {
    for (const auto& c : t["commitments"]) {
      if (c["kind"] == "restore_drill") return c;
    }
    return nlohmann::json();
  }
  bool ScratchEmpty() { return fs::is_directory(scratch_) && fs::is_empty(scratch_); }

  std::string root_, scratch_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(DrillProcessTest, DrillPassesThenFailsOnSilentCorruption) {
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
  nlohmann::json t = Status();
  EXPECT_NE(DrillVerdict(t)["verdict"], "pass") << t.dump(1);
  EXPECT_NE(t["readiness"][0].dump().find("never drilled"), std::string::npos) << t.dump(1);

  r = Admin({"check", "run", "acme", "--drill", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
  EXPECT_NE(r.out.find("restore_drill fs: pass"), std::string::npos) << r.out;
  EXPECT_TRUE(worker_->WaitForOutput("drill: 5 files, 376001 bytes")) << worker_->err();
  t = Status();
  nlohmann::json v = DrillVerdict(t);
  EXPECT_EQ(v["verdict"], "pass") << t.dump(1);
  EXPECT_NE(v.dump().find("projected_full_restore"), std::string::npos) << v.dump(1);
  EXPECT_NE(v.dump().find("5 files"), std::string::npos) << v.dump(1);
  EXPECT_EQ(t["readiness"][0].dump().find("never drilled"), std::string::npos) << t.dump(1);
  EXPECT_EQ(t["readiness"][0]["readiness"], "ready") << t.dump(1);
  EXPECT_TRUE(ScratchEmpty());

  // Bit rot: same size, mtime put back. The catalogue still holds the
  // digest of the original, and the drill compares against that.
  const std::string victim = root_ + "/acme/snaps/daily.0/docs/a.txt";
  struct stat st {};
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  std::string rotten(5000, 'a');
  rotten[2500] = 'A';
  WriteFile(victim, rotten);
  struct timespec ts[2] = {{0, UTIME_OMIT}, st.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, victim.c_str(), ts, 0), 0);
  // And the file with the raw name (its path goes back escaped).
  const std::string raw = root_ + "/acme/snaps/daily.0/raw\xff.bin";
  ASSERT_EQ(stat(raw.c_str(), &st), 0);
  WriteFile(raw, std::string(1000, 'R'));
  ts[1] = st.st_mtim;
  ASSERT_EQ(utimensat(AT_FDCWD, raw.c_str(), ts, 0), 0);

  r = Admin({"check", "run", "acme", "--drill", "--wait", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err << worker_->err();
  EXPECT_NE(r.out.find("restore_drill fs: fail"), std::string::npos) << r.out;
  t = Status();
  v = DrillVerdict(t);
  EXPECT_EQ(v["verdict"], "fail") << t.dump(1);
  EXPECT_NE(v["summary"].get<std::string>().find("2 restored files differ"), std::string::npos)
      << v.dump(1);
  EXPECT_EQ(t["readiness"][0]["readiness"], "not ready") << t.dump(1);
  EXPECT_NE(t["readiness"][0].dump().find("restored data differs"), std::string::npos) << t.dump(1);
  EXPECT_NE(worker_->err().find("'docs/a.txt' restored content differs"), std::string::npos)
      << worker_->err();
  EXPECT_NE(worker_->err().find("'raw\\xff.bin' restored content differs"), std::string::npos)
      << worker_->err();
  EXPECT_TRUE(ScratchEmpty());
}

// A restic repository drilled through the real processes: `check run`
// records the snapshots, `check run --drill` restores a sample of the newest
// one from the repository (the worker's own reader, its --secrets password;
// tests/services/worker/restic_drill_test.cc compares those bytes with
// `restic restore`); the verdict passes and projects the full restore over
// the snapshot's size.
class ResticDrillProcessTest : public ClusterTest {};

std::string Which(const std::string& tool) {
  RunResult r = RunProcess({"/bin/sh", "-c", "command -v " + tool});
  std::string p = r.out;
  while (!p.empty() && p.back() == '\n') p.pop_back();
  return r.exit_code == 0 ? p : std::string();
}

TEST_F(ResticDrillProcessTest, ResticSnapshotIsDrilledFromTheRepository) {
  const std::string restic = Which("restic");
  ASSERT_FALSE(restic.empty()) << "restic (test oracle) not installed: scripts/install-deps";
  ::setenv("RESTIC_CACHE_DIR", (tmp_ / "restic-cache").c_str(), 1);
  const std::string root = tmp_ / "loc";
  const std::string repo = root + "/acme/vault";
  const std::string src = tmp_ / "src";
  MakeDirs(root + "/acme");
  WriteFile(tmp_ / "pw", "drill pw\n");
  WriteFile(tmp_ / "secrets/acme/vault.password", "drill pw\n");
  WriteFile(src + "/a.txt", std::string(5000, 'a'));
  WriteFile(src + "/docs/b.bin", std::string(3 << 20, 'b'));
  WriteFile(src + "/docs/c.txt", "c");
  auto run_restic = [&](std::vector<std::string> args) {
    args.insert(args.begin(), restic);
    args.insert(args.end(), {"--password-file", tmp_ / "pw", "--no-cache", "-q"});
    RunResult r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  run_restic({"init", "-r", repo});
  run_restic({"backup", "-r", repo, src});
  WriteFile(tmp_ / "acme.yaml",
            manifests::Head("loc", "Europe/Paris") +
                manifests::OneSet("fs", "vault", "loc", "acme/vault", {"format: restic"}) +
                "commitments:\n  - restoreDrill: {every: 30d, rto: 8h, sampleFiles: 3}\n");
  ASSERT_TRUE(cluster_.StartCoordinator());
  const std::string scratch = tmp_ / "scratch";
  auto worker = cluster_.StartWorker("worker", "loc=" + root,
                                     {"--scratch", scratch, "--secrets", tmp_ / "secrets"});
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker->err();
  r = Admin({"check", "run", "acme", "--drill", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker->err();
  EXPECT_NE(r.out.find("restore_drill fs: pass"), std::string::npos) << r.out << worker->err();
  EXPECT_TRUE(
      worker->WaitForOutput("drill: 3 files, " + std::to_string(5000 + (3 << 20) + 1) + " bytes"))
      << worker->err();
  nlohmann::json t = cluster_.Status("acme")["tenants"][0];
  nlohmann::json v;
  for (const auto& c : t["commitments"]) {
    if (c["kind"] == "restore_drill") v = c;
  }
  EXPECT_EQ(v["verdict"], "pass") << t.dump(1);
  EXPECT_NE(v.dump().find("projected_full_restore"), std::string::npos) << v.dump(1);
  EXPECT_TRUE(fs::is_directory(scratch) && fs::is_empty(scratch));
}

}  // namespace
}  // namespace vigil::testing
