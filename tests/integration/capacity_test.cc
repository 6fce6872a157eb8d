// `vigil worker --capacity N` as real processes on loopback (port 0): one
// worker holds two leases at once, never more, and the catalogues equal
// those of a capacity-1 run; SIGTERM with two tasks running hands both back.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 30;
const char* const kSets[] = {"fs-a", "fs-b", "fs-c"};

// Occurrences of `needle` in `hay`.
int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

class CapacityProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc-a";
    std::string sets;
    for (const char* set : kSets) {
      for (int i = 0; i < kFiles; ++i) {
        WriteFile(
            root_ + "/acme/" + set + "/dir" + std::to_string(i % 3) + "/file" + std::to_string(i),
            std::string(set) + " file " + std::to_string(i) + std::string(i * 7, 'q'));
      }
      sets += std::string("      - name: ") + set + "\n        location: loc-a\n" +
              "        path: acme/" + set + "\n        mutable: false\n";
    }
    WriteFile(tmp_ / "acme.yaml", R"(apiVersion: vigil/v1
kind: Location
name: loc-a
site: s1
---
apiVersion: vigil/v1
kind: Tenant
name: acme
timezone: UTC
---
apiVersion: vigil/v1
kind: Contract
tenant: acme
assets:
  - name: fs
    backupSets:
)" + sets);
  }

  // A coordinator on a free port with its own data directory `name`.
  void StartCoordinator(const std::string& name) {
    coord_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{VigilBin(), "coordinator", "--worker-token-file",
                                 WorkerTokenFile(tmp_), "--listen", "127.0.0.1:0", "--data",
                                 tmp_ / name, "--lease-ttl", "30s"},
        tmp_ / name + "-coord");
    addr_ = coord_->WaitForLine("listening on ");
    ASSERT_FALSE(addr_.empty()) << coord_->err();
    token_file_ = tmp_ / name + "/admin.token";
    RunResult r = Admin({"apply", "-f", tmp_ / "acme.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::unique_ptr<BackgroundProcess> StartWorker(const std::string& name, int capacity,
                                                 int delay_ms) {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{
            VigilBin(), "worker", "--token-file", WorkerTokenFile(tmp_), "--coordinator", addr_,
            "--site", "s1", "--location", "loc-a=" + root_, "--batch-size", "2", "--capacity",
            std::to_string(capacity), "--test-batch-delay-ms", std::to_string(delay_ms)},
        tmp_ / name);
  }
  RunResult Admin(std::vector<std::string> args) {
    args.insert(args.end(), {"--coordinator", addr_, "--token-file", token_file_});
    return RunVigil(args);
  }
  // The tenant's backup sets by name.
  std::map<std::string, nlohmann::json> Sets() {
    RunResult r = Admin({"status", "acme", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    std::map<std::string, nlohmann::json> out;
    if (j.is_discarded()) return out;
    for (const auto& s : j["tenants"][0]["backup_sets"]) out[s["name"]] = s;
    return out;
  }
  static std::string State(const nlohmann::json& set) {
    return set["last_task"].is_null() ? "" : set["last_task"]["state"].get<std::string>();
  }
  // Polls until `want` sets' last tasks are running at once; returns the
  // largest number seen running together (0 on timeout).
  int WaitForRunning(size_t want, std::set<std::string>* workers, int timeout_ms = 30000) {
    int most = 0;
    for (int waited = 0; waited < timeout_ms; waited += 100) {
      workers->clear();
      int running = 0;
      for (const auto& [name, s] : Sets()) {
        if (State(s) != "leased") continue;
        ++running;
        workers->insert(s["last_task"]["worker"].get<std::string>());
      }
      most = std::max(most, running);
      if (static_cast<size_t>(running) >= want) return most;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
  }
  // Polls until every set's last task is done or failed.
  std::map<std::string, nlohmann::json> WaitForAll(int timeout_ms = 90000) {
    std::map<std::string, nlohmann::json> sets;
    for (int waited = 0; waited < timeout_ms; waited += 200) {
      sets = Sets();
      bool all = sets.size() == std::size(kSets);
      for (const auto& [name, s] : sets) all = all && (State(s) == "done" || State(s) == "failed");
      if (all) return sets;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "tasks did not finish";
    return sets;
  }
  // What a catalogue holds, without ids, workers or times.
  static nlohmann::json Essence(const std::map<std::string, nlohmann::json>& sets) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, s] : sets) {
      out[name] = {{"state", State(s)},
                   {"catalogue_entries", s["catalogue_entries"]},
                   {"problems", s["problems"]},
                   {"entries", s["last_task"]["entries"]},
                   {"counts", s["last_task"]["counts"]}};
    }
    return out;
  }

  TempDir tmp_;
  std::string root_, addr_, token_file_;
  std::unique_ptr<BackgroundProcess> coord_;
};

TEST_F(CapacityProcessTest, OneWorkerRunsTwoTasksAtOnceAndTheCataloguesMatchCapacityOne) {
  // Reference: the same sets checked by a capacity-1 worker.
  StartCoordinator("ref");
  auto ref_worker = StartWorker("ref-w", 1, 0);
  ASSERT_EQ(Admin({"check", "run", "acme", "--wait", "--timeout", "60"}).exit_code, 0);
  const nlohmann::json reference = Essence(WaitForAll());
  for (const char* set : kSets) {
    EXPECT_EQ(reference[set]["catalogue_entries"], kFiles) << reference.dump(2);
    EXPECT_EQ(reference[set]["counts"]["added"], kFiles) << reference.dump(2);
  }
  ref_worker.reset();
  coord_.reset();

  StartCoordinator("cap2");
  auto w = StartWorker("cap2-w", 2, 100);
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  std::set<std::string> workers;
  const int most = WaitForRunning(2, &workers);
  EXPECT_EQ(most, 2) << w->err();
  ASSERT_EQ(workers.size(), 1u);  // both leases held by the one worker
  EXPECT_FALSE(workers.begin()->empty());
  // Never more than the capacity: the third task waits for a free slot.
  for (int i = 0; i < 10; ++i) {
    int running = 0;
    for (const auto& [name, s] : Sets()) running += State(s) == "leased";
    EXPECT_LE(running, 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const nlohmann::json got = Essence(WaitForAll());
  EXPECT_EQ(got, reference) << got.dump(2) << "\n" << reference.dump(2);
  EXPECT_EQ(Count(w->err(), "leased task"), 3) << w->err();
  EXPECT_EQ(Count(w->err(), "completed task"), 3) << w->err();

  // A second check finds every file unchanged: nothing lost or doubled.
  ASSERT_EQ(Admin({"check", "run", "acme", "--wait", "--timeout", "60"}).exit_code, 0);
  for (const auto& [name, s] : Sets()) {
    EXPECT_EQ(s["catalogue_entries"], kFiles) << name;
    EXPECT_EQ(s["problems"], 0) << name;
    EXPECT_EQ(s["last_task"]["counts"]["unchanged"], kFiles) << s.dump();
  }
  w->Signal(SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->err();
}

TEST_F(CapacityProcessTest, SigtermWithTwoTasksRunningHandsBothBack) {
  StartCoordinator("data");
  auto a = StartWorker("wa", 2, 150);
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  std::set<std::string> workers;
  ASSERT_EQ(WaitForRunning(2, &workers), 2) << a->err();
  a->Signal(SIGTERM);
  EXPECT_EQ(a->Wait(), 0) << a->err();
  // Each running task was handed back (or, had it just ended, completed).
  EXPECT_EQ(Count(a->err(), "handed back task") + Count(a->err(), "completed task"), 2) << a->err();
  int queued = 0;
  for (const auto& [name, s] : Sets()) {
    EXPECT_NE(State(s), "leased") << s.dump();
    EXPECT_EQ(s["last_task"]["errors"].size(), 0u) << s.dump();
    queued += State(s) == "queued";
  }
  EXPECT_GE(queued, 2);  // the third never leased, and at least one handed back
  // Without the hand-backs this would wait for the 30 s TTL.
  auto b = StartWorker("wb", 2, 0);
  auto sets = WaitForAll(20000);
  for (const auto& [name, s] : sets) {
    EXPECT_EQ(State(s), "done") << s.dump();
    EXPECT_EQ(s["catalogue_entries"], kFiles) << s.dump();
  }
}

}  // namespace
}  // namespace vigil::testing
