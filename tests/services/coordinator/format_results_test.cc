// Format results through the coordinator's domain calls, without gRPC
// (services/coordinator/format_results.h): restic packs remembered,
// skipped, forgotten and counted as vanished; the packs a lease lists as
// known, on a controlled clock (re-verification window); invalid verdicts
// damaging points; malformed results refused without changing anything.
#include "services/coordinator/format_results.h"

#include <gtest/gtest.h>

#include <set>

#include "services/coordinator/coordinator.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kDayNs = int64_t{86400} * 1'000'000'000;

std::string Id(char c) { return std::string(32, c); }

class FormatResultsTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    clock_.Set(int64_t{1'790'000'000} * 1'000'000'000);
    Open();
    // Two sets on nas: a restic repository and a plain directory.
    v1::ApplyRequest req = SetRequest();
    req.clear_backup_sets();
    for (const char* fmt : {"restic", "dir"}) {
      auto* b = req.add_backup_sets();
      b->set_tenant("acme");
      b->set_asset(fmt);
      b->set_name(fmt);
      b->set_location("nas");
      b->set_path(std::string("acme/") + fmt);
      b->set_format(fmt);
      b->set_layout(std::string(fmt) == "restic" ? "restic-snapshots" : "mirror");
    }
    Apply(req);
    RegisterWorker();
  }

  // Queues a check of the tenant's sets and leases the task of `set`
  // (the other one is completed empty first when it comes first).
  v1::Task Lease(const std::string& set) {
    v1::Task t = RunAndLease(set);
    EXPECT_EQ(t.backup_set().name(), set);
    return t;
  }
  // The first batch: one snapshot point at `point_ns` (none if 0).
  void Observe(const v1::Task& t, int64_t point_ns) {
    v1::ObservationBatch b;
    b.set_task_id(t.id());
    b.set_attempt(t.attempt());
    b.set_seq(1);
    if (point_ns != 0) {
      auto* p = b.add_points();
      p->set_time_ns(point_ns);
      p->set_name("snapshots/" + std::string(64, 'a'));
      p->set_time_source("snapshot");
    }
    ASSERT_TRUE(c_->Observe(worker_, b).ok());
  }
  static v1::ResticPack Pack(char id, uint64_t size, bool verified, bool bad = false) {
    v1::ResticPack p;
    p.set_id(Id(id));
    p.set_size(size);
    p.set_verified(verified);
    p.set_bad(bad);
    return p;
  }
  static v1::CompleteTaskRequest Done(const v1::Task& t, bool valid,
                                      std::vector<v1::ResticPack> packs) {
    v1::CompleteTaskRequest req;
    req.set_task_id(t.id());
    req.set_attempt(t.attempt());
    req.set_final_seq(1);
    v1::FormatVerdict* v = req.add_format_verdicts();
    v->set_format("restic");
    v->set_valid(valid);
    if (!valid) {
      v->set_error_count(1);
      v->add_errors("data/cc/cc...: digest mismatch");
    }
    for (auto& p : packs) *req.add_restic_packs() = p;
    return req;
  }
  std::set<std::string> Known(const v1::Task& t) {
    std::set<std::string> s;
    for (const auto& p : t.restic_known_packs()) s.insert(p.id());
    return s;
  }
  v1::BackupSetStatus SetStatus(const std::string& name) {
    const v1::TenantStatus st = AcmeStatus();
    for (const auto& b : st.backup_sets()) {
      if (b.backup_set().name() == name) return b;
    }
    ADD_FAILURE() << "no set " << name;
    return {};
  }
};

TEST_F(FormatResultsTest, PacksRememberedSkippedForgottenAndVanished) {
  v1::Task t1 = Lease("restic");
  EXPECT_TRUE(Known(t1).empty());
  Observe(t1, clock_.NowNs() - kDayNs);
  auto r1 = c_->CompleteTask(worker_, Done(t1, false,
                                           {Pack('a', 100, true), Pack('b', 200, true),
                                            Pack('c', 300, false, /*bad=*/true)}));
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_EQ(r1->task().state(), v1::TASK_STATE_DONE);
  // The bad pack is not known: the next check reads it again.
  clock_.Advance(1'000'000'000);
  v1::Task t2 = Lease("restic");
  EXPECT_EQ(Known(t2), (std::set<std::string>{Id('a'), Id('b')}));
  // a skipped, b gone, c now good, d new and good.
  Observe(t2, clock_.NowNs() - kDayNs);
  auto r2 = c_->CompleteTask(
      worker_, Done(t2, true, {Pack('a', 100, false), Pack('c', 300, true), Pack('d', 5, true)}));
  ASSERT_TRUE(r2.ok()) << r2.status();
  v1::BackupSetStatus st = SetStatus("restic");
  ASSERT_EQ(st.format_verdicts().verdicts_size(), 1);
  EXPECT_EQ(st.format_verdicts().verdicts(0).packs_vanished(), 1u);
  EXPECT_EQ(st.format_verdicts().task_id(), t2.id());
  v1::Task t3 = Lease("restic");
  EXPECT_EQ(Known(t3), (std::set<std::string>{Id('a'), Id('c'), Id('d')}));
}

TEST_F(FormatResultsTest, PacksDueForReverificationAreNotListed) {
  v1::Task t1 = Lease("restic");
  Observe(t1, clock_.NowNs() - kDayNs);
  ASSERT_TRUE(c_->CompleteTask(worker_, Done(t1, true, {Pack('a', 1, true)})).ok());
  // No integrity commitment: 30 days.
  clock_.Advance(kDefaultPackReverifyNs - kDayNs);
  v1::Task t2 = Lease("restic");
  EXPECT_EQ(Known(t2).size(), 1u);
  Observe(t2, clock_.NowNs() - kDayNs);
  // Skipped (not read): its verification time stays the first one.
  ASSERT_TRUE(c_->CompleteTask(worker_, Done(t2, true, {Pack('a', 1, false)})).ok());
  clock_.Advance(2 * kDayNs);
  v1::Task t3 = Lease("restic");
  EXPECT_TRUE(Known(t3).empty()) << "a pack verified 31 days ago is due again";
}

TEST_F(FormatResultsTest, InvalidRepositoryDamagesItsSnapshots) {
  v1::Task t1 = Lease("restic");
  const int64_t point = clock_.NowNs() - kDayNs;
  Observe(t1, point);
  ASSERT_TRUE(c_->CompleteTask(worker_, Done(t1, false, {Pack('a', 1, false, true)})).ok());
  v1::BackupSetStatus st = SetStatus("restic");
  ASSERT_EQ(st.points_size(), 1);
  EXPECT_EQ(st.points(0).time_ns(), point);
  EXPECT_EQ(st.points(0).damaged_ns(), clock_.NowNs());
  EXPECT_NE(st.points(0).damage().find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(st.format_verdicts().verdicts(0).valid());
}

// A verdict naming the snapshots its errors make unrestorable damages those
// alone: one broken snapshot leaves the others good, and a drill picks the
// newest of them.
TEST_F(FormatResultsTest, InvalidRepositoryDamagesOnlyTheSnapshotsItsErrorsName) {
  v1::Task t1 = Lease("restic");
  const int64_t older = clock_.NowNs() - 2 * kDayNs, newer = clock_.NowNs() - kDayNs;
  const std::string older_name = "snapshots/" + std::string(64, 'a');
  const std::string newer_name = "snapshots/" + std::string(64, 'b');
  v1::ObservationBatch b;
  b.set_task_id(t1.id());
  b.set_attempt(t1.attempt());
  b.set_seq(1);
  for (const auto& [time, name] : {std::pair{older, older_name}, std::pair{newer, newer_name}}) {
    auto* p = b.add_points();
    p->set_time_ns(time);
    p->set_name(name);
    p->set_time_source("snapshot");
    v1::Observation* o = b.add_observations();
    *o = Obs(time, name, name);
  }
  ASSERT_TRUE(c_->Observe(worker_, b).ok());
  v1::CompleteTaskRequest done = Done(t1, false, {Pack('a', 1, true)});
  v1::FormatVerdict* v = done.mutable_format_verdicts(0);
  v->clear_errors();
  v->set_error_count(2);
  v->add_errors("data/cc/cc...: pack cannot be read");
  v->add_errors(newer_name + ": /docs/a.txt: data blob 1234 is in no index");
  v->add_damaged_points(newer);
  v->set_per_snapshot(true);
  ASSERT_TRUE(c_->CompleteTask(worker_, done).ok());
  v1::BackupSetStatus st = SetStatus("restic");
  ASSERT_EQ(st.points_size(), 2);
  EXPECT_EQ(st.points(0).time_ns(), older);
  EXPECT_EQ(st.points(0).damaged_ns(), 0) << st.points(0).damage();
  EXPECT_EQ(st.points(1).damaged_ns(), clock_.NowNs());
  EXPECT_NE(st.points(1).damage().find("data blob 1234 is in no index"), std::string::npos)
      << st.points(1).damage();
  // The drill restores the intact snapshot and says which it skipped.
  auto drill = c_->QueueDrill("acme", "restic", 3, 0);
  ASSERT_TRUE(drill.ok()) << drill.status();
  EXPECT_EQ(drill->drill_point_ns(), older);
  ASSERT_EQ(drill->drill_skipped_size(), 1);
  EXPECT_NE(drill->drill_skipped(0).find(newer_name), std::string::npos) << drill->drill_skipped(0);
  EXPECT_NE(drill->drill_skipped(0).find("damaged"), std::string::npos) << drill->drill_skipped(0);
}

TEST_F(FormatResultsTest, MalformedResultsAreRefusedAndChangeNothing) {
  v1::Task t = Lease("restic");
  Observe(t, clock_.NowNs() - kDayNs);
  v1::CompleteTaskRequest short_id = Done(t, true, {Pack('a', 1, true)});
  short_id.mutable_restic_packs(0)->mutable_id()->pop_back();
  auto r = c_->CompleteTask(worker_, short_id);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  v1::CompleteTaskRequest both = Done(t, true, {Pack('a', 1, true, true)});
  EXPECT_TRUE(absl::IsInvalidArgument(c_->CompleteTask(worker_, both).status()));
  v1::CompleteTaskRequest wrong = Done(t, true, {});
  wrong.mutable_format_verdicts(0)->set_format("bagit");
  EXPECT_TRUE(absl::IsInvalidArgument(c_->CompleteTask(worker_, wrong).status()));
  // Nothing was recorded; the lease still holds and a good completion works.
  v1::BackupSetStatus st = SetStatus("restic");
  EXPECT_FALSE(st.has_format_verdicts());
  EXPECT_EQ(st.points_size(), 0);
  auto ok = c_->CompleteTask(worker_, Done(t, true, {Pack('a', 1, true)}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  // A "dir" set takes no format results.
  v1::Task d = Lease("dir");
  Observe(d, 0);
  v1::CompleteTaskRequest dir_done = Done(d, true, {});
  dir_done.mutable_format_verdicts(0)->set_format("dir");
  EXPECT_TRUE(absl::IsInvalidArgument(c_->CompleteTask(worker_, dir_done).status()));
}

}  // namespace
}  // namespace vigil::coordinator
