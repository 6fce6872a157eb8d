// The coordinator's domain calls end to end, without gRPC: apply, check,
// lease, observe (staging, resend, fencing), complete (merge), status.
#include "services/coordinator/coordinator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/records.h"
#include "services/proofs/check_log.h"
#include "storage/hash.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

class CoordinatorTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    coordinator_options_.clock = nullptr;  // the real clock
    Prepare();
  }
  // A fresh database in coordinator_options_.data_dir with tenant acme (one set) and a
  // registered worker.
  void Prepare() {
    std::filesystem::remove_all(coordinator_options_.data_dir);
    Open();
    auto r = c_->Apply(SetRequest());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->changed(), 3u);
    RegisterWorker();
  }
  // `fixed_enrol`: with the fixed worker token "test-enrol" (as
  // --worker-token-file), else none.
  void Open(std::string admin_token = "", bool fixed_enrol = true) {
    coordinator_options_.enrol_token_sha256 =
        fixed_enrol ? TokenHash(kEnrolToken) : "";  // workers enrol
    coordinator_options_.admin_token_sha256 = admin_token.empty() ? "" : TokenHash(admin_token);
    CoordinatorFixture::Open();
  }
  v1::Task Lease() {
    auto t = c_->LeaseTask(worker_);
    EXPECT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(t->has_task());
    return t->task();
  }
  uint64_t CheckRun() {
    v1::RunCheckRequest req;
    req.set_tenant("acme");
    auto r = c_->RunCheck(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r->check_id();
  }
  v1::BackupSetStatus SetStatus() { return AcmeStatus().backup_sets(0); }
};

TEST_F(CoordinatorTest, ApplyRefusesBadInputAndAppliesNothing) {
  v1::ApplyRequest req;
  req.add_tenants()->set_name("globex");
  auto* b = req.add_backup_sets();
  b->set_tenant("globex");
  b->set_asset("db");
  b->set_name("db");
  b->set_location("nowhere");
  b->set_path("x");
  auto r = c_->Apply(req);
  ASSERT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_NE(r.status().message().find("unknown location 'nowhere'"), std::string::npos);
  v1::GetStatusRequest sreq;
  sreq.set_tenant("globex");
  EXPECT_TRUE(absl::IsNotFound(c_->GetStatus(sreq).status()));  // tenant not applied either

  b->set_location("nas");
  b->set_path("../etc");
  r = c_->Apply(req);
  ASSERT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_NE(r.status().message().find("'path'"), std::string::npos);
}

// The YAML parser refuses "." and ".." as names; the structured Apply (and
// every request naming a tenant) refused only characters, so a raw
// ApplyRequest stored tenant ".." and location ".".
TEST_F(CoordinatorTest, DotNamesAreRefusedOnEveryPathIn) {
  auto valid = [] {
    v1::ApplyRequest req = SetRequest({.tenant = "globex",
                                       .location = "nas2",
                                       .asset = "db",
                                       .name = "db-nas2",
                                       .path = "globex/db"});
    auto* ch = req.add_alert_channels();
    ch->set_name("ops");
    ch->set_webhook_url("https://hooks.example/vigil");
    ch->set_secret("ops-hmac");
    ch->add_tenants("globex");
    return req;
  };
  struct Case {
    const char* field;  // as the error names it
    std::function<void(v1::ApplyRequest*, const std::string&)> set;
  };
  const std::vector<Case> cases = {
      {"name",
       [](v1::ApplyRequest* r, const std::string& v) {
         r->mutable_locations(0)->set_name(v);
         r->mutable_backup_sets(0)->set_location(v);
       }},
      {"site",
       [](v1::ApplyRequest* r, const std::string& v) { r->mutable_locations(0)->set_site(v); }},
      {"name",
       [](v1::ApplyRequest* r, const std::string& v) {
         r->mutable_tenants(0)->set_name(v);
         r->mutable_backup_sets(0)->set_tenant(v);
       }},
      {"tenant",
       [](v1::ApplyRequest* r, const std::string& v) { r->mutable_backup_sets(0)->set_tenant(v); }},
      {"asset",
       [](v1::ApplyRequest* r, const std::string& v) { r->mutable_backup_sets(0)->set_asset(v); }},
      {"name",
       [](v1::ApplyRequest* r, const std::string& v) { r->mutable_backup_sets(0)->set_name(v); }},
      {"name", [](v1::ApplyRequest* r,
                  const std::string& v) { r->mutable_alert_channels(0)->set_name(v); }},
      // A secret is a file name in --secrets: ".." would be the directory
      // above it, "../x" a file outside it.
      {"secret", [](v1::ApplyRequest* r,
                    const std::string& v) { r->mutable_alert_channels(0)->set_secret(v); }},
      {"password_secret",
       [](v1::ApplyRequest* r, const std::string& v) {
         auto* ch = r->mutable_alert_channels(0);
         ch->clear_webhook_url();
         ch->clear_secret();
         ch->add_email_to("ops@msp.example");
         ch->set_smtp_url("smtp://mail:587");
         ch->set_from("vigil@msp.example");
         ch->set_smtp_user("vigil");
         ch->set_password_secret(v);
       }},
      {"tenants", [](v1::ApplyRequest* r,
                     const std::string& v) { r->mutable_alert_channels(0)->set_tenants(0, v); }},
  };
  ASSERT_TRUE(c_->Apply(valid()).ok());
  for (size_t i = 0; i < cases.size(); ++i) {
    for (const std::string bad : {".", "..", "../x", ""}) {
      SCOPED_TRACE(std::to_string(i) + " " + cases[i].field + "='" + bad + "'");
      v1::ApplyRequest req = valid();
      req.mutable_locations(0)->set_name("nas3");  // new objects: nothing may be stored
      req.mutable_tenants(0)->set_name("initech");
      req.mutable_backup_sets(0)->set_location("nas3");
      req.mutable_backup_sets(0)->set_tenant("initech");
      cases[i].set(&req, bad);
      auto r = c_->Apply(req);
      ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
      EXPECT_NE(r.status().message().find("field '" + std::string(cases[i].field) +
                                          "' must be a name (1 to 128 of A-Z a-z 0-9 . _ -, "
                                          "not '.' or '..'), got '" +
                                          bad + "'"),
                std::string::npos)
          << r.status();
      v1::GetStatusRequest sreq;
      sreq.set_tenant("initech");
      EXPECT_TRUE(absl::IsNotFound(c_->GetStatus(sreq).status()));  // nothing applied
    }
  }
  // Requests naming a tenant or a set: refused as invalid, not looked up.
  auto invalid = [](const absl::Status& s, const std::string& field) {
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_NE(s.message().find("field '" + field + "' must be a name"), std::string::npos) << s;
  };
  for (const std::string bad : {".", ".."}) {
    SCOPED_TRACE(bad);
    v1::RunCheckRequest run;
    run.set_tenant(bad);
    invalid(c_->RunCheck(run).status(), "tenant");
    run.set_tenant("acme");
    run.set_asset(bad);
    invalid(c_->RunCheck(run).status(), "asset");
    v1::GetStatusRequest st;
    st.set_tenant(bad);
    invalid(c_->GetStatus(st).status(), "tenant");
    v1::MakeReportRequest rep;
    rep.set_tenant(bad);
    invalid(c_->MakeReport(rep).status(), "tenant");
    invalid(c_->ListTenantProofs(bad).status(), "tenant");
    invalid(c_->GetProof(bad, 0, "").status(), "tenant");
    v1::GetInclusionProofRequest inc;
    inc.set_tenant(bad);
    invalid(c_->GetInclusionProof(inc).status(), "tenant");
    inc.set_tenant("acme");
    inc.set_backup_set(bad);
    invalid(c_->GetInclusionProof(inc).status(), "backup_set");
    invalid(c_->QueueDrill(bad, "fs-nas", 0, 0).status(), "tenant");
    invalid(c_->QueueDrill("acme", bad, 0, 0).status(), "backup_set");
    v1::IssueTokenRequest tok;
    tok.set_kind(v1::TOKEN_KIND_TENANT);
    tok.set_tenant(bad);
    invalid(c_->IssueToken(tok).status(), "tenant");
    v1::RegisterRequest reg;
    reg.set_site(bad);
    reg.add_locations("nas");
    invalid(c_->Register("test-enrol", reg).status(), "site");
    reg.set_site("office");
    reg.set_locations(0, bad);
    invalid(c_->Register("test-enrol", reg).status(), "locations");
  }
}

// The issue's manifest, sent raw: 1.1 MB holding a 1 MB anchored string
// aliased 2,000 times. The coordinator spent 58 s on it and died of
// bad_alloc; now the dry run over the YAML events stops at the fifth 1 MB
// (item 1's reason).
TEST_F(CoordinatorTest, ApplyRefusesAManifestMultipliedByAliases) {
  std::string yaml =
      "apiVersion: vigil/v1\nkind: Tenant\nname: globex\ntimezone: UTC\n---\n"
      "apiVersion: vigil/v1\nkind: Contract\ntenant: globex\nreference: &big " +
      std::string(1'000'000, 'x') +
      "\nassets:\n  - name: fs\n    backupSets:\n"
      "      - {name: db, location: nas, path: globex/db}\noutOfScope:\n";
  for (int i = 0; i < 1000; ++i) yaml += "  - {item: *big, reason: *big}\n";
  v1::ApplyRequest req;
  auto* f = req.add_files();
  f->set_name("bomb.yaml");
  f->set_text(yaml);
  auto r = c_->Apply(req);
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status().message().substr(0, 300);
  EXPECT_EQ(r.status().message().find(
                "bomb.yaml:16:26: yaml: the manifest is too large once its aliases are expanded: "
                "more than 4,194,304 bytes (the limit for this file: 4 times its size, at least "
                "4,194,304 bytes)"),
            0u)
      << r.status().message().substr(0, 300);
  v1::GetStatusRequest sreq;
  sreq.set_tenant("globex");
  EXPECT_TRUE(absl::IsNotFound(c_->GetStatus(sreq).status()));  // nothing applied
}

TEST_F(CoordinatorTest, ApplyIsIdempotent) {
  v1::ApplyRequest req;
  req.add_tenants()->set_name("acme");
  auto r = c_->Apply(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->changed(), 0u);
}

TEST_F(CoordinatorTest, ObservedBatchesMergeIntoTheCatalogue) {
  uint64_t check = CheckRun();
  v1::Task t = Lease();
  EXPECT_EQ(t.backup_set().path(), "acme/fs");
  auto a1 = c_->Observe(worker_, Batch(t, 1, {Obs("a/x", "1"), Obs("a/y", "2")}));
  ASSERT_TRUE(a1.ok()) << a1.status();
  EXPECT_EQ(*a1, 1u);
  // A resend of an acknowledged batch is acknowledged, not stored twice.
  auto again = c_->Observe(worker_, Batch(t, 1, {Obs("a/x", "1"), Obs("a/y", "2")}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 1u);
  // A gap is refused.
  EXPECT_TRUE(absl::IsOutOfRange(c_->Observe(worker_, Batch(t, 3, {})).status()));
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 2, {Obs("b", "3")})).ok());
  // final_seq must match what was acknowledged.
  v1::CompleteTaskRequest done = Done(t, 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(c_->CompleteTask(worker_, done).status()));
  done.set_final_seq(2);
  auto r = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(r->task().entries(), 3u);
  EXPECT_EQ(r->task().counts().added(), 3u);
  // Repeating the completion is harmless.
  ASSERT_TRUE(c_->CompleteTask(worker_, done).ok());

  v1::GetStatusRequest sreq;
  sreq.set_check_id(check);
  auto st = c_->GetStatus(sreq);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->check_finished());
  v1::BackupSetStatus bs = SetStatus();
  EXPECT_EQ(bs.catalogue_entries(), 3u);
  EXPECT_EQ(bs.problems(), 0u);
  storage::EntryRecord rec;
  storage::VerifyRecord ver;
  ASSERT_TRUE(c_->catalogue().GetEntry({"acme", "fs-nas", 0}, "a/y", &rec, &ver).ok());
  EXPECT_EQ(rec.size, 1u);

  // A second check where "a/y" changed and "b" vanished: problems, not new
  // baselines; the rest is unchanged.
  CheckRun();
  t = Lease();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {Obs("a/x", "1"), Obs("a/y", "Z")})).ok());
  done = Done(t, 1);
  r = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().counts().unchanged(), 1u);
  EXPECT_EQ(r->task().counts().modified(), 1u);
  EXPECT_EQ(r->task().counts().missing(), 1u);
  bs = SetStatus();
  EXPECT_EQ(bs.catalogue_entries(), 3u);
  EXPECT_EQ(bs.problems(), 2u);
}

// The check-log heads a coordinator stages are its own: a second coordinator
// on another database in the same process, with the same tenant name, starts
// its log at seq 1, and both chains stay whole while both keep appending.
TEST_F(CoordinatorTest, TwoCoordinatorsInOneProcessKeepTheirOwnCheckLogs) {
  auto finish_one = [this] {
    CheckRun();
    v1::Task t = Lease();
    ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {Obs("a", "1")})).ok());
    v1::CompleteTaskRequest done = Done(t, 1);
    auto r = c_->CompleteTask(worker_, done);
    ASSERT_TRUE(r.ok()) << r.status();
  };
  auto log_head = [](Coordinator& c) {
    check_log::LogHead head;
    storage::Status s = check_log::Verify(*c.catalogue().kv(), "acme", &head);
    EXPECT_TRUE(s.ok()) << s;
    return head.seq;
  };
  finish_one();
  finish_one();
  EXPECT_EQ(log_head(*c_), 2u);

  std::unique_ptr<Coordinator> first = std::move(c_);
  std::string first_worker = worker_;
  coordinator_options_.data_dir += "-second";
  Prepare();
  finish_one();
  EXPECT_EQ(log_head(*c_), 1u);

  std::swap(first, c_);
  std::swap(first_worker, worker_);
  finish_one();
  EXPECT_EQ(log_head(*c_), 3u);
  std::swap(first, c_);
  std::swap(first_worker, worker_);
  finish_one();
  EXPECT_EQ(log_head(*c_), 2u);
  first.reset();
}

TEST_F(CoordinatorTest, StaleAttemptBatchIsRefusedAndNotStored) {
  CheckRun();
  v1::Task t = Lease();
  ASSERT_TRUE(c_->ReleaseTask(worker_,
                              [&] {
                                v1::ReleaseTaskRequest r;
                                r.set_task_id(t.id());
                                r.set_attempt(t.attempt());
                                return r;
                              }())
                  .ok());
  v1::Task t2 = Lease();
  EXPECT_EQ(t2.attempt(), t.attempt() + 1);
  auto stale = c_->Observe(worker_, Batch(t, 1, {Obs("x", "1")}));
  EXPECT_TRUE(absl::IsFailedPrecondition(stale.status())) << stale.status();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t2, 1, {Obs("y", "1")})).ok());
  v1::CompleteTaskRequest done = Done(t2, 1);
  auto r = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().entries(), 1u);  // only the current attempt's batch
  EXPECT_EQ(SetStatus().catalogue_entries(), 1u);
}

TEST_F(CoordinatorTest, StagedBatchesSurviveARestart) {
  CheckRun();
  v1::Task t = Lease();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {Obs("a", "1")})).ok());
  Open();  // the coordinator restarts
  ASSERT_TRUE(c_->AuthenticateWorker(worker_, credential_).ok());
  auto resend = c_->Observe(worker_, Batch(t, 1, {Obs("a", "1")}));
  ASSERT_TRUE(resend.ok()) << resend.status();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 2, {Obs("b", "2")})).ok());
  v1::CompleteTaskRequest done = Done(t, 2);
  auto r = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().entries(), 2u);
}

TEST_F(CoordinatorTest, AMergeDoneBeforeACrashIsNotCountedAgain) {
  CheckRun();
  v1::Task t = Lease();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {Obs("a", "1"), Obs("b", "2")})).ok());
  // The coordinator merged, then died before recording the task DONE.
  auto m = MergeStaged(c_->catalogue(), t.backup_set(), t.id(), t.attempt(), 5,
                       keys::Merged(t.id(), t.attempt()));
  ASSERT_TRUE(m.ok()) << m.status();
  Open();
  v1::CompleteTaskRequest done = Done(t, 1);
  auto r = c_->CompleteTask(worker_, done);  // the worker's retry
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().counts().added(), 2u);
  EXPECT_EQ(r->task().counts().unchanged(), 0u);
  EXPECT_EQ(r->task().entries(), 2u);
  EXPECT_EQ(SetStatus().catalogue_entries(), 2u);
  // The marker went with the staged data.
  std::string v;
  EXPECT_TRUE(absl::IsNotFound(
      c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Merged(t.id(), t.attempt()), &v)));
}

TEST_F(CoordinatorTest, OutOfOrderObservationsFailTheAttempt) {
  CheckRun();
  v1::Task t = Lease();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, {Obs("b", "1"), Obs("a", "2")})).ok());
  v1::CompleteTaskRequest done = Done(t, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(c_->CompleteTask(worker_, done).status()));
  v1::Task now = *c_->leases().Get(t.id());
  EXPECT_EQ(now.state(), v1::TASK_STATE_QUEUED);
  ASSERT_EQ(now.errors_size(), 1);
  EXPECT_NE(now.errors(0).message().find("out of order"), std::string::npos);
}

TEST_F(CoordinatorTest, BadObservationIsRefused) {
  CheckRun();
  v1::Task t = Lease();
  v1::Observation o = Obs("../escape", "1");
  EXPECT_TRUE(absl::IsInvalidArgument(c_->Observe(worker_, Batch(t, 1, {o})).status()));
  o = Obs("ok", "1");
  o.set_digest("short");
  EXPECT_TRUE(absl::IsInvalidArgument(c_->Observe(worker_, Batch(t, 1, {o})).status()));
  o = Obs("ok", "1");
  o.set_type(v1::ENTRY_TYPE_UNSPECIFIED);
  EXPECT_TRUE(absl::IsInvalidArgument(c_->Observe(worker_, Batch(t, 1, {o})).status()));
  std::vector<v1::Observation> many;
  for (int i = 0; i <= kMaxObservationsPerBatch; ++i)
    many.push_back(Obs("f" + std::to_string(i), ""));
  EXPECT_TRUE(absl::IsInvalidArgument(c_->Observe(worker_, Batch(t, 1, many)).status()));
  // Nothing was staged: the first valid batch is still seq 1.
  auto ok = c_->Observe(worker_, Batch(t, 1, {Obs("ok", "1")}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 1u);
}

TEST_F(CoordinatorTest, TokensAreChecked) {
  EXPECT_TRUE(c_->AuthenticateWorker(worker_, credential_).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(c_->AuthenticateWorker(worker_, "nope")));
  EXPECT_TRUE(absl::IsUnauthenticated(c_->AuthenticateWorker("w999", credential_)));
  Open("s3cret");
  EXPECT_TRUE(c_->CheckAdminToken("s3cret").ok());
  EXPECT_TRUE(absl::IsUnauthenticated(c_->CheckAdminToken("")));
  EXPECT_TRUE(absl::IsUnauthenticated(c_->CheckAdminToken("s3cre")));
}

// A restarted worker resumes with its credential after a coordinator
// restart: same id and site, its new locations, and the task it held handed
// back at once (re-queued with the next attempt) instead of after the lease
// TTL.
TEST_F(CoordinatorTest, ResumeKeepsTheIdUpdatesLocationsAndHandsBackLeases) {
  CheckRun();
  const v1::Task held = Lease();
  Open();  // the coordinator restarts: the worker record is in the database
  ASSERT_TRUE(c_->AuthenticateWorker(worker_, credential_).ok());
  v1::RegisterRequest req;
  req.set_site("office");  // its site is fixed at enrolment
  req.add_locations("nas");
  req.add_locations("tape");
  req.set_capacity(3);
  auto r = c_->Resume(worker_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->worker_id(), worker_);
  EXPECT_TRUE(r->credential().empty());
  EXPECT_GT(r->lease_ttl_ms(), 0u);
  // "tape" is not declared: claimed, with a warning.
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_NE(r->warnings(0).find("location tape is not declared (vigil apply a Location with "
                                "site: office)"),
            std::string::npos)
      << r->warnings(0);
  std::string bytes;
  ASSERT_TRUE(c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Worker(worker_), &bytes).ok());
  v1::WorkerRecord w;
  ASSERT_TRUE(w.ParseFromString(bytes));
  EXPECT_EQ(w.site(), "office");
  EXPECT_EQ(w.locations_size(), 2);
  EXPECT_EQ(w.capacity(), 3u);
  EXPECT_NE(w.resumed_ns(), 0);
  EXPECT_TRUE(c_->AuthenticateWorker(worker_, credential_).ok());
  // The held task is queued again, to be leased with a newer attempt.
  const v1::Task again = Lease();
  EXPECT_EQ(again.id(), held.id());
  EXPECT_GT(again.attempt(), held.attempt());
  // Bad input changes nothing.
  req.clear_locations();
  EXPECT_TRUE(absl::IsInvalidArgument(c_->Resume(worker_, req).status()));
  req.add_locations("nas");
  EXPECT_TRUE(absl::IsUnauthenticated(c_->Resume("w999", req).status()));
  // Another site: refused, saying to enrol again; the record keeps its site.
  req.set_site("office-2");
  auto moved = c_->Resume(worker_, req);
  EXPECT_TRUE(absl::IsPermissionDenied(moved.status())) << moved.status();
  EXPECT_NE(moved.status().message().find("enrol again"), std::string::npos) << moved.status();
  ASSERT_TRUE(c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Worker(worker_), &bytes).ok());
  ASSERT_TRUE(w.ParseFromString(bytes));
  EXPECT_EQ(w.site(), "office");
}

// Issue 13: registration always needs a credential. A coordinator without
// the fixed worker token and with no enrol token issued refuses a
// registration without token or with a made-up one, saying where tokens
// come from, and writes nothing.
TEST_F(CoordinatorTest, RegisterAlwaysNeedsAnEnrolmentCredential) {
  Open("", /*fixed_enrol=*/false);
  auto workers = [&] {
    auto all = LoadRecords<v1::WorkerRecord>(c_->catalogue().kv(), keys::kWorkerPrefix, "worker");
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? all->size() : 0u;
  };
  const size_t before = workers();
  v1::RegisterRequest reg;
  reg.set_site("office");
  reg.add_locations("nas");
  for (const std::string& token : {std::string(), std::string("test-enrol"),
                                   std::string("0123456789abcdef.") + std::string(64, 'a')}) {
    auto r = c_->Register(token, reg);
    EXPECT_TRUE(absl::IsUnauthenticated(r.status())) << "'" << token << "': " << r.status();
    EXPECT_NE(r.status().message().find("DATA/enrol.token"), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find("vigil token issue --kind enrol"), std::string::npos);
  }
  EXPECT_EQ(workers(), before);
}

// The first-start token: issued once (none was issued before), one-time,
// listed; never again, even once used.
TEST_F(CoordinatorTest, TheFirstEnrolTokenIsIssuedOnceAndEnrolsOneWorker) {
  Open("", /*fixed_enrol=*/false);
  auto first = c_->IssueFirstEnrolToken("first start");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  auto again = c_->IssueFirstEnrolToken("first start");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->has_value());
  auto list = c_->ListTokens();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->tokens_size(), 1);
  EXPECT_EQ(list->tokens(0).kind(), v1::TOKEN_KIND_ENROL);
  EXPECT_EQ(list->tokens(0).name(), "first start");
  v1::RegisterRequest reg;
  reg.set_site("office");
  reg.add_locations("nas");
  auto w = c_->Register((*first)->token(), reg);
  ASSERT_TRUE(w.ok()) << w.status();
  auto used = c_->Register((*first)->token(), reg);
  EXPECT_TRUE(absl::IsUnauthenticated(used.status())) << used.status();
  EXPECT_NE(used.status().message().find("already used"), std::string::npos) << used.status();
  // Once one was issued (used now), a restart issues none.
  Open("", /*fixed_enrol=*/false);
  again = c_->IssueFirstEnrolToken("first start");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

// A token issued for a site enrols only a worker of that site; refused, it
// stays unused. The worker is bound to that site and records what enrolled it.
TEST_F(CoordinatorTest, AnEnrolTokenForASiteEnrolsOnlyAWorkerOfThatSite) {
  v1::ApplyRequest apply;
  auto* l = apply.add_locations();
  l->set_name("vault");
  l->set_site("offsite");
  ASSERT_TRUE(c_->Apply(apply).ok());
  v1::IssueTokenRequest issue;
  issue.set_kind(v1::TOKEN_KIND_ENROL);
  issue.set_site("office");
  auto token = c_->IssueToken(issue);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->record().site(), "office");
  v1::RegisterRequest other;
  other.set_site("offsite");
  other.add_locations("vault");
  auto refused = c_->Register(token->token(), other);
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("issued for site 'office', not 'offsite'"),
            std::string::npos)
      << refused.status();
  v1::RegisterRequest office;
  office.set_site("office");
  office.add_locations("nas");
  auto w = c_->Register(token->token(), office);  // still unused
  ASSERT_TRUE(w.ok()) << w.status();
  std::string bytes;
  ASSERT_TRUE(
      c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Worker(w->worker_id()), &bytes).ok());
  v1::WorkerRecord rec;
  ASSERT_TRUE(rec.ParseFromString(bytes));
  EXPECT_EQ(rec.site(), "office");
  EXPECT_EQ(rec.enrolled_with(), token->record().id());
  // A site only on enrol tokens, and a valid name; rotation keeps it.
  v1::IssueTokenRequest bad = issue;
  bad.set_kind(v1::TOKEN_KIND_ADMIN);
  EXPECT_TRUE(absl::IsInvalidArgument(c_->IssueToken(bad).status()));
  bad = issue;
  bad.set_site("../office");
  EXPECT_TRUE(absl::IsInvalidArgument(c_->IssueToken(bad).status()));
  auto fresh = c_->IssueToken(issue);
  ASSERT_TRUE(fresh.ok());
  auto rotated = c_->RotateToken(fresh->record().id());
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->record().site(), "office");
}

// Issue 13, the location-claiming attack: an enrolled worker of site
// "office" claims "vault", another tenant's location declared for site
// "offsite". Register and Resume refuse it, naming the location and its
// site, and the worker never leases vault's check or drill; a worker of
// "offsite" does.
TEST_F(CoordinatorTest, AWorkerCannotClaimALocationOfAnotherSite) {
  ASSERT_TRUE(c_->Apply(SetRequest({.tenant = "globex",
                                    .location = "vault",
                                    .site = "offsite",
                                    .name = "fs-vault",
                                    .path = "globex/fs"}))
                  .ok());
  v1::RegisterRequest claim;
  claim.set_site("office");
  claim.add_locations("nas");
  claim.add_locations("vault");
  auto r = c_->Register("test-enrol", claim);
  EXPECT_TRUE(absl::IsPermissionDenied(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("location 'vault' is declared for site 'offsite'"),
            std::string::npos)
      << r.status();
  auto resumed = c_->Resume(worker_, claim);  // the fixture's office worker
  EXPECT_TRUE(absl::IsPermissionDenied(resumed.status())) << resumed.status();
  EXPECT_NE(resumed.status().message().find("'vault'"), std::string::npos) << resumed.status();
  // Its record still claims nas only.
  std::string bytes;
  ASSERT_TRUE(c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Worker(worker_), &bytes).ok());
  v1::WorkerRecord rec;
  ASSERT_TRUE(rec.ParseFromString(bytes));
  ASSERT_EQ(rec.locations_size(), 1);
  EXPECT_EQ(rec.locations(0), "nas");

  // globex's check: only the offsite worker leases it.
  v1::RunCheckRequest rc;
  rc.set_tenant("globex");
  ASSERT_TRUE(c_->RunCheck(rc).ok());
  auto none = c_->LeaseTask(worker_);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_task());
  v1::RegisterRequest off;
  off.set_site("offsite");
  off.add_locations("vault");
  auto vault_worker = c_->Register("test-enrol", off);
  ASSERT_TRUE(vault_worker.ok()) << vault_worker.status();
  const std::string vw = vault_worker->worker_id();
  auto leased = c_->LeaseTask(vw);
  ASSERT_TRUE(leased.ok() && leased->has_task()) << leased.status();
  const v1::Task check = leased->task();
  EXPECT_EQ(check.backup_set().location(), "vault");
  ASSERT_TRUE(c_->Observe(vw, Batch(check, 1, {Obs("a.txt", "alpha")})).ok());
  v1::CompleteTaskRequest done = Done(check, 1);
  auto completed = c_->CompleteTask(vw, done);
  ASSERT_TRUE(completed.ok()) << completed.status();

  // globex's drill (it carries paths, sizes and digests): the same.
  auto drill = c_->QueueDrill("globex", "fs-vault", 0, 0);
  ASSERT_TRUE(drill.ok()) << drill.status();
  none = c_->LeaseTask(worker_);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_task());
  leased = c_->LeaseTask(vw);
  ASSERT_TRUE(leased.ok() && leased->has_task()) << leased.status();
  EXPECT_EQ(leased->task().kind(), v1::TASK_KIND_DRILL);
  EXPECT_EQ(leased->task().id(), drill->id());
}

// Checked at lease time: a location re-declared for another site stops
// being served by its old site's workers at once; a claimed location that
// was not declared is served once it is declared for the worker's site.
TEST_F(CoordinatorTest, LeasesFollowTheLocationsDeclaredSite) {
  auto redeclare = [&](const std::string& site) {
    v1::ApplyRequest apply;
    auto* l = apply.add_locations();
    l->set_name("nas");
    l->set_site(site);
    ASSERT_TRUE(c_->Apply(apply).ok());
  };
  CheckRun();
  redeclare("elsewhere");
  auto none = c_->LeaseTask(worker_);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_task());
  redeclare("office");
  EXPECT_EQ(Lease().backup_set().location(), "nas");

  // "tape": claimed before it is declared.
  v1::RegisterRequest reg;
  reg.set_site("office");
  reg.add_locations("tape");
  auto w = c_->Register("test-enrol", reg);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->warnings_size(), 1);
  EXPECT_EQ(w->warnings(0),
            "location tape is not declared (vigil apply a Location with site: office): not "
            "served until it is");
  ASSERT_TRUE(
      c_
          ->Apply(SetRequest(
              {.tenant = "initech", .location = "tape", .name = "fs-tape", .path = "initech/fs"}))
          .ok());
  v1::RunCheckRequest rc;
  rc.set_tenant("initech");
  ASSERT_TRUE(c_->RunCheck(rc).ok());
  auto leased = c_->LeaseTask(w->worker_id());
  ASSERT_TRUE(leased.ok() && leased->has_task()) << leased.status();
  EXPECT_EQ(leased->task().backup_set().location(), "tape");
}

}  // namespace
}  // namespace vigil::coordinator
