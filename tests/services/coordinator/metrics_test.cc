// CoordinatorMetrics on a real coordinator (RocksDB in a temp directory) and
// a manual clock: each figure follows the tasks the coordinator handled.
#include "services/coordinator/metrics.h"

#include <gtest/gtest.h>

#include "storage/hash.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

// The value of `series` in `text`, -1 if absent.
double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

class CoordinatorMetricsTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    clock_.Set(1'800'000'000'000'000'000);
    coordinator_options_.lease.ttl_ns = 1'000'000'000;
    coordinator_options_.lease.max_attempts = 2;
    Open();
    Apply(SetRequest());
    RegisterWorker();
  }
  void TearDown() override {
    metrics_.reset();
    CoordinatorFixture::TearDown();
  }
  std::string Refresh() {
    if (!metrics_) metrics_ = std::make_unique<CoordinatorMetrics>(c_.get(), MetricsOptions{});
    absl::Status s = metrics_->Refresh();
    EXPECT_TRUE(s.ok()) << s;
    return metrics_->Exposition();
  }
  std::unique_ptr<CoordinatorMetrics> metrics_;
};

TEST_F(CoordinatorMetricsTest, FiguresFollowTheTasks) {
  std::string m = Refresh();
  EXPECT_EQ(Sample(m, "vigil_check_runs_total"), 0);
  EXPECT_EQ(Sample(m, "vigil_lease_expiries_total"), 0);

  // A lease that expires, then a second attempt that completes.
  v1::Task t = RunAndLease();
  m = Refresh();
  EXPECT_EQ(Sample(m, "vigil_tasks{kind=\"check\",state=\"leased\"}"), 1);
  EXPECT_EQ(Sample(m, "vigil_check_runs_total"), 0);  // not finished
  clock_.Advance(2'000'000'000);
  ASSERT_TRUE(c_->ExpireLeases().ok());
  EXPECT_EQ(Sample(Refresh(), "vigil_lease_expiries_total"), 1);
  EXPECT_EQ(Sample(Refresh(), "vigil_tasks{kind=\"check\",state=\"queued\"}"), 1);
  auto again = c_->LeaseTask(worker_);
  ASSERT_TRUE(again.ok() && again->has_task());
  t = again->task();
  const v1::ObservationBatch b = Batch(t, 1, {Obs("a", "12345"), Obs("b", "1234567")});
  ASSERT_TRUE(c_->Observe(worker_, b).ok());
  ASSERT_TRUE(c_->Observe(worker_, b).ok());  // resent: acknowledged, not counted again
  v1::CompleteTaskRequest done = Done(t, 1);
  ASSERT_TRUE(c_->CompleteTask(worker_, done).ok());
  m = Refresh();
  EXPECT_EQ(Sample(m, "vigil_check_runs_total"), 1);
  EXPECT_EQ(Sample(m, "vigil_check_runs_failed_total"), 0);
  EXPECT_EQ(Sample(m, "vigil_verified_entries_total"), 2);
  EXPECT_EQ(Sample(m, "vigil_findings_total{finding=\"added\"}"), 2);
  EXPECT_EQ(Sample(m, "vigil_verified_bytes_total{location=\"nas\"}"), 12);
  EXPECT_EQ(Sample(m, "vigil_tasks{kind=\"check\",state=\"done\"}"), 1);
  EXPECT_EQ(Sample(m, "vigil_tasks{kind=\"check\",state=\"queued\"}"), 0);
  EXPECT_GE(Sample(m, "vigil_database_keys{space=\"catalogue\"}"), 0);

  // A run whose task fails every attempt counts as a failed run.
  for (int attempt = 0; attempt < 2; ++attempt) {
    v1::Task f = attempt == 0 ? RunAndLease() : c_->LeaseTask(worker_)->task();
    v1::CompleteTaskRequest err;
    err.set_task_id(f.id());
    err.set_attempt(f.attempt());
    err.set_error("disk on fire");
    ASSERT_TRUE(c_->CompleteTask(worker_, err).ok());
  }
  m = Refresh();
  EXPECT_EQ(Sample(m, "vigil_check_runs_total"), 2);
  EXPECT_EQ(Sample(m, "vigil_check_runs_failed_total"), 1);
  EXPECT_EQ(Sample(m, "vigil_tasks{kind=\"check\",state=\"failed\"}"), 1);
  EXPECT_TRUE(metrics_->last_refresh().ok());
  ASSERT_NE(metrics_->last_status(), nullptr);
  EXPECT_EQ(metrics_->last_status()->tenants(0).tenant().name(), "acme");
}

}  // namespace
}  // namespace vigil::coordinator
