// Restore points end to end with real processes on loopback: an rsnapshot
// backup set checked by a `vigil worker`, rotated like rsnapshot between
// checks; the coordinator's PointRecords read from `vigil status --json`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/civil_time.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86400;
constexpr int64_t kT0 = 1790000000;  // seconds; point i of the test has time kT0 + i days
constexpr int kShared = 29;          // files hard-linked across points, plus one own file

int64_t PointNs(int i) { return (kT0 + i * kDay) * 1'000'000'000; }

void SetMtime(const std::string& path, int64_t sec) {
  struct timespec ts[2];
  ts[0].tv_sec = 0;
  ts[0].tv_nsec = UTIME_OMIT;
  ts[1].tv_sec = sec;
  ts[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

class CoordinatorPointsProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    snaps_ = root_ + "/acme/snaps";
    MakeDirs(snaps_);
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head("loc", "Europe/Paris") +
                  manifests::OneSet("fs", "snaps", "loc", "acme/snaps", {"layout: rsnapshot"}));
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + root_, {"--batch-size", "16"});
  }

  // Runs a check to the end; returns its exit code.
  int Check() {
    RunResult r = cluster_.RunCheck("acme");
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err << worker_->err();
    return r.exit_code;
  }
  // The set's point records by time.
  std::map<int64_t, nlohmann::json> Points(const std::string& set = "snaps") {
    nlohmann::json j = cluster_.Status("acme");
    std::map<int64_t, nlohmann::json> m;
    for (const auto& b : j["tenants"][0]["backup_sets"]) {
      if (b["name"] != set) continue;
      for (const auto& p : b["points"]) m[p["time_ns"].get<int64_t>()] = p;
    }
    return m;
  }

  // Makes daily.0 like rsnapshot: the shared files hard-linked from the
  // previous daily.0 (after the rename, daily.1) when there is one, an own
  // file, and the folder's mtime set last (rsnapshot touches it).
  void MakeDaily0(int day, int shared_files) {
    const std::string d = snaps_ + "/daily.0";
    MakeDirs(d);
    for (int i = 0; i < shared_files; ++i) {
      std::string name = "/shared/f" + std::to_string(i);
      std::string prev = snaps_ + "/daily.1" + name;
      if (fs::exists(prev)) {
        MakeDirs(d + "/shared");
        fs::create_hard_link(prev, d + name);
      } else {
        WriteFile(d + name, "shared file " + std::to_string(i) + std::string(200, 'x'));
      }
    }
    WriteFile(d + "/own.txt", "own file of day " + std::to_string(day));
    SetMtime(d, kT0 + day * kDay);
  }
  // rsnapshot's rotation: daily.N -> daily.N+1, then a new daily.0; keeps 3.
  void Rotate(int day, int shared_files) {
    for (int n = 2; n >= 0; --n) {
      std::string from = snaps_ + "/daily." + std::to_string(n);
      if (fs::exists(from)) fs::rename(from, snaps_ + "/daily." + std::to_string(n + 1));
    }
    MakeDaily0(day, shared_files);
    fs::remove_all(snaps_ + "/daily.3");
  }

  std::string root_, snaps_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(CoordinatorPointsProcessTest, RsnapshotPointsKeepTheirTimeAcrossRotations) {
  // daily.2 (day 0), daily.1 (day 1), daily.0 (day 2).
  MakeDaily0(0, kShared);
  Rotate(1, kShared);
  Rotate(2, kShared);
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);

  ASSERT_EQ(Check(), 0);
  auto p = Points();
  ASSERT_EQ(p.size(), 3u);
  const std::vector<std::string> first_names = {"daily.2", "daily.1", "daily.0"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(p.count(PointNs(i)), 1u) << "day " << i;
    const auto& r = p[PointNs(i)];
    EXPECT_EQ(r["name"], first_names[i]);
    EXPECT_EQ(r["files"], kShared + 1);
    EXPECT_NE(r["first_seen_ns"], 0);
    EXPECT_EQ(r["gone_ns"], 0);
    EXPECT_EQ(r["damaged_ns"], 0);
    EXPECT_EQ(r["implausible"].size(), 0u) << r.dump();
    EXPECT_EQ(r["plausibility_checked"], true);
  }
  const auto first_seen_day1 = p[PointNs(1)]["first_seen_ns"];
  // The shared files are hard links in three points: read once each.
  EXPECT_NE(worker_->err().find(": 3 restore point(s), " + std::to_string(2 * kShared) +
                                " hard-linked files not read again"),
            std::string::npos)
      << worker_->err();

  // Rotation: day 0 deleted, days 1 and 2 renamed, day 3 new.
  Rotate(3, kShared);
  ASSERT_EQ(Check(), 0);
  p = Points();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NE(p[PointNs(0)]["gone_ns"], 0);
  EXPECT_EQ(p[PointNs(1)]["name"], "daily.2");
  EXPECT_EQ(p[PointNs(1)]["first_seen_ns"], first_seen_day1);
  EXPECT_EQ(p[PointNs(1)]["gone_ns"], 0);
  EXPECT_EQ(p[PointNs(2)]["name"], "daily.1");
  EXPECT_EQ(p[PointNs(3)]["name"], "daily.0");
  EXPECT_GT(p[PointNs(3)]["first_seen_ns"].get<int64_t>(), first_seen_day1.get<int64_t>());
  EXPECT_EQ(p[PointNs(3)]["files"], kShared + 1);

  // Silent corruption of day 1's own file: same size, same mtime.
  const std::string own = snaps_ + "/daily.2/own.txt";
  struct stat st {};
  ASSERT_EQ(stat(own.c_str(), &st), 0);
  std::string content = ReadFile(own);
  content[0] = content[0] == 'X' ? 'Y' : 'X';
  WriteFile(own, content);
  struct timespec ts[2] = {{0, UTIME_OMIT}, st.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, own.c_str(), ts, 0), 0);
  EXPECT_EQ(Check(), 1);  // a problem
  p = Points();
  EXPECT_NE(p[PointNs(1)]["damaged_ns"], 0) << p[PointNs(1)].dump();
  EXPECT_NE(p[PointNs(1)]["damage"].get<std::string>().find("own.txt"), std::string::npos)
      << p[PointNs(1)].dump();
  EXPECT_EQ(p[PointNs(2)]["damaged_ns"], 0);
  EXPECT_EQ(p[PointNs(3)]["damaged_ns"], 0);

  // A new point that is nearly empty: 1 file where there were 30.
  Rotate(4, 0);
  Check();
  p = Points();
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[PointNs(4)]["files"], 1);
  EXPECT_EQ(p[PointNs(4)]["name"], "daily.0");
  EXPECT_GT(p[PointNs(4)]["implausible"].size(), 0u) << p[PointNs(4)].dump();
  EXPECT_EQ(p[PointNs(3)]["implausible"].size(), 0u) << p[PointNs(3)].dump();
  EXPECT_NE(p[PointNs(1)]["gone_ns"], 0);  // rotated out
}

TEST_F(CoordinatorPointsProcessTest, DatedFilesAreOnePointEachTimedInTheTenantsZone) {
  const std::string dumps = root_ + "/acme/dumps";
  WriteFile(dumps + "/db-2026-10-01.sql.gz", "dump of the first");
  WriteFile(dumps + "/db-20261002T0300.sql.gz", "dump of the second, longer");
  WriteFile(dumps + "/notes.txt", "not a point");
  WriteFile(tmp_ / "dumps.yaml",
            manifests::Head("loc", "Europe/Paris") +
                manifests::OneSet("db", "dumps", "loc", "acme/dumps",
                                  {"layout: dated-files", "pattern: \"*.sql.gz\""}));
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "dumps.yaml"}).exit_code, 0);
  ASSERT_EQ(Check(), 0);
  auto p = Points("dumps");
  ASSERT_EQ(p.size(), 2u);
  // Local midnight and 03:00 in Paris (summer time, UTC+2).
  const int64_t first = UtcNs(2026, 9, 30, 22, 0), second = UtcNs(2026, 10, 2, 1, 0);
  ASSERT_EQ(p.count(first), 1u) << p.begin()->first;
  ASSERT_EQ(p.count(second), 1u);
  EXPECT_EQ(p[first]["name"], "db-2026-10-01.sql.gz");
  EXPECT_EQ(p[first]["files"], 1);
  EXPECT_EQ(p[first]["bytes"], std::string("dump of the first").size());
  EXPECT_EQ(p[second]["bytes"], std::string("dump of the second, longer").size());

  // The second dump rewritten in place with the same size and mtime.
  const std::string f = dumps + "/db-20261002T0300.sql.gz";
  struct stat st {};
  ASSERT_EQ(stat(f.c_str(), &st), 0);
  WriteFile(f, "dump of the second, LONGER");
  struct timespec ts[2] = {{0, UTIME_OMIT}, st.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, f.c_str(), ts, 0), 0);
  EXPECT_EQ(Check(), 1);
  p = Points("dumps");
  EXPECT_EQ(p[first]["damaged_ns"], 0);
  EXPECT_NE(p[second]["damaged_ns"], 0);
  EXPECT_NE(p[second]["damage"].get<std::string>().find("1 entry modified: db-20261002T0300"),
            std::string::npos)
      << p[second].dump();
}

// A backup set whose directory does not exist is inventoried, not failed:
// the worker says so, and the asset gets the scope finding and "not ready"
// with the reason; once the directory is there but empty, that is said
// instead. No restore point is made up for it.
TEST_F(CoordinatorPointsProcessTest, AMissingOrEmptySetDirectoryIsNoBackupFound) {
  WriteFile(tmp_ / "gone.yaml",
            manifests::Head("loc", "Europe/Paris") +
                manifests::OneSet("fs", "gone", "loc", "acme/gone", {"layout: dated-folders"}) +
                "commitments:\n  - rpo: 26h\n");
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "gone.yaml"}).exit_code, 0);
  auto finding = [&](const std::string& why) {
    nlohmann::json t = cluster_.Status("acme")["tenants"][0];
    bool scoped = false;
    for (const auto& s : t["scope"]) scoped |= s == "fs: in scope, no backup found: gone: " + why;
    EXPECT_TRUE(scoped) << t["scope"].dump();
    ASSERT_EQ(t["readiness"].size(), 1u) << t.dump();
    EXPECT_EQ(t["readiness"][0]["readiness"], "not ready");
    ASSERT_GT(t["readiness"][0]["reasons"].size(), 0u);
    EXPECT_EQ(t["readiness"][0]["reasons"][0], "in scope, no backup found: gone: " + why);
    EXPECT_EQ(Points("gone").size(), 0u);
  };
  Check();
  EXPECT_NE(worker_->err().find("acme/gone': No such file or directory: no backup found"),
            std::string::npos)
      << worker_->err();
  finding("directory does not exist");
  MakeDirs(root_ + "/acme/gone");
  Check();
  finding("empty");
}

}  // namespace
}  // namespace vigil::testing
