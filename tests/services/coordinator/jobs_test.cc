// The coordinator's periodic jobs with no gRPC and no thread: Jobs ticked
// with made-up monotonic times, on a coordinator whose wall clock is fake.
#include "services/coordinator/jobs.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000 * kMs;

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

// A coordinator on the shared fixture (fake clock, 1 s leases) with acme's
// file server under a 24 h RPO.
class CoordinatorJobsTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    coordinator_options_.lease.ttl_ns = kSec;
    Open();
    ApplyYaml(vigil::testing::manifests::AcmeFsRpo24h());
  }
  void TearDown() override {
    jobs_.Stop();
    CoordinatorFixture::TearDown();
  }
  std::vector<v1::Task> Tasks() { return c_->leases().All(); }

  // Posted work runs at once, inside Tick.
  Jobs jobs_{[](std::function<void()> work) { work(); }};
};

TEST_F(CoordinatorJobsTest, TheExpiryJobHandsAnExpiredLeaseBack) {
  AddCoordinatorJobs({.expire_every_ms = 250}, {.coordinator = c_.get()}, &jobs_);
  RegisterWorker();
  v1::RunCheckRequest run;
  run.set_tenant("acme");
  ASSERT_TRUE(c_->RunCheck(run).ok());
  auto leased = c_->LeaseTask(worker_);
  ASSERT_TRUE(leased.ok() && leased->has_task());

  EXPECT_EQ(jobs_.Tick(0), 250 * kMs);  // the first pass is one period later
  clock_.Advance(2 * kSec);             // the lease's TTL is 1 s
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
