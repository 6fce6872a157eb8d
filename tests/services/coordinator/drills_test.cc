// Restore drills through the coordinator's domain calls, without gRPC: the
// sample QueueDrill takes from the catalogue (newest present point, spread,
// limits), the scheduler and `check run --drill` queueing drills, and a
// completed drill stored as a DrillRecord and judged by the status
// (restore_drill verdict, readiness).
#include "services/coordinator/drills.h"

#include <gtest/gtest.h>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "storage/hash.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

namespace manifests = vigil::testing::manifests;

constexpr int64_t kHour = 3'600'000'000'000LL;

class DrillsTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    ApplyYaml(manifests::Join(
        {manifests::Location(), manifests::Tenant("acme", "Europe/Paris"),
         manifests::Contract(
             "acme",
             "assets:\n" +
                 manifests::Asset("fs", {manifests::BackupSet("snaps", "nas", "acme/snaps",
                                                              {"layout: rsnapshot"})}) +
                 "commitments:\n  - restoreDrill: {every: 30d, rto: 8h, sampleFiles: 3}\n")}));
    RegisterWorker();
  }
  // One check of the set: the points listed, then their observations.
  void RunCheck(const Points& points, std::vector<v1::Observation> obs) { RunTask(points, {obs}); }
  // Ten files f0..f9 (f<i> holds i+1 bytes) in the point at `time`.
  static std::vector<v1::Observation> TenFiles(int64_t time) {
    std::vector<v1::Observation> v;
    for (int i = 0; i < 10; ++i) {
      v.push_back(Obs(time, "f" + std::to_string(i), std::string(static_cast<size_t>(i) + 1, 'x')));
    }
    return v;
  }
  // Checks points 100 and 200 (ten files each), then 100, 200, 300 (300 has
  // two files), then 100 and 200 again: 300 is gone, 200 is the newest
  // present point.
  void CheckThreeTimes() {
    std::vector<v1::Observation> both = TenFiles(100), p200 = TenFiles(200);
    both.insert(both.end(), p200.begin(), p200.end());
    RunCheck({{100, "daily.1"}, {200, "daily.0"}}, both);
    std::vector<v1::Observation> three = both;
    three.push_back(Obs(300, "new", "n"));
    three.push_back(Obs(300, "other", "o"));
    RunCheck({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}}, three);
    RunCheck({{100, "daily.1"}, {200, "daily.0"}}, both);
  }
  v1::Task LeaseDrill() {
    auto t = c_->LeaseTask(worker_);
    EXPECT_TRUE(t.ok() && t->has_task());
    EXPECT_EQ(t->task().kind(), v1::TASK_KIND_DRILL);
    return t->task();
  }
  storage::StatusOr<v1::CompleteTaskResponse> CompleteDrill(const v1::Task& t,
                                                            const v1::DrillResult& r) {
    v1::CompleteTaskRequest done;
    done.set_task_id(t.id());
    done.set_attempt(t.attempt());
    *done.mutable_drill() = r;
    return c_->CompleteTask(worker_, done);
  }
  static v1::DrillResult Result(uint64_t bytes, double seconds, uint64_t mismatches,
                                std::string error = "") {
    v1::DrillResult r;
    r.set_files(3);
    r.set_bytes(bytes);
    r.set_seconds(seconds);
    r.set_mismatches(mismatches);
    if (mismatches > 0) r.add_mismatch_paths("f3");
    r.set_error(error);
    return r;
  }
  v1::TenantStatus Status() { return AcmeStatus(); }
  static const v1::CommitmentStatus* DrillVerdict(const v1::TenantStatus& t) {
    for (const auto& c : t.commitments()) {
      if (c.kind() == "restore_drill") return &c;
    }
    return nullptr;
  }
  static std::string Evidence(const v1::CommitmentStatus& c, const std::string& name) {
    for (const auto& e : c.evidence()) {
      if (e.name() == name) return e.value();
    }
    return "";
  }
};

TEST_F(DrillsTest, NothingToDrillBeforeACheck) {
  auto t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition) << t.status();
  EXPECT_EQ(c_->QueueDrill("acme", "nope", 3, 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c_->QueueDrill("nobody", "snaps", 3, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DrillsTest, QueueDrillSamplesTheNewestPresentPointSpreadFromTheCatalogue) {
  CheckThreeTimes();
  auto t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind(), v1::TASK_KIND_DRILL);
  EXPECT_EQ(t->state(), v1::TASK_STATE_QUEUED);
  EXPECT_NE(t->id(), 0u);
  EXPECT_NE(t->check_id(), 0u);
  EXPECT_EQ(t->tenant_timezone(), "Europe/Paris");
  EXPECT_EQ(t->drill_point_ns(), 200);     // 300 is gone
  EXPECT_EQ(t->drill_point_bytes(), 55u);  // 1 + 2 + ... + 10
  // Every third of the ten files (k = 10 / 3), in key order: f0, f3, f6.
  ASSERT_EQ(t->drill_sample_size(), 3);
  EXPECT_EQ(t->drill_sample(0).path(), "f0");
  EXPECT_EQ(t->drill_sample(1).path(), "f3");
  EXPECT_EQ(t->drill_sample(2).path(), "f6");
  storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kXxh3_128, "xxxx");
  EXPECT_EQ(t->drill_sample(1).size(), 4u);
  EXPECT_EQ(t->drill_sample(1).digest_algorithm(), static_cast<uint32_t>(d.algorithm()));
  EXPECT_EQ(t->drill_sample(1).digest(), std::string(d.view()));

  // A byte limit skips what does not fit: f0 (1) + f3 (4) = 5, f6 (7) not.
  auto small = c_->QueueDrill("acme", "snaps", 3, 6);
  ASSERT_TRUE(small.ok()) << small.status();
  ASSERT_EQ(small->drill_sample_size(), 2);
  EXPECT_EQ(small->drill_sample(1).path(), "f3");
  // More files asked than there are: all of them.
  auto all = c_->QueueDrill("acme", "snaps", 50, 0);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->drill_sample_size(), 10);
}

// A drill restores the newest GOOD point: newer ones that are implausible
// (an emptied source) or damaged are passed over, named with why in the
// task and in the drill's evidence; with no good point, no drill.
TEST_F(DrillsTest, DrillsTheNewestGoodPointAndNamesTheSkippedOnes) {
  std::vector<v1::Observation> both = TenFiles(100), p200 = TenFiles(200);
  both.insert(both.end(), p200.begin(), p200.end());
  std::vector<v1::Observation> three = both;  // 300: two files of ten (files-drop)
  three.push_back(Obs(300, "new", "n"));
  three.push_back(Obs(300, "other", "o"));
  RunCheck({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}}, three);
  auto t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->drill_point_ns(), 200);
  ASSERT_EQ(t->drill_skipped_size(), 1);
  EXPECT_NE(t->drill_skipped(0).find("daily.0"), std::string::npos) << t->drill_skipped(0);
  EXPECT_NE(t->drill_skipped(0).find("implausible: bytes-drop"), std::string::npos)
      << t->drill_skipped(0);
  // The result keeps what was skipped; the status shows it.
  v1::Task leased = LeaseDrill();
  ASSERT_TRUE(CompleteDrill(leased, Result(1 << 20, 1.0, 0)).ok());
  const v1::TenantStatus st = Status();
  const v1::CommitmentStatus* v = DrillVerdict(st);
  ASSERT_NE(v, nullptr);
  EXPECT_NE(Evidence(*v, "newer_points_skipped").find("daily.0"), std::string::npos);

  // Point 200 found damaged (f3 read back different): the drill goes to 100.
  for (auto& o : three) {
    if (o.restore_point_ns() == 200 && o.path() == "f3") o = Obs(200, "f3", "yyyy");
  }
  RunCheck({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}}, three);
  t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->drill_point_ns(), 100);
  ASSERT_EQ(t->drill_skipped_size(), 2);
  EXPECT_NE(t->drill_skipped(1).find("daily.1"), std::string::npos) << t->drill_skipped(1);
  EXPECT_NE(t->drill_skipped(1).find("damaged"), std::string::npos) << t->drill_skipped(1);
  ASSERT_TRUE(CompleteDrill(LeaseDrill(), Result(1 << 20, 1.0, 0)).ok());

  // 100 damaged too: nothing good to drill, and the refusal says why.
  for (auto& o : three) {
    if (o.restore_point_ns() == 100 && o.path() == "f0") o = Obs(100, "f0", "z");
  }
  RunCheck({{100, "daily.2"}, {200, "daily.1"}, {300, "daily.0"}}, three);
  t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("no good restore point to drill"), std::string::npos)
      << t.status();
  EXPECT_NE(t.status().message().find("daily.2"), std::string::npos) << t.status();
}

// A drill restores the last CLEAN point (examined for ransomware signals
// with nothing found, or accepted): newer points flagged or not examined yet
// are passed over with why; with none clean, the newest good one, said so.
TEST_F(DrillsTest, DrillsTheLastCleanPoint) {
  std::vector<v1::Observation> obs;
  for (int64_t t : {100, 200, 300, 400}) {
    std::vector<v1::Observation> files = TenFiles(t);
    obs.insert(obs.end(), files.begin(), files.end());
  }
  RunCheck({{100, "daily.3"}, {200, "daily.2"}, {300, "daily.1"}, {400, "daily.0"}}, obs);
  // The verdicts as the signals would have set them: 100 and 200 clean,
  // 300 encrypted, 400 not examined yet.
  auto set_verdict = [&](int64_t t, v1::PointVerdict v, const std::string& signal) {
    auto points = LoadPoints(c_->catalogue().kv(), "acme", "snaps");
    ASSERT_TRUE(points.ok()) << points.status();
    for (v1::PointRecord r : *points) {
      if (r.time_ns() != t) continue;
      r.set_verdict(v);
      r.clear_signals();
      if (!signal.empty()) {
        v1::PointSignal* s = r.add_signals();
        s->set_kind("entropy");
        s->set_message(signal);
      }
      storage::KvBatch b;
      b.Put(storage::Space::kMeta, keys::Point("acme", "snaps", t), r.SerializeAsString());
      ASSERT_TRUE(c_->catalogue().kv()->Write(b, {.sync = true}).ok());
    }
  };
  set_verdict(100, v1::POINT_VERDICT_CLEAN, "");
  set_verdict(200, v1::POINT_VERDICT_CLEAN, "");
  set_verdict(300, v1::POINT_VERDICT_ENCRYPTED, "950 files turned random");
  set_verdict(400, v1::POINT_VERDICT_UNSPECIFIED, "");
  auto t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->drill_point_ns(), 200);
  ASSERT_EQ(t->drill_skipped_size(), 2);
  EXPECT_NE(t->drill_skipped(0).find("daily.0"), std::string::npos) << t->drill_skipped(0);
  EXPECT_NE(t->drill_skipped(0).find("not yet examined for ransomware signals"), std::string::npos)
      << t->drill_skipped(0);
  EXPECT_NE(t->drill_skipped(1).find("daily.1"), std::string::npos) << t->drill_skipped(1);
  EXPECT_NE(t->drill_skipped(1).find("encrypted: entropy: 950 files turned random"),
            std::string::npos)
      << t->drill_skipped(1);
  ASSERT_TRUE(CompleteDrill(LeaseDrill(), Result(1 << 20, 1.0, 0)).ok());

  // 400 found clean: it is drilled, nothing passed over.
  set_verdict(400, v1::POINT_VERDICT_CLEAN, "");
  t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->drill_point_ns(), 400);
  EXPECT_EQ(t->drill_skipped_size(), 0);
  ASSERT_TRUE(CompleteDrill(LeaseDrill(), Result(1 << 20, 1.0, 0)).ok());

  // No point clean: the newest good one (200, not examined), and why.
  set_verdict(400, v1::POINT_VERDICT_SUSPICIOUS, "renames at scale");
  set_verdict(200, v1::POINT_VERDICT_UNSPECIFIED, "");
  set_verdict(100, v1::POINT_VERDICT_UNSPECIFIED, "");
  t = c_->QueueDrill("acme", "snaps", 3, 0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->drill_point_ns(), 200);
  ASSERT_EQ(t->drill_skipped_size(), 3);
  EXPECT_NE(t->drill_skipped(0).find("suspicious: entropy: renames at scale"), std::string::npos)
      << t->drill_skipped(0);
  EXPECT_EQ(t->drill_skipped(2), "no clean restore point: drilled the newest good one, daily.2 (" +
                                     contracts::Calendar("Europe/Paris").Format(200) +
                                     "), not yet examined for ransomware signals");
}

TEST_F(DrillsTest, SchedulerAndCheckRunQueueOneDrillPerSet) {
  // Never checked: the drill is due but there is nothing to drill yet; the
  // check is queued.
  auto q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  for (const auto& t : *q) EXPECT_EQ(t.kind(), v1::TASK_KIND_CHECK);
  // Checks done (the first leases the scheduler's task), then the drill
  // is queued once.
  CheckThreeTimes();
  q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  int drills = 0;
  for (const auto& t : *q) {
    if (t.kind() == v1::TASK_KIND_DRILL) {
      ++drills;
      EXPECT_EQ(t.drill_sample_size(), 3);  // sampleFiles of the contract
      EXPECT_EQ(t.drill_point_ns(), 200);
    }
  }
  EXPECT_EQ(drills, 1);
  q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  for (const auto& t : *q) EXPECT_NE(t.kind(), v1::TASK_KIND_DRILL);  // one is queued

  v1::RunCheckRequest req;
  req.set_tenant("acme");
  req.set_drill(true);
  auto r = c_->RunCheck(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->task_ids_size(), 1);  // one asset
  std::optional<v1::Task> t = c_->leases().Get(r->task_ids(0));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind(), v1::TASK_KIND_DRILL);
  EXPECT_EQ(t->check_id(), r->check_id());
  req.set_asset("nope");
  EXPECT_EQ(c_->RunCheck(req).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DrillsTest, CompletedDrillsAreRecordedAndJudged) {
  CheckThreeTimes();
  v1::TenantStatus st = Status();
  const v1::CommitmentStatus* v = DrillVerdict(st);
  ASSERT_NE(v, nullptr);
  EXPECT_NE(v->verdict(), "pass");
  ASSERT_EQ(st.readiness_size(), 1);
  bool never = false;
  for (const auto& r : st.readiness(0).reasons()) never |= r == "never drilled";
  EXPECT_TRUE(never) << st.readiness(0).DebugString();

  // A drill at 55 B/s over a 55-byte point: 1 s projected, within 8 h.
  ASSERT_TRUE(c_->QueueDrill("acme", "snaps", 3, 0).ok());
  clock_.Advance(kHour);
  v1::Task t = LeaseDrill();
  auto done = CompleteDrill(t, Result(55, 1.0, 0));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->task().state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(done->task().entries(), 3u);
  // Repeating the completion records nothing more.
  ASSERT_TRUE(CompleteDrill(t, Result(55, 1.0, 0)).ok());
  auto recs = LoadDrills(c_->catalogue().kv(), "acme", "snaps");
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].at_ns(), clock_.NowNs());
  EXPECT_EQ((*recs)[0].point_time_ns(), 200);
  EXPECT_EQ((*recs)[0].point_bytes(), 55u);
  EXPECT_EQ((*recs)[0].worker_id(), worker_);
  st = Status();
  v = DrillVerdict(st);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->verdict(), "pass") << v->DebugString();
  EXPECT_NE(v->summary().find("projected full restore"), std::string::npos) << v->summary();
  EXPECT_EQ(Evidence(*v, "projected_full_restore"), "1.0 s") << v->DebugString();
  for (const auto& r : st.readiness(0).reasons())
    EXPECT_EQ(r.find("drill"), std::string::npos) << r;
  // The drill is not an inventory: the set's last check stays the check.
  EXPECT_EQ(st.backup_sets(0).last_task().kind(), v1::TASK_KIND_CHECK);

  // A slow drill: 1 B/s projects 55 s... at 0.001 B/s 55,000 s > 8 h.
  ASSERT_TRUE(c_->QueueDrill("acme", "snaps", 3, 0).ok());
  clock_.Advance(kHour);
  t = LeaseDrill();
  ASSERT_TRUE(CompleteDrill(t, Result(1, 1000.0, 0)).ok());
  st = Status();
  v = DrillVerdict(st);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->verdict(), "fail") << v->DebugString();
  EXPECT_NE(v->summary().find("exceeds the RTO"), std::string::npos) << v->summary();

  // Restored data differs: fail, and the asset is not ready.
  ASSERT_TRUE(c_->QueueDrill("acme", "snaps", 3, 0).ok());
  clock_.Advance(kHour);
  t = LeaseDrill();
  ASSERT_TRUE(CompleteDrill(t, Result(55, 1.0, 1)).ok());
  recs = LoadDrills(c_->catalogue().kv(), "acme", "snaps");
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 3u);
  ASSERT_EQ(recs->back().mismatch_paths_size(), 1);
  EXPECT_EQ(recs->back().mismatch_paths(0), "f3");
  st = Status();
  v = DrillVerdict(st);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->verdict(), "fail");
  EXPECT_NE(v->summary().find("differ from the catalogue"), std::string::npos) << v->summary();
  EXPECT_EQ(st.readiness(0).readiness(), "not ready");
  EXPECT_NE(st.readiness(0).reasons(0).find("restored data differs"), std::string::npos)
      << st.readiness(0).DebugString();

  // A drill that could not run is a result too: DONE, and a failed drill.
  ASSERT_TRUE(c_->QueueDrill("acme", "snaps", 3, 0).ok());
  clock_.Advance(kHour);
  t = LeaseDrill();
  done = CompleteDrill(t, Result(0, 0, 0, "restore point gone"));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->task().state(), v1::TASK_STATE_DONE);
  st = Status();
  v = DrillVerdict(st);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->verdict(), "fail");
  EXPECT_NE(v->summary().find("restore point gone"), std::string::npos) << v->summary();
}

TEST_F(DrillsTest, WorkerFaultsRequeueAndImpossibleResultsAreRefused) {
  CheckThreeTimes();
  ASSERT_TRUE(c_->QueueDrill("acme", "snaps", 3, 0).ok());
  v1::Task t = LeaseDrill();
  // The worker could not run it (its scratch): re-queued, nothing recorded.
  v1::CompleteTaskRequest err;
  err.set_task_id(t.id());
  err.set_attempt(t.attempt());
  err.set_error("cannot create drill directory");
  auto r = c_->CompleteTask(worker_, err);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().state(), v1::TASK_STATE_QUEUED);
  auto recs = LoadDrills(c_->catalogue().kv(), "acme", "snaps");
  ASSERT_TRUE(recs.ok());
  EXPECT_TRUE(recs->empty());
  // More files than sampled: refused, counted as a failed attempt.
  t = LeaseDrill();
  v1::DrillResult bad = Result(55, 1.0, 0);
  bad.set_files(4);
  EXPECT_EQ(CompleteDrill(t, bad).status().code(), absl::StatusCode::kInvalidArgument);
  // A stale attempt changes nothing.
  v1::Task again = LeaseDrill();
  EXPECT_EQ(CompleteDrill(t, Result(55, 1.0, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(CompleteDrill(again, Result(55, 1.0, 0)).ok());
  recs = LoadDrills(c_->catalogue().kv(), "acme", "snaps");
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->size(), 1u);
}

}  // namespace
}  // namespace vigil::coordinator
