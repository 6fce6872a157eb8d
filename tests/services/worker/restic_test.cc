// restic repositories made at test time by Debian's `restic` (the oracle),
// damaged one way per test and checked with VerifyRestic() and with the real
// `vigil verify --format restic`; every verdict is compared with `restic
// check` / `restic check --read-data` on the same copy. `restic` missing is a
// failure, not a skip: scripts/install-deps installs it.
#include "services/worker/formats/restic.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/worker/formats/restic_catalogue.h"
#include "services/worker/formats/restic_crypto.h"
#include "storage/hash.h"
#include "tests/integration/test_util.h"
#include "tests/services/worker/open_watch.h"
#include "tests/support/faulty_store.h"
#include "tests/support/random_bytes.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using formats::ResticOptions;
using formats::ResticReport;
using formats::VerifyRestic;

// Absolute path of `restic` on $PATH; empty if it is not installed.
std::string ResticBin() {
  RunResult r = RunProcess({"/bin/sh", "-c", "command -v restic"});
  std::string path = r.out;
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return r.exit_code == 0 ? path : std::string();
}

struct Repo {
  std::string path;
};

class ResticTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (dir_ != nullptr) return;
    ASSERT_FALSE(ResticBin().empty())
        << "the `restic` binary (test oracle) is not installed: run scripts/install-deps "
           "(Debian package restic)";
    dir_ = new TempDir();
    ::setenv("RESTIC_CACHE_DIR", ((*dir_) / "cache").c_str(), 1);
    WriteFile((*dir_) / "pw", "correct horse\n");
    std::string src = (*dir_) / "src";
    MakeDirs(src + "/sub");
    WriteFile(src + "/small.txt", "hello restic\n");
    WriteFile(src + "/empty", "");
    WriteFile(src + "/mid.bin", Bytes(700 * 1024, 1));
    WriteFile(src + "/sub/big.bin", Bytes(6 * 1024 * 1024, 2));
    WriteFile(src + "/sub/text.txt", std::string(200000, 'a'));  // compresses in format 2
    for (int v = 1; v <= 2; ++v) {
      std::string repo = (*dir_) / ("repo" + std::to_string(v));
      Restic({"init", "--repository-version", std::to_string(v), "-r", repo});
      Restic({"backup", "-r", repo, "--host", "h1", "--tag", "first", src});
      WriteFile(src + "/sub/new.bin", Bytes(5 * 1024 * 1024, 3 + static_cast<uint64_t>(v)));
      Restic({"backup", "-r", repo, "--host", "h2", src});
      ::unlink((src + "/sub/new.bin").c_str());
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static void Restic(std::vector<std::string> args) {
    args.insert(args.begin(), ResticBin());
    args.insert(args.end(), {"--password-file", PasswordFile(), "--no-cache", "-q"});
    RunResult r = RunProcess(args);
    ASSERT_EQ(r.exit_code, 0) << "restic failed: " << r.out << r.err;
  }
  // Exit code of `restic check` on `repo`.
  static int ResticCheck(const std::string& repo, bool read_data, std::string* out = nullptr) {
    std::vector<std::string> args = {ResticBin(),  "check",           "-r",           repo,
                                     "--no-cache", "--password-file", PasswordFile(), "--no-lock"};
    if (read_data) args.push_back("--read-data");
    RunResult r = RunProcess(args);
    if (out != nullptr) *out = r.out + r.err;
    return r.exit_code;
  }
  static std::string PasswordFile() { return (*dir_) / "pw"; }

  // A private copy of repo<version> to damage.
  std::string Copy(int version) {
    std::string dst = work_ / ("repo" + std::to_string(version));
    RunResult r = RunProcess({"/bin/cp", "-a", (*dir_) / ("repo" + std::to_string(version)), dst});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dst;
  }

  static ResticReport Check(const std::string& repo, bool password, bool read_data) {
    ResticOptions o;
    o.has_password = password;
    o.password = "correct horse";
    o.read_data = read_data;
    o.threads = 2;
    return VerifyRestic(repo, o);
  }

  // Files under repo/sub, largest first.
  static std::vector<std::string> Files(const std::string& repo, const std::string& sub) {
    std::vector<std::pair<uint64_t, std::string>> v;
    for (const auto& e : fs::recursive_directory_iterator(repo + "/" + sub)) {
      if (e.is_regular_file()) {
        v.emplace_back(e.file_size(), e.path().lexically_relative(repo).string());
      }
    }
    std::sort(v.rbegin(), v.rend());
    std::vector<std::string> out;
    for (auto& [size, rel] : v) out.push_back(rel);
    return out;
  }

  static bool Has(const std::vector<formats::Finding>& list, const std::string& code,
                  const std::string& path) {
    for (const auto& f : list) {
      if (f.code == code && (path.empty() || f.path == path)) return true;
    }
    return false;
  }
  static std::string Dump(const ResticReport& r) {
    std::string s = "fatal=" + r.fatal + " password_error=" + r.password_error + "\n";
    for (const auto& e : r.errors) s += "E " + e.code + " " + e.ToString() + "\n";
    for (const auto& w : r.warnings) s += "W " + w.code + " " + w.ToString() + "\n";
    return s;
  }

  static TempDir* dir_;
  TempDir work_;
};

TempDir* ResticTest::dir_ = nullptr;

class ResticVersionTest : public ResticTest, public ::testing::WithParamInterface<int> {};

TEST_P(ResticVersionTest, ValidRepositoryPassesInAllModesLikeRestic) {
  std::string repo = (*dir_) / ("repo" + std::to_string(GetParam()));
  for (int mode = 0; mode < 3; ++mode) {
    ResticReport r = Check(repo, mode > 0, mode == 2);
    EXPECT_TRUE(r.valid()) << "mode " << mode << "\n" << Dump(r);
    EXPECT_TRUE(r.warnings.empty()) << Dump(r);
    EXPECT_GE(r.data.files, 3u);  // several packs
    EXPECT_EQ(r.snapshots_dir.files, 2u);
    EXPECT_EQ(r.index.files, 2u);
    if (mode > 0) {
      EXPECT_EQ(r.version, GetParam());
      EXPECT_FALSE(r.key_file.empty());
      ASSERT_EQ(r.snapshots.size(), 2u);
      EXPECT_EQ(r.snapshots[0].hostname, "h1");
      EXPECT_EQ(r.snapshots[0].tags, std::vector<std::string>{"first"});
      EXPECT_EQ(r.snapshots[1].hostname, "h2");
      EXPECT_EQ(r.snapshots[0].paths, std::vector<std::string>{(*dir_) / "src"});
      EXPECT_EQ(r.indexed_packs, r.data.files);
    }
    if (mode > 0) {
      // The structure walk: every tree decoded (src, src/sub, the roots;
      // shared ones once), every data blob found.
      EXPECT_GE(r.trees_checked, 4u) << Dump(r);
      EXPECT_GE(r.data_refs_checked, 7u) << Dump(r);
      EXPECT_TRUE(r.incomplete_snapshots.empty()) << Dump(r);
    }
    if (mode == 2) {
      EXPECT_EQ(r.packs_read, r.data.files);
      EXPECT_EQ(r.blobs_checked, r.indexed_blobs);
      EXPECT_GT(r.blobs_checked, 5u);
    }
  }
  EXPECT_EQ(ResticCheck(repo, true), 0);
}

TEST_P(ResticVersionTest, FlippedByteInDataPackFoundByNameCheckAndReadData) {
  std::string repo = Copy(GetParam());
  std::string pack = Files(repo, "data").front();  // the largest: data blobs
  std::string content = ReadFile(repo + "/" + pack);
  content[content.size() / 2] ^= 0x01;
  ::chmod((repo + "/" + pack).c_str(), 0644);
  WriteFile(repo + "/" + pack, content);

  ResticReport plain = Check(repo, false, false);
  EXPECT_TRUE(Has(plain.errors, "name_mismatch", pack)) << Dump(plain);
  EXPECT_EQ(plain.errors.size(), 1u) << Dump(plain);
  ResticReport full = Check(repo, true, true);
  EXPECT_TRUE(Has(full.errors, "name_mismatch", pack)) << Dump(full);
  EXPECT_TRUE(Has(full.errors, "blob_undecryptable", pack)) << Dump(full);
  std::string oracle;
  EXPECT_NE(ResticCheck(repo, true, &oracle), 0);
  EXPECT_NE(oracle.find(fs::path(pack).filename().string()), std::string::npos) << oracle;
}

TEST_P(ResticVersionTest, DeletedPackIsMissingLikeRestic) {
  std::string repo = Copy(GetParam());
  std::string pack = Files(repo, "data").front();
  ASSERT_EQ(::unlink((repo + "/" + pack).c_str()), 0);
  ResticReport r = Check(repo, true, false);
  EXPECT_TRUE(Has(r.errors, "missing_pack", pack)) << Dump(r);
  EXPECT_FALSE(r.valid());
  // And what it takes with it: the files of both snapshots stored there.
  EXPECT_TRUE(Has(r.errors, "blob_unavailable", (*dir_) / "src/sub/big.bin")) << Dump(r);
  EXPECT_EQ(r.incomplete_snapshots.size(), 2u) << Dump(r);
  std::string oracle;
  EXPECT_NE(ResticCheck(repo, false, &oracle), 0);
  EXPECT_NE(oracle.find(fs::path(pack).filename().string()), std::string::npos) << oracle;
  // Without the password the index cannot be read: the name check passes.
  EXPECT_TRUE(Check(repo, false, false).valid());
}

// A store that cannot be read during the check (a remote store still
// failing after its retries, credentials refused) is the check's own error,
// naming the pack and the store: no verdict on the repository, which is not
// damaged (the same pack really damaged is a finding: the tests above). In
// every mode, and in the structure walk's reads of tree blobs too.
TEST_P(ResticVersionTest, AStoreThatCannotBeReadIsTheChecksErrorNotDamage) {
  const std::string repo = (*dir_) / ("repo" + std::to_string(GetParam()));
  const std::string pack = Files(repo, "data").front();
  auto options = [](int mode) {
    ResticOptions o;
    o.has_password = mode > 0;
    o.password = "correct horse";
    o.read_data = mode == 2;
    o.threads = 2;
    return o;
  };
  for (int mode = 0; mode < 3; ++mode) {
    for (auto code : {absl::StatusCode::kUnavailable, absl::StatusCode::kPermissionDenied}) {
      SCOPED_TRACE("mode " + std::to_string(mode) + ", " + absl::StatusCodeToString(code));
      auto store = FaultyStore::Open(repo, pack, code);
      ASSERT_NE(store, nullptr);
      ResticReport r = formats::VerifyResticIn(*store, "", repo, options(mode));
      EXPECT_GT(store->failed_reads(), 0u);
      EXPECT_TRUE(r.fatal.empty()) << r.fatal;
      EXPECT_NE(r.store_error.find("cannot read " + pack + " from test://faulty-store"),
                std::string::npos)
          << r.store_error;
      EXPECT_NE(r.store_error.find("injected failure"), std::string::npos) << r.store_error;
      EXPECT_TRUE(r.errors.empty()) << Dump(r);
      EXPECT_TRUE(r.warnings.empty()) << Dump(r);
      EXPECT_FALSE(r.valid());
    }
  }
  // Every pack known from an earlier run (the pack check reads none): the
  // walk reads the trees through the store, and cannot.
  std::unordered_map<std::string, uint64_t> known;
  for (const std::string& p : Files(repo, "data")) {
    std::string raw;
    ASSERT_TRUE(formats::restic::ParseId(fs::path(p).filename().string(), &raw));
    known[raw] = fs::file_size(repo + "/" + p);
  }
  ResticOptions o = options(1);
  o.known_packs = &known;
  auto store = FaultyStore::Open(repo, "data/");
  ResticReport walk = formats::VerifyResticIn(*store, "", repo, o);
  EXPECT_GT(store->failed_reads(), 0u);
  EXPECT_NE(walk.store_error.find("from test://faulty-store"), std::string::npos)
      << walk.store_error << Dump(walk);
  EXPECT_TRUE(walk.errors.empty()) << Dump(walk);
  // Nothing failing: the same seam, a valid repository.
  auto fine = FaultyStore::Open(repo, "");
  ResticReport ok = formats::VerifyResticIn(*fine, "", repo, options(2));
  EXPECT_TRUE(ok.valid()) << ok.store_error << Dump(ok);
  EXPECT_TRUE(ok.store_error.empty());
}

// Packs larger than the window (lowered here to 64 KiB; 32 MiB by
// default) are read by ranges: the tail, then runs of blobs, never more
// than the window or one blob at once. The answer is the same as when
// every pack is read whole, on a valid repository and on a damaged one.
TEST_P(ResticVersionTest, PacksReadByRangesGiveTheSameAnswer) {
  std::string repo = Copy(GetParam());
  const std::string pack = Files(repo, "data").front();  // the largest: data blobs
  const uint64_t pack_size = fs::file_size(repo + "/" + pack);
  auto check = [&](uint64_t window, size_t* largest) {
    auto store = FaultyStore::Open(repo, "");
    ResticOptions o;
    o.has_password = true;
    o.password = "correct horse";
    o.read_data = true;
    o.threads = 2;
    o.pack_window_bytes = window;
    ResticReport r = formats::VerifyResticIn(*store, "", repo, o);
    *largest = store->largest_read();
    return r;
  };
  auto same = [&](const ResticReport& a, const ResticReport& b) {
    EXPECT_EQ(Dump(a), Dump(b));
    EXPECT_EQ(a.blobs_checked, b.blobs_checked);
    EXPECT_EQ(a.packs_read, b.packs_read);
    EXPECT_EQ(a.incomplete_snapshots, b.incomplete_snapshots);
  };
  size_t whole_largest = 0, ranged_largest = 0;
  ResticReport whole = check(32ull << 20, &whole_largest);
  ResticReport ranged = check(64 << 10, &ranged_largest);
  EXPECT_TRUE(whole.valid()) << Dump(whole);
  same(whole, ranged);
  // Every byte once, but the tail (header) read first: at most a window
  // more per pack.
  EXPECT_GE(ranged.bytes_read, whole.bytes_read);
  EXPECT_LE(ranged.bytes_read, whole.bytes_read + whole.data.files * (64 << 10));
  EXPECT_EQ(whole_largest, pack_size);  // the largest pack in one read
  // restic's chunker cuts blobs of at most 8 MiB: no read holds more than
  // one of them (or the window), far less than the whole pack.
  EXPECT_LE(ranged_largest, (8u << 20) + formats::restic::kOverhead) << pack_size;
  EXPECT_LT(ranged_largest, pack_size);

  std::string content = ReadFile(repo + "/" + pack);
  content[content.size() / 2] ^= 0x01;
  ::chmod((repo + "/" + pack).c_str(), 0644);
  WriteFile(repo + "/" + pack, content);
  ResticReport whole_bad = check(32ull << 20, &whole_largest);
  ResticReport ranged_bad = check(64 << 10, &ranged_largest);
  EXPECT_TRUE(Has(ranged_bad.errors, "blob_undecryptable", pack)) << Dump(ranged_bad);
  EXPECT_TRUE(Has(ranged_bad.errors, "name_mismatch", pack)) << Dump(ranged_bad);
  same(whole_bad, ranged_bad);
}

TEST_P(ResticVersionTest, TruncatedIndexFileLikeRestic) {
  std::string repo = Copy(GetParam());
  std::string index = Files(repo, "index").front();
  ASSERT_EQ(::truncate((repo + "/" + index).c_str(), 40), 0);
  ResticReport plain = Check(repo, false, false);
  EXPECT_TRUE(Has(plain.errors, "name_mismatch", index)) << Dump(plain);
  ResticReport r = Check(repo, true, false);
  EXPECT_TRUE(Has(r.errors, "undecryptable", index)) << Dump(r);
  EXPECT_NE(ResticCheck(repo, false), 0);
}

TEST_P(ResticVersionTest, TruncatedPackLikeRestic) {
  std::string repo = Copy(GetParam());
  std::string pack = Files(repo, "data").front();
  uint64_t size = fs::file_size(repo + "/" + pack);
  ASSERT_EQ(::truncate((repo + "/" + pack).c_str(), static_cast<off_t>(size / 2)), 0);
  ResticReport r = Check(repo, true, true);
  EXPECT_TRUE(Has(r.errors, "pack_truncated", pack)) << Dump(r);
  EXPECT_TRUE(Has(r.errors, "name_mismatch", pack)) << Dump(r);
  EXPECT_TRUE(Has(r.errors, "pack_header_invalid", pack)) << Dump(r);
  EXPECT_NE(ResticCheck(repo, true), 0);
}

TEST_P(ResticVersionTest, DeletedSnapshotStaysValidLikeRestic) {
  std::string repo = Copy(GetParam());
  std::string snap = Files(repo, "snapshots").front();
  ASSERT_EQ(::unlink((repo + "/" + snap).c_str()), 0);
  ResticReport r = Check(repo, true, true);
  EXPECT_TRUE(r.valid()) << Dump(r);
  EXPECT_EQ(r.snapshots.size(), 1u);
  EXPECT_EQ(ResticCheck(repo, false), 0);
}

TEST_P(ResticVersionTest, FlippedByteInSnapshotFound) {
  std::string repo = Copy(GetParam());
  std::string snap = Files(repo, "snapshots").front();
  std::string content = ReadFile(repo + "/" + snap);
  content[20] ^= 0x40;
  ::chmod((repo + "/" + snap).c_str(), 0644);
  WriteFile(repo + "/" + snap, content);
  ResticReport r = Check(repo, true, false);
  EXPECT_TRUE(Has(r.errors, "name_mismatch", snap)) << Dump(r);
  EXPECT_TRUE(Has(r.errors, "undecryptable", snap)) << Dump(r);
  EXPECT_NE(ResticCheck(repo, false), 0);
}

TEST_P(ResticVersionTest, StrayPackIsAHintLikeRestic) {
  std::string repo = Copy(GetParam());
  std::string stray = Bytes(1000, 9);
  std::string hex = storage::HashBytes(storage::HashAlgorithm::kSha256, stray).Hex();
  std::string rel = "data/" + hex.substr(0, 2) + "/" + hex;
  MakeDirs(repo + "/data/" + hex.substr(0, 2));
  WriteFile(repo + "/" + rel, stray);
  ResticReport r = Check(repo, true, false);
  EXPECT_TRUE(r.valid()) << Dump(r);
  EXPECT_TRUE(Has(r.warnings, "unreferenced_pack", rel)) << Dump(r);
  EXPECT_EQ(ResticCheck(repo, false), 0);
  // --read-data decodes it too: garbage has no valid header. No snapshot
  // needs it, so that is still a hint (restic check --read-data does not
  // even read it), saying what is wrong.
  ResticReport full = Check(repo, true, true);
  EXPECT_TRUE(full.valid()) << Dump(full);
  ASSERT_TRUE(Has(full.warnings, "unreferenced_pack", rel)) << Dump(full);
  EXPECT_NE(Dump(full).find("its content: header length"), std::string::npos) << Dump(full);
  EXPECT_EQ(ResticCheck(repo, true), 0);
}

// A pack of another repository (another master key) dropped into this one:
// no index references it, nothing decrypts it. A hint for both, in every
// mode; Vigil says why it is unusable.
TEST_P(ResticVersionTest, UnreferencedPackOfAnotherRepositoryIsAHintLikeRestic) {
  std::string repo = Copy(GetParam());
  const std::string other = work_ / "other";
  Restic({"init", "--repository-version", std::to_string(GetParam()), "-r", other});
  WriteFile(work_ / "osrc/file.txt", "another repository's data\n");
  Restic({"backup", "-r", other, work_ / "osrc"});
  std::string pack = Files(other, "data").front();
  MakeDirs(repo + "/" + fs::path(pack).parent_path().string());
  ASSERT_EQ(RunProcess({"/bin/cp", other + "/" + pack, repo + "/" + pack}).exit_code, 0);
  for (bool read_data : {false, true}) {
    ResticReport r = Check(repo, true, read_data);
    EXPECT_TRUE(r.valid()) << Dump(r);
    EXPECT_TRUE(r.incomplete_snapshots.empty()) << Dump(r);
    ASSERT_TRUE(Has(r.warnings, "unreferenced_pack", pack)) << Dump(r);
    if (read_data) {
      EXPECT_NE(Dump(r).find("its content: cannot decrypt header: MAC mismatch (wrong key"),
                std::string::npos)
          << Dump(r);
    }
    EXPECT_EQ(ResticCheck(repo, read_data), 0);
  }
}

// The index entries of used data blobs lost (an index rebuilt while a pack
// was away, then the pack put back): the snapshots need blobs no index
// lists. restic check decodes every tree and fails; so does Vigil, naming
// each snapshot and the file that needs them, in every mode.
TEST_P(ResticVersionTest, UsedDataBlobInNoIndexFailsLikeRestic) {
  std::string repo = Copy(GetParam());
  const std::string pack = Files(repo, "data").front();  // the largest: data blobs
  const std::string away = work_ / "away";
  ASSERT_EQ(::rename((repo + "/" + pack).c_str(), away.c_str()), 0);
  Restic({"rebuild-index", "-r", repo});
  ASSERT_EQ(::rename(away.c_str(), (repo + "/" + pack).c_str()), 0);

  std::string oracle;
  EXPECT_NE(ResticCheck(repo, false, &oracle), 0);
  EXPECT_NE(oracle.find("not found in index"), std::string::npos) << oracle;
  for (bool read_data : {false, true}) {
    ResticReport r = Check(repo, true, read_data);
    EXPECT_FALSE(r.valid()) << Dump(r);
    // The pack itself is merely unreferenced now.
    EXPECT_TRUE(Has(r.warnings, "unreferenced_pack", pack)) << Dump(r);
    // Both snapshots hold files whose blobs are gone: each is named, with
    // the path (restic stores the backed-up directory's absolute path).
    std::set<std::string> named;
    const std::string big = (*dir_) / "src/sub/big.bin";
    for (const auto& e : r.errors) {
      if (e.code != "missing_blob" && e.code != "snapshot_incomplete") continue;
      EXPECT_EQ(e.file.rfind("snapshots/", 0), 0u) << e.ToString();
      EXPECT_EQ(e.path.rfind((*dir_) / "src", 0), 0u) << e.ToString();
      if (e.code == "missing_blob") {
        EXPECT_NE(e.message.find("in no index"), std::string::npos) << e.ToString();
      }
      named.insert(e.file);
    }
    EXPECT_EQ(named.size(), 2u) << Dump(r);
    EXPECT_TRUE(Has(r.errors, "missing_blob", big)) << Dump(r);
    EXPECT_EQ(r.incomplete_snapshots.size(), 2u) << Dump(r);
  }
  EXPECT_NE(ResticCheck(repo, true), 0);
}

// A pack holding only blobs no snapshot uses any more (its snapshot
// forgotten, not pruned) deleted: restic check reports the missing pack,
// and so does Vigil, but no snapshot is incomplete. Once the index is
// rebuilt both pass.
TEST_P(ResticVersionTest, PackOfUnusedBlobsRemovedLikeRestic) {
  const std::string repo = work_ / "unused";
  const std::string src = work_ / "usrc";
  Restic({"init", "--repository-version", std::to_string(GetParam()), "-r", repo});
  WriteFile(src + "/keep.txt", "kept\n");
  Restic({"backup", "-r", repo, "--tag", "keep", src});
  const std::vector<std::string> before = Files(repo, "data");
  WriteFile(src + "/gone.bin", Bytes(3 * 1024 * 1024, 11));
  Restic({"backup", "-r", repo, "--tag", "gone", src});
  RunResult listed = RunProcess({ResticBin(), "snapshots", "--json", "--tag", "gone", "-r", repo,
                                 "--password-file", PasswordFile(), "--no-cache"});
  auto snaps = nlohmann::json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(snaps.is_array() && snaps.size() == 1u) << listed.out << listed.err;
  Restic({"forget", "-r", repo, snaps[0]["id"].get<std::string>()});
  std::string unused;  // the new pack holding gone.bin's data
  for (const std::string& f : Files(repo, "data")) {
    if (std::find(before.begin(), before.end(), f) == before.end() && unused.empty()) unused = f;
  }
  ASSERT_FALSE(unused.empty());
  ASSERT_GT(fs::file_size(repo + "/" + unused), 1000000u) << "not the data pack";
  ASSERT_EQ(::unlink((repo + "/" + unused).c_str()), 0);

  std::string oracle;
  EXPECT_NE(ResticCheck(repo, false, &oracle), 0);
  EXPECT_NE(oracle.find(fs::path(unused).filename().string() + ": does not exist"),
            std::string::npos)
      << oracle;
  ResticReport r = Check(repo, true, false);
  EXPECT_TRUE(Has(r.errors, "missing_pack", unused)) << Dump(r);
  EXPECT_EQ(r.errors.size(), 1u) << Dump(r);
  EXPECT_TRUE(r.incomplete_snapshots.empty()) << Dump(r);
  EXPECT_EQ(r.snapshots.size(), 1u);

  Restic({"rebuild-index", "-r", repo});
  EXPECT_EQ(ResticCheck(repo, false), 0);
  ResticReport rebuilt = Check(repo, true, true);
  EXPECT_TRUE(rebuilt.valid()) << Dump(rebuilt);
  EXPECT_EQ(ResticCheck(repo, true), 0);
}

TEST_P(ResticVersionTest, MisplacedAndBadlyNamedFiles) {
  std::string repo = Copy(GetParam());
  std::string pack = Files(repo, "data").front();
  std::string name = fs::path(pack).filename().string();
  std::string other = name.substr(0, 2) == "00" ? "01" : "00";
  MakeDirs(repo + "/data/" + other);
  ASSERT_EQ(::rename((repo + "/" + pack).c_str(), (repo + "/data/" + other + "/" + name).c_str()),
            0);
  WriteFile(repo + "/snapshots/not-a-hash", "x");
  ResticReport r = Check(repo, false, false);
  EXPECT_TRUE(Has(r.errors, "misplaced_pack", "data/" + other + "/" + name)) << Dump(r);
  EXPECT_TRUE(Has(r.errors, "unexpected_file", "snapshots/not-a-hash")) << Dump(r);
}

TEST_P(ResticVersionTest, WrongPasswordIsAnInputError) {
  std::string repo = (*dir_) / ("repo" + std::to_string(GetParam()));
  ResticOptions o;
  o.has_password = true;
  o.password = "wrong";
  ResticReport r = VerifyRestic(repo, o);
  EXPECT_FALSE(r.password_error.empty());
  EXPECT_FALSE(r.valid());
}

// The first regular file (by name) in repo/sub, as "sub/name".
std::string FirstFile(const std::string& repo, const std::string& sub) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(repo + "/" + sub)) {
    if (e.is_regular_file()) names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? std::string() : sub + "/" + names.front();
}

// A symbolic link anywhere in the repository, leading out of it, is never
// followed: the part is moved out of the repository (so that following the
// link would find a real key, index, pack ...) and replaced by a link to it;
// inotify watches the moved part (and every directory in it), and nothing
// there may be opened or listed, in any mode. The link is reported as an
// error naming it.
TEST_P(ResticVersionTest, SymbolicLinksOutOfTheRepositoryAreReportedNeverFollowed) {
  const std::string base = (*dir_) / ("repo" + std::to_string(GetParam()));
  std::vector<std::string> parts = {"config",
                                    "keys",
                                    FirstFile(base, "keys"),
                                    "locks",
                                    "snapshots",
                                    FirstFile(base, "snapshots"),
                                    "index",
                                    FirstFile(base, "index"),
                                    "data",
                                    "",  // data/XX holding a pack: filled in below
                                    "",  // that pack
                                    "extra"};
  parts[10] = Files(base, "data").back();  // the smallest pack
  parts[9] = fs::path(parts[10]).parent_path().string();
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    ASSERT_FALSE(part.empty()) << i;
    SCOPED_TRACE("link: " + part);
    TempDir w;
    const std::string repo = w / "repo";
    ASSERT_EQ(RunProcess({"/bin/cp", "-a", base, repo}).exit_code, 0);
    const std::string outside = w / "outside";
    MakeDirs(outside);
    const std::string target = outside + "/" + fs::path(part).filename().string();
    if (part == "extra") {
      MakeDirs(target);
    } else {
      ASSERT_EQ(::rename((repo + "/" + part).c_str(), target.c_str()), 0) << part;
    }
    if (fs::is_directory(target)) WriteFile(target + "/outside-secret", "not yours\n");
    ASSERT_EQ(::symlink(target.c_str(), (repo + "/" + part).c_str()), 0);
    std::vector<std::string> watched = {target};
    if (fs::is_directory(target)) {
      for (const auto& e : fs::recursive_directory_iterator(target)) {
        if (e.is_directory()) watched.push_back(e.path());
      }
    }
    OpenWatch watch;  // from here on, the test itself opens nothing there
    for (const auto& p : watched) watch.Add(p);
    ASSERT_TRUE(watch.ok());
    for (int mode : {0, 2}) {  // no password; password and --read-data
      ResticReport r = Check(repo, mode > 0, mode == 2);
      EXPECT_FALSE(watch.Opened()) << "mode " << mode << ": opened outside the repository:\n"
                                   << watch.what() << Dump(r);
      EXPECT_TRUE(r.fatal.empty()) << Dump(r);
      EXPECT_FALSE(r.valid()) << "mode " << mode << "\n" << Dump(r);
      EXPECT_EQ(Dump(r).find("outside-secret"), std::string::npos) << Dump(r);
      if (part == "keys" && mode > 0) {
        // No key to open: the password cannot be tried (an input error).
        EXPECT_NE(r.password_error.find("symbolic link"), std::string::npos) << Dump(r);
      }
      EXPECT_TRUE(Has(r.errors, "symlink", part)) << "mode " << mode << "\n" << Dump(r);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, ResticVersionTest, ::testing::Values(1, 2),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

// Two snapshots of an unchanged directory share every tree: each tree is
// decoded once, and the second snapshot is still named when the data they
// share is lost.
TEST_F(ResticTest, SharedTreesAreWalkedOnceAndEverySnapshotIsNamed) {
  const std::string repo = work_ / "shared";
  const std::string src = work_ / "ssrc";
  Restic({"init", "-r", repo});
  WriteFile(src + "/a.bin", Bytes(300000, 21));
  Restic({"backup", "-r", repo, src});
  Restic({"backup", "-r", repo, src});
  ResticReport ok = Check(repo, true, false);
  EXPECT_TRUE(ok.valid()) << Dump(ok);
  EXPECT_EQ(ok.snapshots.size(), 2u);
  // One tree per directory level of `src` (and the root): the second
  // snapshot's root differs (the metadata of the top directory), the trees
  // below are shared and decoded once.
  const fs::path src_path(src);
  const auto levels = static_cast<uint64_t>(std::distance(src_path.begin(), src_path.end()));
  EXPECT_GE(ok.trees_checked, levels);
  EXPECT_LT(ok.trees_checked, 2 * levels);

  const std::string pack = Files(repo, "data").front();  // a.bin's data
  ASSERT_EQ(::unlink((repo + "/" + pack).c_str()), 0);
  ResticReport r = Check(repo, true, false);
  EXPECT_TRUE(Has(r.errors, "missing_pack", pack)) << Dump(r);
  EXPECT_TRUE(Has(r.errors, "blob_unavailable", src + "/a.bin")) << Dump(r);
  EXPECT_TRUE(Has(r.errors, "snapshot_incomplete", "")) << Dump(r);
  EXPECT_EQ(r.incomplete_snapshots.size(), 2u) << Dump(r);
  EXPECT_NE(ResticCheck(repo, false), 0);
}

TEST_F(ResticTest, CliExitCodesAndJson) {
  std::string repo = (*dir_) / "repo2";
  RunResult ok = RunProcess({VigilBin(), "verify", "--format", "restic", repo, "--password-file",
                             PasswordFile(), "--read-data"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("Snapshots (2):"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("Result: OK"), std::string::npos) << ok.out;

  RunResult js = RunProcess({VigilBin(), "verify", "--format", "restic", repo, "--password-file",
                             PasswordFile(), "--json"});
  EXPECT_EQ(js.exit_code, 0) << js.out << js.err;
  auto doc = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << js.out;
  EXPECT_EQ(doc["version"], 2);
  EXPECT_EQ(doc["valid"], true);
  EXPECT_EQ(doc["snapshots"].size(), 2u);

  WriteFile(work_ / "bad", "nope\n");
  RunResult wrong = RunProcess(
      {VigilBin(), "verify", "--format", "restic", repo, "--password-file", work_ / "bad"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.out << wrong.err;
  EXPECT_NE(wrong.err.find("opens none of the 1 key"), std::string::npos) << wrong.err;

  RunResult usage = RunProcess({VigilBin(), "verify", "--format", "sumfile", repo, "--read-data"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  RunResult notrepo = RunProcess({VigilBin(), "verify", "--format", "restic", work_.path()});
  EXPECT_EQ(notrepo.exit_code, 2) << notrepo.err;

  std::string damaged = Copy(2);
  std::string pack = Files(damaged, "data").front();
  ASSERT_EQ(::unlink((damaged + "/" + pack).c_str()), 0);
  RunResult bad = RunProcess(
      {VigilBin(), "verify", "--format", "restic", damaged, "--password-file", PasswordFile()});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find(pack + ": pack listed by index/"), std::string::npos) << bad.out;
}

TEST_F(ResticTest, CatalogueSkipsKnownPacksAndReportsVanishedOnes) {
  std::string repo = Copy(1);
  auto opened = storage::Catalogue::Open(work_ / "cat");
  ASSERT_TRUE(opened.ok()) << opened.status();
  storage::Catalogue* cat = opened->get();
  auto run = [&](bool accept, formats::ResticBaseline* b) {
    std::unordered_map<std::string, uint64_t> known;
    EXPECT_TRUE(formats::LoadKnownPacks(cat, repo, &known).ok());
    ResticOptions o;
    o.known_packs = &known;
    ResticReport r = VerifyRestic(repo, o);
    EXPECT_TRUE(formats::ApplyResticBaseline(cat, repo, accept, &r, b).ok());
    return r;
  };
  formats::ResticBaseline b1, b2, b3, b4;
  ResticReport first = run(false, &b1);
  EXPECT_TRUE(first.valid()) << Dump(first);
  EXPECT_TRUE(b1.first_run);
  EXPECT_EQ(b1.added, first.data.files + 2);
  EXPECT_EQ(first.packs_skipped, 0u);

  ResticReport second = run(false, &b2);
  EXPECT_TRUE(second.valid()) << Dump(second);
  EXPECT_EQ(second.packs_skipped, second.data.files);  // nothing new: no pack read
  EXPECT_EQ(b2.added, 0u);

  std::string snap = Files(repo, "snapshots").front();
  std::string pack = Files(repo, "data").front();
  ASSERT_EQ(::unlink((repo + "/" + snap).c_str()), 0);
  ASSERT_EQ(::unlink((repo + "/" + pack).c_str()), 0);
  ResticReport third = run(false, &b3);
  EXPECT_TRUE(Has(third.errors, "vanished_snapshot", snap)) << Dump(third);
  EXPECT_TRUE(Has(third.errors, "vanished_pack", pack)) << Dump(third);
  EXPECT_EQ(b3.vanished, 2u);
  EXPECT_NE(ResticCheck(repo, false), 0);  // restic sees the missing pack, not the snapshot

  ResticReport accepted = run(true, &b4);
  EXPECT_TRUE(accepted.valid()) << Dump(accepted);
  EXPECT_EQ(b4.accepted, 2u);
  formats::ResticBaseline b5;
  EXPECT_TRUE(run(false, &b5).valid());
  EXPECT_EQ(b5.vanished, 0u);
}

TEST_F(ResticTest, CliCatalogueAndAccept) {
  std::string repo = Copy(2);
  std::string cat = work_ / "cat";
  auto vigil = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {VigilBin(), "verify",      "--format", "restic",
                                     repo,       "--catalogue", cat};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunProcess(args);
  };
  RunResult first = vigil({});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("first check, baseline recorded"), std::string::npos) << first.out;
  std::string snap = Files(repo, "snapshots").front();
  ASSERT_EQ(::unlink((repo + "/" + snap).c_str()), 0);
  EXPECT_EQ(ResticCheck(repo, false), 0);  // restic cannot notice
  RunResult gone = vigil({});
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err;
  EXPECT_NE(gone.out.find(snap + ": snapshot of"), std::string::npos) << gone.out;
  EXPECT_EQ(vigil({"--accept"}).exit_code, 0);
  EXPECT_EQ(vigil({}).exit_code, 0);
  RunResult no_cat = RunProcess({VigilBin(), "verify", "--format", "restic", repo, "--accept"});
  EXPECT_EQ(no_cat.exit_code, 2) << no_cat.err;
}

// Parsers on garbage: errors with offsets, never a crash.
TEST(ResticParseTest, PackHeaderRejectsGarbage) {
  std::vector<formats::restic::PackBlob> blobs;
  std::string err;
  size_t off = 0;
  std::string h(37, '\0');
  h[1] = 10;  // data blob of 10 bytes
  EXPECT_TRUE(formats::restic::ParsePackHeader(h + h, &blobs, &err, &off));
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[1].offset, 10u);
  EXPECT_FALSE(formats::restic::ParsePackHeader(h + "\x07", &blobs, &err, &off));
  EXPECT_EQ(off, 37u);
  EXPECT_NE(err.find("unknown blob type 7"), std::string::npos) << err;
  EXPECT_FALSE(
      formats::restic::ParsePackHeader(h + std::string("\x02", 1) + "abc", &blobs, &err, &off));
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
}

TEST(ResticParseTest, IndexRejectsGarbageWithOffset) {
  std::vector<formats::restic::IndexPack> packs;
  std::string err;
  size_t off = 0;
  EXPECT_FALSE(formats::restic::ParseIndex("{\"packs\": [}", &packs, &err, &off));
  EXPECT_EQ(off, 11u);
  EXPECT_FALSE(formats::restic::ParseIndex("{\"packs\": [{\"id\": \"xyz\", \"blobs\": []}]}",
                                           &packs, &err, &off));
  EXPECT_NE(err.find("packs[0]: id"), std::string::npos) << err;
  std::string id(64, 'a');
  EXPECT_FALSE(formats::restic::ParseIndex(
      "{\"packs\": [{\"id\": \"" + id + "\", \"blobs\": [{\"id\": \"" + id +
          "\", \"type\": \"data\", \"offset\": -1, \"length\": 3}]}]}",
      &packs, &err, &off));
  EXPECT_NE(err.find("offset"), std::string::npos) << err;
  EXPECT_TRUE(formats::restic::ParseIndex(
      "{\"packs\": [{\"id\": \"" + id + "\", \"blobs\": [{\"id\": \"" + id +
          "\", \"type\": \"tree\", \"offset\": 0, \"length\": 3}]}]}",
      &packs, &err, &off));
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_TRUE(packs[0].blobs[0].tree);
}

TEST(ResticParseTest, CryptoHelpersRejectGarbage) {
  using namespace formats::restic;
  EXPECT_EQ(Base64Decode("aGVsbG8="), std::optional<std::string>("hello"));
  EXPECT_FALSE(Base64Decode("aGVsbG8"));
  EXPECT_FALSE(Base64Decode("a=Vs"));
  std::string out, err;
  EXPECT_FALSE(DecodeUnpacked(std::string("\x05xyz"), 100, &out, &err));
  EXPECT_NE(err.find("0x05 at offset 0"), std::string::npos) << err;
  EXPECT_FALSE(DecodeUnpacked(std::string("\x02garbage"), 100, &out, &err));
  EXPECT_FALSE(ZstdDecompress("not zstd", 100, &out, &err));
  Key k;
  EXPECT_FALSE(Decrypt(k, "short", &out, &err));
  EXPECT_NE(err.find("too short"), std::string::npos);
  EXPECT_FALSE(Decrypt(k, std::string(40, 'x'), &out, &err));
  EXPECT_NE(err.find("MAC mismatch"), std::string::npos);
  Key d;
  EXPECT_FALSE(DeriveKey("pw", "salt", 1u << 30, 8, 1, 1u << 30, &d, &err));
  EXPECT_NE(err.find("need more than"), std::string::npos) << err;
}

}  // namespace
}  // namespace vigil::testing
