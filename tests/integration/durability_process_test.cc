// Faults of the coordinator under a running check, with real processes on
// loopback (issue 13): restarts within the lease TTL lose no live worker's
// lease, and a coordinator killed at any stage of a merge records the same
// counts, Merkle heads and check log as a run that was never interrupted.
//
// Workers enrol with a token file (--worker-token-file / --token-file) and
// serve only locations of their site.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

using json = nlohmann::json;

class DurabilityProcessTest : public ClusterTest {
 protected:
  void SetUp() override { root_ = tmp_ / "loc"; }

  // Starts a coordinator on `listen` (port 0: any) with `env` set for it
  // alone.
  void StartCoordinator(const std::string& listen, const std::string& ttl,
                        const std::map<std::string, std::string>& env = {}) {
    CoordinatorOptions o;
    o.listen = listen;
    o.lease_ttl = ttl;
    o.env = env;
    if (!keys_.empty()) o.flags = {"--keys", keys_, "--msp-name", "Test MSP"};
    ASSERT_TRUE(cluster_.StartCoordinator(o));
  }
  void StartWorker(int delay_ms) {
    worker_ = cluster_.StartWorker(
        "worker", "loc=" + root_,
        {"--batch-size", "2", "--test-batch-delay-ms", std::to_string(delay_ms)});
  }
  json Status() {
    json j = cluster_.TryStatus("acme");  // null while the coordinator is down
    return j.is_null() ? json() : j["tenants"][0]["backup_sets"][0];
  }
  static std::string State(const json& set) {
    if (set.is_null() || set["last_task"].is_null()) return "";
    return set["last_task"]["state"];
  }
  void Manifest(const std::string& layout) {
    WriteFile(tmp_ / "acme.yaml", manifests::Head("loc") +
                                      manifests::OneSet("fs", "fs", "loc", "acme/fs",
                                                        {"mutable: false", "layout: " + layout}) +
                                      manifests::kRpo24h);
  }

  std::string root_, keys_;
  std::unique_ptr<BackgroundProcess> worker_;
};

// Three coordinator restarts (SIGKILL) during one check,
// with a 5 s lease TTL: the worker reconnects within the documented backoff
// each time, heartbeats within the TTL of grace the restarted coordinator
// gives the leases it finds, and the check completes with its first attempt
// and the right counts. (Before: 5-7 s to reconnect, the lease expired,
// "worker went quiet".)
TEST_F(DurabilityProcessTest, ThreeRestartsWithinTheLeaseTtlExpireNoLiveLease) {
  constexpr int kFiles = 900;
  for (int i = 0; i < kFiles; ++i) {
    WriteFile(root_ + "/acme/fs/d" + std::to_string(i % 9) + "/f" + std::to_string(i),
              "file " + std::to_string(i));
  }
  Manifest("mirror");
  ASSERT_NO_FATAL_FAILURE(StartCoordinator("127.0.0.1:0", "5s"));
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);
  StartWorker(/*delay_ms=*/40);  // 450 batches: about 20 s of work
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  ASSERT_TRUE(worker_->WaitForOutput("leased task")) << worker_->err();

  uint64_t done_before = 0;
  for (int restart = 0; restart < 3; ++restart) {
    SCOPED_TRACE("restart " + std::to_string(restart + 1));
    // The worker is (again) streaming: its progress passed what it was
    // before the last restart.
    uint64_t seen = 0;
    ASSERT_TRUE(WaitFor(
        [&] {
          json s = Status();
          if (State(s) != "leased" || !s["last_task"].contains("progress")) return false;
          seen = s["last_task"]["progress"]["files_done"].get<uint64_t>();
          return seen > done_before;
        },
        std::chrono::seconds(30)))
        << "no progress after the restart; worker log:\n"
        << worker_->err();
    ASSERT_LT(seen, static_cast<uint64_t>(kFiles)) << "the check ran out before the restart";
    done_before = seen;
    const size_t refused = CountOf(worker_->err(), "Connection refused");
    cluster_.coordinator().Signal(SIGKILL);
    EXPECT_EQ(cluster_.coordinator().Wait(), -SIGKILL);
    // Down long enough for the worker to find it so (as a real restart
    // is): its channel is then in TRANSIENT_FAILURE, its retries failing
    // fast, and only a connection attempt after the restart gets through.
    ASSERT_TRUE(WaitFor([&] { return CountOf(worker_->err(), "Connection refused") > refused; },
                        std::chrono::seconds(30)))
        << worker_->err();
    ASSERT_TRUE(cluster_.RestartCoordinator());  // same data, same port
  }
  json s;
  ASSERT_TRUE(WaitFor(
      [&] {
        s = Status();
        return State(s) == "done" || State(s) == "failed";
      },
      std::chrono::seconds(90)))
      << worker_->err();
  EXPECT_EQ(State(s), "done") << s.dump(2);
  EXPECT_EQ(s["last_task"]["attempt"], 1) << s.dump(2) << worker_->err();
  EXPECT_EQ(s["last_task"]["errors"].size(), 0u) << s.dump(2);
  EXPECT_EQ(s["last_task"]["entries"], kFiles);
  EXPECT_EQ(s["last_task"]["counts"]["added"], kFiles);
  EXPECT_EQ(s["catalogue_entries"], kFiles);
  EXPECT_EQ(worker_->err().find("lost"), std::string::npos) << worker_->err();
  EXPECT_NE(worker_->err().find("resending batch"), std::string::npos) << worker_->err();
}

// --- A coordinator killed at every stage of a merge ---------------------

// What a finished check recorded, times left out.
struct Recorded {
  std::string task;         // state, attempt, entries, counts
  std::string catalogue;    // entries, problems, points (files, bytes, gone, damage)
  std::string merkle;       // the signed Merkle head (tree size, root)
  std::string log_records;  // the counts of each check log record the proof carries
  bool operator==(const Recorded& o) const {
    return task == o.task && catalogue == o.catalogue && merkle == o.merkle &&
           log_records == o.log_records;
  }
};
std::ostream& operator<<(std::ostream& os, const Recorded& r) {
  return os << "\n  task: " << r.task << "\n  catalogue: " << r.catalogue
            << "\n  merkle: " << r.merkle << "\n  log: " << r.log_records;
}

class MergeCrashProcessTest : public DurabilityProcessTest {
 protected:
  static constexpr const char* kBatchBytes = "3000";  // several batches per merge

  // The backup: dated folders, 30 files each. Version 1: three days;
  // version 2: the first day gone, a fourth day, and in the second day 3
  // files changed (same size), 3 gone and 4 new.
  void Backup(int version) {
    std::filesystem::remove_all(root_ + "/acme/fs");
    for (int day = 1; day <= 4; ++day) {
      if ((version == 1 && day == 4) || (version == 2 && day == 1)) continue;
      for (int i = 0; i < 34; ++i) {
        if (i >= 30 && !(version == 2 && day == 2)) continue;
        if (version == 2 && day == 2 && i >= 3 && i < 6) continue;
        std::string content = "day " + std::to_string(day) + " file " + std::to_string(i);
        if (version == 2 && day == 2 && i < 3) content[0] = 'D';
        WriteFile(root_ + "/acme/fs/2026-01-0" + std::to_string(day) + "/d" +
                      std::to_string(i % 3) + "/file" + std::to_string(i),
                  content);
      }
    }
  }
  // Runs check `check` (1 or 2) on a coordinator started with the crash
  // point `crash` ("" for none); if it dies there, restarts it without and
  // lets the worker's retry finish the check. True if it crashed.
  bool RunCheck(int check, const std::string& crash) {
    std::map<std::string, std::string> env = {{"VIGIL_TEST_MERGE_BATCH_BYTES", kBatchBytes}};
    if (!crash.empty()) env["VIGIL_TEST_CRASH_POINT"] = crash;
    const std::string addr = cluster_.has_coordinator() ? cluster_.addr() : "127.0.0.1:0";
    if (cluster_.has_coordinator()) {
      cluster_.coordinator().Signal(SIGTERM);
      EXPECT_EQ(cluster_.coordinator().Wait(), 0) << cluster_.coordinator().err();
    }
    StartCoordinator(addr, "30s", env);
    if (check == 1) {
      EXPECT_EQ(Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);
      StartWorker(/*delay_ms=*/0);
    }
    EXPECT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
    bool crashed = false;
    const std::string want_state = "done";
    EXPECT_TRUE(WaitFor(
        [&] {
          if (cluster_.coordinator().err().find("test crash point") != std::string::npos) {
            crashed = true;
            return true;
          }
          json s = Status();
          return State(s) == want_state && s["last_task"]["check_id"].is_number() &&
                 s["last_task"]["check_id"].get<uint64_t>() > last_check_;
        },
        std::chrono::seconds(60)))
        << cluster_.coordinator().err() << worker_->err();
    if (crashed) {
      EXPECT_EQ(cluster_.coordinator().Wait(), -SIGKILL) << cluster_.coordinator().err();
      EXPECT_NE(cluster_.coordinator().err().find("test crash point " + crash), std::string::npos)
          << cluster_.coordinator().err();
      StartCoordinator(cluster_.addr(), "30s", {{"VIGIL_TEST_MERGE_BATCH_BYTES", kBatchBytes}});
      EXPECT_TRUE(WaitFor(
          [&] {
            json s = Status();
            return State(s) == "done" && s["last_task"]["check_id"].get<uint64_t>() > last_check_;
          },
          std::chrono::seconds(60)))
          << cluster_.coordinator().err() << worker_->err();
    }
    last_check_ = Status()["last_task"]["check_id"].get<uint64_t>();
    return crashed;
  }
  // What check `check` recorded: status, a proof issued now, the log.
  Recorded Collect(int check) {
    Recorded r;
    json s = Status();
    const json& t = s["last_task"];
    r.task = std::string(t["state"]) + " attempt " + t["attempt"].dump() + " entries " +
             t["entries"].dump() + " counts " + t["counts"].dump() + " errors " +
             t["errors"].dump();
    r.catalogue = "entries " + s["catalogue_entries"].dump() + " problems " + s["problems"].dump();
    for (const auto& p : s["points"]) {
      r.catalogue += " | " + p["name"].get<std::string>() + ": " + p["files"].dump() + " files " +
                     p["bytes"].dump() + " bytes gone " +
                     (p["gone_ns"].get<int64_t>() != 0 ? "yes" : "no") + " damage " +
                     p["damage"].dump();
    }
    const std::string proof = tmp_ / ("proof" + std::to_string(check) + ".json");
    // Each stage issues its own proof under the same name (vigil report never
    // writes over a proof file): the previous stage's goes first.
    std::filesystem::remove(proof);
    std::filesystem::remove(proof + ".sig");
    std::time_t now = std::time(nullptr);
    char month[16];
    std::strftime(month, sizeof month, "%Y-%m", std::gmtime(&now));
    RunResult rep = Admin({"report", "acme", "--period", month, "--format", "json", "-o",
                           tmp_ / ("report" + std::to_string(check) + ".json"), "--proof", proof});
    EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
    json statement = json::parse(ReadFile(proof), nullptr, false);
    EXPECT_FALSE(statement.is_discarded());
    if (!statement.is_discarded()) {
      r.merkle = statement["report"]["backup_sets"][0]["merkle"]["tree_size"].dump() + " " +
                 statement["report"]["backup_sets"][0]["merkle"]["root"].dump();
      for (const auto& hex : statement["check_log"]["records"]) {
        std::string bytes;
        const std::string h = hex;
        for (size_t i = 0; i + 1 < h.size(); i += 2) {
          bytes.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
        }
        size_t at = bytes.find("\"counts\":");
        r.log_records += at == std::string::npos
                             ? "(no counts) "
                             : bytes.substr(at, bytes.find('}', at) - at + 1) + " ";
      }
    }
    RunResult log = RunVigil({"log", "verify", "--data", tmp_ / "data", "acme"});
    EXPECT_EQ(log.exit_code, 0) << log.out << log.err;
    return r;
  }
  // A whole scenario on fresh data: check 1 and check 2, each on a
  // coordinator with crash point `crash`. Returns what each recorded and
  // sets `crashed1`/`crashed2`.
  std::pair<Recorded, Recorded> Scenario(const std::string& crash, bool* crashed1, bool* crashed2) {
    worker_.reset();
    cluster_.KillCoordinator();
    last_check_ = 0;
    std::filesystem::remove_all(tmp_ / "data");
    Backup(1);
    *crashed1 = RunCheck(1, crash);
    Recorded first = Collect(1);
    Backup(2);
    *crashed2 = RunCheck(2, crash);
    Recorded second = Collect(2);
    return {first, second};
  }

  uint64_t last_check_ = 0;
};

TEST_F(MergeCrashProcessTest, KilledAtEveryStageOfTheMergeRecordsWhatACleanRunRecords) {
  ASSERT_EQ(RunVigil({"keys", "init", "--dir", tmp_ / "keys"}).exit_code, 0);
  keys_ = tmp_ / "keys";
  Manifest("dated-folders");
  bool c1 = false, c2 = false;
  auto [clean1, clean2] = Scenario("", &c1, &c2);
  ASSERT_FALSE(c1 || c2);
  // The clean run itself: all added, then the changes found.
  EXPECT_NE(clean1.task.find("\"added\":90"), std::string::npos) << clean1;
  EXPECT_NE(clean2.task.find("\"modified\":3"), std::string::npos) << clean2;
  EXPECT_NE(clean2.task.find("\"missing\":3"), std::string::npos) << clean2;
  EXPECT_NE(clean1.merkle, clean2.merkle);

  // merge:N kills the coordinator after the merge's N-th write (0: before
  // the first; the last one holds the DONE record), until N is past them.
  int stages1 = 0, stages2 = 0;
  for (int n = 0; n < 40; ++n) {
    const std::string crash = "merge:" + std::to_string(n);
    SCOPED_TRACE(crash);
    auto [first, second] = Scenario(crash, &c1, &c2);
    EXPECT_EQ(first, clean1);
    EXPECT_EQ(second, clean2);
    stages1 += c1;
    stages2 += c2;
    if (!c1 && !c2) break;
  }
  // Several intermediate writes each, besides "before the first" and "the
  // DONE group".
  EXPECT_GE(stages1, 4);
  EXPECT_GE(stages2, 4);
}

}  // namespace
}  // namespace vigil::testing
