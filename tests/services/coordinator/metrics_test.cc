// CoordinatorMetrics on a real coordinator (RocksDB in a temp directory) and
// a manual clock: each figure follows the tasks the coordinator handled.
#include "services/coordinator/metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/hash.h"

namespace vigil::coordinator {
namespace {

class ManualClock : public Clock {
 public:
  int64_t NowNs() override { return now_; }
  int64_t now_ = 1'800'000'000'000'000'000;
};

// The value of `series` in `text`, -1 if absent.
double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

class CoordinatorMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-metrics-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    CoordinatorOptions o;
    o.data_dir = dir_.string();
    o.enrol_token_sha256 = TokenHash("test-enrol");  // workers enrol
    o.clock = &clock_;
    o.lease.ttl_ns = 1'000'000'000;
    o.lease.max_attempts = 2;
    auto c = Coordinator::Open(o);
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = std::move(*c);
    v1::ApplyRequest req;
    auto* l = req.add_locations();
    l->set_name("nas");
    l->set_site("office");
    req.add_tenants()->set_name("acme");
    auto* b = req.add_backup_sets();
    b->set_tenant("acme");
    b->set_asset("fs");
    b->set_name("fs-nas");
    b->set_location("nas");
    b->set_path("acme/fs");
    ASSERT_TRUE(c_->Apply(req).ok());
    v1::RegisterRequest reg;
    reg.set_site("office");
    reg.add_locations("nas");
    auto w = c_->Register("test-enrol", reg);
    ASSERT_TRUE(w.ok()) << w.status();
    worker_ = w->worker_id();
  }
  void TearDown() override {
    metrics_.reset();
    c_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Refresh() {
    if (!metrics_) metrics_ = std::make_unique<CoordinatorMetrics>(c_.get(), MetricsOptions{});
    absl::Status s = metrics_->Refresh();
    EXPECT_TRUE(s.ok()) << s;
    return metrics_->Exposition();
  }
  v1::Task RunAndLease() {
    v1::RunCheckRequest run;
    run.set_tenant("acme");
    EXPECT_TRUE(c_->RunCheck(run).ok());
    auto t = c_->LeaseTask(worker_);
    EXPECT_TRUE(t.ok() && t->has_task());
    return t->task();
  }
  static v1::Observation Obs(const std::string& path, const std::string& content) {
    v1::Observation o;
    o.set_path(path);
    o.set_type(v1::ENTRY_TYPE_FILE);
    o.set_size(content.size());
    o.set_mtime_ns(1);
    storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kXxh3_128, content);
    o.set_digest_algorithm(static_cast<uint32_t>(d.algorithm()));
    o.set_digest(std::string(d.view()));
    return o;
  }

  ManualClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<Coordinator> c_;
  std::unique_ptr<CoordinatorMetrics> metrics_;
  std::string worker_;
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
  clock_.now_ += 2'000'000'000;
  ASSERT_TRUE(c_->ExpireLeases().ok());
  EXPECT_EQ(Sample(Refresh(), "vigil_lease_expiries_total"), 1);
  EXPECT_EQ(Sample(Refresh(), "vigil_tasks{kind=\"check\",state=\"queued\"}"), 1);
  auto again = c_->LeaseTask(worker_);
  ASSERT_TRUE(again.ok() && again->has_task());
  t = again->task();
  v1::ObservationBatch b;
  b.set_task_id(t.id());
  b.set_attempt(t.attempt());
  b.set_seq(1);
  *b.add_observations() = Obs("a", "12345");
  *b.add_observations() = Obs("b", "1234567");
  ASSERT_TRUE(c_->Observe(worker_, b).ok());
  ASSERT_TRUE(c_->Observe(worker_, b).ok());  // resent: acknowledged, not counted again
  v1::CompleteTaskRequest done;
  done.set_task_id(t.id());
  done.set_attempt(t.attempt());
  done.set_final_seq(1);
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
