// Restore-point discovery: date parsing in names (formats, impossible dates,
// offsets, DST in Europe/Paris), each layout on a listing, and real
// directories (an rsnapshot rotation, dated files, BagIt bags).
#include "services/contracts/restore_points.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "storage/local_store.h"
#include "tests/storage/test_util.h"
#include "tests/support/civil_time.h"

namespace vigil::contracts {
namespace {

using storage::testing::MtimeOf;
using storage::testing::SetMtime;
using storage::testing::TempDir;
using storage::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using vigil::testing::UtcNs;

constexpr int64_t kNs = 1'000'000'000;

struct Case {
  const char* name;
  int64_t want;
};

TEST(ParseDateInName, AcceptedFormsReadInUtc) {
  const int64_t d31 = UtcNs(2026, 10, 31);
  const int64_t h23 = UtcNs(2026, 10, 31, 23);
  const Case cases[] = {
      {"2026-10-31", d31},
      {"20261031", d31},
      {"2026.10.31", d31},
      {"2026_10_31", d31},
      {"2026-10-31T23:00", h23},
      {"2026-10-31T23:00:00Z", h23},
      {"2026-10-31t23:00:00z", h23},
      {"2026-10-31T23:00:00+01:00", UtcNs(2026, 10, 31, 22)},
      {"2026-10-31T23:00:00-05:00", UtcNs(2026, 11, 1, 4)},
      {"2026-10-31T23:00:00+0530", UtcNs(2026, 10, 31, 17, 30)},
      {"2026-10-31T23:00+02", UtcNs(2026, 10, 31, 21)},
      {"2026-10-31T23:00:00.25Z", h23 + kNs / 4},
      {"2026-10-31_23-00-00", h23},
      {"2026-10-31_23-05", UtcNs(2026, 10, 31, 23, 5)},
      {"2026-10-31-2300", h23},
      {"2026-10-31 23.04.05", UtcNs(2026, 10, 31, 23, 4, 5)},
      {"20261031T230000", h23},
      {"20261031T230000Z", h23},
      {"20261031T230000-0100", UtcNs(2026, 11, 1, 0)},
      {"20261031-230000", h23},
      {"202610312359", UtcNs(2026, 10, 31, 23, 59)},
      {"20261031235958", UtcNs(2026, 10, 31, 23, 59, 58)},
      {"acct_20261031_2300.sql.gz", h23},
      {"backup-2026-10-31.tar.zst", d31},
      {"mail-2026-10-31", d31},
      {"host1-2026-10-31", d31},
      {"v2_backup_2026-10-31_1.tar", d31},  // "_1" is a sequence number, not a time
      {"2028-02-29", UtcNs(2028, 2, 29)},
      {"2026-12-31T23:59:59Z", UtcNs(2026, 12, 31, 23, 59, 59)},
      {"1970-01-01", 0},
      // An impossible first candidate is skipped, a later one is taken.
      {"2026-02-30_copy_of_2026-02-28", UtcNs(2026, 2, 28)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<int64_t> got = ParseDateInName(c.name, "UTC");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, c.want);
    // An empty zone means UTC.
    EXPECT_EQ(ParseDateInName(c.name, ""), got);
  }
}

TEST(ParseDateInName, RejectsNamesWithoutAPossibleDate) {
  const char* cases[] = {
      "",
      "daily.3",
      "backup-v2.tar",
      "latest",
      "2026-02-30",                 // no 30 February
      "2025-02-29",                 // 2025 is not a leap year
      "2100-02-29",                 // nor is 2100
      "2026-13-01",                 // month 13
      "2026-00-10",                 // month 0
      "2026-10-32",                 // day 32
      "2026-10-00",                 // day 0
      "20261301",                   // month 13, compact
      "2026-10-31T24:00",           // hour 24
      "2026-10-31T23:60",           // minute 60
      "2026-10-31T23:59:60Z",       // second 60
      "20261031T240000",            // hour 24, compact
      "2026-10-31T23:00:00+15:00",  // offset beyond +14:00
      "1969-12-31",                 // before 1970
      "2026-1-5",                   // one-digit month
      "123456789",                  // nine digits
      "12026-10-31",                // five-digit year
      "2026-10-311",                // three-digit day
      "2026-10_31",                 // mixed separators
  };
  for (const char* name : cases) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ParseDateInName(name, "UTC"), std::nullopt);
    EXPECT_EQ(ParseDateInName(name, "Europe/Paris"), std::nullopt);
  }
}

TEST(ParseDateInName, LocalTimesResolveInTheZone) {
  const std::string paris = "Europe/Paris";
  const Case cases[] = {
      // Winter (CET, +01:00): local midnight is 23:00 UTC the day before.
      {"2026-10-31", UtcNs(2026, 10, 30, 23)},
      {"backup-2026-01-15-0130.tar", UtcNs(2026, 1, 15, 0, 30)},
      // Summer (CEST, +02:00).
      {"2026-07-14T12:00", UtcNs(2026, 7, 14, 10)},
      {"20260714T120000", UtcNs(2026, 7, 14, 10)},
      // An explicit offset or Z wins over the zone.
      {"2026-07-14T12:00Z", UtcNs(2026, 7, 14, 12)},
      {"2026-07-14T12:00+05:00", UtcNs(2026, 7, 14, 7)},
      // DST gap, 2026-03-29: local 02:00..02:59 does not exist; clocks jump
      // from 02:00 CET (01:00 UTC) to 03:00 CEST. A time in the gap resolves
      // to the transition instant.
      {"2026-03-29T01:59", UtcNs(2026, 3, 29, 0, 59)},
      {"2026-03-29T02:30", UtcNs(2026, 3, 29, 1, 0)},
      {"2026-03-29T03:00", UtcNs(2026, 3, 29, 1, 0)},
      {"2026-03-29T03:30", UtcNs(2026, 3, 29, 1, 30)},
      // DST overlap, 2026-10-25: local 02:00..02:59 happens twice (CEST then
      // CET). The earliest is chosen: 02:30 CEST = 00:30 UTC.
      {"2026-10-25T01:59", UtcNs(2026, 10, 24, 23, 59)},
      {"2026-10-25T02:30", UtcNs(2026, 10, 25, 0, 30)},
      {"2026-10-25T03:00", UtcNs(2026, 10, 25, 2, 0)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<int64_t> got = ParseDateInName(c.name, paris);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, c.want);
  }
  // Elsewhere the same local name is another instant.
  EXPECT_EQ(ParseDateInName("2026-07-14T12:00", "America/New_York"), UtcNs(2026, 7, 14, 16));
  EXPECT_EQ(ParseDateInName("2026-07-14T12:00", "Asia/Kolkata"), UtcNs(2026, 7, 14, 6, 30));
}

TEST(ParseDateInName, UnknownZoneLeavesOnlyNamesWithAnOffset) {
  EXPECT_EQ(ParseDateInName("2026-10-31", "Mars/Olympus_Mons"), std::nullopt);
  EXPECT_EQ(ParseDateInName("2026-10-31T23:00:00Z", "Mars/Olympus_Mons"), UtcNs(2026, 10, 31, 23));
  EXPECT_EQ(ParseDateInName("2026-10-31T23:00:00+01:00", "Mars/Olympus_Mons"),
            UtcNs(2026, 10, 31, 22));
}

// --- Discovery from a listing ------------------------------------------------

ListedChild Dir(std::string name, int64_t mtime = 0) {
  return {std::move(name), true, mtime, 4096};
}
ListedChild File(std::string name, int64_t mtime = 0, uint64_t size = 100) {
  return {std::move(name), false, mtime, size};
}

BackupSet SetWith(Layout layout) {
  BackupSet s;
  s.name = "set";
  s.layout = layout;
  return s;
}

std::vector<std::string> Names(const Discovery& d) {
  std::vector<std::string> out;
  for (const DiscoveredPoint& p : d.points) out.push_back(p.name);
  return out;
}

// Every discovery: sorted by time, times unique.
void ExpectStrictlyIncreasing(const Discovery& d) {
  for (size_t i = 1; i < d.points.size(); ++i) {
    EXPECT_LT(d.points[i - 1].time_ns, d.points[i].time_ns) << d.points[i].name;
  }
}

bool HasWarning(const Discovery& d, std::string_view text) {
  for (const std::string& w : d.warnings) {
    if (w == text) return true;
  }
  return false;
}

TEST(DiscoverRestorePoints, MirrorIsOnePointAtTimeZero) {
  Discovery d =
      DiscoverRestorePoints(SetWith(Layout::kMirror), {Dir("2026-10-01"), File("x", 5)}, "UTC");
  ASSERT_EQ(d.points.size(), 1u);
  EXPECT_EQ(d.points[0].name, "");
  EXPECT_EQ(d.points[0].time_ns, 0);
  EXPECT_TRUE(d.warnings.empty());
  // Even with nothing listed.
  EXPECT_EQ(DiscoverRestorePoints(SetWith(Layout::kMirror), {}, "UTC").points.size(), 1u);
}

TEST(DiscoverRestorePoints, DatedFoldersTakeTheirTimeFromTheName) {
  const std::vector<ListedChild> listing = {Dir("2026-10-02", 7 * kNs),
                                            Dir("2026-10-01T12-30", 9 * kNs), Dir("old", 3 * kNs),
                                            File("README", 1), Dir("2026-09-30", 8 * kNs)};
  Discovery d = DiscoverRestorePoints(SetWith(Layout::kDatedFolders), listing, "Europe/Paris");
  EXPECT_THAT(Names(d), ElementsAre("2026-09-30", "2026-10-01T12-30", "2026-10-02"));
  EXPECT_EQ(d.points[0].time_ns, UtcNs(2026, 9, 29, 22));
  EXPECT_EQ(d.points[1].time_ns, UtcNs(2026, 10, 1, 10, 30));
  EXPECT_EQ(d.points[2].time_ns, UtcNs(2026, 10, 1, 22));
  for (const DiscoveredPoint& p : d.points) EXPECT_EQ(p.time_source, "name");
  EXPECT_TRUE(HasWarning(d, "old: no date in name, ignored"));
  EXPECT_TRUE(HasWarning(d, "README: not a directory, ignored"));
  EXPECT_EQ(d.warnings.size(), 2u);
  ExpectStrictlyIncreasing(d);

  // With time_from_mtime, the dateless folder is timed by its mtime.
  BackupSet by_mtime = SetWith(Layout::kDatedFolders);
  by_mtime.time_from_mtime = true;
  Discovery m = DiscoverRestorePoints(by_mtime, listing, "Europe/Paris");
  EXPECT_THAT(Names(m), ElementsAre("old", "2026-09-30", "2026-10-01T12-30", "2026-10-02"));
  EXPECT_EQ(m.points[0].time_ns, 3 * kNs);
  EXPECT_EQ(m.points[0].time_source, "mtime");
  EXPECT_THAT(m.warnings, ElementsAre("README: not a directory, ignored"));
}

TEST(DiscoverRestorePoints, SameTimeKeepsTheFirstByName) {
  // Listed in reverse name order: the first by NAME is kept, not by listing.
  Discovery d =
      DiscoverRestorePoints(SetWith(Layout::kDatedFolders),
                            {Dir("2026-10-02"), Dir("2026-10-01T00-00"), Dir("2026-10-01")}, "UTC");
  EXPECT_THAT(Names(d), ElementsAre("2026-10-01", "2026-10-02"));
  EXPECT_THAT(d.warnings,
              ElementsAre("2026-10-01 and 2026-10-01T00-00: same time, kept the first"));
  ExpectStrictlyIncreasing(d);
}

TEST(DiscoverRestorePoints, RsnapshotPointsAreTimedByTheirMtime) {
  const std::vector<ListedChild> listing = {Dir("daily.0", 300 * kNs),
                                            Dir("daily.1", 200 * kNs),
                                            Dir("weekly.0", 100 * kNs),
                                            Dir("hourly.10", 250 * kNs),
                                            Dir(".sync", 400 * kNs),
                                            File("rsnapshot.pid", 1),
                                            Dir("notes", 5),
                                            Dir("daily.x", 6),
                                            File("monthly.2", 7),
                                            Dir("Daily.3", 8),
                                            Dir("2026-10-01", 9)};
  Discovery d = DiscoverRestorePoints(SetWith(Layout::kRsnapshot), listing, "UTC");
  EXPECT_THAT(Names(d), ElementsAre("weekly.0", "daily.1", "hourly.10", "daily.0"));
  EXPECT_EQ(d.points[0].time_ns, 100 * kNs);
  EXPECT_EQ(d.points[3].time_ns, 300 * kNs);
  for (const DiscoveredPoint& p : d.points) EXPECT_EQ(p.time_source, "mtime");
  // .sync and the pid file are expected there: no warning for them.
  EXPECT_EQ(d.warnings.size(), 5u);
  for (const char* n : {"notes", "daily.x", "monthly.2", "Daily.3", "2026-10-01"}) {
    bool found = false;
    for (const std::string& w : d.warnings) found = found || w.rfind(std::string(n) + ": ", 0) == 0;
    EXPECT_TRUE(found) << n;
  }
  ExpectStrictlyIncreasing(d);
}

TEST(DiscoverRestorePoints, DatedFilesMatchThePatternAndCarryADate) {
  const std::vector<ListedChild> listing = {File("acct_20261031_2300.sql.gz", 50),
                                            File("acct_20261030_2300.sql.gz", 40),
                                            File("SHA256SUMS", 60),
                                            File("acct_latest.sql.gz", 70),
                                            Dir("dir_20261029.sql.gz", 30),
                                            File(".acct_20261028.sql.gz", 20)};
  BackupSet set = SetWith(Layout::kDatedFiles);
  set.pattern = "*.sql.gz";
  Discovery d = DiscoverRestorePoints(set, listing, "UTC");
  EXPECT_THAT(Names(d), ElementsAre("acct_20261030_2300.sql.gz", "acct_20261031_2300.sql.gz"));
  EXPECT_EQ(d.points[1].time_ns, UtcNs(2026, 10, 31, 23));
  EXPECT_EQ(d.points[1].time_source, "name");
  // SHA256SUMS and the hidden file do not match the pattern: silently not points.
  EXPECT_THAT(d.warnings, ::testing::UnorderedElementsAre(
                              "acct_latest.sql.gz: no date in name, ignored",
                              "dir_20261029.sql.gz: is a directory, not a backup file, ignored"));

  set.time_from_mtime = true;
  Discovery m = DiscoverRestorePoints(set, listing, "UTC");
  EXPECT_THAT(Names(m), ElementsAre("acct_latest.sql.gz", "acct_20261030_2300.sql.gz",
                                    "acct_20261031_2300.sql.gz"));
  EXPECT_EQ(m.points[0].time_ns, 70);
  EXPECT_EQ(m.points[0].time_source, "mtime");

  // Empty pattern: every file is a candidate.
  BackupSet all = SetWith(Layout::kDatedFiles);
  Discovery a = DiscoverRestorePoints(all, listing, "UTC");
  EXPECT_THAT(Names(a), ElementsAre(".acct_20261028.sql.gz", "acct_20261030_2300.sql.gz",
                                    "acct_20261031_2300.sql.gz"));
  EXPECT_TRUE(HasWarning(a, "SHA256SUMS: no date in name, ignored"));
}

TEST(DiscoverRestorePoints, BagitBagsFromTheNameElseTheMtime) {
  Discovery d = DiscoverRestorePoints(
      SetWith(Layout::kBagitBags),
      {Dir("bag-2026-10-01", 999 * kNs), Dir("bag-a", 5 * kNs), File("manifest.txt", 1)}, "UTC");
  EXPECT_THAT(Names(d), ElementsAre("bag-a", "bag-2026-10-01"));
  EXPECT_EQ(d.points[0].time_ns, 5 * kNs);
  EXPECT_EQ(d.points[0].time_source, "mtime");
  EXPECT_EQ(d.points[1].time_ns, UtcNs(2026, 10, 1));
  EXPECT_EQ(d.points[1].time_source, "name");
  EXPECT_THAT(d.warnings, ElementsAre("manifest.txt: not a directory, ignored"));
}

TEST(DiscoverRestorePoints, ResticSnapshotsAreNotDiscoveredHere) {
  BackupSet set = SetWith(Layout::kResticSnapshots);
  Discovery d = DiscoverRestorePoints(set, {Dir("snapshots"), Dir("data")}, "UTC");
  EXPECT_TRUE(d.points.empty());
  EXPECT_EQ(d.warnings.size(), 1u);
}

TEST(DiscoverRestorePoints, UnknownZoneIsReported) {
  Discovery d =
      DiscoverRestorePoints(SetWith(Layout::kDatedFolders),
                            {Dir("2026-10-01"), Dir("2026-10-02T00:00:00Z")}, "Mars/Olympus_Mons");
  EXPECT_THAT(Names(d), ElementsAre("2026-10-02T00:00:00Z"));
  ASSERT_FALSE(d.warnings.empty());
  EXPECT_THAT(d.warnings[0], HasSubstr("Mars/Olympus_Mons"));
}

// --- Real directories ---------------------------------------------------------

void MakeDir(const std::string& path, int64_t mtime_ns) {
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path;
  SetMtime(path, mtime_ns);
}

std::map<int64_t, std::string> TimeToName(const Discovery& d) {
  std::map<int64_t, std::string> out;
  for (const DiscoveredPoint& p : d.points) out[p.time_ns] = p.name;
  return out;
}

TEST(DiscoverRestorePointsAt, RsnapshotRotationKeepsTheIdentityOfOldPoints) {
  TempDir root;
  const int64_t t0 = UtcNs(2026, 10, 28, 3), t1 = UtcNs(2026, 10, 29, 3),
                t2 = UtcNs(2026, 10, 30, 3);
  const int64_t t3 = UtcNs(2026, 10, 31, 3) + 123456789;  // ns precision survives
  MakeDir(root / "daily.2", t0);
  MakeDir(root / "daily.1", t1);
  MakeDir(root / "daily.0", t2);
  ASSERT_EQ(::mkdir((root / ".sync").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("daily.0", (root / "latest").c_str()), 0);

  BackupSet set = SetWith(Layout::kRsnapshot);
  auto before = DiscoverRestorePointsAt(set, root.path(), "Europe/Paris");
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->points.size(), 3u);
  EXPECT_THAT(before->warnings, ElementsAre("latest: symbolic link, not followed, ignored"));
  const std::map<int64_t, std::string> old_points = TimeToName(*before);
  EXPECT_EQ(old_points,
            (std::map<int64_t, std::string>{{t0, "daily.2"}, {t1, "daily.1"}, {t2, "daily.0"}}));

  // rsnapshot's rotation: shift every point up by one, then sync a new daily.0.
  ASSERT_EQ(std::rename((root / "daily.2").c_str(), (root / "daily.3").c_str()), 0);
  ASSERT_EQ(std::rename((root / "daily.1").c_str(), (root / "daily.2").c_str()), 0);
  ASSERT_EQ(std::rename((root / "daily.0").c_str(), (root / "daily.1").c_str()), 0);
  MakeDir(root / "daily.0", t3);
  WriteFile(root / "daily.0/etc/hosts", "127.0.0.1 localhost\n");
  SetMtime(root / "daily.0", t3);  // rsnapshot touches the root after the sync

  auto after = DiscoverRestorePointsAt(set, root.path(), "Europe/Paris");
  ASSERT_TRUE(after.ok()) << after.status();
  const std::map<int64_t, std::string> new_points = TimeToName(*after);
  ASSERT_EQ(new_points.size(), old_points.size() + 1);
  // Every old point is still there under the same time, renamed N -> N+1.
  for (const auto& [time, old_name] : old_points) {
    ASSERT_EQ(new_points.count(time), 1u) << old_name;
    const int n = std::stoi(old_name.substr(old_name.find('.') + 1));
    EXPECT_EQ(new_points.at(time), "daily." + std::to_string(n + 1));
  }
  // Exactly one new point: the new daily.0, at its own mtime.
  std::vector<int64_t> fresh;
  for (const auto& [time, name] : new_points) {
    if (old_points.count(time) == 0) fresh.push_back(time);
  }
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0], t3);
  EXPECT_EQ(fresh[0], MtimeOf(root / "daily.0"));
  EXPECT_EQ(new_points.at(fresh[0]), "daily.0");
  ExpectStrictlyIncreasing(*after);
}

TEST(DiscoverRestorePointsAt, DatedFilesInADirectory) {
  TempDir root;
  WriteFile(root / "db_20261001.sql.gz", "one");
  WriteFile(root / "db_20261002_0130.sql.gz", "two");
  WriteFile(root / "db_nodate.sql.gz", "three");
  WriteFile(root / "notes.txt", "not a backup");
  ASSERT_EQ(::symlink("db_20261001.sql.gz", (root / "db_20261003.sql.gz").c_str()), 0);
  ASSERT_EQ(::mkfifo((root / "db_20261004.sql.gz").c_str(), 0644), 0);

  BackupSet set = SetWith(Layout::kDatedFiles);
  set.pattern = "*.sql.gz";
  auto d = DiscoverRestorePointsAt(set, root.path(), "Europe/Paris");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Names(*d), ElementsAre("db_20261001.sql.gz", "db_20261002_0130.sql.gz"));
  EXPECT_EQ(d->points[0].time_ns, UtcNs(2026, 9, 30, 22));
  EXPECT_EQ(d->points[1].time_ns, UtcNs(2026, 10, 1, 23, 30));
  EXPECT_THAT(d->warnings, ::testing::UnorderedElementsAre(
                               "db_20261003.sql.gz: symbolic link, not followed, ignored",
                               "db_20261004.sql.gz: not a regular file or directory, ignored",
                               "db_nodate.sql.gz: no date in name, ignored"));

  // time_from_mtime: the dateless file takes its real mtime.
  const int64_t mtime = UtcNs(2026, 9, 1, 12) + 42;
  SetMtime(root / "db_nodate.sql.gz", mtime);
  set.time_from_mtime = true;
  auto m = DiscoverRestorePointsAt(set, root.path(), "Europe/Paris");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->points.size(), 3u);
  EXPECT_EQ(m->points[0].name, "db_nodate.sql.gz");
  EXPECT_EQ(m->points[0].time_ns, mtime);
  EXPECT_EQ(m->points[0].time_source, "mtime");
}

TEST(DiscoverRestorePointsAt, BagitBagsAreDirectoriesWithABagDeclaration) {
  TempDir root;
  const std::string decl = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  WriteFile(root / "bag-2026-10-01/bagit.txt", decl);
  WriteFile(root / "bag-2026-10-01/data/a.txt", "a");
  WriteFile(root / "bag-info-dated/bagit.txt", decl);
  WriteFile(root / "bag-info-dated/bag-info.txt",
            "Source-Organization: ACME\r\nbagging-date: 2026-09-15\r\nPayload-Oxum: 1.1\r\n");
  WriteFile(root / "bag-undated/bagit.txt", decl);
  WriteFile(root / "bag-undated/bag-info.txt", "Bagging-Date: yesterday\n");
  const int64_t undated_mtime = UtcNs(2026, 8, 1, 8) + 7;
  SetMtime(root / "bag-undated", undated_mtime);
  WriteFile(root / "not-a-bag-2026-10-02/data/b.txt", "b");
  ASSERT_EQ(::mkdir((root / "declaration-is-a-dir").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root / "declaration-is-a-dir/bagit.txt").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("bag-2026-10-01", (root / "bag-link-2026-10-05").c_str()), 0);

  auto d = DiscoverRestorePointsAt(SetWith(Layout::kBagitBags), root.path(), "Europe/Paris");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Names(*d), ElementsAre("bag-undated", "bag-info-dated", "bag-2026-10-01"));
  EXPECT_EQ(d->points[0].time_ns, undated_mtime);
  EXPECT_EQ(d->points[0].time_source, "mtime");
  EXPECT_EQ(d->points[1].time_ns, UtcNs(2026, 9, 14, 22));  // local midnight, CEST
  EXPECT_EQ(d->points[1].time_source, "bag-info");
  EXPECT_EQ(d->points[2].time_ns, UtcNs(2026, 9, 30, 22));
  EXPECT_EQ(d->points[2].time_source, "name");
  EXPECT_THAT(d->warnings, ::testing::UnorderedElementsAre(
                               "bag-link-2026-10-05: symbolic link, not followed, ignored",
                               "declaration-is-a-dir: no bagit.txt, not a bag, ignored",
                               "not-a-bag-2026-10-02: no bagit.txt, not a bag, ignored"));
}

TEST(DiscoverRestorePointsAt, RootErrorsAndMirror) {
  TempDir root;
  BackupSet mirror = SetWith(Layout::kMirror);
  auto ok = DiscoverRestorePointsAt(mirror, root.path(), "UTC");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->points.size(), 1u);
  EXPECT_EQ(ok->points[0].time_ns, 0);

  EXPECT_TRUE(absl::IsNotFound(DiscoverRestorePointsAt(mirror, root / "nope", "UTC").status()));
  WriteFile(root / "file", "x");
  EXPECT_TRUE(absl::IsFailedPrecondition(
      DiscoverRestorePointsAt(SetWith(Layout::kDatedFolders), root / "file", "UTC").status()));
  ASSERT_EQ(::symlink(root.path().c_str(), (root / "link").c_str()), 0);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      DiscoverRestorePointsAt(SetWith(Layout::kDatedFolders), root / "link", "UTC").status()));
}

// --- Over a Store ---------------------------------------------------------------

// DiscoverRestorePointsIn over a LocalStore gives what the descriptor
// version gives on the same directory: the same points, the same warnings
// in the same order, for every layout read from a listing.
TEST(DiscoverRestorePointsIn, EqualsTheDescriptorVersionForEveryLayout) {
  TempDir root;
  const std::string decl = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  // dated-folders (and mirror)
  MakeDir(root / "folders", UtcNs(2026, 1, 1));
  MakeDir(root / "folders/2026-10-01", UtcNs(2026, 10, 1, 5));
  MakeDir(root / "folders/2026-10-02T0300", UtcNs(2026, 10, 2, 5));
  MakeDir(root / "folders/undated", UtcNs(2026, 9, 1, 5) + 11);
  MakeDir(root / "folders/x-2026-10-02T03:00:00Z", UtcNs(2026, 10, 2, 6));
  WriteFile(root / "folders/2026-10-03.txt", "a file among folders");
  ASSERT_EQ(::symlink("2026-10-01", (root / "folders/2026-10-04").c_str()), 0);
  ASSERT_EQ(::mkfifo((root / "folders/2026-10-05").c_str(), 0644), 0);
  // dated-files
  WriteFile(root / "files/db_20261001.sql.gz", "one");
  WriteFile(root / "files/db_20261002_0130.sql.gz", "two");
  WriteFile(root / "files/db_nodate.sql.gz", "three");
  WriteFile(root / "files/notes.txt", "not a backup");
  ASSERT_EQ(::mkdir((root / "files/db_20261009.sql.gz").c_str(), 0755), 0);
  SetMtime(root / "files/db_nodate.sql.gz", UtcNs(2026, 9, 1, 12) + 42);
  // rsnapshot
  MakeDir(root / "snap", UtcNs(2026, 1, 1));
  MakeDir(root / "snap/daily.0", UtcNs(2026, 10, 30, 3) + 5);
  MakeDir(root / "snap/daily.1", UtcNs(2026, 10, 29, 3));
  MakeDir(root / "snap/weekly.0", UtcNs(2026, 10, 29, 3));  // same time: kept the first
  ASSERT_EQ(::mkdir((root / "snap/.sync").c_str(), 0755), 0);
  WriteFile(root / "snap/rsnapshot.pid", "1");
  MakeDir(root / "snap/junk", UtcNs(2026, 1, 1));
  // bagit-bags
  WriteFile(root / "bags/bag-2026-10-01/bagit.txt", decl);
  WriteFile(root / "bags/bag-info-dated/bagit.txt", decl);
  WriteFile(root / "bags/bag-info-dated/bag-info.txt",
            "Source-Organization: ACME\r\nbagging-date: 2026-09-15\r\n");
  WriteFile(root / "bags/bag-undated/bagit.txt", decl);
  SetMtime(root / "bags/bag-undated", UtcNs(2026, 8, 1, 8) + 7);
  WriteFile(root / "bags/not-a-bag-2026-10-02/data/b.txt", "b");
  ASSERT_EQ(::mkdir((root / "bags/declaration-is-a-dir").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root / "bags/declaration-is-a-dir/bagit.txt").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("bag-2026-10-01", (root / "bags/bag-link-2026-10-05").c_str()), 0);

  auto store = storage::LocalStore::Open(root.path());
  ASSERT_TRUE(store.ok()) << store.status();
  struct Case {
    Layout layout;
    std::string dir;
    bool from_mtime;
    size_t points;  // what the descriptor version finds: the test's own check
  };
  for (const Case& c :
       {Case{Layout::kDatedFolders, "folders", false, 3},
        Case{Layout::kDatedFolders, "folders", true, 4}, Case{Layout::kMirror, "folders", false, 1},
        Case{Layout::kDatedFiles, "files", false, 2}, Case{Layout::kDatedFiles, "files", true, 3},
        Case{Layout::kRsnapshot, "snap", false, 2}, Case{Layout::kBagitBags, "bags", false, 3}}) {
    SCOPED_TRACE(c.dir + (c.from_mtime ? " (mtime)" : ""));
    BackupSet set = SetWith(c.layout);
    set.time_from_mtime = c.from_mtime;
    if (c.layout == Layout::kDatedFiles) set.pattern = "db_*";
    auto want = DiscoverRestorePointsAt(set, root / c.dir, "Europe/Paris");
    ASSERT_TRUE(want.ok()) << want.status();
    auto got = DiscoverRestorePointsIn(set, **store, c.dir, "shown", "Europe/Paris");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(want->points.size(), c.points);
    ASSERT_EQ(got->points.size(), want->points.size());
    for (size_t i = 0; i < want->points.size(); ++i) {
      EXPECT_EQ(got->points[i].name, want->points[i].name);
      EXPECT_EQ(got->points[i].time_ns, want->points[i].time_ns);
      EXPECT_EQ(got->points[i].time_source, want->points[i].time_source);
    }
    EXPECT_EQ(got->warnings, want->warnings);
    if (c.layout != Layout::kMirror) {
      EXPECT_FALSE(want->warnings.empty());
    }
  }
}

TEST(DiscoverRestorePointsIn, RootErrorsNameTheDirectory) {
  TempDir root;
  WriteFile(root / "file", "x");
  ASSERT_EQ(::mkdir((root / "real").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("real", (root / "link").c_str()), 0);
  auto store = storage::LocalStore::Open(root.path());
  ASSERT_TRUE(store.ok()) << store.status();
  const BackupSet set = SetWith(Layout::kDatedFolders);
  auto missing = DiscoverRestorePointsIn(set, **store, "nope", "s3://b/nope", "UTC");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("s3://b/nope"));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      DiscoverRestorePointsIn(set, **store, "file", "f", "UTC").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      DiscoverRestorePointsIn(set, **store, "link", "l", "UTC").status()));
  // The store's root is a directory, and an empty one has no point.
  auto empty = DiscoverRestorePointsIn(set, **store, "real", "r", "UTC");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->points.empty());
}

}  // namespace
}  // namespace vigil::contracts
