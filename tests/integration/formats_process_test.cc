// Backup formats through the system, with real processes on loopback: a
// `vigil coordinator`, a `vigil worker` (restic password in its --secrets
// directory), contracts applied with `vigil apply`, checks run with
// `vigil check run --wait`, results read from `vigil status --json`.
// Repositories are made by Debian's real `restic`, checksum files by
// coreutils' `sha256sum`; both tools are also the oracles of the damage.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/civil_time.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Which(const std::string& tool) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"}) {
    if (access((std::string(dir) + tool).c_str(), X_OK) == 0) return std::string(dir) + tool;
  }
  return "";
}

// Deterministic bytes that do not compress or deduplicate away.
std::string Bytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

class FormatsProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    restic_ = Which("restic");
    ASSERT_FALSE(restic_.empty()) << "restic (test oracle) not installed: scripts/install-deps";
    // restic reads --time in the local zone: pin it.
    ::setenv("TZ", "UTC", 1);
    ::setenv("RESTIC_CACHE_DIR", (tmp_ / "restic-cache").c_str(), 1);
    root_ = tmp_ / "loc";
    MakeDirs(root_ + "/acme");
    MakeDirs(tmp_ / "secrets/acme");
    WriteFile(tmp_ / "pw", "correct horse battery\n");
    // The worker's copy of the password: its own secrets directory.
    WriteFile(tmp_ / "secrets/acme/vault.password", "correct horse battery\n");
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + root_, {"--secrets", tmp_ / "secrets"});
  }

  void Restic(std::vector<std::string> args) {
    args.insert(args.begin(), restic_);
    args.insert(args.end(), {"--password-file", tmp_ / "pw", "--no-cache", "-q"});
    RunResult r = RunProcess(args);
    ASSERT_EQ(r.exit_code, 0) << "restic failed: " << r.out << r.err;
  }
  // `restic snapshots --json`: id -> time as restic prints it.
  std::map<std::string, std::string> ResticSnapshots(const std::string& repo) {
    RunResult r = RunProcess({restic_, "snapshots", "--json", "-r", repo, "--password-file",
                              tmp_ / "pw", "--no-cache", "--no-lock"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> out;
    auto j = json::parse(r.out, nullptr, false);
    for (const auto& s : j) out[s["id"].get<std::string>()] = s["time"].get<std::string>();
    return out;
  }
  int ResticCheckReadData(const std::string& repo) {
    return RunProcess({restic_, "check", "--read-data", "-r", repo, "--password-file", tmp_ / "pw",
                       "--no-cache", "--no-lock"})
        .exit_code;
  }
  // Packs under data/, as paths relative to the repository.
  static std::vector<std::string> Packs(const std::string& repo) {
    std::vector<std::string> v;
    for (const auto& e : fs::recursive_directory_iterator(repo + "/data")) {
      if (e.is_regular_file()) v.push_back(e.path().lexically_relative(repo).string());
    }
    std::sort(v.begin(), v.end());
    return v;
  }

  void Apply(const std::string& yaml) {
    WriteFile(tmp_ / "acme.yaml", yaml);
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }
  void Check() {
    RunResult r = cluster_.RunCheck("acme", {}, 120);
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err << worker_->err();
  }
  json Status() { return cluster_.Status("acme"); }
  static json Set(const json& status, const std::string& name) { return BackupSet(status, name); }
  static std::string Commitment(const json& status, const std::string& kind) {
    for (const auto& c : status["tenants"][0]["commitments"]) {
      if (c["kind"] == kind) return c["verdict"].get<std::string>();
    }
    return "";
  }

  // Location, tenant and the head of the contract (the test's sets follow).
  static std::string Head() { return manifests::Head("loc") + "effectiveFrom: 2025-01-01\n"; }

  std::string restic_, root_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(FormatsProcessTest, ResticSnapshotsArePointsAndPacksAreReadOnce) {
  const std::string repo = root_ + "/acme/vault";
  const std::string src = tmp_ / "src";
  WriteFile(src + "/a.bin", Bytes(3 << 20, 1));
  WriteFile(src + "/b.txt", "hello\n");
  Restic({"init", "--repository-version", "2", "-r", repo});
  Restic({"backup", "-r", repo, "--host", "h1", "--time", "2026-03-01 10:00:00", src});
  WriteFile(src + "/c.bin", Bytes(2 << 20, 2));
  Restic({"backup", "-r", repo, "--host", "h1", "--time", "2026-03-02 10:00:00", src});
  Apply(Head() + manifests::OneSet("vault", "vault", "loc", "acme/vault", {"format: restic"}));
  Check();
  json st = Status();
  json set = Set(st, "vault");
  // The snapshots are the restore points, at the snapshots' times.
  std::map<std::string, std::string> snaps = ResticSnapshots(repo);
  ASSERT_EQ(snaps.size(), 2u);
  ASSERT_EQ(set["points"].size(), 2u) << set.dump(1);
  const int64_t want[] = {UtcSeconds(2026, 3, 1, 10), UtcSeconds(2026, 3, 2, 10)};
  for (size_t i = 0; i < 2; ++i) {
    const json& p = set["points"][i];
    EXPECT_EQ(p["time_ns"].get<int64_t>(), want[i] * 1'000'000'000);
    std::string name = p["name"].get<std::string>();
    ASSERT_EQ(name.rfind("snapshots/", 0), 0u) << name;
    EXPECT_EQ(snaps.count(name.substr(10)), 1u) << name << " is not a snapshot restic lists";
    EXPECT_EQ(p["gone_ns"], 0);
    EXPECT_EQ(p["damaged_ns"], 0);
  }
  const size_t packs = Packs(repo).size();
  ASSERT_GT(packs, 0u);
  json v = set["format_verdicts"]["verdicts"];
  ASSERT_EQ(v.size(), 1u) << set.dump(1);
  EXPECT_EQ(v[0]["format"], "restic");
  EXPECT_TRUE(v[0]["valid"].get<bool>()) << v.dump(1);
  EXPECT_EQ(v[0]["snapshots"], 2);
  EXPECT_EQ(v[0]["packs_read"].get<size_t>(), packs);
  EXPECT_EQ(v[0]["packs_skipped"], 0);

  // Nothing new: no pack is read again.
  Check();
  v = Set(Status(), "vault")["format_verdicts"]["verdicts"];
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0]["valid"].get<bool>()) << v.dump(1);
  EXPECT_EQ(v[0]["packs_read"], 0);
  EXPECT_EQ(v[0]["packs_skipped"].get<size_t>(), packs);

  // A third snapshot whose new pack is damaged: only the new packs are
  // read, and the flipped byte is found in one of them, as restic finds it.
  std::vector<std::string> before = Packs(repo);
  WriteFile(src + "/d.bin", Bytes(4 << 20, 3));
  Restic({"backup", "-r", repo, "--host", "h1", "--time", "2026-03-03 10:00:00", src});
  std::vector<std::string> after = Packs(repo);
  std::vector<std::string> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  ASSERT_FALSE(added.empty());
  std::string victim = added.front();
  for (const auto& p : added) {
    if (fs::file_size(repo + "/" + p) > fs::file_size(repo + "/" + victim)) victim = p;
  }
  FlipByte(repo + "/" + victim, 100);
  EXPECT_NE(ResticCheckReadData(repo), 0) << "restic check --read-data misses the damage";
  Check();
  set = Set(Status(), "vault");
  v = set["format_verdicts"]["verdicts"];
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0]["valid"].get<bool>()) << v.dump(1);
  EXPECT_EQ(v[0]["packs_read"].get<size_t>(), added.size());
  EXPECT_EQ(v[0]["snapshots"], 3);
  std::string errors = v[0]["errors"].dump();
  EXPECT_NE(errors.find(fs::path(victim).filename().string()), std::string::npos)
      << "the damaged pack " << victim << " is not named in " << errors;
  // Only the third snapshot needs the damaged pack (d.bin's data): it alone
  // is damaged; the first two stay good (and drillable).
  ASSERT_EQ(set["points"].size(), 3u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(set["points"][i]["damaged_ns"], 0) << set.dump(1);
  const json& third = set["points"][2];
  EXPECT_NE(third["damaged_ns"], 0) << third.dump();
  EXPECT_NE(third["damage"].get<std::string>().find("restic"), std::string::npos) << third.dump();
  // The human status says so too.
  RunResult human = Admin({"status", "acme"});
  EXPECT_NE(human.out.find("restic: INVALID"), std::string::npos) << human.out;
}

TEST_F(FormatsProcessTest, ForgottenSnapshotsAreJudgedAgainstTheRetentionLadder) {
  const std::string repo = root_ + "/acme/vault";
  const std::string src = tmp_ / "src";
  WriteFile(src + "/a.txt", "one\n");
  Restic({"init", "-r", repo});
  for (int day = 1; day <= 3; ++day) {
    WriteFile(src + "/day.txt", std::to_string(day));
    Restic({"backup", "-r", repo, "--host", "h1", "--time",
            "2026-03-0" + std::to_string(day) + " 10:00:00", src});
  }
  Apply(Head() + manifests::OneSet("vault", "vault", "loc", "acme/vault", {"format: restic"}) +
        "commitments:\n  - retention: {daily: 2}\n");
  Check();
  json st = Status();
  ASSERT_EQ(Set(st, "vault")["points"].size(), 3u);
  EXPECT_EQ(Commitment(st, "retention"), "pass") << st.dump(1);
  // The oldest snapshot leaves the ladder: `restic forget` of it is fine.
  std::map<std::string, std::string> snaps = ResticSnapshots(repo);
  std::string oldest, newest;
  for (const auto& [id, time] : snaps) {
    if (oldest.empty() || time < snaps[oldest]) oldest = id;
    if (newest.empty() || time > snaps[newest]) newest = id;
  }
  Restic({"forget", "-r", repo, oldest});
  Check();
  st = Status();
  json pts = Set(st, "vault")["points"];
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_NE(pts[0]["gone_ns"], 0) << "the forgotten snapshot is not reported gone";
  EXPECT_EQ(pts[1]["gone_ns"], 0);
  EXPECT_EQ(Commitment(st, "retention"), "pass") << st.dump(1);
  // The newest one is still required: forgetting it fails retention.
  Restic({"forget", "-r", repo, newest});
  Check();
  st = Status();
  pts = Set(st, "vault")["points"];
  EXPECT_NE(pts[2]["gone_ns"], 0);
  EXPECT_EQ(Commitment(st, "retention"), "fail") << st.dump(1);
}

TEST_F(FormatsProcessTest, BagAndChecksumFileVerdictsReachStatus) {
  // A BagIt bag per point (dated folder name), made by hand with
  // coreutils' sha256sum for the manifest.
  const std::string bag = root_ + "/acme/bags/2026-03-05";
  MakeDirs(bag + "/data/sub");
  WriteFile(bag + "/data/a.txt", "payload a\n");
  WriteFile(bag + "/data/sub/b.bin", Bytes(100000, 4));
  WriteFile(bag + "/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  WriteFile(bag + "/bag-info.txt", "Payload-Oxum: 100010.2\n");
  RunResult m = RunProcess({"/bin/sh", "-c",
                            "cd '" + bag +
                                "' && sha256sum data/a.txt data/sub/b.bin "
                                "> manifest-sha256.txt"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  // A mirror with a SHA256SUMS beside the data.
  const std::string sums = root_ + "/acme/sums";
  MakeDirs(sums);
  WriteFile(sums + "/db.dump", Bytes(50000, 5));
  WriteFile(sums + "/notes.txt", "notes\n");
  RunResult s = RunProcess(
      {"/bin/sh", "-c", "cd '" + sums + "' && sha256sum db.dump notes.txt > SHA256SUMS"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  Apply(Head() + R"(assets:
  - name: archive
    backupSets:
      - name: bags
        location: loc
        path: acme/bags
        format: bagit
  - name: db
    backupSets:
      - name: sums
        location: loc
        path: acme/sums
        format: sumfile
)");
  Check();
  json st = Status();
  json bags = Set(st, "bags"), sumset = Set(st, "sums");
  ASSERT_EQ(bags["points"].size(), 1u) << bags.dump(1);
  json bv = bags["format_verdicts"]["verdicts"];
  ASSERT_EQ(bv.size(), 1u) << bags.dump(1);
  EXPECT_EQ(bv[0]["format"], "bagit");
  EXPECT_EQ(bv[0]["target"], "2026-03-05");
  EXPECT_EQ(bv[0]["point_time_ns"], bags["points"][0]["time_ns"]);
  EXPECT_TRUE(bv[0]["valid"].get<bool>()) << bv.dump(1);
  json sv = sumset["format_verdicts"]["verdicts"];
  ASSERT_EQ(sv.size(), 1u) << sumset.dump(1);
  EXPECT_EQ(sv[0]["target"], "SHA256SUMS");
  EXPECT_TRUE(sv[0]["valid"].get<bool>()) << sv.dump(1);
  EXPECT_EQ(sumset["points"][0]["damaged_ns"], 0);

  // Damage, same size: one payload byte of the bag, one file of the sums.
  FlipByte(bag + "/data/sub/b.bin", 5000);
  FlipByte(sums + "/db.dump", 7);
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "cd '" + sums + "' && sha256sum -c --quiet SHA256SUMS"})
                .exit_code,
            1)
      << "sha256sum -c does not see the damage";
  Check();
  st = Status();
  bags = Set(st, "bags");
  sumset = Set(st, "sums");
  bv = bags["format_verdicts"]["verdicts"];
  sv = sumset["format_verdicts"]["verdicts"];
  ASSERT_EQ(bv.size(), 1u);
  ASSERT_EQ(sv.size(), 1u);
  EXPECT_FALSE(bv[0]["valid"].get<bool>());
  EXPECT_NE(bv[0]["errors"].dump().find("data/sub/b.bin"), std::string::npos) << bv.dump(1);
  EXPECT_NE(bags["points"][0]["damaged_ns"], 0);
  EXPECT_FALSE(sv[0]["valid"].get<bool>());
  EXPECT_EQ(sv[0]["error_count"], 1) << sv.dump(1);
  EXPECT_NE(sv[0]["errors"].dump().find("db.dump"), std::string::npos) << sv.dump(1);
  EXPECT_NE(sumset["points"][0]["damaged_ns"], 0);
}

TEST_F(FormatsProcessTest, ResticWithoutPasswordFailsTheTaskNamingTheFile) {
  const std::string repo = root_ + "/acme/other";
  WriteFile(tmp_ / "src/a.txt", "x");
  Restic({"init", "-r", repo});
  Apply(Head() + manifests::OneSet("other", "other", "loc", "acme/other", {"format: restic"}));
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  json set = Set(Status(), "other");
  ASSERT_TRUE(set["last_task"].is_object()) << set.dump(1);
  std::string errors = set["last_task"].dump();
  EXPECT_NE(errors.find("other.password"), std::string::npos) << errors;
  EXPECT_EQ(set["points"].size(), 0u);
}

}  // namespace
}  // namespace vigil::testing
