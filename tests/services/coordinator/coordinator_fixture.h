// The common fixture of the coordinator's in-process tests: a Coordinator
// on a fresh database in a temporary directory, a fake clock, a worker
// enrolled with the fixed token, and the worker's side of a check (lease,
// observe, complete) in one call. No gRPC.
//
// A test derives from CoordinatorFixture, adjusts coordinator_options_ (clock, lease,
// tokens) in its SetUp, then calls Open(), applies its manifest
// (ApplyYaml, or Apply with SetRequest()) and RegisterWorker(). The YAML
// manifests themselves are in tests/support/manifests.h.
//
// Thread safety: a gtest fixture, used on the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/common/listing_digest.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "storage/hash.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace vigil::coordinator {

// A backup set of a test, with its tenant and location. The defaults are
// the set most tests start from: fs-nas of tenant acme's asset fs, at
// acme/fs on location nas of site office, a mirror.
struct SetSpec {
  std::string tenant = "acme";
  std::string location = "nas";
  std::string site = "office";
  std::string asset = "fs";
  std::string name = "fs-nas";
  std::string path = "acme/fs";
  std::string layout = "";  // a mirror
};

class CoordinatorFixture : public ::testing::Test {
 public:
  // The fixed worker enrolment token of the tests (as --worker-token-file).
  static constexpr const char* kEnrolToken = "test-enrol";
  // A restore point's time (ns) and name, as a worker lists them.
  using Points = std::vector<std::pair<int64_t, std::string>>;

 protected:
  // coordinator_options_: the database in tmp_/db, workers enrol with
  // kEnrolToken, the fake clock. Nothing is opened yet.
  CoordinatorFixture() {
    coordinator_options_.data_dir = tmp_ / "db";
    coordinator_options_.enrol_token_sha256 = TokenHash(kEnrolToken);
    coordinator_options_.clock = &clock_;
  }
  void TearDown() override { c_.reset(); }

  // Opens c_ on coordinator_options_, closing the one open first: a restart.
  void Open() {
    c_.reset();
    auto c = Coordinator::Open(coordinator_options_);
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = std::move(*c);
  }
  // Applies `req`; ASSERTs it succeeds.
  void Apply(const v1::ApplyRequest& req) {
    auto r = c_->Apply(req);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // Applies one YAML manifest file; ASSERTs it succeeds.
  void ApplyYaml(const std::string& text, const std::string& name = "acme.yaml") {
    v1::ApplyRequest req;
    v1::ManifestFile* f = req.add_files();
    f->set_name(name);
    f->set_text(text);
    Apply(req);
  }
  // Enrols a worker of `site` serving `locations` with kEnrolToken; its id
  // and credential go to worker_ and credential_.
  void RegisterWorker(const std::string& site = "office",
                      std::initializer_list<const char*> locations = {"nas"}) {
    v1::RegisterRequest reg;
    reg.set_site(site);
    for (const char* l : locations) reg.add_locations(l);
    auto w = c_->Register(kEnrolToken, reg);
    ASSERT_TRUE(w.ok()) << w.status();
    worker_ = w->worker_id();
    credential_ = w->credential();
  }

  // --- Builders, public: tests without this fixture use them too ------
 public:
  // `set`, with its tenant and location, as a structured manifest.
  static v1::ApplyRequest SetRequest(const SetSpec& set = {}) {
    v1::ApplyRequest req;
    auto* l = req.add_locations();
    l->set_name(set.location);
    l->set_site(set.site);
    req.add_tenants()->set_name(set.tenant);
    auto* b = req.add_backup_sets();
    b->set_tenant(set.tenant);
    b->set_asset(set.asset);
    b->set_name(set.name);
    b->set_location(set.location);
    b->set_path(set.path);
    b->set_layout(set.layout);
    return req;
  }

  // A regular file as a worker observes it: size and digest (`algorithm`)
  // of `content`, mtime 1 ns, in restore point `point` (0: a mirror's).
  static v1::Observation Obs(int64_t point, const std::string& path, const std::string& content,
                             storage::HashAlgorithm algorithm = storage::HashAlgorithm::kXxh3_128) {
    v1::Observation o;
    o.set_path(path);
    o.set_type(v1::ENTRY_TYPE_FILE);
    o.set_size(content.size());
    o.set_mtime_ns(1);
    o.set_restore_point_ns(point);
    storage::Digest d = storage::HashBytes(algorithm, content);
    o.set_digest_algorithm(static_cast<uint32_t>(d.algorithm()));
    o.set_digest(std::string(d.view()));
    return o;
  }
  static v1::Observation Obs(const std::string& path, const std::string& content) {
    return Obs(0, path, content);
  }
  // What a worker computes of a point's `obs` (services/common/listing_digest.h).
  static v1::ListingDigests DigestsOf(const std::vector<v1::Observation>& obs,
                                      bool content = true) {
    ListingDigester d;
    for (const auto& o : obs) d.Add(o);
    return d.Finish(content);
  }
  // The held marker of `point` a worker sends in task `t` when it computed
  // the digests `d` (their proofs, listing_digest.h).
  static v1::Observation Held(const v1::Task& t, int64_t point, const v1::ListingDigests& d) {
    v1::Observation o;
    o.set_restore_point_ns(point);
    *o.mutable_held() = HeldProof(d, t.id(), t.attempt());
    return o;
  }
  // Batch `seq` of task `t`: `points` (listed by mtime; only in seq 1),
  // then `obs`.
  static v1::ObservationBatch Batch(const v1::Task& t, uint64_t seq, const Points& points,
                                    const std::vector<v1::Observation>& obs) {
    v1::ObservationBatch b;
    b.set_task_id(t.id());
    b.set_attempt(t.attempt());
    b.set_seq(seq);
    for (const auto& [time, name] : points) {
      auto* p = b.add_points();
      p->set_time_ns(time);
      p->set_name(name);
      p->set_time_source("mtime");
    }
    for (const auto& o : obs) *b.add_observations() = o;
    return b;
  }
  static v1::ObservationBatch Batch(const v1::Task& t, uint64_t seq,
                                    const std::vector<v1::Observation>& obs) {
    return Batch(t, seq, {}, obs);
  }
  // The completion of task `t` after `final_seq` batches.
  static v1::CompleteTaskRequest Done(const v1::Task& t, uint64_t final_seq) {
    v1::CompleteTaskRequest done;
    done.set_task_id(t.id());
    done.set_attempt(t.attempt());
    done.set_final_seq(final_seq);
    return done;
  }

 protected:
  // Queues a check of acme (of its asset `asset` only, if not empty) and
  // leases worker_ a task; EXPECTs there is one.
  v1::Task RunAndLease(const std::string& asset = "") {
    v1::RunCheckRequest req;
    req.set_tenant("acme");
    req.set_asset(asset);
    auto r = c_->RunCheck(req);
    EXPECT_TRUE(r.ok()) << r.status();
    auto t = c_->LeaseTask(worker_);
    EXPECT_TRUE(t.ok() && t->has_task()) << t.status();
    return t.ok() ? t->task() : v1::Task();
  }
  // One check of acme with `obs` in one batch, as worker_ (queued, leased,
  // observed, completed): the DONE task's diff counts. EXPECTs each step.
  v1::DiffCounts CheckCounts(const std::vector<v1::Observation>& obs) {
    v1::Task t = RunAndLease();
    auto a = c_->Observe(worker_, Batch(t, 1, obs));
    EXPECT_TRUE(a.ok()) << a.status();
    auto r = c_->CompleteTask(worker_, Done(t, 1));
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r.ok() ? r->task().state() : v1::TASK_STATE_UNSPECIFIED, v1::TASK_STATE_DONE);
    return r.ok() ? r->task().counts() : v1::DiffCounts();
  }
  // One check of acme end to end, as worker_: queued, leased (a check),
  // one batch per element of `batches` (`points` in the first), completed
  // DONE. ASSERTs every step.
  void RunTask(const Points& points, std::vector<std::vector<v1::Observation>> batches) {
    v1::RunCheckRequest req;
    req.set_tenant("acme");
    ASSERT_TRUE(c_->RunCheck(req).ok());
    auto leased = c_->LeaseTask(worker_);
    ASSERT_TRUE(leased.ok() && leased->has_task());
    const v1::Task& t = leased->task();
    ASSERT_EQ(t.kind(), v1::TASK_KIND_CHECK);
    if (batches.empty()) batches.emplace_back();
    for (size_t i = 0; i < batches.size(); ++i) {
      auto a = c_->Observe(worker_, Batch(t, i + 1, i == 0 ? points : Points{}, batches[i]));
      ASSERT_TRUE(a.ok()) << a.status();
    }
    auto r = c_->CompleteTask(worker_, Done(t, batches.size()));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->task().state(), v1::TASK_STATE_DONE);
  }
  // Writes a ransomware verdict, its signals and the point it was computed
  // against into the record of acme's point `t` of `set`, as the signals
  // would (a test seam for the verdict's consumers); ASSERTs the point
  // exists.
  void SetPointVerdict(const std::string& set, int64_t t, v1::PointVerdict verdict,
                       const std::vector<v1::PointSignal>& signals = {},
                       int64_t compared_with_ns = 0) {
    auto points = c_->Points("acme", set);
    ASSERT_TRUE(points.ok()) << points.status();
    for (v1::PointRecord& r : *points) {
      if (r.time_ns() != t) continue;
      r.set_verdict(verdict);
      r.clear_signals();
      for (const auto& s : signals) *r.add_signals() = s;
      r.set_compared_with_ns(compared_with_ns);
      storage::KvBatch b;
      b.Put(storage::Space::kMeta, keys::Point("acme", set, t), r.SerializeAsString());
      ASSERT_TRUE(c_->catalogue().kv()->Write(b, {.sync = true}).ok());
      return;
    }
    FAIL() << "acme/" << set << " has no point at " << t;
  }
  // A signal as the signals would give one: 1 file renamed to .lockbit.
  static v1::PointSignal LockbitSignal() {
    v1::PointSignal s;
    s.set_kind("extension-changes");
    s.set_message("1 file renamed to a new extension (.lockbit); threshold 1");
    s.set_count(1);
    s.set_threshold(1);
    s.add_examples("a.docx.lockbit");
    return s;
  }

  // GetStatus of acme, its first tenant status; EXPECTs it succeeds.
  v1::TenantStatus AcmeStatus() {
    v1::GetStatusRequest req;
    req.set_tenant("acme");
    auto st = c_->GetStatus(req);
    EXPECT_TRUE(st.ok()) << st.status();
    return st.ok() && st->tenants_size() > 0 ? st->tenants(0) : v1::TenantStatus();
  }

  vigil::testing::TempDir tmp_;
  vigil::testing::FakeClock clock_;
  CoordinatorOptions coordinator_options_;
  std::unique_ptr<Coordinator> c_;
  std::string worker_, credential_;
};

}  // namespace vigil::coordinator
