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

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 30;
const char* const kSets[] = {"fs-a", "fs-b", "fs-c"};

class CapacityProcessTest : public ClusterTest {
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
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head() + "assets:\n  - name: fs\n    backupSets:\n" + sets);
  }

  // A coordinator with its own data directory `name`, the manifest applied.
  void StartCoordinator(const std::string& name) {
    CoordinatorOptions o;
    o.data = name;
    o.lease_ttl = "30s";
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }
  std::unique_ptr<BackgroundProcess> StartWorker(const std::string& name, int capacity,
                                                 int delay_ms) {
    return cluster_.StartWorker(name, "loc-a=" + root_,
                                {"--batch-size", "2", "--capacity", std::to_string(capacity),
                                 "--test-batch-delay-ms", std::to_string(delay_ms)});
  }
  // The tenant's backup sets by name.
  std::map<std::string, nlohmann::json> Sets() {
    nlohmann::json j = cluster_.Status("acme");
    std::map<std::string, nlohmann::json> out;
    if (j.is_null()) return out;
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
    const bool reached = WaitFor(
        [&] {
          workers->clear();
          int running = 0;
          for (const auto& [name, s] : Sets()) {
            if (State(s) != "leased") continue;
            ++running;
            workers->insert(s["last_task"]["worker"].get<std::string>());
          }
          most = std::max(most, running);
          return static_cast<size_t>(running) >= want;
        },
        std::chrono::milliseconds(timeout_ms));
    return reached ? most : 0;
  }
  // Polls until every set's last task is done or failed.
  std::map<std::string, nlohmann::json> WaitForAll(int timeout_ms = 90000) {
    std::map<std::string, nlohmann::json> sets;
    const bool finished = WaitFor(
        [&] {
          sets = Sets();
          bool all = sets.size() == std::size(kSets);
          for (const auto& [name, s] : sets) {
            all = all && (State(s) == "done" || State(s) == "failed");
          }
          return all;
        },
        std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(200));
    if (!finished) ADD_FAILURE() << "tasks did not finish";
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

  std::string root_;
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
  cluster_.KillCoordinator();

  StartCoordinator("cap2");
  auto w = StartWorker("cap2-w", 2, 100);
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  std::set<std::string> workers;
  const int most = WaitForRunning(2, &workers);
  EXPECT_EQ(most, 2) << w->err();
  ASSERT_EQ(workers.size(), 1u);  // both leases held by the one worker
  EXPECT_FALSE(workers.begin()->empty());
  // Never more than the capacity: the third task waits for a free slot.
  // (Sampled over a second: the sleep paces the samples.)
  for (int i = 0; i < 10; ++i) {
    int running = 0;
    for (const auto& [name, s] : Sets()) running += State(s) == "leased";
    EXPECT_LE(running, 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const nlohmann::json got = Essence(WaitForAll());
  EXPECT_EQ(got, reference) << got.dump(2) << "\n" << reference.dump(2);
  EXPECT_EQ(CountOf(w->err(), "leased task"), 3u) << w->err();
  EXPECT_EQ(CountOf(w->err(), "completed task"), 3u) << w->err();

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
  EXPECT_EQ(CountOf(a->err(), "handed back task") + CountOf(a->err(), "completed task"), 2u)
      << a->err();
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
