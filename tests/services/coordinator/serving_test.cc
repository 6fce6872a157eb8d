// Which locations a worker serves, and what is said about the ones none
// does (issue 16): Apply's warnings, RunCheck's `unserved`, Task.waiting on
// the queued tasks GetStatus and the dashboard hand out; and a manual
// check inside a location's maintenance window (refused without force).
//
// In-process coordinator on the fake clock (coordinator_fixture.h): a
// worker's silence is stepped, not slept. Single-threaded gtest.

#include <gtest/gtest.h>

#include <string>

#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

class ServingTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    coordinator_options_.lease.ttl_ns = 30 * kSecond;
    Open();
  }
  v1::RunCheckResponse Run(bool force = false) {
    v1::RunCheckRequest req;
    req.set_tenant("acme");
    req.set_force(force);
    auto r = c_->RunCheck(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::RunCheckResponse();
  }
  // The last task of fs-nas as GetStatus hands it out.
  v1::Task LastTask() {
    v1::TenantStatus st = AcmeStatus();
    return st.backup_sets_size() > 0 ? st.backup_sets(0).last_task() : v1::Task();
  }
};

TEST_F(ServingTest, ApplyWarnsOfALocationNoWorkerServes) {
  auto r = c_->Apply(SetRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_EQ(r->warnings(0),
            "location nas (site office): no worker serves it; its checks wait until one does: "
            "start one with: vigil worker --site office --location nas=PATH "
            "(docs/first-day.md, section 5)");

  // A dry run says the same, from the request's declaration.
  v1::ApplyRequest dry = SetRequest();
  dry.set_dry_run(true);
  r = c_->Apply(dry);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->warnings_size(), 1);

  // Served: no warning.
  RegisterWorker("office", {"nas"});
  r = c_->Apply(SetRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->warnings_size(), 0);
}

TEST_F(ServingTest, AWorkerOfAnotherSiteOrLocationDoesNotServe) {
  Apply(SetRequest());
  RegisterWorker("office", {"nas-paris"});  // the first-day mismatch: another name
  v1::RunCheckResponse r = Run();
  ASSERT_EQ(r.unserved_size(), 1);
  EXPECT_NE(r.unserved(0).find("location nas (site office): no worker serves it"),
            std::string::npos)
      << r.unserved(0);
  EXPECT_NE(r.unserved(0).find("vigil worker --site office --location nas=PATH"),
            std::string::npos);
  v1::Task t = LastTask();
  EXPECT_EQ(t.state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(t.waiting(), "no worker serves nas (site office)");

  // The check's own tasks (what `check run --wait` polls) carry it too.
  v1::GetStatusRequest req;
  req.set_check_id(r.check_id());
  req.set_tasks_only(true);
  auto st = c_->GetStatus(req);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->check_tasks_size(), 1);
  EXPECT_EQ(st->check_tasks(0).waiting(), "no worker serves nas (site office)");
  // The dashboard's copies.
  bool found = false;
  for (const v1::Task& d : c_->TasksWithWaiting()) {
    if (d.id() == t.id()) found = d.waiting() == t.waiting();
  }
  EXPECT_TRUE(found);
}

TEST_F(ServingTest, WaitingLastsOnlyWhileNoLiveWorkerServes) {
  Apply(SetRequest());
  RegisterWorker("office", {"nas"});
  v1::RunCheckResponse r = Run();
  EXPECT_EQ(r.unserved_size(), 0);
  EXPECT_EQ(LastTask().waiting(), "");

  // Silent for more than 3 lease TTLs: no longer counted.
  clock_.Advance(91 * kSecond);
  EXPECT_EQ(LastTask().waiting(), "no worker serves nas (site office)");
  EXPECT_EQ(Run().unserved_size(), 1);

  // Heard from again (it asks for work): served, and it leases the task.
  auto leased = c_->LeaseTask(worker_);
  ASSERT_TRUE(leased.ok()) << leased.status();
  EXPECT_EQ(LastTask().waiting(), "");
  // Never stored: a restart forgets it (and the worker is timed from the
  // restart).
  Open();
  v1::TenantStatus st = AcmeStatus();
  ASSERT_EQ(st.backup_sets_size(), 1);
  EXPECT_EQ(st.backup_sets(0).last_task().waiting(), "");
}

// The location's window: 22:00 for 4 h every day, UTC. The fake clock
// starts at 2026-10-01T00:00Z, inside it.
v1::ApplyRequest WindowedSet() {
  v1::ApplyRequest req = CoordinatorFixture::SetRequest();
  v1::WeeklyWindow* w = req.mutable_locations(0)->add_maintenance_windows();
  w->set_days(0x7f);
  w->set_start_minute(22 * 60);
  w->set_duration_ns(4 * 3600 * kSecond);
  return req;
}

TEST_F(ServingTest, ManualCheckInsideAMaintenanceWindowNeedsForce) {
  Apply(WindowedSet());
  RegisterWorker("office", {"nas"});
  v1::RunCheckRequest req;
  req.set_tenant("acme");
  auto refused = c_->RunCheck(req);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_EQ(refused.status().message(),
            "location nas is inside a maintenance window until 2026-10-01 02:00 UTC: a check "
            "now would read storage that is being written or maintained; run it after the "
            "window, or pass --force to read it anyway");
  EXPECT_EQ(LastTask().id(), 0u) << "nothing queued";

  v1::RunCheckResponse forced = Run(/*force=*/true);
  ASSERT_EQ(forced.forced_size(), 1);
  EXPECT_EQ(forced.forced(0),
            "location nas is inside a maintenance window until 2026-10-01 02:00 UTC");
  EXPECT_EQ(forced.task_ids_size(), 1);

  // After the window: no force needed, nothing said.
  clock_.Advance(2 * 3600 * kSecond);
  RegisterWorker("office", {"nas"});  // heard from (the clock moved past 3 TTLs)
  v1::RunCheckResponse after = Run();
  EXPECT_EQ(after.forced_size(), 0);
  EXPECT_EQ(after.unserved_size(), 0);
}

}  // namespace
}  // namespace vigil::coordinator
