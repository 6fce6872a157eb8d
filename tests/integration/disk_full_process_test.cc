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
#include <httplib.h>
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
#include <thread>

#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 3000;
constexpr uint64_t kMiB = 1 << 20;

const char* kYaml = R"(apiVersion: vigil/v1
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
      - name: fs-a
        location: loc-a
        path: acme/fs
        mutable: false
)";

// HTTP GET; {status, body}, status 0 if the request failed.
std::pair<int, std::string> Get(const std::string& addr, const std::string& path) {
  size_t colon = addr.rfind(':');
  httplib::Client c(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(10, 0);
  auto r = c.Get(path.c_str());
  if (!r) return {0, ""};
  return {r->status, r->body};
}

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

// One coordinator with one worker on the test's location.
class Deployment {
 public:
  Deployment(const TempDir& tmp, const std::string& data, const std::string& name)
      : tmp_(tmp), data_(data) {
    coord_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{VigilBin(), "coordinator", "--listen", "127.0.0.1:0", "--data",
                                 data, "--http-listen", "127.0.0.1:0", "--lease-ttl", "5s",
                                 "--worker-token-file", tmp / "worker.token"},
        tmp / (name + "-coord"));
    addr_ = coord_->WaitForLine("listening on ");
    http_ = coord_->WaitForLine("http listening on ");
  }
  bool started() const { return !addr_.empty() && !http_.empty(); }
  void StartWorker(const std::string& name) {
    // Ten files a batch, 20 ms after each: a few seconds for the check.
    worker_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{VigilBin(), "worker", "--coordinator", addr_, "--site", "s1",
                                 "--location", "loc-a=" + tmp_ / "loc", "--token-file",
                                 tmp_ / "worker.token", "--batch-size", "10",
                                 "--test-batch-delay-ms", "20"},
        tmp_ / (name + "-worker"));
  }
  RunResult Admin(std::vector<std::string> args) {
    args.insert(args.end(), {"--coordinator", addr_, "--token-file", data_ + "/admin.token"});
    return RunVigil(args);
  }
  // The backup set's entry of `vigil status acme --json` once `ok` holds
  // for it; null after `timeout_ms`.
  nlohmann::json WaitForSet(const std::function<bool(const nlohmann::json&)>& ok, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    nlohmann::json last;
    while (std::chrono::steady_clock::now() < deadline) {
      RunResult r = Admin({"status", "acme", "--json"});
      auto j = nlohmann::json::parse(r.out, nullptr, false);
      if (!j.is_discarded() && j["tenants"].is_array() && !j["tenants"].empty()) {
        last = j["tenants"][0]["backup_sets"][0];
        if (ok(last)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "timed out; last status: " << last.dump() << "\ncoordinator: " << coord_->err()
                  << "\nworker: " << (worker_ ? worker_->err() : "");
    return nullptr;
  }
  // Waits until /readyz answers with a body starting with `prefix`; the
  // last body.
  std::string WaitForReadyz(const std::string& prefix, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = Get(http_, "/readyz").second;
      if (last.compare(0, prefix.size(), prefix) == 0) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }
  void Stop() {
    if (worker_) {
      worker_->Signal(SIGTERM);
      EXPECT_EQ(worker_->Wait(), 0) << worker_->err();
    }
    coord_->Signal(SIGTERM);
    EXPECT_EQ(coord_->Wait(), 0) << coord_->err();
  }

  const TempDir& tmp_;
  std::string data_, addr_, http_;
  std::unique_ptr<BackgroundProcess> coord_, worker_;
};

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
    WriteFile(tmp_ / "acme.yaml", kYaml);
    WriteFile(tmp_ / "worker.token", "3f8a0c1d5e7b9a2c4d6e8f0a1b3c5d7e\n");
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
    Deployment d(tmp_, tmp_ / "clean-data", "clean");
    ASSERT_TRUE(d.started()) << d.coord_->err();
    ASSERT_EQ(d.Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);
    d.StartWorker("clean");
    ASSERT_EQ(d.Admin({"check", "run", "acme"}).exit_code, 0);
    clean = d.WaitForSet(Done, 120000);
    ASSERT_FALSE(clean.is_null());
    d.Stop();
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

  Deployment d(tmp_, small_ + "/data", "full");
  ASSERT_TRUE(d.started()) << d.coord_->err();
  ASSERT_EQ(d.Admin({"apply", "-f", tmp_ / "acme.yaml"}).exit_code, 0);
  d.StartWorker("full");
  ASSERT_EQ(d.Admin({"check", "run", "acme"}).exit_code, 0);
  // Part-way through the check: the disk fills.
  nlohmann::json running = d.WaitForSet(
      [](const nlohmann::json& s) {
        return s["last_task"].is_object() && s["last_task"]["progress"].is_object() &&
               s["last_task"]["progress"]["files_done"].get<uint64_t>() >= kFiles / 6;
      },
      60000);
  ASSERT_FALSE(running.is_null());
  ASSERT_LT(running["last_task"]["progress"]["files_done"].get<uint64_t>(), kFiles)
      << "the check finished before the disk filled";
  ASSERT_GT(Fill(small_ + "/filler-2", 0), 0u);

  // Refusing writes, with the reason, and alive.
  std::string readyz = d.WaitForReadyz("not ready: database writes failing (no space)", 30000);
  ASSERT_EQ(
      readyz.rfind("not ready: database writes failing (no space) in " + small_ + "/data/db", 0),
      0u)
      << readyz << "\ncoordinator: " << d.coord_->err();
  EXPECT_NE(readyz.find("writes resume by themselves once space is freed"), std::string::npos)
      << readyz;
  EXPECT_EQ(Get(d.http_, "/healthz"), std::make_pair(200, std::string("ok\n")));
  RunResult refused = d.Admin({"token", "issue", "--kind", "enrol"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("database writes failing (no space)"), std::string::npos)
      << refused.err;
  EXPECT_NE(d.coord_->err().find("vigil coordinator: database writes failing (no space)"),
            std::string::npos)
      << d.coord_->err();
  // Still refusing (it does not resume while the disk stays full), and the
  // check has not moved on.
  EXPECT_EQ(Get(d.http_, "/readyz").second.rfind("not ready: database writes failing", 0), 0u);
  nlohmann::json stuck = d.WaitForSet([](const nlohmann::json&) { return true; }, 10000);
  EXPECT_EQ(stuck["last_task"]["state"], "running") << stuck.dump();

  // Space back: ready again by itself, and the check completes.
  ASSERT_EQ(::unlink((small_ + "/filler-1").c_str()), 0);
  ASSERT_EQ(::unlink((small_ + "/filler-2").c_str()), 0);
  readyz = d.WaitForReadyz("ready", 60000);
  EXPECT_EQ(readyz, "ready\n") << d.coord_->err();
  nlohmann::json after = d.WaitForSet(Done, 120000);
  ASSERT_FALSE(after.is_null());
  EXPECT_NE(d.coord_->err().find("vigil coordinator: database writes work again"),
            std::string::npos)
      << d.coord_->err();

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
  d.Stop();
}

}  // namespace
}  // namespace vigil::testing
