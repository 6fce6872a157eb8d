// Progress of running checks, with real `vigil coordinator` and `vigil worker`
// processes on loopback (port 0): a slowed worker (--test-batch-delay-ms)
// keeps a check running while /api/dashboard and `vigil status --json` show
// its files and bytes moving forward, without a total on the set's first
// check and with the total of the last check on the next one; the progress
// is gone once the task is done. Polls with deadlines, no timed assertion.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cluster.h"
#include "tests/integration/http_get.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 40;

nlohmann::json GetJson(const std::string& addr, const std::string& path, const std::string& token) {
  HttpReply r = HttpGet(addr, path, "Bearer " + token);
  if (r.status != 200) return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

class ProgressProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc-a";
    for (int i = 0; i < kFiles; ++i) {
      std::string body = "file " + std::to_string(i) + std::string(50 * i, 'q');
      WriteFile(root_ + "/acme/fs/d" + std::to_string(i % 4) + "/f" + std::to_string(i), body);
      bytes_ += body.size();
    }
    WriteFile(tmp_ / "acme.yaml", manifests::Head() + manifests::ImmutableFs());
    // A short lease: the worker heartbeats (with its progress) every second.
    CoordinatorOptions o;
    o.http = true;
    o.lease_ttl = "3s";
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    http_ = cluster_.http();
    token_ = cluster_.AdminToken();
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
    // Two files per batch, 150 ms after each: about 3 s per check.
    worker_ = cluster_.StartWorker("worker", "loc-a=" + root_,
                                   {"--batch-size", "2", "--test-batch-delay-ms", "150"});
  }

  // The dashboard's running task's progress once `ok` holds for it; null
  // if it never does within 30 s.
  nlohmann::json WaitForProgress(const std::function<bool(const nlohmann::json&)>& ok) {
    nlohmann::json last, progress;
    const bool seen = WaitFor(
        [&] {
          nlohmann::json d = GetJson(http_, "/api/dashboard", token_);
          if (!d.is_object()) return false;
          for (const auto& t : d["tasks"]) {
            if (t["state"] == "leased" && t["progress"].is_object()) {
              last = t;
              if (ok(t["progress"])) {
                progress = t["progress"];
                return true;
              }
            }
          }
          return false;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    if (seen) return progress;
    ADD_FAILURE() << "no running task with the expected progress; last seen: " << last.dump();
    return nullptr;
  }

  // Polls `vigil status` until the set's last check is done.
  void WaitForDone() {
    nlohmann::json task;
    if (WaitFor([&] {
          nlohmann::json j = cluster_.TryStatus("acme");
          if (j.is_null()) return false;
          task = j["tenants"][0]["backup_sets"][0]["last_task"];
          return task.is_object() && task["state"] == "done";
        })) {
      EXPECT_FALSE(task.contains("progress"));
      return;
    }
    ADD_FAILURE() << "the check did not finish: " << worker_->err();
  }

  std::string root_, http_, token_;
  uint64_t bytes_ = 0;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(ProgressProcessTest, RunningCheckShowsItsProgressThenFinishes) {
  // First check of the set: no total known, an indeterminate bar.
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  nlohmann::json first = WaitForProgress([](const nlohmann::json& p) {
    return p["files_done"].get<uint64_t>() > 0 && p["files_done"].get<uint64_t>() < kFiles;
  });
  ASSERT_TRUE(first.is_object());
  EXPECT_EQ(first["files_total"], 0) << first.dump();
  EXPECT_EQ(first["bytes_total"], 0) << first.dump();
  EXPECT_TRUE(first["percent"].is_null()) << first.dump();
  EXPECT_GT(first["started_ns"].get<int64_t>(), 0) << first.dump();
  WaitForDone();

  // The next check: the total of the set's point as the first one recorded.
  // One file touched first (same bytes, a new mtime), so that the point is
  // walked and sent again at the test's pace: a point found the same as at
  // the last check would be one held marker, sent at once.
  const std::string touched = root_ + "/acme/fs/d0/f0";
  std::filesystem::last_write_time(
      touched, std::filesystem::last_write_time(touched) + std::chrono::seconds(5));
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  nlohmann::json early = WaitForProgress([](const nlohmann::json& p) {
    return p["files_done"].get<uint64_t>() > 0 && p["files_done"].get<uint64_t>() < kFiles;
  });
  ASSERT_TRUE(early.is_object());
  EXPECT_EQ(early["files_total"], kFiles) << early.dump();
  EXPECT_EQ(early["bytes_total"], bytes_) << early.dump();
  ASSERT_TRUE(early["percent"].is_number()) << early.dump();
  EXPECT_LT(early["percent"].get<double>(), 100.0);
  EXPECT_LE(early["bytes_done"].get<uint64_t>(), bytes_);
  // `vigil status` shows the same running task's progress.
  {
    RunResult r = Admin({"status", "acme", "--json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
    const auto& lt = j["tenants"][0]["backup_sets"][0]["last_task"];
    if (lt["state"] == "leased") {  // it may just have finished
      ASSERT_TRUE(lt["progress"].is_object()) << lt.dump();
      EXPECT_EQ(lt["progress"]["files_total"], kFiles) << lt.dump();
      EXPECT_GE(lt["progress"]["files_done"].get<uint64_t>(), early["files_done"].get<uint64_t>());
    }
  }
  // It moves forward while the check runs.
  const uint64_t seen = early["files_done"].get<uint64_t>();
  nlohmann::json later =
      WaitForProgress([seen](const nlohmann::json& p) { return p["files_done"] > seen; });
  ASSERT_TRUE(later.is_object());
  EXPECT_GE(later["bytes_done"].get<uint64_t>(), early["bytes_done"].get<uint64_t>());
  EXPECT_GE(later["percent"].get<double>(), early["percent"].get<double>());
  EXPECT_GE(later["updated_ns"].get<int64_t>(), early["updated_ns"].get<int64_t>());
  WaitForDone();
  // Done: no task in progress any more.
  nlohmann::json d = GetJson(http_, "/api/dashboard", token_);
  ASSERT_TRUE(d.is_object());
  EXPECT_TRUE(d["tasks"].empty()) << d.dump();

  worker_->Signal(SIGTERM);
  EXPECT_EQ(worker_->Wait(), 0) << worker_->err();
}

}  // namespace
}  // namespace vigil::testing
