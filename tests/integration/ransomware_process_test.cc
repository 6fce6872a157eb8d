// Ransomware signals end to end, on real files, with real processes: a
// small office's file server backed up as one dated folder a day (an rsync
// --link-dest style `dated-folders` set: each point the previous one
// hard-linked, then the day's changes), checked by a `vigil worker`; the
// points' verdicts and the last clean point read from `vigil status --json`.
//
// The trees come from tests/integration/ransomware/make_tree.py (real zip,
// SQLite and deflate-stream PDF files, weeks of ordinary churn, a software
// upgrade, a photo import, a mass deletion) and the attack from
// ransomware/encrypt.py (AES-256-CTR from `openssl enc` over every file,
// optionally only the first bytes of each, renamed with a new extension, a
// ransom note per directory). The bar of issue 19: no point of the
// legitimate weeks is flagged; a point encrypted in place (wholly or
// intermittently) or emptied is, and the last clean point named is the one
// before it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

const std::string kScripts = std::string(VIGIL_SOURCE_DIR) + "/tests/integration/ransomware/";

// "2026-10-01" plus `day` days: the point folder of that day.
std::string DayName(int day) {
  using namespace std::chrono;
  const year_month_day d{sys_days{2026y / October / 1} + days{day}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

class RansomwareProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    set_ = root_ + "/acme/server";
    MakeDirs(set_);
    WriteFile(tmp_ / "acme.yaml", manifests::Head("loc", "Europe/Paris") +
                                      manifests::OneSet("fileserver", "server", "loc",
                                                        "acme/server", {"layout: dated-folders"}));
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + root_);
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }

  std::string Point(int day) const { return set_ + "/" + DayName(day); }

  // Runs a command; a test failure with its output unless it exits 0.
  void Sh(const std::vector<std::string>& argv) {
    std::vector<std::string> with_env = {"/usr/bin/env"};  // PATH lookup
    with_env.insert(with_env.end(), argv.begin(), argv.end());
    RunResult r = RunProcess(with_env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void Tree(const std::string& what, int day, const std::vector<std::string>& more = {}) {
    std::vector<std::string> argv = {"python3", kScripts + "make_tree.py", what, Point(day),
                                     "--day",   std::to_string(day)};
    argv.insert(argv.end(), more.begin(), more.end());
    Sh(argv);
  }
  void Encrypt(int day, const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {"python3", kScripts + "encrypt.py", Point(day)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    Sh(argv);
  }
  // The first point, or the next one: yesterday's hard-linked.
  void FirstPoint() { Tree("init", 0); }
  void NextPoint(int day) { Sh({"cp", "-al", Point(day - 1), Point(day)}); }
  // An ordinary working day.
  void OrdinaryDay(int day) {
    ASSERT_NO_FATAL_FAILURE(NextPoint(day));
    ASSERT_NO_FATAL_FAILURE(Tree("churn", day));
  }

  void Check() {
    RunResult r = cluster_.RunCheck("acme", {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
  }
  // The set's points by name, and the set.
  std::map<std::string, nlohmann::json> Points() {
    std::map<std::string, nlohmann::json> m;
    const nlohmann::json set = BackupSet(cluster_.Status("acme"), "server");
    for (const auto& p : set["points"]) {
      m[p["name"].get<std::string>()] = p;
    }
    return m;
  }
  std::string LastClean() {
    nlohmann::json s = BackupSet(cluster_.Status("acme"), "server");
    return s.value("last_clean_name", std::string());
  }
  // The readiness reasons of the file server, joined.
  std::string Readiness() {
    const nlohmann::json status = cluster_.Status("acme");
    const nlohmann::json& t = status["tenants"][0];
    for (const auto& r : t["readiness"]) {
      if (r["asset"] == "fileserver") return r.dump();
    }
    ADD_FAILURE() << "no readiness for fileserver: " << t.dump();
    return "";
  }
  static bool Flagged(const nlohmann::json& p) {
    return p["verdict"] == "suspicious" || p["verdict"] == "encrypted";
  }

  std::string root_, set_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(RansomwareProcessTest, WeeksOfOrdinaryWorkStayCleanThenEncryptionIsFlagged) {
  // Three weeks: ordinary days, a software upgrade replacing every binary on
  // day 9, an import of 320 photos and archives on day 14; checked twice.
  ASSERT_NO_FATAL_FAILURE(FirstPoint());
  for (int day = 1; day <= 20; ++day) {
    ASSERT_NO_FATAL_FAILURE(OrdinaryDay(day));
    if (day == 9) {
      ASSERT_NO_FATAL_FAILURE(Tree("upgrade", day));
    }
    if (day == 14) {
      ASSERT_NO_FATAL_FAILURE(Tree("photos", day));
    }
    if (day == 6) {
      ASSERT_NO_FATAL_FAILURE(Check());
    }
  }
  ASSERT_NO_FATAL_FAILURE(Check());
  auto points = Points();
  ASSERT_EQ(points.size(), 21u);
  for (const auto& [name, p] : points) {
    EXPECT_EQ(p["verdict"], "clean") << name << ": " << p.dump();
  }
  EXPECT_EQ(LastClean(), DayName(20));

  // Day 21: the documents are encrypted and renamed, a note in each folder;
  // the nightly backup takes them as they are.
  ASSERT_NO_FATAL_FAILURE(OrdinaryDay(21));
  ASSERT_NO_FATAL_FAILURE(
      Encrypt(21, {"--only", "docs", "--extension", ".lockbit", "--note", "HOW_TO_DECRYPT.txt"}));
  ASSERT_NO_FATAL_FAILURE(Check());
  points = Points();
  EXPECT_EQ(points[DayName(21)]["verdict"], "encrypted") << points[DayName(21)].dump();
  EXPECT_GT(points[DayName(21)]["signals"].size(), 0u);
  EXPECT_EQ(LastClean(), DayName(20));
  EXPECT_NE(Readiness().find(DayName(20)), std::string::npos) << Readiness();

  // Day 22: backups go on, the files stay encrypted: still flagged (judged
  // against the last clean point, not against yesterday's encrypted one).
  ASSERT_NO_FATAL_FAILURE(NextPoint(22));
  ASSERT_NO_FATAL_FAILURE(Check());
  points = Points();
  EXPECT_TRUE(Flagged(points[DayName(22)])) << points[DayName(22)].dump();
  EXPECT_EQ(LastClean(), DayName(20));
}

TEST_F(RansomwareProcessTest, IntermittentEncryptionInPlaceIsFlagged) {
  // Only the first 4 KiB of each file encrypted, names kept, no note: what
  // the fast families do.
  ASSERT_NO_FATAL_FAILURE(FirstPoint());
  for (int day = 1; day <= 3; ++day) ASSERT_NO_FATAL_FAILURE(OrdinaryDay(day));
  ASSERT_NO_FATAL_FAILURE(NextPoint(4));
  ASSERT_NO_FATAL_FAILURE(Encrypt(4, {"--intermittent", "4096"}));
  ASSERT_NO_FATAL_FAILURE(Check());
  auto points = Points();
  ASSERT_EQ(points.size(), 5u);
  for (int day = 0; day <= 3; ++day) {
    EXPECT_EQ(points[DayName(day)]["verdict"], "clean") << points[DayName(day)].dump();
  }
  EXPECT_TRUE(Flagged(points[DayName(4)])) << points[DayName(4)].dump();
  EXPECT_EQ(LastClean(), DayName(3));
}

TEST_F(RansomwareProcessTest, MassDeletionIsFlagged) {
  ASSERT_NO_FATAL_FAILURE(FirstPoint());
  for (int day = 1; day <= 2; ++day) ASSERT_NO_FATAL_FAILURE(OrdinaryDay(day));
  ASSERT_NO_FATAL_FAILURE(NextPoint(3));
  ASSERT_NO_FATAL_FAILURE(Tree("delete", 3, {"--fraction", "0.7"}));
  ASSERT_NO_FATAL_FAILURE(Check());
  auto points = Points();
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[DayName(2)]["verdict"], "clean") << points[DayName(2)].dump();
  EXPECT_TRUE(Flagged(points[DayName(3)])) << points[DayName(3)].dump();
  EXPECT_EQ(LastClean(), DayName(2));
}

}  // namespace
}  // namespace vigil::testing
