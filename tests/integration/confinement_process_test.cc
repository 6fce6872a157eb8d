// No reader leaves its root, through the real processes: a `vigil
// coordinator` (enrolment token required), a `vigil worker` serving one
// location of its site, contracts applied with `vigil apply`, checks and
// drills run with `vigil check run --wait`, results read from
// `vigil status --json`.
//
// Every backup set holds symbolic links leading out of it, at every level:
// a file, a directory, a restore point, a part of a restic repository, the
// set's directory itself (or a component of its path). The targets are real
// and valid (another tenant's data inside the same location, copies
// outside it), so that following a link would read something; inotify
// (IN_OPEN | IN_ACCESS, from this test process) watches every target
// directory: nothing there may be opened or listed, by any process, and no
// name from there may reach the status. Each link is reported: as a symlink
// entry of the catalogue, a restore point ignored, a format finding, or the
// task's error naming it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/services/worker/open_watch.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A name that exists only outside the sets: it must never reach a status.
constexpr const char* kSecret = "outside-secret-3f9a";

class ConfinementProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    outside_ = tmp_ / "outside";
    // Another tenant's data, inside the location. (Two levels down: the
    // worker's survey of the location lists the first level's directories,
    // by design, names only.)
    other_ = root_ + "/other/tenant";
    MakeDirs(root_ + "/acme");
    MakeDirs(tmp_ / "secrets/acme");
    MakeDirs(tmp_ / "scratch");
    WriteFile(outside_ + "/" + kSecret, "not yours\n");
    WriteFile(outside_ + "/point/" + kSecret, "not yours\n");
    WriteFile(other_ + "/" + kSecret, "another tenant's\n");
    WriteFile(other_ + "/inner/" + kSecret, "another tenant's\n");
    // Workers must enrol: the cluster's reusable token.
    ASSERT_TRUE(cluster_.StartCoordinator());
  }

  void StartWorker() {
    worker_ = cluster_.StartWorker("worker", "loc=" + root_,
                                   {"--secrets", tmp_ / "secrets", "--scratch", tmp_ / "scratch"});
  }

  // Watches `dir` and every directory in it, from now on (the test itself
  // opens nothing there afterwards).
  void Watch(const std::string& dir) {
    std::vector<std::string> dirs = {dir};
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_directory() && !e.is_symlink()) dirs.push_back(e.path());
    }
    for (const auto& d : dirs) ASSERT_TRUE(watch_.Add(d)) << d;
  }

  // Watches the targets of the links: the copies outside the location and
  // the other tenant's data inside it.
  void WatchTargets() {
    Watch(outside_);
    Watch(other_);
  }
  void Apply(const std::string& contract) {
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head("loc") + "effectiveFrom: 2025-01-01\n" + contract);
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }
  void Check(const std::vector<std::string>& extra = {}) {
    RunResult r = cluster_.RunCheck("acme", extra, 120);
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1)
        << r.out << r.err << (worker_ ? worker_->err() : "");
  }
  std::string StatusText() {
    RunResult r = Admin({"status", "acme", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  static json Set(const std::string& status, const std::string& name) {
    return BackupSet(json::parse(status, nullptr, false), name);
  }
  // The set's last task failed, every attempt's error naming `link` as a
  // symbolic link; nothing catalogued.
  static void RefusedForLink(const json& set, const std::string& link) {
    EXPECT_EQ(set["last_task"]["state"], "failed") << set.dump(1);
    ASSERT_FALSE(set["last_task"]["errors"].empty()) << set.dump(1);
    for (const auto& e : set["last_task"]["errors"]) {
      std::string m = e["message"].get<std::string>();
      EXPECT_NE(m.find("'" + link + "' is a symbolic link"), std::string::npos) << m;
    }
    EXPECT_EQ(set["catalogue_entries"], 0) << set.dump(1);
  }
  // Nothing watched was opened, and no name from there reached the status.
  void NothingOutsideOpened(const std::string& status) {
    EXPECT_FALSE(watch_.Opened()) << "opened outside its root:\n" << watch_.what();
    EXPECT_EQ(status.find(kSecret), std::string::npos) << status;
  }
  // Links `at` (inside the location) to `target`.
  static void Link(const std::string& target, const std::string& at) {
    MakeDirs(fs::path(at).parent_path());
    ASSERT_EQ(::symlink(target.c_str(), at.c_str()), 0) << at;
  }

  std::string root_, outside_, other_;
  std::unique_ptr<BackgroundProcess> worker_;
  OpenWatch watch_;
};

TEST_F(ConfinementProcessTest, PlainTreesOfEveryLayoutNeverLeaveTheirRoot) {
  const std::string a = root_ + "/acme";
  // In every point: a regular file, a link to a file outside, a link to a
  // directory outside. A second point that is itself a link to a directory
  // outside (dated-folders, rsnapshot) or to a file outside (dated-files).
  for (const std::string& point :
       std::vector<std::string>{a + "/mirror", a + "/dated/2026-03-01", a + "/rsnap/daily.0"}) {
    WriteFile(point + "/a.txt", "mine\n");
    Link(outside_ + "/" + kSecret, point + "/file-link");
    Link(outside_, point + "/dir-link");
  }
  Link(outside_ + "/point", a + "/dated/2026-03-02");
  Link(outside_ + "/point", a + "/rsnap/daily.1");
  WriteFile(a + "/files/db_2026-03-01.sql", "dump\n");
  Link(outside_ + "/" + kSecret, a + "/files/db_2026-03-02.sql");
  // The set's directory itself a link, and a link on the way to it: both to
  // another tenant's data in the same location (a link the old realpath
  // check let through, as it stays inside the location's root).
  Link(other_, a + "/alias");
  Link(other_, a + "/via");
  WatchTargets();

  StartWorker();
  Apply(R"(assets:
  - name: fs
    backupSets:
      - {name: mirror, location: loc, path: acme/mirror}
      - {name: dated, location: loc, path: acme/dated, layout: dated-folders}
      - {name: rsnap, location: loc, path: acme/rsnap, layout: rsnapshot}
      - {name: files, location: loc, path: acme/files, layout: dated-files, pattern: "db_*.sql"}
      - {name: alias, location: loc, path: acme/alias}
      - {name: via, location: loc, path: acme/via/inner}
)");
  Check();
  const std::string status = StatusText();
  NothingOutsideOpened(status);
  // The links inside a point are catalogued as links (3 entries: a.txt and
  // the two links), never descended into or read.
  for (const char* name : {"mirror", "dated", "rsnap"}) {
    json set = Set(status, name);
    EXPECT_EQ(set["last_task"]["state"], "done") << set.dump(1);
    EXPECT_EQ(set["catalogue_entries"], 3) << name << "\n" << set.dump(1);
    EXPECT_EQ(set["points"].size(), 1u) << name << "\n" << set.dump(1);
  }
  json files = Set(status, "files");
  EXPECT_EQ(files["catalogue_entries"], 1) << files.dump(1);
  EXPECT_EQ(files["points"].size(), 1u) << files.dump(1);
  // A point that is a link is ignored, and the worker says why.
  for (const char* point : {"2026-03-02", "daily.1", "db_2026-03-02.sql"}) {
    EXPECT_NE(worker_->err().find(std::string(point) + ": symbolic link, not followed"),
              std::string::npos)
        << point << "\n"
        << worker_->err();
  }
  RefusedForLink(Set(status, "alias"), "acme/alias");
  RefusedForLink(Set(status, "via"), "acme/via");
}

TEST_F(ConfinementProcessTest, FormatsNeverLeaveTheirRoot) {
  const std::string restic = [] {
    for (const char* p : {"/usr/bin/restic", "/bin/restic"}) {
      if (access(p, X_OK) == 0) return std::string(p);
    }
    return std::string();
  }();
  ASSERT_FALSE(restic.empty()) << "restic (test oracle) not installed: scripts/install-deps";
  ::setenv("RESTIC_CACHE_DIR", (tmp_ / "restic-cache").c_str(), 1);
  WriteFile(tmp_ / "pw", "correct horse battery\n");
  auto make_repo = [&](const std::string& repo) {
    WriteFile(tmp_ / "src/a.txt", "restic payload\n");
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"init", "-r", repo},
                                               {"backup", "-r", repo, "--host", "h1", "--time",
                                                "2026-03-01 10:00:00", tmp_ / "src"}}) {
      std::vector<std::string> argv = {restic};
      argv.insert(argv.end(), args.begin(), args.end());
      argv.insert(argv.end(), {"--password-file", tmp_ / "pw", "--no-cache", "-q"});
      RunResult r = RunProcess(argv);
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
  };
  for (const char* set : {"vault", "keyless", "alias"}) {
    WriteFile(tmp_ / ("secrets/acme/" + std::string(set) + ".password"), "correct horse battery\n");
  }
  // vault: config, snapshots/, index/ and the data/XX of a pack moved out
  // and replaced by links to them.
  const std::string vault = root_ + "/acme/vault";
  make_repo(vault);
  std::string pack_dir;
  for (const auto& e : fs::recursive_directory_iterator(vault + "/data")) {
    if (e.is_regular_file()) pack_dir = e.path().parent_path().filename();
  }
  ASSERT_FALSE(pack_dir.empty());
  std::vector<std::string> snapshots;
  for (const auto& e : fs::directory_iterator(vault + "/snapshots")) {
    snapshots.push_back(e.path().filename());
  }
  ASSERT_EQ(snapshots.size(), 1u);
  for (const std::string& part :
       std::vector<std::string>{"config", "snapshots", "index", "data/" + pack_dir}) {
    const std::string target = outside_ + "/vault-" + fs::path(part).filename().string();
    ASSERT_EQ(::rename((vault + "/" + part).c_str(), target.c_str()), 0) << part;
    Link(target, vault + "/" + part);
  }
  // keyless: keys/ is a link to the real keys, moved out.
  const std::string keyless = root_ + "/acme/keyless";
  make_repo(keyless);
  ASSERT_EQ(::rename((keyless + "/keys").c_str(), (outside_ + "/keyless-keys").c_str()), 0);
  Link(outside_ + "/keyless-keys", keyless + "/keys");
  // alias: the set's directory is a link to another tenant's repository.
  make_repo(other_ + "/repo");
  Link(other_ + "/repo", root_ + "/acme/alias");
  // A bag per point; the second point is a link to a valid bag outside.
  auto make_bag = [&](const std::string& bag) {
    WriteFile(bag + "/data/a.txt", "payload a\n");
    WriteFile(bag + "/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
    RunResult m = RunProcess(
        {"/bin/sh", "-c", "cd '" + bag + "' && sha256sum data/a.txt > manifest-sha256.txt"});
    ASSERT_EQ(m.exit_code, 0) << m.err;
  };
  make_bag(root_ + "/acme/bags/2026-03-05");
  make_bag(outside_ + "/bag");
  Link(outside_ + "/bag", root_ + "/acme/bags/2026-03-06");
  // A checksum file listing a file, a link to it, a link out, and a file
  // through a directory link.
  // Following them would verify: the targets hold the listed content.
  const std::string sums = root_ + "/acme/sums";
  WriteFile(sums + "/a", "abc");
  WriteFile(outside_ + "/listed.txt", "abc");
  Link("a", sums + "/link-in");
  Link(outside_ + "/listed.txt", sums + "/link-out");
  Link(outside_, sums + "/sub");
  const std::string h = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  WriteFile(sums + "/SHA256SUMS",
            h + "  a\n" + h + "  link-in\n" + h + "  link-out\n" + h + "  sub/listed.txt\n");
  WatchTargets();

  StartWorker();
  Apply(R"(assets:
  - name: fs
    backupSets:
      - {name: vault, location: loc, path: acme/vault, format: restic}
      - {name: keyless, location: loc, path: acme/keyless, format: restic}
      - {name: alias, location: loc, path: acme/alias, format: restic}
      - {name: bags, location: loc, path: acme/bags, format: bagit}
      - {name: sums, location: loc, path: acme/sums, format: sumfile}
)");
  Check();
  const std::string status = StatusText();
  NothingOutsideOpened(status);
  EXPECT_EQ(status.find(snapshots[0]), std::string::npos) << "a snapshot read through a link:\n"
                                                          << status;

  // vault: one invalid verdict naming each link; no snapshot, so no point.
  json vault_set = Set(status, "vault");
  EXPECT_EQ(vault_set["last_task"]["state"], "done") << vault_set.dump(1);
  EXPECT_EQ(vault_set["points"].size(), 0u) << vault_set.dump(1);
  json v = vault_set["format_verdicts"]["verdicts"];
  ASSERT_EQ(v.size(), 1u) << vault_set.dump(1);
  EXPECT_FALSE(v[0]["valid"].get<bool>()) << v.dump(1);
  const std::string errors = v[0]["errors"].dump();
  for (const std::string& part :
       std::vector<std::string>{"config", "snapshots", "index", "data/" + pack_dir}) {
    EXPECT_NE(errors.find(part + ": is a symbolic link (not followed)"), std::string::npos)
        << part << "\n"
        << errors;
  }
  // keyless: no key can be opened; the task fails saying why.
  json keyless_set = Set(status, "keyless");
  EXPECT_EQ(keyless_set["last_task"]["state"], "failed") << keyless_set.dump(1);
  EXPECT_NE(keyless_set["last_task"].dump().find("keys/ is a symbolic link"), std::string::npos)
      << keyless_set.dump(1);
  RefusedForLink(Set(status, "alias"), "acme/alias");
  // bags: the bag that is a link is not a point; the other one is valid.
  json bags = Set(status, "bags");
  ASSERT_EQ(bags["points"].size(), 1u) << bags.dump(1);
  EXPECT_EQ(bags["points"][0]["name"], "2026-03-05");
  json bv = bags["format_verdicts"]["verdicts"];
  ASSERT_EQ(bv.size(), 1u) << bags.dump(1);
  EXPECT_TRUE(bv[0]["valid"].get<bool>()) << bv.dump(1);
  EXPECT_NE(worker_->err().find("2026-03-06: symbolic link, not followed"), std::string::npos)
      << worker_->err();
  // sums: only "a" verifies; each of the three links is an error.
  json sv = Set(status, "sums")["format_verdicts"]["verdicts"];
  ASSERT_EQ(sv.size(), 1u) << status;
  EXPECT_FALSE(sv[0]["valid"].get<bool>());
  EXPECT_EQ(sv[0]["error_count"], 3) << sv.dump(1);
  for (const char* line : {"SHA256SUMS:2: ", "SHA256SUMS:3: ", "SHA256SUMS:4: "}) {
    EXPECT_NE(sv[0]["errors"].dump().find(line), std::string::npos) << sv.dump(1);
  }
}

TEST_F(ConfinementProcessTest, DrillsNeverLeaveTheirRoot) {
  const std::string point = root_ + "/acme/snaps/daily.0";
  WriteFile(point + "/docs/a.txt", std::string(5000, 'a'));
  WriteFile(point + "/c.txt", "c");
  struct timespec ts[2] = {{0, UTIME_OMIT}, {1790000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, point.c_str(), ts, 0), 0);
  StartWorker();
  Apply(R"(assets:
  - name: fs
    backupSets:
      - {name: snaps, location: loc, path: acme/snaps, layout: rsnapshot}
commitments:
  - restoreDrill: {every: 30d, rto: 8h, sampleFiles: 5}
)");
  Check();
  ASSERT_EQ(Set(StatusText(), "snaps")["catalogue_entries"], 2);

  // A directory of the point replaced by a link to an identical copy
  // outside: the files through it are mismatches, never read.
  ASSERT_EQ(RunProcess({"/bin/cp", "-a", point + "/docs", outside_ + "/docs"}).exit_code, 0);
  fs::remove_all(point + "/docs");
  Link(outside_ + "/docs", point + "/docs");
  ASSERT_EQ(utimensat(AT_FDCWD, point.c_str(), ts, 0), 0);  // the point's time (rsnapshot: mtime)
  // The set's directory then replaced by a link to an identical copy
  // elsewhere in the location (another tenant's place): refused.
  ASSERT_EQ(RunProcess({"/bin/cp", "-a", root_ + "/acme/snaps", other_ + "/snaps"}).exit_code, 0);
  WatchTargets();

  Check({"--drill"});
  std::string status = StatusText();
  EXPECT_FALSE(watch_.Opened()) << "opened outside its root:\n" << watch_.what();
  EXPECT_TRUE(worker_->WaitForOutput("'docs/a.txt' cannot be opened: 'docs' is a symbolic link"))
      << worker_->err();
  EXPECT_NE(status.find("1 restored files differ"), std::string::npos) << status;

  ASSERT_EQ(::rename((root_ + "/acme/snaps").c_str(), (tmp_ / "snaps-away").c_str()), 0);
  Link(other_ + "/snaps", root_ + "/acme/snaps");
  Check({"--drill"});
  status = StatusText();
  EXPECT_FALSE(watch_.Opened()) << "opened outside its root:\n" << watch_.what();
  EXPECT_NE(status.find("the last drill failed: backup set directory"), std::string::npos)
      << status;
  EXPECT_NE(status.find("'acme/snaps' is a symbolic link"), std::string::npos) << status;
}

}  // namespace
}  // namespace vigil::testing
