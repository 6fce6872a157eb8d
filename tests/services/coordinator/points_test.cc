// Restore points through the coordinator's domain calls, without gRPC: the
// list of points in the first batch, observations split by point and merged
// on each point's key range, PointRecords (renames, new, gone, damaged,
// implausible), and the batch rules (points only in seq 1, restore_point_ns
// ascending and listed).
#include "services/coordinator/points.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/common/signing.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/proofs/proof_verify.h"
#include "storage/hash.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

namespace manifests = vigil::testing::manifests;

class CoordinatorPointsTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    coordinator_options_.clock = nullptr;  // the real clock
    Open();
    v1::ApplyRequest req =
        SetRequest({.name = "snaps", .path = "acme/snaps", .layout = "rsnapshot"});
    req.mutable_tenants(0)->set_timezone("Europe/Paris");
    Apply(req);
    RegisterWorker();
  }
  // Runs a check and leases its task.
  v1::Task NewTask() { return RunAndLease(); }
  storage::StatusOr<v1::CompleteTaskResponse> Complete(const v1::Task& t, uint64_t final_seq) {
    return c_->CompleteTask(worker_, Done(t, final_seq));
  }
  std::map<int64_t, v1::PointRecord> Records() {
    auto p = c_->Points("acme", "snaps");
    EXPECT_TRUE(p.ok()) << p.status();
    std::map<int64_t, v1::PointRecord> m;
    int64_t prev = INT64_MIN;
    for (auto& r : *p) {
      EXPECT_GT(r.time_ns(), prev);  // ascending
      prev = r.time_ns();
      m[r.time_ns()] = r;
    }
    return m;
  }
  bool HasEntry(int64_t point, const std::string& path) {
    storage::EntryRecord rec;
    storage::VerifyRecord ver;
    return c_->catalogue().GetEntry({"acme", "snaps", point}, path, &rec, &ver).ok();
  }
};

// A merged point's ransomware verdict is stored with its record, against
// the newest earlier clean point (docs/ransomware.md).
TEST_F(CoordinatorPointsTest, MergedPointsGetTheirVerdict) {
  RunTask({{100, "daily.1"}, {200, "daily.0"}},
          {{Obs(100, "a", "1"), Obs(100, "b", "2"), Obs(200, "HOW_TO_DECRYPT.txt", "pay"),
            Obs(200, "a", "1"), Obs(200, "b", "2")}});
  auto rec = Records();
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_EQ(rec[100].verdict(), v1::POINT_VERDICT_CLEAN);
  EXPECT_EQ(rec[100].compared_with_ns(), 0);  // the first point, judged on its own
  EXPECT_EQ(rec[100].signals_size(), 0);
  EXPECT_EQ(rec[200].verdict(), v1::POINT_VERDICT_SUSPICIOUS);
  EXPECT_EQ(rec[200].compared_with_ns(), 100);
  ASSERT_EQ(rec[200].signals_size(), 1);
  EXPECT_EQ(rec[200].signals(0).kind(), "ransom-notes");
  EXPECT_EQ(rec[200].signals(0).examples(0), "HOW_TO_DECRYPT.txt");
  EXPECT_EQ(rec[200].changed_files(), 1u);

  // The next point, with the note gone, is compared with the clean one.
  RunTask({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}},
          {{Obs(100, "a", "1"), Obs(100, "b", "2"), Obs(200, "HOW_TO_DECRYPT.txt", "pay"),
            Obs(200, "a", "1"), Obs(200, "b", "2"), Obs(300, "a", "1"), Obs(300, "b", "2")}});
  rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[200].verdict(), v1::POINT_VERDICT_SUSPICIOUS);  // not judged again
  EXPECT_EQ(rec[300].verdict(), v1::POINT_VERDICT_CLEAN);
  EXPECT_EQ(rec[300].compared_with_ns(), 100);
}

TEST_F(CoordinatorPointsTest, TaskCarriesTheTenantsZone) {
  v1::Task t = NewTask();
  EXPECT_EQ(t.tenant_timezone(), "Europe/Paris");
  EXPECT_EQ(t.backup_set().layout(), "rsnapshot");
}

TEST_F(CoordinatorPointsTest, PointsAreMergedOnTheirOwnRangesAndRecorded) {
  // Check 1: two points, in two batches (the second point spans both).
  RunTask({{100, "daily.1"}, {200, "daily.0"}},
          {{Obs(100, "a", "1"), Obs(100, "b", "2"), Obs(200, "a", "1")},
           {Obs(200, "b", "2"), Obs(200, "c", "33")}});
  auto rec = Records();
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_EQ(rec[100].name(), "daily.1");
  EXPECT_EQ(rec[100].files(), 2u);
  EXPECT_EQ(rec[100].bytes(), 2u);
  EXPECT_EQ(rec[200].name(), "daily.0");
  EXPECT_EQ(rec[200].files(), 3u);
  EXPECT_EQ(rec[200].bytes(), 4u);
  for (auto& [t, r] : rec) {
    EXPECT_NE(r.first_seen_ns(), 0);
    EXPECT_EQ(r.gone_ns(), 0);
    EXPECT_EQ(r.damaged_ns(), 0);
    EXPECT_TRUE(r.plausibility_checked());
    EXPECT_EQ(r.implausible_size(), 0) << r.implausible(0);
  }
  EXPECT_TRUE(HasEntry(200, "c"));
  EXPECT_FALSE(HasEntry(100, "c"));
  EXPECT_TRUE(HasEntry(100, "a"));
  EXPECT_FALSE(HasEntry(0, "a"));
  const int64_t first_seen_100 = rec[100].first_seen_ns();

  // Check 2: rotation (renames), a new point, and "b" of the oldest point
  // changed content: that point is damaged, the others not.
  RunTask({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}},
          {{Obs(100, "a", "1"), Obs(100, "b", "X"), Obs(200, "a", "1"), Obs(200, "b", "2"),
            Obs(200, "c", "33"), Obs(300, "a", "1"), Obs(300, "b", "2"), Obs(300, "c", "33")}});
  rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[100].name(), "daily.2");
  EXPECT_EQ(rec[100].first_seen_ns(), first_seen_100);  // same point, renamed
  EXPECT_EQ(rec[200].name(), "daily.1");
  EXPECT_EQ(rec[300].name(), "daily.0");
  EXPECT_NE(rec[100].damaged_ns(), 0);
  EXPECT_NE(rec[100].damage().find("1 entry modified: b"), std::string::npos) << rec[100].damage();
  EXPECT_EQ(rec[200].damaged_ns(), 0);
  EXPECT_EQ(rec[300].damaged_ns(), 0);
  EXPECT_TRUE(rec[300].plausibility_checked());
  const int64_t damaged_at = rec[100].damaged_ns();

  // Check 3: the oldest point was deleted, an empty point appeared: the old
  // one is gone (its entries stay as history), the empty one counts.
  RunTask({{200, "daily.2"}, {300, "daily.1"}, {400, "daily.0"}},
          {{Obs(200, "a", "1"), Obs(200, "b", "2"), Obs(200, "c", "33"), Obs(300, "a", "1"),
            Obs(300, "b", "2"), Obs(300, "c", "33")}});
  rec = Records();
  ASSERT_EQ(rec.size(), 4u);
  EXPECT_NE(rec[100].gone_ns(), 0);
  EXPECT_EQ(rec[100].damaged_ns(), damaged_at);  // first time only
  EXPECT_TRUE(HasEntry(100, "a"));
  EXPECT_EQ(rec[200].gone_ns(), 0);
  EXPECT_EQ(rec[400].files(), 0u);
  EXPECT_EQ(rec[400].gone_ns(), 0);
  EXPECT_NE(rec[400].first_seen_ns(), 0);
  // An empty point after three files: implausible (files and bytes drop).
  EXPECT_GT(rec[400].implausible_size(), 0);

  // GetStatus fills the points too.
  v1::GetStatusRequest sreq;
  sreq.set_tenant("acme");
  auto st = c_->GetStatus(sreq);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->tenants(0).backup_sets(0).points_size(), 4);
  EXPECT_EQ(st->tenants(0).backup_sets(0).points(3).time_ns(), 400);
}

TEST_F(CoordinatorPointsTest, ANearlyEmptyNewPointIsImplausible) {
  std::vector<v1::Observation> obs;
  for (int i = 0; i < 30; ++i) {
    obs.push_back(Obs(100, "f" + std::to_string(100 + i), std::string(100, 'x')));
  }
  obs.push_back(Obs(200, "f100", std::string(100, 'x')));
  RunTask({{100, "daily.1"}, {200, "daily.0"}}, {obs});
  auto rec = Records();
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_EQ(rec[100].implausible_size(), 0);
  ASSERT_GT(rec[200].implausible_size(), 0);
  EXPECT_NE(rec[200].implausible(0).find("drop"), std::string::npos) << rec[200].implausible(0);
}

TEST_F(CoordinatorPointsTest, PlausibilityLostInACrashIsComputedAtTheNextCompletion) {
  std::vector<v1::Observation> obs;
  for (int i = 0; i < 30; ++i) obs.push_back(Obs(100, "f" + std::to_string(100 + i), "data"));
  obs.push_back(Obs(200, "f100", "data"));
  v1::Task t = NewTask();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {{100, "daily.1"}, {200, "daily.0"}}, obs)).ok());
  // The coordinator merged, then died before the plausibility write.
  auto m = MergeStaged(c_->catalogue(), t.backup_set(), t.id(), t.attempt(), 5,
                       keys::Merged(t.id(), t.attempt()));
  ASSERT_TRUE(m.ok()) << m.status();
  Open();
  auto rec = Records();
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_FALSE(rec[200].plausibility_checked());
  EXPECT_EQ(rec[200].implausible_size(), 0);
  auto r = Complete(t, 1);  // the worker's retry
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().counts().added(), 31u);
  rec = Records();
  EXPECT_TRUE(rec[100].plausibility_checked());
  EXPECT_TRUE(rec[200].plausibility_checked());
  EXPECT_GT(rec[200].implausible_size(), 0);
}

TEST_F(CoordinatorPointsTest, OutOfOrderRestorePointIsRefused) {
  v1::Task t = NewTask();
  // Within one batch.
  auto r = c_->Observe(worker_, Batch(t, 1, {{100, "daily.1"}, {200, "daily.0"}},
                                      {Obs(200, "a", "1"), Obs(100, "a", "1")}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("restore_point_ns"), std::string::npos);
  // Across batches.
  ASSERT_TRUE(
      c_->Observe(worker_, Batch(t, 1, {{100, "daily.1"}, {200, "daily.0"}}, {Obs(200, "a", "1")}))
          .ok());
  r = c_->Observe(worker_, Batch(t, 2, {}, {Obs(100, "b", "1")}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("restore_point_ns"), std::string::npos);
  // Nothing staged: seq 2 is still next, and the same point goes on.
  auto ok = c_->Observe(worker_, Batch(t, 2, {}, {Obs(200, "b", "1")}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 2u);
}

TEST_F(CoordinatorPointsTest, UnlistedRestorePointIsRefused) {
  v1::Task t = NewTask();
  auto r =
      c_->Observe(worker_, Batch(t, 1, {{100, "daily.1"}, {200, "daily.0"}}, {Obs(150, "a", "1")}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("restore_point_ns"), std::string::npos);
  EXPECT_NE(r.status().message().find("not among the listed"), std::string::npos);
  // Listed in seq 1, an unlisted one in seq 2.
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {{100, "daily.1"}}, {Obs(100, "a", "1")})).ok());
  r = c_->Observe(worker_, Batch(t, 2, {}, {Obs(200, "a", "1")}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_F(CoordinatorPointsTest, PointsOnlyInTheFirstBatchAndInOrder) {
  v1::Task t = NewTask();
  auto r = c_->Observe(worker_, Batch(t, 1, {{200, "daily.0"}, {100, "daily.1"}}, {}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("'points'"), std::string::npos);
  r = c_->Observe(worker_, Batch(t, 1, {{100, "../x"}}, {}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {{100, "daily.0"}}, {})).ok());
  r = c_->Observe(worker_, Batch(t, 2, {{100, "daily.0"}}, {}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("'points'"), std::string::npos);
}

TEST_F(CoordinatorPointsTest, AMirrorWithoutAListHasThePointOfTimeZero) {
  v1::ApplyRequest req;
  auto* b = req.add_backup_sets();
  b->set_tenant("acme");
  b->set_asset("fs");
  b->set_name("snaps");
  b->set_location("nas");
  b->set_path("acme/snaps");  // layout "" = mirror
  ASSERT_TRUE(c_->Apply(req).ok());
  v1::Task t = NewTask();
  auto r = c_->Observe(worker_, Batch(t, 1, {}, {Obs(5, "a", "1")}));
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  RunTask({}, {{Obs(0, "a", "1"), Obs(0, "b", "2")}});
  auto rec = Records();
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].files(), 2u);
  EXPECT_EQ(rec[0].name(), "");
  EXPECT_TRUE(rec[0].plausibility_checked());
  EXPECT_TRUE(HasEntry(0, "a"));
}

}  // namespace
}  // namespace vigil::coordinator

namespace vigil::coordinator {
namespace {

TEST_F(CoordinatorPointsTest, LocationSurveyIsValidatedThenStored) {
  v1::Task t = NewTask();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {{100, "daily.0"}}, {Obs(100, "a", "1")})).ok());
  v1::CompleteTaskRequest done = Done(t, 1);
  for (const char* bad : {"acme", "acme/snaps/deeper", "../etc", "acme//x"}) {
    v1::CompleteTaskRequest r = done;
    r.add_location_dirs(bad);
    auto res = c_->CompleteTask(worker_, r);
    EXPECT_TRUE(absl::IsInvalidArgument(res.status())) << bad << ": " << res.status();
    EXPECT_NE(res.status().message().find("location_dirs"), std::string::npos);
  }
  done.add_location_dirs("zeta/old");
  done.add_location_dirs("acme/snaps");
  auto res = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(res.ok()) << res.status();
  std::string v;
  ASSERT_TRUE(c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Survey("nas"), &v).ok());
  v1::LocationSurvey s;
  ASSERT_TRUE(s.ParseFromString(v));
  ASSERT_EQ(s.dirs_size(), 2);
  EXPECT_EQ(s.dirs(0), "acme/snaps");  // sorted
  EXPECT_EQ(s.dirs(1), "zeta/old");
}

}  // namespace
}  // namespace vigil::coordinator

namespace vigil::coordinator {
namespace {

TEST_F(CoordinatorPointsTest, MetadataOnlyPointsAreListedNotVerified) {
  RunTask({{100, "daily.1"}, {200, "daily.0"}},
          {{Obs(100, "a", "1"), Obs(100, "b", "22"), Obs(200, "a", "1")}});
  auto before = Records();
  storage::EntryRecord rec;
  storage::VerifyRecord ver_before, ver_after;
  ASSERT_TRUE(c_->catalogue().GetEntry({"acme", "snaps", 100}, "a", &rec, &ver_before).ok());
  // Point 100 listed without reading: 'a' unchanged (not read), 'b' has
  // another size (modified), 'c' is new there (not recorded until read).
  auto not_read = [](v1::Observation o, uint64_t size) {
    o.clear_digest();
    o.set_digest_algorithm(0);
    o.set_not_read(true);
    o.set_size(size);
    return o;
  };
  v1::Task t = NewTask();
  ASSERT_TRUE(
      c_->Observe(worker_, Batch(t, 1, {{100, "daily.1"}, {200, "daily.0"}},
                                 {not_read(Obs(100, "a", "1"), 1), not_read(Obs(100, "b", "22"), 3),
                                  not_read(Obs(100, "c", "new"), 3), Obs(200, "a", "1")}))
          .ok());
  auto r = Complete(t, 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().counts().not_read(), 1u) << r->task().DebugString();
  EXPECT_EQ(r->task().counts().modified(), 1u);
  EXPECT_EQ(r->task().counts().added(), 1u);
  EXPECT_EQ(r->task().counts().unchanged(), 1u);
  ASSERT_TRUE(c_->catalogue().GetEntry({"acme", "snaps", 100}, "a", &rec, &ver_after).ok());
  EXPECT_EQ(ver_after.last_verified_ns, ver_before.last_verified_ns);  // not re-verified
  EXPECT_FALSE(HasEntry(100, "c"));
  auto after = Records();
  EXPECT_EQ(after[100].last_verified_ns(), before[100].last_verified_ns());
  EXPECT_NE(after[100].damaged_ns(), 0);
  EXPECT_GT(after[200].last_verified_ns(), before[200].last_verified_ns());
}

// A set whose inventory finds no backup: no restore point is made up for it
// (no "point of 1970"), and the scope finding and the readiness say what the
// worker found at its directory.
class NoBackupTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    ApplyYaml(manifests::Join(
        {manifests::Location(), manifests::Tenant("acme", "UTC"),
         manifests::Contract(
             "acme", "assets:\n" +
                         manifests::Asset("fs", {manifests::BackupSet("fs-nas", "nas", "acme/fs",
                                                                      {"layout: dated-folders"})}) +
                         "commitments:\n  - rpo: 26h\n  - retention: {daily: 7}\n")}));
    RegisterWorker();
  }
  // A check that lists no point, completed with `set_directory`; no batch
  // sent when `batch` is false.
  storage::StatusOr<v1::CompleteTaskResponse> CheckFindingNothing(const std::string& set_directory,
                                                                  bool batch) {
    v1::Task t = RunAndLease();
    if (batch) {
      EXPECT_TRUE(c_->Observe(worker_, Batch(t, 1, {}, {})).ok());
    }
    v1::CompleteTaskRequest done = Done(t, batch ? 1 : 0);
    done.set_set_directory(set_directory);
    return c_->CompleteTask(worker_, done);
  }
  static std::string Everything(const v1::TenantStatus& st) {
    std::string all;
    for (const auto& r : st.readiness()) {
      for (const auto& x : r.reasons()) all += x + "\n";
    }
    for (const auto& c : st.commitments()) {
      all += c.summary() + "\n";
      for (const auto& e : c.evidence()) all += e.name() + "=" + e.value() + "\n";
    }
    return all;
  }
};

TEST_F(NoBackupTest, AnEmptyDatedFoldersSetHasNoPointOfTimeZero) {
  RunTask({}, {});  // inventoried: no point listed
  auto points = c_->Points("acme", "fs-nas");
  ASSERT_TRUE(points.ok());
  EXPECT_TRUE(points->empty());
  const v1::TenantStatus st = AcmeStatus();
  ASSERT_EQ(st.readiness_size(), 1);
  EXPECT_EQ(st.readiness(0).readiness(), "not ready");
  ASSERT_GT(st.readiness(0).reasons_size(), 0);
  EXPECT_EQ(st.readiness(0).reasons(0).rfind("in scope, no backup found", 0), 0u)
      << st.readiness(0).reasons(0);
  bool scoped = false;
  for (const auto& s : st.scope()) scoped |= s.rfind("fs: in scope, no backup found", 0) == 0;
  EXPECT_TRUE(scoped);
  const std::string all = Everything(st);
  EXPECT_EQ(all.find("1970"), std::string::npos) << all;
  EXPECT_EQ(all.find("20792"), std::string::npos) << all;
  EXPECT_NE(all.find("required_slots_at_end=0"), std::string::npos) << all;
}

TEST_F(NoBackupTest, WhatTheWorkerFoundAtTheDirectoryIsShown) {
  auto r = CheckFindingNothing("does not exist", /*batch=*/false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(r->task().set_directory(), "does not exist");
  v1::TenantStatus st = AcmeStatus();
  ASSERT_GT(st.readiness(0).reasons_size(), 0);
  EXPECT_EQ(st.readiness(0).reasons(0),
            "in scope, no backup found: fs-nas: directory does not exist");
  bool scoped = false;
  for (const auto& s : st.scope()) {
    scoped |= s == "fs: in scope, no backup found: fs-nas: directory does not exist";
  }
  EXPECT_TRUE(scoped);
  // The newest check counts: now the directory is there, empty.
  ASSERT_TRUE(CheckFindingNothing("empty", /*batch=*/true).ok());
  st = AcmeStatus();
  EXPECT_EQ(st.readiness(0).reasons(0), "in scope, no backup found: fs-nas: empty");
  // Another value is refused, naming the field.
  auto bad = CheckFindingNothing("gone fishing", /*batch=*/true);
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_NE(bad.status().message().find("set_directory"), std::string::npos);
}

// Monitoring and mirror freshness through the coordinator, on the fake
// clock (2026-10-01T00:00:00Z) with acme's contract in force since
// 2026-01-01 (manifests.h).
class MonitoringTest : public CoordinatorFixture {
 protected:
  static constexpr int64_t kH = int64_t{3600} * 1'000'000'000;
  static constexpr int64_t kD = 24 * kH;
  static constexpr int64_t kT0 = vigil::testing::kFakeClockStart;

  void SetUp() override { Open(); }
  // acme's asset fs on one backup set fs-nas (`fields` as BackupSet's), with
  // `commitments`.
  void ApplyAcme(const std::vector<std::string>& fields, const std::string& commitments) {
    namespace m = vigil::testing::manifests;
    ApplyYaml(m::Join({m::Location(), m::Tenant(),
                       m::Contract("acme", "effectiveFrom: 2026-01-01\nassets:\n" +
                                               m::Asset("fs", {m::BackupSet("fs-nas", "nas",
                                                                            "acme/fs", fields)}) +
                                               commitments)}));
  }
  static v1::Observation File(int64_t point, const std::string& path, const std::string& content,
                              int64_t mtime) {
    v1::Observation o = Obs(point, path, content);
    o.set_mtime_ns(mtime);
    return o;
  }
  const v1::CommitmentStatus* Rpo(const v1::TenantStatus& ts) {
    for (const auto& c : ts.commitments()) {
      if (c.kind() == "rpo") return &c;
    }
    ADD_FAILURE() << "no rpo verdict";
    return nullptr;
  }
};

// rsync keeps the source's mtimes: a mirror of old, unchanged files proves
// no recent sync, and none that stopped either. Its RPO is unknown, never
// fail, until a sync is evidenced: a change seen between two checks, or a
// declared sync marker.
TEST_F(MonitoringTest, AMirrorIsDatedByEvidenceOfASync) {
  ApplyAcme({}, vigil::testing::manifests::kRpo24h);
  RegisterWorker();
  const int64_t old = kT0 - 300 * kD;  // the files' mtimes (source's)
  RunTask({}, {{File(0, "a.txt", "v1", old), File(0, "b.txt", "b", old)}});
  clock_.Advance(60'000'000'000);
  v1::TenantStatus ts = AcmeStatus();
  const v1::CommitmentStatus* rpo = Rpo(ts);
  ASSERT_NE(rpo, nullptr);
  EXPECT_EQ(rpo->verdict(), "unknown") << rpo->summary();
  EXPECT_NE(rpo->summary().find("no evidence of a sync of mirror fs-nas"), std::string::npos)
      << rpo->summary();
  ASSERT_EQ(ts.readiness_size(), 1);
  EXPECT_EQ(ts.readiness(0).readiness(), "at risk");

  // Two hours later the content changed (a.txt rewritten, still with an old
  // source mtime): a sync ran after the first check, at kT0.
  clock_.Advance(2 * kH - 60'000'000'000);
  RunTask({}, {{File(0, "a.txt", "v2", old + kH), File(0, "b.txt", "b", old)}});
  auto rec = c_->Points("acme", "fs-nas");
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_EQ(rec->size(), 1u);
  EXPECT_EQ((*rec)[0].change_after_ns(), kT0);
  EXPECT_EQ((*rec)[0].change_seen_ns(), kT0 + 2 * kH);
  ts = AcmeStatus();
  rpo = Rpo(ts);
  EXPECT_EQ(rpo->verdict(), "pass") << rpo->summary();

  // 30 h later, unchanged: nothing proves a sync since kT0, nor that it
  // stopped.
  clock_.Advance(30 * kH);
  RunTask({}, {{File(0, "a.txt", "v2", old + kH), File(0, "b.txt", "b", old)}});
  rpo = Rpo(ts = AcmeStatus());
  EXPECT_EQ(rpo->verdict(), "unknown") << rpo->summary();

  // A declared sync marker proves the last sync: fresh passes, old fails.
  ApplyAcme({"syncMarker: .last-sync"}, vigil::testing::manifests::kRpo24h);
  clock_.Advance(kH);
  const int64_t now = kT0 + 33 * kH;
  RunTask({}, {{File(0, ".last-sync", "ok", now - kH), File(0, "a.txt", "v2", old + kH),
                File(0, "b.txt", "b", old)}});
  rpo = Rpo(ts = AcmeStatus());
  EXPECT_EQ(rpo->verdict(), "pass") << rpo->summary();
  clock_.Advance(kH);
  RunTask({}, {{File(0, ".last-sync", "ok", now - 40 * kH), File(0, "a.txt", "v2", old + kH),
                File(0, "b.txt", "b", old)}});
  rpo = Rpo(ts = AcmeStatus());
  EXPECT_EQ(rpo->verdict(), "fail") << rpo->summary();
}

// The report judges only what Vigil monitored: the set is first inventoried
// on day 10 of October, though the contract is in force since January. Its
// first look finds the newest point 14 days old: an RPO incident detected
// then (not on October 1st), begun when that point turned 24 h old.
TEST_F(MonitoringTest, AReportDetectsNothingBeforeTheFirstInventory) {
  ASSERT_TRUE(signing::KeyRing::Init(tmp_ / "keys").ok());
  coordinator_options_.keys_dir = tmp_ / "keys";
  Open();
  ApplyAcme({"layout: dated-folders"}, vigil::testing::manifests::kRpo24h);
  RegisterWorker();
  const int64_t old_point = kT0 - 5 * kD;  // 2026-09-26
  clock_.Set(kT0 + 10 * kD);
  RunTask({{old_point, "2026-09-26"}}, {{Obs(old_point, "a.txt", "a")}});
  // Daily points from then on, each checked an hour later.
  Points points = {{old_point, "2026-09-26"}};
  for (int d = 11; d <= 15; ++d) {
    const int64_t t = kT0 + d * kD;
    points.push_back({t, "2026-10-" + std::to_string(d + 1)});
    clock_.Set(t + kH);
    std::vector<v1::Observation> obs;
    for (const auto& [time, name] : points) obs.push_back(Obs(time, "a.txt", "a"));
    RunTask(points, {obs});
  }
  clock_.Set(kT0 + 16 * kD + kH);
  v1::MakeReportRequest req;
  req.set_tenant("acme");
  req.set_period("2026-10-01..2026-10-15");
  auto proof = c_->MakeReport(req);
  ASSERT_TRUE(proof.ok()) << proof.status();
  const nlohmann::json report = nlohmann::json::parse(proof->statement())["report"];
  ASSERT_EQ(report["commitments"].size(), 1u);
  const nlohmann::json& rpo = report["commitments"][0];
  EXPECT_EQ(rpo["verdict"], "fail") << rpo.dump();
  EXPECT_EQ(rpo["monitored_from"], "2026-10-11T00:00:00+00:00");
  EXPECT_EQ(rpo["failing_since"], "2026-10-11T00:00:00+00:00") << rpo.dump();
  EXPECT_EQ(rpo["began"], "2026-09-27T00:00:00+00:00") << rpo.dump();
  bool found = false;
  for (const nlohmann::json& i : report["incidents"]) {
    if (i["kind"] != "rpo") continue;
    found = true;
    EXPECT_EQ(i["detected_at"], "2026-10-11T00:00:00+00:00") << i.dump();
    EXPECT_EQ(i["began_at"], "2026-09-27T00:00:00+00:00") << i.dump();
  }
  EXPECT_TRUE(found) << report["incidents"].dump();
  EXPECT_EQ(report["readiness"][0]["monitored_from"], "2026-10-11T00:00:00+00:00");
  EXPECT_EQ(report["backup_sets"][0]["monitored_from"], "2026-10-11T00:00:00+00:00");

  // After a restart the first inventory is the same (the DONE tasks are
  // kept): monitoring does not restart.
  Open();
  proof = c_->MakeReport(req);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_EQ(nlohmann::json::parse(proof->statement())["report"]["commitments"][0]["monitored_from"],
            "2026-10-11T00:00:00+00:00");
}

// The verdicts of the points (as the ransomware signals set them) through
// the coordinator: status readiness, the report and its signed statement
// name the last clean point; the encrypted point is an incident.
TEST_F(MonitoringTest, TheReportAndTheProofNameTheLastCleanPoint) {
  ASSERT_TRUE(signing::KeyRing::Init(tmp_ / "keys").ok());
  coordinator_options_.keys_dir = tmp_ / "keys";
  Open();
  ApplyAcme({"layout: dated-folders"}, vigil::testing::manifests::kRpo24h);
  RegisterWorker();
  Points points;
  for (int d = 1; d <= 3; ++d) {
    const int64_t t = kT0 + d * kD;
    points.push_back({t, "2026-10-0" + std::to_string(d + 1)});
    clock_.Set(t + kH);
    std::vector<v1::Observation> obs;
    for (const auto& [time, name] : points) obs.push_back(Obs(time, "a.txt", "a"));
    RunTask(points, {obs});
  }
  auto records = c_->Points("acme", "fs-nas");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  storage::KvBatch b;
  for (v1::PointRecord r : *records) {
    r.set_verdict(r.time_ns() == kT0 + 3 * kD ? v1::POINT_VERDICT_ENCRYPTED
                                              : v1::POINT_VERDICT_CLEAN);
    if (r.verdict() == v1::POINT_VERDICT_ENCRYPTED) {
      v1::PointSignal* sig = r.add_signals();
      sig->set_kind("entropy");
      sig->set_message("1 of 1 structured files turned random");
    }
    b.Put(storage::Space::kMeta, keys::Point("acme", "fs-nas", r.time_ns()), r.SerializeAsString());
  }
  ASSERT_TRUE(c_->catalogue().kv()->Write(b, {.sync = true}).ok());

  clock_.Set(kT0 + 3 * kD + 2 * kH);
  const v1::TenantStatus st = AcmeStatus();
  ASSERT_EQ(st.readiness_size(), 1);
  EXPECT_EQ(st.readiness(0).readiness(), "at risk");
  EXPECT_EQ(st.readiness(0).last_clean_set(), "fs-nas");
  EXPECT_EQ(st.readiness(0).last_clean_name(), "2026-10-03");
  EXPECT_EQ(st.readiness(0).last_clean_ns(), kT0 + 2 * kD);
  // (The newest good point is also past the RPO: another reason.)
  const std::vector<std::string> reasons(st.readiness(0).reasons().begin(),
                                         st.readiness(0).reasons().end());
  EXPECT_NE(std::find(reasons.begin(), reasons.end(),
                      "restore from fs-nas/2026-10-03 (taken 2026-10-03 00:00 UTC)"),
            reasons.end())
      << ::testing::PrintToString(reasons);

  v1::MakeReportRequest req;
  req.set_tenant("acme");
  req.set_period("2026-10-01..2026-10-05");
  auto proof = c_->MakeReport(req);
  ASSERT_TRUE(proof.ok()) << proof.status();
  const nlohmann::json statement = nlohmann::json::parse(proof->statement());
  const nlohmann::json& report = statement["report"];
  EXPECT_EQ(report["readiness"][0]["last_clean_point"]["name"], "2026-10-03")
      << report["readiness"].dump();
  EXPECT_EQ(report["readiness"][0]["last_clean_point"]["time"], "2026-10-03T00:00:00+00:00");
  bool incident = false;
  for (const nlohmann::json& i : report["incidents"]) {
    if (i["kind"] != "ransomware") continue;
    incident = true;
    EXPECT_EQ(
        i["summary"],
        "fs-nas, restore point 2026-10-04: encrypted: entropy: 1 of 1 structured files turned "
        "random")
        << i.dump();
  }
  EXPECT_TRUE(incident) << report["incidents"].dump();
  EXPECT_EQ(statement["last_clean_points"][0]["point"]["name"], "2026-10-03") << statement.dump();
  proofs::ProofCheckOptions o;
  auto ring = signing::KeyRing::Open(tmp_ / "keys");
  ASSERT_TRUE(ring.ok());
  o.keys = ring->public_keys();
  const proofs::ProofCheck check = proofs::CheckProof(proof->statement(), proof->signature(), o);
  EXPECT_TRUE(check.ok()) << ::testing::PrintToString(check.failures);
  EXPECT_NE(::testing::PrintToString(check.passed)
                .find("last clean point of fs: fs-nas/2026-10-03 (2026-10-03T00:00:00+00:00)"),
            std::string::npos)
      << ::testing::PrintToString(check.passed);
}

// A period that ended before the first inventory was not monitored: no
// proof is signed for it (it would prove nothing and stay in the tenant's
// chain forever) unless the request asks for it.
TEST_F(MonitoringTest, NoProofForAPeriodBeforeMonitoringUnlessAsked) {
  ASSERT_TRUE(signing::KeyRing::Init(tmp_ / "keys").ok());
  coordinator_options_.keys_dir = tmp_ / "keys";
  Open();
  ApplyAcme({"layout: dated-folders"}, vigil::testing::manifests::kRpo24h);
  RegisterWorker();
  const int64_t point = kT0 + 9 * kD;  // 2026-10-10
  clock_.Set(kT0 + 10 * kD + kH);      // first inventory 2026-10-11T01:00
  RunTask({{point, "2026-10-10"}}, {{Obs(point, "a.txt", "a")}});
  clock_.Set(kT0 + 40 * kD);

  v1::MakeReportRequest req;
  req.set_tenant("acme");
  for (const char* period : {"2026-09", "2026-10-01..2026-10-10"}) {
    req.set_period(period);
    auto refused = c_->MakeReport(req);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
        << period << ": " << refused.status();
    EXPECT_NE(refused.status().message().find("no proof issued"), std::string::npos)
        << refused.status();
    EXPECT_NE(refused.status().message().find("--allow-unmonitored"), std::string::npos)
        << refused.status();
  }
  auto none = c_->ListTenantProofs("acme");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->proofs_size(), 0);

  // Asked for: issued, and it says that nothing was monitored.
  req.set_allow_unmonitored(true);
  auto asked = c_->MakeReport(req);
  ASSERT_TRUE(asked.ok()) << asked.status();
  const nlohmann::json report = nlohmann::json::parse(asked->statement())["report"];
  EXPECT_EQ(report["commitments"][0]["verdict"], "unknown") << report["commitments"].dump();

  // The period in which monitoring began: issued without asking.
  req.set_allow_unmonitored(false);
  req.set_period("2026-10");
  auto monitored = c_->MakeReport(req);
  ASSERT_TRUE(monitored.ok()) << monitored.status();
  EXPECT_EQ(monitored->seq(), 2u);
}

// Points gone from their set for longer than --free-gone-points-after lose
// their catalogue entries (what only they held) at the set's next check;
// their records stay, they cannot be accepted, and one listed again is
// recorded anew (points.h, FreeGonePoints).
class FreedPointsTest : public CoordinatorPointsTest {
 protected:
  static constexpr int64_t kDay = 86'400'000'000'000;
  void SetUp() override {
    coordinator_options_.free_gone_points_after_ns = 30 * kDay;
    Open();  // the fake clock
    Apply(SetRequest({.name = "snaps", .path = "acme/snaps", .layout = "rsnapshot"}));
    RegisterWorker();
  }
  // Versions and hash-index keys of the whole catalogue.
  size_t Keys(storage::Space space) {
    auto it = c_->catalogue().kv()->NewIterator(space, {});
    size_t n = 0;
    for (it->Seek(""); it->Valid(); it->Next()) ++n;
    EXPECT_TRUE(it->status().ok());
    return n;
  }
  storage::StatusOr<v1::AcceptPointResponse> Accept(const std::string& point) {
    v1::AcceptPointRequest req;
    req.set_tenant("acme");
    req.set_backup_set("snaps");
    req.set_point(point);
    req.set_reason("checked by hand");
    return c_->AcceptPoint(req, "alice");
  }
};

TEST_F(FreedPointsTest, AGonePointsEntriesAreFreedAfterTheWindowItsRecordStays) {
  // Three points sharing a and b; each has a file of its own.
  const std::vector<v1::Observation> all = {
      Obs(100, "a", "1"), Obs(100, "b", "2"), Obs(100, "u", "only-100"),
      Obs(200, "a", "1"), Obs(200, "b", "2"), Obs(200, "u", "only-200"),
      Obs(300, "a", "1"), Obs(300, "b", "2"), Obs(300, "u", "only-300")};
  RunTask({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}}, {all});
  // Flagged (as the signals would): an operator could accept it, until freed.
  SetPointVerdict("snaps", 100, v1::POINT_VERDICT_SUSPICIOUS);
  const std::vector<v1::Observation> without_100(all.begin() + 3, all.end());
  const size_t versions_before = Keys(storage::Space::kVersions);
  const size_t hashes_before = Keys(storage::Space::kHashIndex);
  // 100 rotated out; 29 days later it is still held.
  RunTask({{200, "daily.2"}, {300, "daily.1"}}, {without_100});
  auto rec = Records();
  ASSERT_NE(rec[100].gone_ns(), 0);
  const v1::PointRecord before = rec[100];
  clock_.Advance(29 * kDay);
  RunTask({{200, "daily.2"}, {300, "daily.1"}}, {without_100});
  rec = Records();
  EXPECT_EQ(rec[100].entries_freed_ns(), 0);
  EXPECT_TRUE(HasEntry(100, "u"));
  EXPECT_EQ(Keys(storage::Space::kVersions), versions_before);

  // Past 30 days: freed at the set's next check.
  clock_.Advance(2 * kDay);
  RunTask({{200, "daily.2"}, {300, "daily.1"}}, {without_100});
  rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[100].entries_freed_ns(), clock_.NowNs());
  // The record stays as it was (what reports and the RPO history read).
  EXPECT_EQ(rec[100].gone_ns(), before.gone_ns());
  EXPECT_EQ(rec[100].files(), before.files());
  EXPECT_EQ(rec[100].verdict(), before.verdict());
  EXPECT_EQ(rec[100].first_seen_ns(), before.first_seen_ns());
  EXPECT_FALSE(rec[100].has_digests());
  // Its own file's version and hash key are gone; what 200 and 300 share
  // with it stays.
  EXPECT_FALSE(HasEntry(100, "a"));
  EXPECT_FALSE(HasEntry(100, "u"));
  EXPECT_TRUE(HasEntry(200, "a"));
  EXPECT_TRUE(HasEntry(200, "u"));
  EXPECT_TRUE(HasEntry(300, "u"));
  EXPECT_LT(Keys(storage::Space::kVersions), versions_before);
  EXPECT_EQ(Keys(storage::Space::kHashIndex), hashes_before - 1);
  int holders = 0;
  ASSERT_TRUE(c_->catalogue()
                  .ForEachHolder(storage::HashBytes(storage::HashAlgorithm::kXxh3_128, "only-100"),
                                 [&](const storage::EntryKey&) {
                                   ++holders;
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(holders, 0);
  // The other points' verdicts and records are untouched.
  EXPECT_EQ(rec[200].entries_freed_ns(), 0);
  EXPECT_EQ(rec[300].entries_freed_ns(), 0);

  // It cannot be accepted: nothing left to compare later points with.
  auto accepted = Accept("100");
  ASSERT_EQ(accepted.status().code(), absl::StatusCode::kFailedPrecondition) << accepted.status();
  EXPECT_NE(accepted.status().message().find("freed"), std::string::npos)
      << accepted.status().message();

  // It comes back (a repository restored): recorded anew, every entry added.
  clock_.Advance(kDay);
  RunTask({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}}, {all});
  rec = Records();
  EXPECT_EQ(rec[100].entries_freed_ns(), 0);
  EXPECT_EQ(rec[100].gone_ns(), 0);
  EXPECT_EQ(rec[100].first_seen_ns(), before.first_seen_ns());  // its history stays
  EXPECT_TRUE(rec[100].plausibility_checked());
  EXPECT_NE(rec[100].verdict(), v1::POINT_VERDICT_UNSPECIFIED);  // judged again
  EXPECT_TRUE(HasEntry(100, "u"));
  EXPECT_TRUE(HasEntry(100, "a"));
  v1::GetStatusRequest sreq;
  sreq.set_tenant("acme");
  auto st = c_->GetStatus(sreq);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->tenants(0).backup_sets(0).last_task().counts().added(), 3u);
}

// A set whose checks list no point for a month (its directory unreachable
// or emptied): every point looks gone, none is freed.
TEST_F(FreedPointsTest, NothingIsFreedWhileNoPointOfTheSetIsPresent) {
  RunTask({{100, "daily.1"}, {200, "daily.0"}},
          {{Obs(100, "a", "1"), Obs(100, "u", "x"), Obs(200, "a", "1"), Obs(200, "u", "y")}});
  RunTask({}, {});
  clock_.Advance(31 * kDay);
  RunTask({}, {});
  auto rec = Records();
  ASSERT_EQ(rec.size(), 2u);
  for (const auto& [t, r] : rec) {
    EXPECT_NE(r.gone_ns(), 0) << t;
    EXPECT_EQ(r.entries_freed_ns(), 0) << t;
  }
  EXPECT_TRUE(HasEntry(100, "u"));
  // The set shows a point again: the other one is freed.
  RunTask({{200, "daily.0"}}, {{Obs(200, "a", "1"), Obs(200, "u", "y")}});
  rec = Records();
  EXPECT_NE(rec[100].entries_freed_ns(), 0);
  EXPECT_EQ(rec[200].entries_freed_ns(), 0);
  EXPECT_FALSE(HasEntry(100, "u"));
  EXPECT_TRUE(HasEntry(200, "u"));
}

// A point judged again after an acceptance is compared with the accepted
// point, not with a later point whose entries were freed (a freed point's
// scan is empty: every file would look new).
TEST_F(FreedPointsTest, AFreedPointIsNoReferenceWhenLaterPointsAreJudgedAgain) {
  RunTask({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}},
          {{Obs(100, "HOW_TO_DECRYPT.txt", "pay"), Obs(100, "a", "1"), Obs(100, "b", "2"),
            Obs(200, "a", "1"), Obs(200, "b", "2"), Obs(300, "a", "1"), Obs(300, "b", "2")}});
  auto rec = Records();
  ASSERT_EQ(rec[100].verdict(), v1::POINT_VERDICT_SUSPICIOUS);
  ASSERT_EQ(rec[200].verdict(), v1::POINT_VERDICT_CLEAN);
  ASSERT_EQ(rec[300].compared_with_ns(), 200);
  // 200 rotated out and freed.
  const std::vector<v1::Observation> kept = {Obs(100, "HOW_TO_DECRYPT.txt", "pay"),
                                             Obs(100, "a", "1"), Obs(100, "b", "2"),
                                             Obs(300, "a", "1"), Obs(300, "b", "2")};
  RunTask({{100, "daily.1"}, {300, "daily.0"}}, {kept});
  clock_.Advance(31 * kDay);
  RunTask({{100, "daily.1"}, {300, "daily.0"}}, {kept});
  rec = Records();
  ASSERT_NE(rec[200].entries_freed_ns(), 0);
  const v1::PointVerdict freed_verdict = rec[200].verdict();

  auto accepted = Accept("100");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  rec = Records();
  EXPECT_EQ(rec[300].verdict(), v1::POINT_VERDICT_CLEAN);
  EXPECT_EQ(rec[300].compared_with_ns(), 100);   // not the freed 200
  EXPECT_EQ(rec[300].changed_files(), 0u);       // a and b as in 100 (a freed 200: both new)
  EXPECT_EQ(rec[200].verdict(), freed_verdict);  // kept: nothing to judge it with
}

}  // namespace
}  // namespace vigil::coordinator
