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

}  // namespace
}  // namespace vigil::testing
