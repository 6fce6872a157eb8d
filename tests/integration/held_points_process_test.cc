// Held restore points end to end (issue 17), with real processes on
// loopback: a `dated-folders` set (each day the day before hard-linked,
// then the day's change) checked by a `vigil worker` again and again. A
// point the coordinator recorded consistent is not sent again while the
// worker finds it the same (Task.held_points, Observation.held): the task
// says how many points were held, the worker's log too; a change the
// listing does not show (bytes rewritten with the same size and mtime) is
// still found, because a point to read is held only when its content
// digest is the same.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kFiles = 40;

class HeldPointsProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    set_ = root_ + "/acme/daily";
    MakeDirs(set_);
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head("loc", "Europe/Paris") +
                  manifests::OneSet("fs", "daily", "loc", "acme/daily", {"layout: dated-folders"}));
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + root_, {"--batch-size", "16"});
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }

  std::string Day(int d) const { return set_ + "/2026-11-0" + std::to_string(d); }
  // Day 1: kFiles files in two folders; day d > 1: day d-1 hard-linked,
  // then file `changed` replaced by a new one.
  void MakeDay(int d, int changed) {
    if (d == 1) {
      for (int i = 0; i < kFiles; ++i) {
        MakeDirs(Day(1) + "/dir" + std::to_string(i % 2));
        WriteFile(Path(1, i), "day 1 file " + std::to_string(i));
      }
      return;
    }
    for (int i = 0; i < kFiles; ++i) {
      MakeDirs(Day(d) + "/dir" + std::to_string(i % 2));
      fs::create_hard_link(Path(d - 1, i), Path(d, i));
    }
    fs::remove(Path(d, changed));
    WriteFile(Path(d, changed), "day " + std::to_string(d) + " file " + std::to_string(changed));
  }
  std::string Path(int d, int i) const {
    return Day(d) + "/dir" + std::to_string(i % 2) + "/f" + std::to_string(i);
  }

  // Runs a check to the end; the set's last task.
  nlohmann::json Check() {
    RunResult r = cluster_.RunCheck("acme");
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err << worker_->err();
    return BackupSet(cluster_.Status("acme"), "daily")["last_task"];
  }
  nlohmann::json PointNamed(const std::string& name) {
    const nlohmann::json set = BackupSet(cluster_.Status("acme"), "daily");
    for (const auto& p : set["points"]) {
      if (p["name"] == name) return p;
    }
    ADD_FAILURE() << "no point " << name << " in " << set.dump();
    return {};
  }

  // One byte of `path` rewritten in place, its size the same and its mtime
  // put back: only a read finds it.
  static void RewriteKeepingSizeAndMtime(const std::string& path) {
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      ASSERT_TRUE(f.good());
      f.seekp(0);
      f.put('X');
    }
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  std::string root_, set_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(HeldPointsProcessTest, UnchangedPointsAreHeldAndANewDayIsSentWhole) {
  MakeDay(1, 0);
  MakeDay(2, 3);
  nlohmann::json t = Check();
  EXPECT_EQ(t["state"], "done") << t.dump();
  EXPECT_EQ(t["points_held"], 0) << t.dump();
  EXPECT_EQ(t["counts"]["added"], 2 * kFiles) << t.dump();

  t = Check();
  EXPECT_EQ(t["points_held"], 2) << t.dump();
  EXPECT_EQ(t["entries_held"], 2 * kFiles) << t.dump();
  EXPECT_EQ(t["entries"], 2 * kFiles) << t.dump();
  EXPECT_EQ(t["counts"]["unchanged"], 2 * kFiles) << t.dump();
  EXPECT_NE(worker_->err().find(", 2 held (the same as at the last check: entries not sent)"),
            std::string::npos)
      << worker_->err();
  RunResult status = cluster_.Admin({"status", "acme"});
  EXPECT_NE(status.out.find("; 2 point(s) held (" + std::to_string(2 * kFiles) +
                            " entries not sent again)"),
            std::string::npos)
      << status.out << status.err;

  MakeDay(3, 5);
  t = Check();
  EXPECT_EQ(t["points_held"], 2) << t.dump();
  EXPECT_EQ(t["counts"]["added"], kFiles) << "the new day, sent whole: " << t.dump();
  EXPECT_EQ(t["counts"]["unchanged"], 2 * kFiles) << t.dump();
  // Every point verified by the last check (held ones by their content
  // digest).
  const int64_t verified = PointNamed("2026-11-03")["last_verified_ns"].get<int64_t>();
  EXPECT_GT(verified, 0);
  EXPECT_EQ(PointNamed("2026-11-01")["last_verified_ns"].get<int64_t>(), verified);
}

// A new day is sent by its changed directories (Task.held_dirs,
// Observation.held_dir): the one its change is in is sent, the other is
// one marker, and the coordinator records the day as if sent whole — the
// next check holds it.
TEST_F(HeldPointsProcessTest, ANewDaySendsOnlyItsChangedDirectories) {
  MakeDay(1, 0);
  MakeDay(2, 3);
  nlohmann::json t = Check();
  EXPECT_EQ(t["dirs_held"], 0) << "no reference yet: " << t.dump();
  MakeDay(3, 5);  // dir1/f5 replaced; dir0 the same as day 2's
  t = Check();
  EXPECT_EQ(t["points_held"], 2) << t.dump();
  EXPECT_EQ(t["dirs_held"], 1) << t.dump();
  EXPECT_EQ(t["dirs_shared"], 1) << "the coordinator did not read it either: " << t.dump();
  EXPECT_EQ(t["entries_in_held_dirs"], kFiles / 2) << t.dump();
  EXPECT_EQ(t["counts"]["added"], kFiles) << "the new day, recorded whole: " << t.dump();
  EXPECT_EQ(t["entries"], 3 * kFiles) << t.dump();
  EXPECT_NE(worker_->err().find(", 1 directories held (the same as the reference point's"),
            std::string::npos)
      << worker_->err();
  RunResult status = cluster_.Admin({"status", "acme"});
  EXPECT_NE(status.out.find("; 1 directory held (" + std::to_string(kFiles / 2) +
                            " entries not sent, 1 shared unread)"),
            std::string::npos)
      << status.out << status.err;
  // Recorded consistent, with the digests of the whole day: held next time.
  t = Check();
  EXPECT_EQ(t["points_held"], 3) << t.dump();
  EXPECT_EQ(t["counts"]["unchanged"], 3 * kFiles) << t.dump();
  // A byte rewritten beneath the directory held yesterday (day 3's own
  // copy: a new file, linked nowhere else) is found by the read.
  const std::string own = Day(3) + "/dir0/new";
  WriteFile(own, "day 3 only");
  t = Check();
  EXPECT_EQ(t["counts"]["added"], 1) << t.dump();
  ASSERT_NO_FATAL_FAILURE(RewriteKeepingSizeAndMtime(own));
  t = Check();
  EXPECT_EQ(t["counts"]["modified"], 1) << t.dump();
  EXPECT_EQ(t["dirs_held"], 1) << "dir1 only: dir0 differs from the reference's: " << t.dump();
}

// The reference point (the newest day) changed since it was recorded: the
// worker sends it (its unchanged directory held), and then holds no
// directory of a later day (the coordinator records the reference anew
// first, and would refuse them).
TEST_F(HeldPointsProcessTest, AChangedReferenceIsSentAndALaterDayWhole) {
  MakeDay(1, 0);
  MakeDay(2, 3);
  ASSERT_EQ(Check()["counts"]["added"], 2 * kFiles);
  MakeDay(3, 5);                                       // day 2 as it was, then f5 replaced
  WriteFile(Day(2) + "/dir0/late", "added to day 2");  // the reference changed
  nlohmann::json t = Check();
  EXPECT_EQ(t["state"], "done") << t.dump();
  EXPECT_EQ(t["counts"]["added"], kFiles + 1) << t.dump();
  EXPECT_EQ(t["points_held"], 1) << "day 1: " << t.dump();
  EXPECT_EQ(t["dirs_held"], 1) << "day 2's dir1 only: " << t.dump();
  EXPECT_EQ(t["entries"], 3 * kFiles + 1) << t.dump();
  // Everything recorded as it is: the next check holds all three days.
  t = Check();
  EXPECT_EQ(t["points_held"], 3) << t.dump();
  EXPECT_EQ(t["counts"]["unchanged"], 3 * kFiles + 1) << t.dump();
}

TEST_F(HeldPointsProcessTest, BytesRewrittenUnderTheSameSizeAndMtimeAreStillFound) {
  MakeDay(1, 0);
  MakeDay(2, 3);
  ASSERT_EQ(Check()["counts"]["added"], 2 * kFiles);
  // Day 1's f3 (day 2 has its own f3: this one is linked nowhere else).
  ASSERT_NO_FATAL_FAILURE(RewriteKeepingSizeAndMtime(Path(1, 3)));

  nlohmann::json t = Check();
  EXPECT_EQ(t["points_held"], 1) << "day 2 only: " << t.dump();
  EXPECT_EQ(t["counts"]["modified"], 1) << t.dump();
  EXPECT_FALSE(PointNamed("2026-11-01")["damage"].get<std::string>().empty());
  // Still modified at the next check: the point is sent until it is what
  // its catalogue holds.
  t = Check();
  EXPECT_EQ(t["points_held"], 1) << t.dump();
  EXPECT_EQ(t["counts"]["modified"], 1) << t.dump();
}

// A worker remembers the listings of the directories it checked
// (storage/listing_cache.h): a directory whose ctime has not moved is not
// read again at the next check, and a name added since is still found.
TEST_F(HeldPointsProcessTest, AnUnchangedDirectoryIsNotReadAgainAndAChangeIsStillFound) {
  struct statfs fs {};
  ASSERT_EQ(::statfs(root_.c_str(), &fs), 0);
  if (fs.f_type != 0xEF53 && fs.f_type != 0x01021994 && fs.f_type != 0x58465342 &&
      fs.f_type != 0x9123683E) {
    GTEST_SKIP() << root_ << ": a filesystem where the worker reads every directory";
  }
  MakeDay(1, 0);
  MakeDay(2, 3);
  // The worker trusts a directory's ctime once it is 2 s old (a change
  // within the same tick of a coarse clock would not move it).
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  ASSERT_EQ(Check()["counts"]["added"], 2 * kFiles);
  const size_t after_first = worker_->err().size();
  nlohmann::json t = Check();
  EXPECT_EQ(t["points_held"], 2) << t.dump();
  // Both days' dir0 and dir1 (a point's own directory is always read).
  EXPECT_NE(
      worker_->err().find(", 4 directories unchanged since listed (not read again)", after_first),
      std::string::npos)
      << worker_->err();

  WriteFile(Day(1) + "/dir0/late", "written after the check");
  t = Check();
  EXPECT_EQ(t["counts"]["added"], 1) << t.dump();
  EXPECT_EQ(t["points_held"], 1) << "day 2 only: " << t.dump();
  EXPECT_EQ(PointNamed("2026-11-01")["files"], kFiles + 1);

  // A file's content is never taken from the remembered listing: day 1's
  // f3 (in dir1, whose names and ctime did not move) rewritten in place.
  t = Check();
  ASSERT_EQ(t["points_held"], 2) << t.dump();
  const size_t before_rewrite = worker_->err().size();
  ASSERT_NO_FATAL_FAILURE(RewriteKeepingSizeAndMtime(Path(1, 3)));
  t = Check();
  EXPECT_EQ(t["counts"]["modified"], 1) << t.dump();
  EXPECT_EQ(t["points_held"], 1) << "day 2 only: " << t.dump();
  EXPECT_NE(worker_->err().find(" directories unchanged since listed", before_rewrite),
            std::string::npos);
  EXPECT_EQ(worker_->err().find(", 0 directories unchanged since listed", before_rewrite),
            std::string::npos)
      << "dir1 came from memory: " << worker_->err();
}

// An empty mirror is one point of no entry: held from its second check on,
// and still said empty (the scope finding), not taken for a backup.
TEST_F(HeldPointsProcessTest, AnEmptyMirrorHeldIsStillEmpty) {
  MakeDirs(root_ + "/acme/m");
  WriteFile(tmp_ / "mirror.yaml",
            manifests::Head("loc", "Europe/Paris") + manifests::OneSet("fs", "m", "loc", "acme/m"));
  ASSERT_TRUE(cluster_.Apply(tmp_ / "mirror.yaml"));
  for (int check = 1; check <= 2; ++check) {
    RunResult r = cluster_.RunCheck("acme");
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err << worker_->err();
    const nlohmann::json status = cluster_.Status("acme");
    EXPECT_EQ(BackupSet(status, "m")["last_task"]["points_held"], check - 1) << status.dump();
    bool empty = false;
    for (const auto& f : status["tenants"][0]["scope"]) {
      empty |= f == "fs: in scope, no backup found: m: empty";
    }
    EXPECT_TRUE(empty) << "check " << check << ": " << status["tenants"][0]["scope"].dump();
  }
}

}  // namespace
}  // namespace vigil::testing
