// The coordinator's data disk fills up mid-check, with real `vigil
// coordinator` and `vigil worker` processes: the coordinator's --data is a
// small tmpfs, nearly full before it starts (so RocksDB cannot preallocate
// its write-ahead log there), a paced worker is part-way through a check
// when a filler file takes the rest. Checked: the coordinator stays up and
// refuses writes with a clear error (/readyz "not ready: database writes
// failing (no space)", the admin CLI shows it), the worker keeps its
// unacknowledged batches and its lease; once the filler is deleted the
// coordinator is ready again by itself and the check completes with the
// same catalogue and counts as a clean run on an ordinary disk: nothing
// acknowledged lost or counted twice. Mounting the tmpfs needs root (as CI
// runs); the test is skipped with the reason otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cluster.h"
#include "tests/integration/http_get.h"
#include "tests/integration/test_util.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 3000;
constexpr uint64_t kMiB = 1 << 20;

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// Writes `bytes` zeros to `path` (all of the space left if `bytes` is 0);
// the bytes written.
uint64_t Fill(const std::string& path, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  std::string block(64 << 10, '\0');
  uint64_t total = 0;
  while (bytes == 0 || total < bytes) {
    size_t n = bytes == 0 ? block.size() : std::min<uint64_t>(block.size(), bytes - total);
    ssize_t w = ::write(fd, block.data(), n);
    if (w <= 0) break;
    total += static_cast<uint64_t>(w);
  }
  if (bytes == 0) {
    while (::write(fd, block.data(), 1) == 1) ++total;
  }
  ::close(fd);
  return total;
}

// One coordinator (5 s leases, HTTP) and one paced worker on the test's
// location: ten files a batch, 20 ms after each, a few seconds for the check.
std::unique_ptr<BackgroundProcess> StartDeployment(Cluster& c, const std::string& data,
                                                   const std::string& root,
                                                   const std::string& manifest) {
  CoordinatorOptions o;
  o.data = data;
  o.http = true;
  o.lease_ttl = "5s";
  if (!c.StartCoordinator(o)) return nullptr;
  if (!c.Apply(manifest)) return nullptr;
  return c.StartWorker("worker", "loc-a=" + root,
                       {"--batch-size", "10", "--test-batch-delay-ms", "20"});
}

// The backup set's entry of `vigil status acme --json` once `ok` holds for
// it; null (and a test failure) after `timeout`.
nlohmann::json WaitForSet(const Cluster& c, const std::function<bool(const nlohmann::json&)>& ok,
                          std::chrono::milliseconds timeout) {
  nlohmann::json last;
  if (WaitFor(
          [&] {
            nlohmann::json j = c.TryStatus("acme");
            if (!j.is_object() || !j["tenants"].is_array() || j["tenants"].empty()) return false;
            last = j["tenants"][0]["backup_sets"][0];
            return ok(last);
          },
          timeout)) {
    return last;
  }
  ADD_FAILURE() << "timed out; last status: " << last.dump();
  return nullptr;
}

// /readyz's body once it starts with `prefix` (within `timeout`); the last
// body otherwise.
std::string WaitForReadyz(const Cluster& c, const std::string& prefix,
                          std::chrono::milliseconds timeout) {
  std::string last;
  WaitFor(
      [&] {
        last = HttpGet(c.http(), "/readyz").body;
        return last.compare(0, prefix.size(), prefix) == 0;
      },
      timeout);
  return last;
}

void Stop(Cluster& c, BackgroundProcess& worker) {
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(), 0) << worker.err();
  c.coordinator().Signal(SIGTERM);
  EXPECT_EQ(c.coordinator().Wait(), 0) << c.coordinator().err();
}

bool Done(const nlohmann::json& set) {
  return set["last_task"].is_object() && set["last_task"]["state"] == "done";
}

class DiskFullProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kFiles; ++i) {
      WriteFile(tmp_ / ("loc/acme/fs/d" + std::to_string(i % 30) + "/f" + std::to_string(i)),
                "file " + std::to_string(i) + std::string(static_cast<size_t>(i % 200), 'x'));
    }
    WriteFile(tmp_ / "acme.yaml", manifests::Head() + manifests::ImmutableFs());
    MakeDirs(tmp_ / "clean");
    MakeDirs(tmp_ / "full");
  }
  void TearDown() override {
    if (mounted_) ::umount2(small_.c_str(), MNT_DETACH);
  }

  TempDir tmp_;
  std::string small_;
  bool mounted_ = false;
};

TEST_F(DiskFullProcessTest, CheckCompletesAfterTheCoordinatorsDiskFilledAndWasFreed) {
  // The reference: the same check on an ordinary disk.
  nlohmann::json clean;
  {
    Cluster c(tmp_ / "clean");
    auto worker = StartDeployment(c, "data", tmp_ / "loc", tmp_ / "acme.yaml");
    ASSERT_TRUE(worker);
    ASSERT_EQ(c.Admin({"check", "run", "acme"}).exit_code, 0);
    clean = WaitForSet(c, Done, std::chrono::seconds(120));
    ASSERT_FALSE(clean.is_null());
    Stop(c, *worker);
  }
  ASSERT_EQ(clean["catalogue_entries"], kFiles) << clean.dump();

  small_ = tmp_ / "small";
  MakeDirs(small_);
  if (::mount("tmpfs", small_.c_str(), "tmpfs", 0, "size=64m") != 0) {
    GTEST_SKIP() << "cannot mount a 64 MiB tmpfs on " << small_ << ": " << std::strerror(errno)
                 << " (needs root or CAP_SYS_ADMIN)";
  }
  mounted_ = true;
  // Nearly full from the start: 12 MiB left, less than RocksDB preallocates
  // for its write-ahead log (17.6 MiB), so its writes need new blocks.
  const uint64_t free_before = FreeBytes(small_);
  ASSERT_GT(free_before, 20 * kMiB);
  ASSERT_EQ(Fill(small_ + "/filler-1", free_before - 12 * kMiB), free_before - 12 * kMiB);

  Cluster d(tmp_ / "full");
  auto worker = StartDeployment(d, small_ + "/data", tmp_ / "loc", tmp_ / "acme.yaml");
  ASSERT_TRUE(worker);
  ASSERT_EQ(d.Admin({"check", "run", "acme"}).exit_code, 0);
  // Part-way through the check: the disk fills.
  nlohmann::json running = WaitForSet(
      d,
      [](const nlohmann::json& s) {
        return s["last_task"].is_object() && s["last_task"]["progress"].is_object() &&
               s["last_task"]["progress"]["files_done"].get<uint64_t>() >= kFiles / 6;
      },
      std::chrono::seconds(60));
  ASSERT_FALSE(running.is_null());
  ASSERT_LT(running["last_task"]["progress"]["files_done"].get<uint64_t>(), kFiles)
      << "the check finished before the disk filled";
  ASSERT_GT(Fill(small_ + "/filler-2", 0), 0u);

  // Refusing writes, with the reason, and alive.
  std::string readyz =
      WaitForReadyz(d, "not ready: database writes failing (no space)", std::chrono::seconds(30));
  ASSERT_EQ(
      readyz.rfind("not ready: database writes failing (no space) in " + small_ + "/data/db", 0),
      0u)
      << readyz << "\ncoordinator: " << d.coordinator().err();
  EXPECT_NE(readyz.find("writes resume by themselves once space is freed"), std::string::npos)
      << readyz;
  HttpReply healthz = HttpGet(d.http(), "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok\n");
  RunResult refused = d.Admin({"token", "issue", "--kind", "enrol"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("database writes failing (no space)"), std::string::npos)
      << refused.err;
  EXPECT_NE(d.coordinator().err().find("vigil coordinator: database writes failing (no space)"),
            std::string::npos)
      << d.coordinator().err();
  // Still refusing (it does not resume while the disk stays full), and the
  // check has not moved on.
  EXPECT_EQ(HttpGet(d.http(), "/readyz").body.rfind("not ready: database writes failing", 0), 0u);
  nlohmann::json stuck = WaitForSet(
      d, [](const nlohmann::json&) { return true; }, std::chrono::seconds(10));
  EXPECT_EQ(stuck["last_task"]["state"], "leased") << stuck.dump();

  // Space back: ready again by itself, and the check completes.
  ASSERT_EQ(::unlink((small_ + "/filler-1").c_str()), 0);
  ASSERT_EQ(::unlink((small_ + "/filler-2").c_str()), 0);
  readyz = WaitForReadyz(d, "ready", std::chrono::seconds(60));
  EXPECT_EQ(readyz, "ready\n") << d.coordinator().err();
  nlohmann::json after = WaitForSet(d, Done, std::chrono::seconds(120));
  ASSERT_FALSE(after.is_null());
  EXPECT_NE(d.coordinator().err().find("vigil coordinator: database writes work again"),
            std::string::npos)
      << d.coordinator().err();

  // Nothing acknowledged lost or counted twice: as on the clean run.
  EXPECT_EQ(after["catalogue_entries"], clean["catalogue_entries"]) << after.dump();
  EXPECT_EQ(after["last_task"]["counts"], clean["last_task"]["counts"]) << after.dump();
  EXPECT_EQ(after["last_task"]["entries"], clean["last_task"]["entries"]) << after.dump();
  EXPECT_EQ(after["last_task"]["errors"], nlohmann::json::array()) << after.dump();
  ASSERT_EQ(after["points"].size(), clean["points"].size()) << after.dump();
  for (size_t i = 0; i < after["points"].size(); ++i) {
    EXPECT_EQ(after["points"][i]["files"], clean["points"][i]["files"]);
    EXPECT_EQ(after["points"][i]["bytes"], clean["points"][i]["bytes"]);
    EXPECT_EQ(after["points"][i]["damage"], clean["points"][i]["damage"]);
  }
  EXPECT_EQ(after["problems"], 0) << after.dump();
  // The same lease all along: the worker kept its batches and its task.
  EXPECT_EQ(after["last_task"]["attempt"], 1) << after.dump();
  Stop(d, *worker);
}

}  // namespace
}  // namespace vigil::testing
