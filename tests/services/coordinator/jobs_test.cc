// The coordinator's periodic jobs with no gRPC and no thread: Jobs ticked
// with made-up monotonic times, on a coordinator whose wall clock is fake.
#include "services/coordinator/jobs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace vigil::coordinator {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000 * kMs;

class FakeClock : public Clock {
 public:
  int64_t NowNs() override { return now; }
  int64_t now = 1'790'812'800LL * kSec;  // 2026-10-01T00:00:00Z
};

TEST(JobsTest, EachJobRunsAtItsPeriodAndARunningOneIsSkipped) {
  std::vector<std::function<void()>> posted;  // run when the test says
  Jobs jobs([&](std::function<void()> work) { posted.push_back(std::move(work)); });
  int a = 0, b = 0;
  jobs.Add(10, 0, [&] { ++a; });   // at once, then every 10
  jobs.Add(25, 25, [&] { ++b; });  // after 25, then every 25
  EXPECT_EQ(jobs.Tick(100), 110);
  ASSERT_EQ(posted.size(), 1u);
  // `a` is due again but its run has not finished: not queued behind it.
  EXPECT_EQ(jobs.Tick(110), 120);
  EXPECT_EQ(posted.size(), 1u);
  posted[0]();
  posted.clear();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(jobs.Tick(125), 135);
  ASSERT_EQ(posted.size(), 2u);
  for (auto& run : posted) run();
  posted.clear();
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 1);
  jobs.Stop();
  EXPECT_EQ(jobs.Tick(1000), Jobs::kNever);
  EXPECT_TRUE(posted.empty());
}

class CoordinatorJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-jobs-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    CoordinatorOptions o;
    o.data_dir = dir_.string();
    o.enrol_token_sha256 = TokenHash("test-enrol");
    o.clock = &clock_;
    o.lease.ttl_ns = kSec;
    auto c = Coordinator::Open(o);
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = std::move(*c);
    v1::ApplyRequest req;
    v1::ManifestFile* f = req.add_files();
    f->set_name("acme.yaml");
    f->set_text(R"(apiVersion: vigil/v1
kind: Location
name: nas
site: office
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
      - name: fs-nas
        location: nas
        path: acme/fs
commitments:
  - rpo: 24h
)");
    auto applied = c_->Apply(req);
    ASSERT_TRUE(applied.ok()) << applied.status();
  }
  void TearDown() override {
    jobs_.Stop();
    c_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<v1::Task> Tasks() { return c_->leases().All(); }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<Coordinator> c_;
  // Posted work runs at once, inside Tick.
  Jobs jobs_{[](std::function<void()> work) { work(); }};
};

TEST_F(CoordinatorJobsTest, TheExpiryJobHandsAnExpiredLeaseBack) {
  AddCoordinatorJobs({.expire_every_ms = 250}, {.coordinator = c_.get()}, &jobs_);
  v1::RegisterRequest reg;
  reg.set_site("office");
  reg.add_locations("nas");
  auto w = c_->Register("test-enrol", reg);
  ASSERT_TRUE(w.ok()) << w.status();
  v1::RunCheckRequest run;
  run.set_tenant("acme");
  ASSERT_TRUE(c_->RunCheck(run).ok());
  auto leased = c_->LeaseTask(w->worker_id());
  ASSERT_TRUE(leased.ok() && leased->has_task());

  EXPECT_EQ(jobs_.Tick(0), 250 * kMs);  // the first pass is one period later
  clock_.now += 2 * kSec;               // the lease's TTL is 1 s
  ASSERT_EQ(Tasks().size(), 1u);
  EXPECT_EQ(Tasks()[0].state(), v1::TASK_STATE_LEASED);  // nobody called since
  jobs_.Tick(250 * kMs);
  ASSERT_EQ(Tasks().size(), 1u);
  EXPECT_EQ(Tasks()[0].state(), v1::TASK_STATE_QUEUED);
}

TEST_F(CoordinatorJobsTest, TheSchedulerJobQueuesDueChecksOnceAtStart) {
  AddCoordinatorJobs({.expire_every_ms = 0, .schedule_every_ms = 60'000}, {.coordinator = c_.get()},
                     &jobs_);
  EXPECT_TRUE(Tasks().empty());
  EXPECT_EQ(jobs_.Tick(0), 60 * kSec);  // the first pass is at once
  ASSERT_EQ(Tasks().size(), 1u);
  EXPECT_EQ(Tasks()[0].backup_set().name(), "fs-nas");
  EXPECT_EQ(Tasks()[0].state(), v1::TASK_STATE_QUEUED);
  jobs_.Tick(60 * kSec);  // still queued: not queued twice
  EXPECT_EQ(Tasks().size(), 1u);
}

TEST_F(CoordinatorJobsTest, TheMetricsJobRefreshesEveryPeriod) {
  CoordinatorMetrics metrics(c_.get(), MetricsOptions{});
  AddCoordinatorJobs({.expire_every_ms = 0, .metrics_every_ms = 15'000},
                     {.coordinator = c_.get(), .metrics = &metrics}, &jobs_);
  jobs_.Tick(0);  // the node refreshes once itself before serving
  EXPECT_EQ(metrics.Exposition(), "");
  jobs_.Tick(15 * kSec);
  EXPECT_NE(metrics.Exposition().find("vigil_build_info"), std::string::npos);
  jobs_.Stop();  // before `metrics` goes
}

}  // namespace
}  // namespace vigil::coordinator
