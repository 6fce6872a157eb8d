// The worker's format tasks (services/worker/format_tasks.h) without a
// coordinator: restic time parsing, the secrets lookup, checksum-file
// discovery, and which snapshots a restic verdict names as damaged (a
// repository made by Debian's restic). The end-to-end runs are in
// tests/integration/formats_process_test.cc.
#include "services/worker/format_tasks.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "tests/integration/test_util.h"
#include "tests/services/worker/bag_builder.h"
#include "tests/services/worker/open_watch.h"
#include "tests/support/civil_time.h"
#include "tests/support/random_bytes.h"

namespace vigil::worker {
namespace {

using vigil::testing::MakeDirs;
using vigil::testing::OpenWatch;
using vigil::testing::RunResult;
using vigil::testing::TempDir;
using vigil::testing::UtcNs;
using vigil::testing::WriteFile;

TEST(ResticTime, OffsetsAndFractions) {
  EXPECT_EQ(ParseResticTime("2026-03-01T10:00:00Z"), UtcNs(2026, 3, 1, 10, 0, 0));
  EXPECT_EQ(ParseResticTime("2026-03-01T10:00:00+01:00"), UtcNs(2026, 3, 1, 9, 0, 0));
  EXPECT_EQ(ParseResticTime("2026-03-01T00:30:00-02:30"), UtcNs(2026, 3, 1, 3, 0, 0));
  EXPECT_EQ(ParseResticTime("2026-03-01T10:00:00.5Z"), UtcNs(2026, 3, 1, 10, 0, 0) + 500'000'000);
  EXPECT_EQ(ParseResticTime("1969-12-31T23:59:59.123456789Z"), -1'000'000'000 + 123'456'789);
  EXPECT_EQ(ParseResticTime("2024-02-29T00:00:00Z"), UtcNs(2024, 2, 29, 0, 0, 0));  // leap day
  EXPECT_EQ(ParseResticTime("2000-02-29T00:00:00Z"), UtcNs(2000, 2, 29, 0, 0, 0));
  // Digits past nanoseconds are dropped, as Go's parser keeps ns.
  EXPECT_EQ(ParseResticTime("2026-03-01T10:00:00.1234567891Z"),
            UtcNs(2026, 3, 1, 10, 0, 0) + 123'456'789);
}

TEST(ResticTime, GarbageIsRefused) {
  for (const char* bad :
       {"", "2026-03-01", "2026-03-01T10:00:00", "2026-13-01T10:00:00Z", "2026-03-01T10:00:00.Z",
        "2026-03-01T10:00:00+0100", "2026-03-01T10:00:00Zjunk", "2026-03-01 10:00:00Z",
        "2026-02-31T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z"}) {
    EXPECT_FALSE(ParseResticTime(bad).has_value()) << bad;
  }
}

TEST(ResticPassword, PerSetFirstThenPerLocation) {
  TempDir t;
  v1::BackupSet set;
  set.set_tenant("acme");
  set.set_name("vault");
  set.set_location("nas");
  auto none = ReadResticPassword(t.path(), set);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("acme/vault.password"), std::string::npos);
  EXPECT_NE(none.status().message().find("nas.password"), std::string::npos);
  EXPECT_FALSE(ReadResticPassword("", set).ok());
  WriteFile(t / "nas.password", "  location secret \n");
  EXPECT_EQ(ReadResticPassword(t.path(), set).value_or(""), "location secret");
  MakeDirs(t / "acme");
  WriteFile(t / "acme/vault.password", "set secret\r\n");
  EXPECT_EQ(ReadResticPassword(t.path(), set).value_or(""), "set secret");
  WriteFile(t / "acme/vault.password", "\n\n");
  auto empty = ReadResticPassword(t.path(), set);
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(empty.status()));
  // A per-set path that cannot be read (here a directory) is named, not
  // taken as missing (the location's password would silently be used).
  std::filesystem::remove(t / "acme/vault.password");
  MakeDirs(t / "acme/vault.password");
  auto unreadable = ReadResticPassword(t.path(), set);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_FALSE(absl::IsNotFound(unreadable.status())) << unreadable.status();
  EXPECT_NE(unreadable.status().message().find("acme/vault.password"), std::string::npos)
      << unreadable.status();
  set.set_name("..");
  EXPECT_FALSE(ReadResticPassword(t.path(), set).ok());
}

// The set's directory, open as the worker holds it.
struct OpenDir {
  explicit OpenDir(const std::string& path)
      : fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~OpenDir() {
    if (fd >= 0) ::close(fd);
  }
  int fd;
};

TEST(SumFiles, EveryNamedChecksumFileAndNoneIsAnError) {
  TempDir t;
  OpenDir set(t.path());
  ASSERT_GE(set.fd, 0);
  auto none = CheckSumFiles(set.fd, "", "p/", 7);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_FALSE(none[0].valid());
  EXPECT_EQ(none[0].point_time_ns(), 7);
  WriteFile(t / "a", "abc");
  // Digests as coreutils prints them for "abc".
  WriteFile(t / "SHA256SUMS",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n");
  WriteFile(t / "MD5SUMS", "900150983cd24fb0d6963f7d28e17f72  a\n");
  WriteFile(t / "notes.txt", "not a checksum file\n");
  auto two = CheckSumFiles(set.fd, "", "p/", 7);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].target(), "p/MD5SUMS");
  EXPECT_EQ(two[1].target(), "p/SHA256SUMS");
  EXPECT_TRUE(two[0].valid()) << two[0].DebugString();
  EXPECT_TRUE(two[1].valid());
  WriteFile(t / "a", "abd");
  auto bad = CheckSumFiles(set.fd, "", "", 0);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_FALSE(bad[1].valid());
  EXPECT_EQ(bad[1].error_count(), 1u);
  // Named relative to the set, never by the worker's own path.
  ASSERT_EQ(bad[1].errors_size(), 1);
  EXPECT_EQ(bad[1].errors(0).rfind("SHA256SUMS:1: ", 0), 0u) << bad[1].errors(0);
}

// What the worker reads of a "bagit" or "sumfile" set never leaves the set's
// directory (open at a descriptor, as the worker holds it), whatever links
// the tenant put in it: the point's directory itself, a checksum file, a
// listed file, a directory on a listed path. Each target outside is a real,
// valid copy (following the link would find a good bag, a good checksum
// file, matching content), watched by inotify: nothing there is opened or
// listed, and each link is reported.
class Confinement : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDirs(t_ / "set");
    MakeDirs(t_ / "outside");
    WriteFile(t_ / "outside/secret", "abc");
  }
  // Watches `dir` (and the directories in it) from now on.
  void Watch(const std::string& dir) {
    std::vector<std::string> dirs = {dir};
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.is_directory()) dirs.push_back(e.path());
    }
    for (const auto& d : dirs) ASSERT_TRUE(watch_.Add(d)) << d;
  }
  static std::string Errors(const std::vector<v1::FormatVerdict>& vs) {
    std::string s;
    for (const auto& v : vs) s += v.DebugString();
    return s;
  }

  TempDir t_;
  OpenWatch watch_;
};

// "abc" as coreutils' sha256sum prints it.
constexpr const char* kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST_F(Confinement, ABagThatIsALinkIsReportedNotRead) {
  // A valid bag outside; the point "2026-03-05" of the set is a link to it.
  vigil::testing::BagBuilder bag(t_ / "outside/bag");
  bag.payload["data/a.txt"] = "alpha\n";
  bag.Build();
  ASSERT_EQ(::symlink((t_ / "outside/bag").c_str(), (t_ / "set/2026-03-05").c_str()), 0);
  OpenDir set(t_ / "set");
  ASSERT_GE(set.fd, 0);
  Watch(t_ / "outside");
  v1::FormatVerdict v = CheckBag(set.fd, "2026-03-05", 5);
  EXPECT_FALSE(watch_.Opened()) << "opened outside the set:\n" << watch_.what();
  EXPECT_FALSE(v.valid()) << v.DebugString();
  EXPECT_EQ(v.target(), "2026-03-05");
  ASSERT_EQ(v.errors_size(), 1) << v.DebugString();
  EXPECT_NE(v.errors(0).find("symbolic link"), std::string::npos) << v.DebugString();
}

TEST_F(Confinement, ChecksumFilesNeverFollowALink) {
  // A point directory that is a link to a good copy outside.
  MakeDirs(t_ / "outside/point");
  WriteFile(t_ / "outside/point/a", "abc");
  WriteFile(t_ / "outside/point/SHA256SUMS", std::string(kAbcSha256) + "  a\n");
  ASSERT_EQ(::symlink((t_ / "outside/point").c_str(), (t_ / "set/2026-03-05").c_str()), 0);
  // In the set's own directory: a checksum file listing a file, a link to
  // it inside the set, a link out, and a path through a directory link.
  WriteFile(t_ / "set/a", "abc");
  ASSERT_EQ(::symlink("a", (t_ / "set/link-in").c_str()), 0);
  ASSERT_EQ(::symlink((t_ / "outside/secret").c_str(), (t_ / "set/link-out").c_str()), 0);
  ASSERT_EQ(::symlink((t_ / "outside").c_str(), (t_ / "set/sub").c_str()), 0);
  const std::string h(kAbcSha256);
  WriteFile(t_ / "set/SHA256SUMS",
            h + "  a\n" + h + "  link-in\n" + h + "  link-out\n" + h + "  sub/secret\n");
  // A checksum file that is itself a link to a good one outside.
  WriteFile(t_ / "outside/MD5SUMS", "900150983cd24fb0d6963f7d28e17f72  secret\n");
  ASSERT_EQ(::symlink((t_ / "outside/MD5SUMS").c_str(), (t_ / "set/MD5SUMS").c_str()), 0);
  OpenDir set(t_ / "set");
  ASSERT_GE(set.fd, 0);
  Watch(t_ / "outside");

  auto point = CheckSumFiles(set.fd, "2026-03-05", "2026-03-05/", 5);
  EXPECT_FALSE(watch_.Opened()) << "opened outside the set:\n" << watch_.what();
  ASSERT_EQ(point.size(), 1u) << Errors(point);
  EXPECT_FALSE(point[0].valid());
  EXPECT_NE(Errors(point).find("symbolic link"), std::string::npos) << Errors(point);

  auto top = CheckSumFiles(set.fd, "", "", 0);
  EXPECT_FALSE(watch_.Opened()) << "opened outside the set:\n" << watch_.what();
  ASSERT_EQ(top.size(), 2u) << Errors(top);
  EXPECT_EQ(top[0].target(), "MD5SUMS");  // the link: reported, not read
  EXPECT_FALSE(top[0].valid());
  EXPECT_NE(top[0].errors(0).find("symbolic link"), std::string::npos) << Errors(top);
  EXPECT_EQ(top[1].target(), "SHA256SUMS");
  EXPECT_FALSE(top[1].valid());
  // Only "a" verifies: every link is an error, even one staying inside.
  EXPECT_EQ(top[1].error_count(), 3u) << Errors(top);
  for (const char* line : {"SHA256SUMS:2: ", "SHA256SUMS:3: ", "SHA256SUMS:4: "}) {
    bool found = false;
    for (const auto& e : top[1].errors()) {
      if (e.rfind(line, 0) == 0 && e.find("symbolic link") != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << line << "\n" << Errors(top);
  }
}

// A restic repository (made by Debian's restic) whose second snapshot lost
// the packs its backup wrote: the verdict is invalid, and it names that
// snapshot alone among the damaged points, so the coordinator leaves the
// first one good (and drillable).
TEST(ResticVerdict, NamesOnlyTheSnapshotsThatCannotBeRestored) {
  TempDir tmp;
  RunResult which = vigil::testing::RunProcess({"/bin/sh", "-c", "command -v restic"});
  ASSERT_EQ(which.exit_code, 0) << "the `restic` binary is not installed: run scripts/install-deps";
  std::string bin = which.out;
  while (!bin.empty() && (bin.back() == '\n' || bin.back() == '\r')) bin.pop_back();
  ::setenv("RESTIC_CACHE_DIR", (tmp / "cache").c_str(), 1);
  WriteFile(tmp / "pw", "pw\n");
  const std::string repo = tmp / "repo", src = tmp / "src";
  auto restic = [&](std::vector<std::string> args) {
    args.insert(args.begin(), bin);
    args.insert(args.end(), {"-r", repo, "--password-file", tmp / "pw", "--no-cache", "-q"});
    RunResult r = vigil::testing::RunProcess(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  auto packs = [&] {
    std::set<std::string> s;
    for (const auto& e : std::filesystem::recursive_directory_iterator(repo + "/data")) {
      if (e.is_regular_file()) s.insert(e.path().string());
    }
    return s;
  };
  WriteFile(src + "/a.txt", "first file\n");
  restic({"init"});
  restic({"backup", src});
  const std::set<std::string> before = packs();
  WriteFile(src + "/b.bin", vigil::testing::Bytes(2 << 20, 7));
  restic({"backup", src});
  // Every pack the second backup wrote (its data and its trees) removed.
  for (const std::string& p : packs()) {
    if (before.count(p) == 0) {
      ASSERT_EQ(::unlink(p.c_str()), 0) << p;
    }
  }
  const int fd = ::open(repo.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ResticTaskResult r = CheckResticRepository(fd, repo, "pw", v1::Task());
  ::close(fd);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.points.size(), 2u);
  EXPECT_FALSE(r.verdict.valid());
  EXPECT_TRUE(r.verdict.per_snapshot());
  ASSERT_EQ(r.verdict.damaged_points_size(), 1) << r.verdict.DebugString();
  EXPECT_EQ(r.verdict.damaged_points(0), r.points[1].time_ns());
}

}  // namespace
}  // namespace vigil::worker
