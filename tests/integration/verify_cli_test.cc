// `vigil verify` as a user runs it: the real binary on real trees.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

using json = nlohmann::json;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class VerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_ = dir_ / "tree";
    cat_ = dir_ / "cat";
    WriteFile(tree_ + "/docs/a.txt", "alpha\n");
    WriteFile(tree_ + "/docs/big.bin", RandomBytes(3 << 20, 1));
    WriteFile(tree_ + "/empty", "");
    WriteFile(tree_ + "/name with spaces", "s");
  }
  RunResult Verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {VigilBin(), "verify", "--catalogue", cat_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(tree_);
    return RunProcess(argv);
  }
  json VerifyJson(std::vector<std::string> extra = {}, int want_exit = -1) {
    extra.push_back("--json");
    RunResult r = Verify(extra);
    if (want_exit >= 0) {
      EXPECT_EQ(r.exit_code, want_exit) << r.err;
    }
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
    return j;
  }
  static std::vector<std::string> Paths(const json& list) {
    std::vector<std::string> out;
    for (const auto& e : list) out.push_back(e["path"]);
    return out;
  }

  TempDir dir_;
  std::string tree_, cat_;
};

TEST_F(VerifyCliTest, BaselineThenCleanRunExitZero) {
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Baseline recorded"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");  // no progress bar when stderr is not a terminal
  json j = VerifyJson({}, 0);
  EXPECT_FALSE(j["baseline"].get<bool>());
  EXPECT_EQ(j["summary"]["entries"], 4);
  EXPECT_EQ(j["summary"]["unchanged"], 4);
  EXPECT_EQ(j["summary"]["problems"], 0);
  EXPECT_TRUE(j["problems"].empty());
}

TEST_F(VerifyCliTest, FlippedByteTruncationDeletionAndNewFile) {
  ASSERT_EQ(Verify().exit_code, 0);
  {  // one byte flipped in the middle of a 3 MiB file
    int fd = open((tree_ + "/docs/big.bin").c_str(), O_RDWR);
    char c;
    ASSERT_EQ(pread(fd, &c, 1, 1 << 20), 1);
    c ^= 0x10;
    ASSERT_EQ(pwrite(fd, &c, 1, 1 << 20), 1);
    close(fd);
  }
  ASSERT_EQ(truncate((tree_ + "/docs/a.txt").c_str(), 2), 0);
  ASSERT_EQ(unlink((tree_ + "/name with spaces").c_str()), 0);
  WriteFile(tree_ + "/docs/new.txt", "new");

  json j = VerifyJson({}, 1);
  EXPECT_EQ(j["summary"]["modified"], 2);
  EXPECT_EQ(j["summary"]["missing"], 1);
  EXPECT_EQ(j["summary"]["added"], 1);
  EXPECT_EQ(j["summary"]["problems"], 3);
  std::map<std::string, json> by_path;
  for (const auto& p : j["problems"]) by_path[p["path"]] = p;
  ASSERT_EQ(by_path.size(), 3u);
  EXPECT_EQ(by_path["docs/big.bin"]["kind"], "modified");
  // The mismatch was re-read once; both readings are kept and agree.
  EXPECT_EQ(by_path["docs/big.bin"]["observed"]["first_reading"],
            by_path["docs/big.bin"]["observed"]["second_reading"]);
  EXPECT_NE(by_path["docs/big.bin"]["observed"]["first_reading"],
            by_path["docs/big.bin"]["recorded"]["digest"]);
  EXPECT_EQ(by_path["docs/a.txt"]["kind"], "modified");
  EXPECT_EQ(by_path["docs/a.txt"]["observed"]["size"], 2);
  EXPECT_EQ(by_path["docs/a.txt"]["recorded"]["size"], 6);
  EXPECT_EQ(by_path["name with spaces"]["kind"], "missing");
  EXPECT_EQ(Paths(j["added"]), std::vector<std::string>{"docs/new.txt"});

  // A problem stays reported until fixed or accepted.
  EXPECT_EQ(Verify().exit_code, 1);
  RunResult acc = Verify({"--accept"});
  EXPECT_EQ(acc.exit_code, 0) << acc.out << acc.err;
  EXPECT_EQ(Verify().exit_code, 0);
}

TEST_F(VerifyCliTest, HumanOutputNamesProblems) {
  ASSERT_EQ(Verify().exit_code, 0);
  WriteFile(tree_ + "/docs/a.txt", "ALPHA\n");
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("MODIFIED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("docs/a.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 integrity problem"), std::string::npos) << r.out;
}

TEST_F(VerifyCliTest, MtimeOnlyChangeIsNeverAProblem) {
  ASSERT_EQ(Verify().exit_code, 0);
  struct timespec ts[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (tree_ + "/docs/a.txt").c_str(), ts, 0), 0);
  json j = VerifyJson({}, 0);
  EXPECT_EQ(j["summary"]["unchanged"], 4);
  for (auto mode : {"--mutable"}) {
    ASSERT_EQ(utimensat(AT_FDCWD, (tree_ + "/docs/a.txt").c_str(), nullptr, 0), 0);
    EXPECT_EQ(VerifyJson({mode}, 0)["summary"]["unchanged"], 4);
  }
}

TEST_F(VerifyCliTest, MutableMirrorUpdateVersusSilentCorruption) {
  ASSERT_EQ(Verify({"--mutable"}).exit_code, 0);
  // Legitimate update: new content and a new mtime.
  WriteFile(tree_ + "/docs/a.txt", "alpha, revised\n");
  struct timespec later[2] = {{2000000000, 0}, {2000000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (tree_ + "/docs/a.txt").c_str(), later, 0), 0);
  json j = VerifyJson({"--mutable"}, 0);
  EXPECT_EQ(j["summary"]["updated"], 1);
  EXPECT_EQ(Paths(j["updated"]), std::vector<std::string>{"docs/a.txt"});

  // Silent corruption: same size, same mtime, different content.
  struct stat st;
  ASSERT_EQ(stat((tree_ + "/docs/a.txt").c_str(), &st), 0);
  WriteFile(tree_ + "/docs/a.txt", "ALPHA, revised\n");
  struct timespec same[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, (tree_ + "/docs/a.txt").c_str(), same, 0), 0);
  j = VerifyJson({"--mutable"}, 1);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["kind"], "modified");
  // The same change without --mutable is a problem too (immutable default).
  EXPECT_EQ(Verify().exit_code, 1);
}

TEST_F(VerifyCliTest, MaxAgeSkipsRecentlyVerifiedButReadsChangedSizes) {
  ASSERT_EQ(Verify().exit_code, 0);
  WriteFile(tree_ + "/docs/a.txt", "grown content\n");
  json j = VerifyJson({"--max-age", "1h"}, 1);
  EXPECT_EQ(j["summary"]["not_read"], 3);
  EXPECT_EQ(j["summary"]["modified"], 1);
  EXPECT_EQ(j["summary"]["files_read"], 1);
}

TEST_F(VerifyCliTest, NonUtf8AndNewlineNamesRoundTripLosslessly) {
  std::string bad = std::string("caf\xe9", 4);  // Latin-1 e-acute: invalid UTF-8
  WriteFile(tree_ + "/" + bad, "x");
  WriteFile(tree_ + "/line\nbreak", "y");
  ASSERT_EQ(Verify().exit_code, 0);
  ASSERT_EQ(unlink((tree_ + "/" + bad).c_str()), 0);
  ASSERT_EQ(unlink((tree_ + "/line\nbreak").c_str()), 0);
  json j = VerifyJson({}, 1);
  ASSERT_EQ(j["problems"].size(), 2u);
  bool saw_bad = false, saw_newline = false;
  for (const auto& p : j["problems"]) {
    if (p.contains("path_base64")) {
      EXPECT_EQ(p["path_base64"], "Y2Fm6Q==");  // base64 of 63 61 66 e9
      saw_bad = true;
    } else {
      EXPECT_EQ(p["path"], "line\nbreak");
      saw_newline = true;
    }
  }
  EXPECT_TRUE(saw_bad && saw_newline);
  // Human output escapes both, so each prints on one line.
  RunResult r = Verify();
  EXPECT_NE(r.out.find("caf\\xe9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line\\nbreak"), std::string::npos) << r.out;
}

TEST_F(VerifyCliTest, HardLinksAndSymlinks) {
  ASSERT_EQ(link((tree_ + "/docs/big.bin").c_str(), (tree_ + "/hard1").c_str()), 0);
  ASSERT_EQ(link((tree_ + "/docs/big.bin").c_str(), (tree_ + "/hard2").c_str()), 0);
  WriteFile(dir_ / "outside.txt", "outside");
  ASSERT_EQ(symlink((dir_ / "outside.txt").c_str(), (tree_ + "/escape").c_str()), 0);
  json j = VerifyJson({}, 0);
  EXPECT_EQ(j["summary"]["hardlinks_reused"], 2);
  EXPECT_EQ(j["summary"]["entries"], 7);
  // Only real files are read: 4 + one read for the three hard links; the
  // symlink is not followed.
  EXPECT_EQ(j["summary"]["files_read"], 4);
  EXPECT_EQ(j["summary"]["bytes_read"], (3 << 20) + 6 + 1);
  // Retargeting the symlink is a change.
  ASSERT_EQ(unlink((tree_ + "/escape").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", (tree_ + "/escape").c_str()), 0);
  j = VerifyJson({}, 1);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["path"], "escape");
  EXPECT_EQ(j["problems"][0]["type"], "symlink");
}

TEST_F(VerifyCliTest, PermissionDeniedIsReportedUnreadable) {
  // CI runs as root, which reads everything: drop to nobody for the check.
  uid_t uid = geteuid() == 0 ? 65534 : static_cast<uid_t>(-1);
  gid_t gid = geteuid() == 0 ? 65534 : static_cast<gid_t>(-1);
  WriteFile(tree_ + "/secret/locked.txt", "classified");
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  for (auto& e : std::filesystem::recursive_directory_iterator(tree_)) {
    std::filesystem::permissions(
        e.path(), e.is_directory() ? std::filesystem::perms(0755) : std::filesystem::perms(0644));
  }
  std::filesystem::permissions(tree_, std::filesystem::perms(0755));
  MakeDirs(cat_);
  if (uid != static_cast<uid_t>(-1)) {
    ASSERT_EQ(chown(cat_.c_str(), uid, gid), 0);
  }
  // The build tree may sit under a directory nobody cannot enter (a 0700
  // checkout): run a copy of the binary from the test's own 0755 directory.
  std::string bin = VigilBin();
  if (uid != static_cast<uid_t>(-1)) {
    bin = dir_ / "vigil";
    std::filesystem::copy_file(VigilBin(), bin);
    std::filesystem::permissions(bin, std::filesystem::perms(0755));
  }
  auto run = [&] {
    return RunProcess({bin, "verify", "--json", "--catalogue", cat_, tree_}, uid, gid);
  };
  RunResult r = run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(chmod((tree_ + "/secret/locked.txt").c_str(), 0000), 0);
  r = run();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["kind"], "unreadable");
  EXPECT_EQ(j["problems"][0]["path"], "secret/locked.txt");
  EXPECT_NE(j["problems"][0]["error"].get<std::string>().find("Permission denied"),
            std::string::npos);

  // A whole directory that cannot be read: its recorded entries are
  // unreadable, not missing.
  ASSERT_EQ(chmod((tree_ + "/secret/locked.txt").c_str(), 0644), 0);
  ASSERT_EQ(chmod((tree_ + "/secret").c_str(), 0000), 0);
  r = run();
  EXPECT_EQ(r.exit_code, 1);
  j = json::parse(r.out);
  EXPECT_EQ(j["summary"]["missing"], 0);
  std::vector<std::string> kinds;
  for (const auto& p : j["problems"]) kinds.push_back(p["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"unreadable", "unreadable"})) << r.out;
  ASSERT_EQ(chmod((tree_ + "/secret").c_str(), 0755), 0);
}

TEST_F(VerifyCliTest, UsageErrorsExitTwoAndSayWhat) {
  RunResult r = RunProcess({VigilBin(), "verify", "--catalogue", cat_, dir_ / "does-not-exist"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does-not-exist"), std::string::npos) << r.err;

  r = RunProcess({VigilBin(), "verify", "--max-age", "3x", tree_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--max-age"), std::string::npos) << r.err;

  r = RunProcess({VigilBin(), "verify", "--no-such-flag", tree_});
  EXPECT_EQ(r.exit_code, 2);

  r = RunProcess({VigilBin(), "verify", "--catalogue", cat_, tree_ + "/docs/a.txt"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;

  r = RunProcess({VigilBin(), "verify", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit status"), std::string::npos);
  EXPECT_NE(r.out.find("path_base64"), std::string::npos);
}

TEST_F(VerifyCliTest, DefaultCatalogueLivesUnderXdgStateHome) {
  std::string state = dir_ / "state";
  RunResult r =
      RunProcess({"/usr/bin/env", "XDG_STATE_HOME=" + state, VigilBin(), "verify", tree_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(state + "/vigil/verify"));
  int catalogues = 0;
  for (auto& e : std::filesystem::directory_iterator(state + "/vigil/verify")) {
    (void)e;
    ++catalogues;
  }
  EXPECT_EQ(catalogues, 1);
  // The second run finds the same catalogue: not a baseline any more.
  r = RunProcess({"/usr/bin/env", "XDG_STATE_HOME=" + state, VigilBin(), "verify", tree_});
  EXPECT_EQ(r.out.find("Baseline"), std::string::npos) << r.out;
}

TEST(VerifyCliScaleTest, HundredThousandFilesWithBoundedMemory) {
  TempDir dir;
  std::string tree = dir / "tree";
  for (int d = 0; d < 100; ++d) {
    std::string sub = tree + "/d" + std::to_string(d);
    MakeDirs(sub);
    for (int f = 0; f < 1000; ++f) {
      WriteFile(sub + "/f" + std::to_string(f), std::to_string(d * 1000 + f));
    }
  }
  std::string cat = dir / "cat";
  RunResult base = RunProcess({VigilBin(), "verify", "--catalogue", cat, tree});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  RunResult again = RunProcess({VigilBin(), "verify", "--json", "--catalogue", cat, tree});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["summary"]["unchanged"], 100000);
  // Memory is bounded by the pipeline, not the tree: far below 256 MiB.
  // (Sanitizer builds add shadow memory and quarantines: the figure means
  // nothing there.)
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "peak RSS is not meaningful under a sanitizer";
#endif
  EXPECT_LT(base.max_rss_kib, 256 * 1024);
  EXPECT_LT(again.max_rss_kib, 256 * 1024);
  RecordProperty("baseline_max_rss_kib", std::to_string(base.max_rss_kib));
  RecordProperty("reverify_max_rss_kib", std::to_string(again.max_rss_kib));
}

}  // namespace
}  // namespace vigil::testing
