// Lease rules on a fake clock, over a real RocksDB store in a temp dir.
#include "services/coordinator/lease_manager.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "services/coordinator/keys.h"
#include "storage/rocks_kv.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kSec = 1'000'000'000;

class LeaseManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override {
    lm_.reset();
    kv_.reset();
  }
  void Reopen() {
    lm_.reset();
    kv_.reset();
    auto kv = storage::OpenRocksKv(tmp_.path());
    ASSERT_TRUE(kv.ok()) << kv.status();
    kv_ = std::move(*kv);
    lm_ = std::make_unique<LeaseManager>(kv_.get(), &clock_,
                                         LeaseOptions{.ttl_ns = 10 * kSec, .max_attempts = 3});
    ASSERT_TRUE(lm_->Load().ok());
  }
  uint64_t EnqueueOne(const std::string& location, const std::string& tenant = "") {
    v1::Task t;
    t.mutable_backup_set()->set_tenant(tenant);
    t.mutable_backup_set()->set_location(location);
    t.mutable_backup_set()->set_name("set");
    auto q = lm_->Enqueue({t});
    EXPECT_TRUE(q.ok());
    return (*q)[0].id();
  }
  v1::Task LeaseOk(const std::string& worker, const std::string& location) {
    auto t = lm_->Lease(worker, {location});
    EXPECT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(t->has_value());
    return t->value_or(v1::Task());
  }

  vigil::testing::TempDir tmp_;
  vigil::testing::FakeClock clock_{1'000'000'000'000};
  std::unique_ptr<storage::KvStore> kv_;
  std::unique_ptr<LeaseManager> lm_;
};

TEST_F(LeaseManagerTest, LeasesOnlyForServedLocations) {
  EnqueueOne("nas");
  auto none = lm_->Lease("w1", {"cloud"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  v1::Task t = LeaseOk("w2", "nas");
  EXPECT_EQ(t.attempt(), 1u);
  EXPECT_EQ(t.worker_id(), "w2");
  EXPECT_EQ(t.lease_expires_ns(), clock_.NowNs() + 10 * kSec);
  // Already leased: nothing more to hand out.
  EXPECT_FALSE(lm_->Lease("w3", {"nas"})->has_value());
}

// A task completed but not shown yet (Complete(publish = false): the
// coordinator records what it spent in its read ledger, then publishes
// it) still counts as leased at its location for a lease's gate: a read
// budget never sees it neither leased nor spent.
TEST_F(LeaseManagerTest, ACompletionNotYetShownStillCountsAsLeasedForTheGate) {
  EnqueueOne("nas");
  EnqueueOne("nas");
  const v1::Task a = LeaseOk("w1", "nas");
  auto done = lm_->Complete("w1", a.id(), a.attempt(), LeaseManager::Outcome{}, nullptr,
                            /*publish=*/false);
  ASSERT_TRUE(done.ok()) << done.status();
  std::vector<uint64_t> seen;
  auto gate = [&](const v1::Task&, const std::vector<const v1::Task*>& leased) {
    seen.clear();
    for (const v1::Task* t : leased) seen.push_back(t->id());
    return false;  // deferred: nothing leased
  };
  auto r = lm_->Lease("w2", {"nas"}, gate);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(seen, std::vector<uint64_t>{a.id()});
  lm_->Publish(a.id());
  r = lm_->Lease("w2", {"nas"}, gate);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(seen.empty()) << "shown done: its spend is the ledger's now";
}

TEST_F(LeaseManagerTest, HeartbeatExtendsAndExpiryRequeuesWithNextAttempt) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  clock_.Advance(8 * kSec);
  auto e = lm_->Heartbeat("w1", id, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, clock_.NowNs() + 10 * kSec);
  clock_.Advance(9 * kSec);  // still within the extended lease
  EXPECT_TRUE(lm_->CheckLease("w1", id, 1).ok());
  clock_.Advance(2 * kSec);  // past it
  auto n = lm_->ExpireLeases();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  v1::Task t = *lm_->Get(id);
  EXPECT_EQ(t.state(), v1::TASK_STATE_QUEUED);
  ASSERT_EQ(t.errors_size(), 1);
  EXPECT_EQ(t.errors(0).attempt(), 1u);
  EXPECT_EQ(t.errors(0).worker_id(), "w1");
  v1::Task again = LeaseOk("w2", "nas");
  EXPECT_EQ(again.attempt(), 2u);
}

TEST_F(LeaseManagerTest, StaleAttemptAndWrongWorkerAreRefused) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  clock_.Advance(11 * kSec);  // expired; taken back lazily
  LeaseOk("w2", "nas");
  EXPECT_TRUE(absl::IsFailedPrecondition(lm_->CheckLease("w1", id, 1)));
  EXPECT_TRUE(absl::IsFailedPrecondition(lm_->Heartbeat("w1", id, 1).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(lm_->CheckLease("w1", id, 2)));  // not w1's lease
  EXPECT_TRUE(lm_->CheckLease("w2", id, 2).ok());
  EXPECT_TRUE(absl::IsNotFound(lm_->CheckLease("w2", id + 100, 1)));
  // The stale worker cannot complete it either.
  EXPECT_TRUE(absl::IsFailedPrecondition(lm_->Complete("w1", id, 1, {}, nullptr).status()));
  EXPECT_EQ(lm_->Get(id)->state(), v1::TASK_STATE_LEASED);
}

TEST_F(LeaseManagerTest, FailsAfterMaxAttemptsKeepingEveryError) {
  uint64_t id = EnqueueOne("nas");
  for (uint32_t a = 1; a <= 3; ++a) {
    v1::Task t = LeaseOk("w1", "nas");
    ASSERT_EQ(t.attempt(), a);
    auto f = lm_->Fail("w1", id, a, "disk error " + std::to_string(a));
    ASSERT_TRUE(f.ok()) << f.status();
  }
  v1::Task t = *lm_->Get(id);
  EXPECT_EQ(t.state(), v1::TASK_STATE_FAILED);
  ASSERT_EQ(t.errors_size(), 3);
  EXPECT_EQ(t.errors(0).message(), "disk error 1");
  EXPECT_EQ(t.errors(2).message(), "disk error 3");
  EXPECT_FALSE(lm_->Lease("w1", {"nas"})->has_value());
}

TEST_F(LeaseManagerTest, ReleaseRequeuesWithoutCountingAFailure) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  ASSERT_TRUE(lm_->Release("w1", id, 1).ok());
  v1::Task t = *lm_->Get(id);
  EXPECT_EQ(t.state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(t.errors_size(), 0);
  EXPECT_EQ(LeaseOk("w2", "nas").attempt(), 2u);
}

TEST_F(LeaseManagerTest, CompleteIsIdempotentAndDurable) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  v1::DiffCounts c;
  c.set_added(5);
  auto done = lm_->Complete("w1", id, 1, {c, 5, 4096}, nullptr);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::TASK_STATE_DONE);
  auto again = lm_->Complete("w1", id, 1, {}, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->counts().added(), 5u);
  Reopen();
  v1::Task t = *lm_->Get(id);
  EXPECT_EQ(t.state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(t.entries(), 5u);
  EXPECT_EQ(t.bytes_read(), 4096u);
  // Ids keep increasing after a restart.
  EXPECT_GT(EnqueueOne("nas"), id);
}

TEST_F(LeaseManagerTest, EraseTenantRefusesWhileATaskRunsThenErasesDurably) {
  uint64_t a = EnqueueOne("nas", "acme");
  uint64_t b = EnqueueOne("nas", "beta");
  ASSERT_EQ(LeaseOk("w1", "nas").id(), a);
  auto running = lm_->EraseTenant("acme", nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(running.status())) << running.status();
  EXPECT_TRUE(lm_->Get(a).has_value());
  ASSERT_TRUE(lm_->Complete("w1", a, 1, {}, nullptr).ok());

  // `extra` goes in the same write: here, the deletion of a staged key.
  storage::KvBatch put;
  put.Put(storage::Space::kTasks, "S-staged-of-a", "x");
  ASSERT_TRUE(kv_->Write(put, {}).ok());
  storage::KvBatch extra;
  extra.Delete(storage::Space::kTasks, "S-staged-of-a");
  auto erased = lm_->EraseTenant("acme", &extra);
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1u);
  EXPECT_FALSE(lm_->Get(a).has_value());
  EXPECT_TRUE(lm_->Get(b).has_value());
  Reopen();
  EXPECT_FALSE(lm_->Get(a).has_value());
  EXPECT_TRUE(lm_->Get(b).has_value());
  std::string v;
  EXPECT_TRUE(absl::IsNotFound(kv_->Get(storage::Space::kTasks, "S-staged-of-a", &v)));
  // Ids are not reused.
  EXPECT_GT(EnqueueOne("nas", "acme"), b);
}

TEST_F(LeaseManagerTest, RestartGivesLeasesOneTtlToReconnect) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  clock_.Advance(30 * kSec);  // the coordinator was down longer than the TTL
  Reopen();
  EXPECT_TRUE(lm_->CheckLease("w1", id, 1).ok());
  EXPECT_EQ(lm_->Get(id)->lease_expires_ns(), clock_.NowNs() + 10 * kSec);
  clock_.Advance(11 * kSec);
  EXPECT_TRUE(absl::IsFailedPrecondition(lm_->CheckLease("w1", id, 1)));
}

// A store whose writes can be made to fail as a full disk's do (the real
// disk-full case runs in tests/storage/disk_full_test.cc and
// tests/integration/disk_full_process_test.cc): Write and Sync refused with
// the store's WriteHealth(), nothing written.
class RefusingKv final : public storage::KvStore {
 public:
  explicit RefusingKv(storage::KvStore* kv) : kv_(kv) {}
  storage::Status Get(storage::Space s, std::string_view key, std::string* value) override {
    return kv_->Get(s, key, value);
  }
  storage::Status Write(const storage::KvBatch& batch,
                        const storage::WriteOptions& options) override {
    if (refusing) return WriteHealth();
    return kv_->Write(batch, options);
  }
  std::unique_ptr<storage::KvIterator> NewIterator(storage::Space s,
                                                   const storage::ScanOptions& options) override {
    return kv_->NewIterator(s, options);
  }
  storage::Status Sync() override { return refusing ? WriteHealth() : kv_->Sync(); }
  storage::Status WriteHealth() override {
    if (!refusing) return absl::OkStatus();
    return absl::UnavailableError("database writes failing (no space) in /data/db");
  }
  bool refusing = false;

 private:
  storage::KvStore* kv_;
};

// After a failed write the manager refuses everything while the store does,
// then reads its tasks back by itself: what was refused is not kept (the
// lease granted in memory during the failure is gone), what was durable is
// (the old lease, with one TTL of grace), and no restart is needed.
TEST_F(LeaseManagerTest, ResumesByItselfOnceTheStoreTakesWritesAgain) {
  uint64_t leased = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  uint64_t queued = EnqueueOne("nas");
  RefusingKv refusing(kv_.get());
  lm_ = std::make_unique<LeaseManager>(&refusing, &clock_,
                                       LeaseOptions{.ttl_ns = 10 * kSec, .max_attempts = 3});
  ASSERT_TRUE(lm_->Load().ok());
  int reloads = 0;
  lm_->SetReloadHook([&reloads] { ++reloads; });

  refusing.refusing = true;
  auto lease = lm_->Lease("w2", {"nas"});  // applied in memory, then the write fails
  ASSERT_FALSE(lease.ok());
  EXPECT_TRUE(absl::IsUnavailable(lease.status())) << lease.status();
  clock_.Advance(8 * kSec);
  auto hb = lm_->Heartbeat("w1", leased, 1);
  ASSERT_FALSE(hb.ok());
  EXPECT_NE(hb.status().message().find("database writes failing (no space)"), std::string::npos)
      << hb.status();
  clock_.Advance(8 * kSec);  // past the lease's expiry: not taken back meanwhile
  EXPECT_FALSE(lm_->ExpireLeases().ok());
  EXPECT_EQ(reloads, 0);

  refusing.refusing = false;
  hb = lm_->Heartbeat("w1", leased, 1);
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(*hb, clock_.NowNs() + 10 * kSec);
  EXPECT_EQ(reloads, 1);
  v1::Task again = LeaseOk("w2", "nas");
  EXPECT_EQ(again.id(), queued);
  EXPECT_EQ(again.attempt(), 1u);  // the refused lease left no trace

  lm_.reset();
  Reopen();
  EXPECT_TRUE(lm_->CheckLease("w1", leased, 1).ok());
  EXPECT_TRUE(lm_->CheckLease("w2", queued, 1).ok());
}

// Progress lives in memory beside the lease: the larger of the worker's
// heartbeat figures and the acknowledged batches, the totals the coordinator
// set, never in the stored record.
TEST_F(LeaseManagerTest, ProgressIsKeptBesideTheLeaseAndNeverStored) {
  uint64_t id = EnqueueOne("nas");
  EXPECT_FALSE(lm_->Get(id)->has_progress());  // queued: none
  const int64_t leased_at = clock_.NowNs();
  LeaseOk("w1", "nas");
  v1::Task t = *lm_->Get(id);
  ASSERT_TRUE(t.has_progress());
  EXPECT_EQ(t.progress().files_done(), 0u);
  EXPECT_EQ(t.progress().files_total(), 0u);  // unknown until set
  EXPECT_EQ(t.progress().started_ns(), leased_at);

  lm_->SetExpected(id, 1, 10, 1000);
  clock_.Advance(2 * kSec);
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1, 3, 300).ok());
  t = *lm_->Get(id);
  EXPECT_EQ(t.progress().files_done(), 3u);
  EXPECT_EQ(t.progress().bytes_done(), 300u);
  EXPECT_EQ(t.progress().files_total(), 10u);
  EXPECT_EQ(t.progress().bytes_total(), 1000u);
  EXPECT_EQ(t.progress().updated_ns(), clock_.NowNs());

  // Acknowledged batches behind the worker's own count change nothing...
  clock_.Advance(kSec);
  lm_->AddObserved(id, 1, 2, 100);
  EXPECT_EQ(lm_->Get(id)->progress().files_done(), 3u);
  EXPECT_EQ(lm_->Get(id)->progress().updated_ns(), clock_.NowNs() - kSec);
  // ...ahead of it they move the figures.
  lm_->AddObserved(id, 1, 5, 500);
  t = *lm_->Get(id);
  EXPECT_EQ(t.progress().files_done(), 7u);
  EXPECT_EQ(t.progress().bytes_done(), 600u);
  EXPECT_EQ(t.progress().updated_ns(), clock_.NowNs());
  // A lower heartbeat figure (or none: an older worker) is ignored.
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1, 1, 1).ok());
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1).ok());
  EXPECT_EQ(lm_->Get(id)->progress().files_done(), 7u);
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1, 9, 900).ok());
  EXPECT_EQ(lm_->Get(id)->progress().bytes_done(), 900u);
  // Another attempt's figures are ignored.
  lm_->AddObserved(id, 2, 50, 5000);
  lm_->SetExpected(id, 2, 1, 1);
  t = *lm_->Get(id);
  EXPECT_EQ(t.progress().files_done(), 9u);
  EXPECT_EQ(t.progress().files_total(), 10u);
  // All() carries it too.
  auto all = lm_->All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].progress().files_done(), 9u);

  // The stored record has no progress.
  std::string v;
  ASSERT_TRUE(kv_->Get(storage::Space::kTasks, keys::Task(id), &v).ok());
  v1::Task stored;
  ASSERT_TRUE(stored.ParseFromString(v));
  EXPECT_EQ(stored.state(), v1::TASK_STATE_LEASED);
  EXPECT_FALSE(stored.has_progress());
}

TEST_F(LeaseManagerTest, ProgressIsClearedWhenTheLeaseEnds) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  lm_->SetExpected(id, 1, 10, 1000);
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1, 4, 400).ok());
  // Released: queued again, without progress.
  ASSERT_TRUE(lm_->Release("w1", id, 1).ok());
  EXPECT_FALSE(lm_->Get(id)->has_progress());
  // A new lease starts from zero, with no total until set again.
  clock_.Advance(kSec);
  LeaseOk("w2", "nas");
  v1::Task t = *lm_->Get(id);
  ASSERT_TRUE(t.has_progress());
  EXPECT_EQ(t.progress().files_done(), 0u);
  EXPECT_EQ(t.progress().files_total(), 0u);
  EXPECT_EQ(t.progress().started_ns(), clock_.NowNs());
  ASSERT_TRUE(lm_->Heartbeat("w2", id, 2, 5, 500).ok());
  // Expired: gone.
  clock_.Advance(11 * kSec);
  ASSERT_EQ(*lm_->ExpireLeases(), 1);
  EXPECT_FALSE(lm_->Get(id)->has_progress());
  // Failed, then done: gone.
  LeaseOk("w3", "nas");
  ASSERT_TRUE(lm_->Heartbeat("w3", id, 3, 5, 500).ok());
  ASSERT_TRUE(lm_->Fail("w3", id, 3, "disk error").ok());
  EXPECT_FALSE(lm_->Get(id)->has_progress());

  uint64_t other = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  ASSERT_TRUE(lm_->Heartbeat("w1", other, 1, 5, 500).ok());
  ASSERT_TRUE(lm_->Complete("w1", other, 1, {v1::DiffCounts(), 5, 0}, nullptr).ok());
  EXPECT_FALSE(lm_->Get(other)->has_progress());
  EXPECT_FALSE(lm_->All().back().has_progress());
}

TEST_F(LeaseManagerTest, ProgressStartsAgainAfterARestart) {
  uint64_t id = EnqueueOne("nas");
  LeaseOk("w1", "nas");
  lm_->SetExpected(id, 1, 10, 1000);
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1, 4, 400).ok());
  Reopen();
  v1::Task t = *lm_->Get(id);
  EXPECT_EQ(t.state(), v1::TASK_STATE_LEASED);
  EXPECT_FALSE(t.has_progress());  // ephemeral: nothing was stored
  // The worker's next heartbeat brings its cumulative figures back; when
  // the attempt started (and the total) are unknown.
  ASSERT_TRUE(lm_->Heartbeat("w1", id, 1, 6, 600).ok());
  t = *lm_->Get(id);
  ASSERT_TRUE(t.has_progress());
  EXPECT_EQ(t.progress().files_done(), 6u);
  EXPECT_EQ(t.progress().bytes_done(), 600u);
  EXPECT_EQ(t.progress().files_total(), 0u);
  EXPECT_EQ(t.progress().started_ns(), 0);
}

}  // namespace
}  // namespace vigil::coordinator

namespace vigil::coordinator {
namespace {

// Group commit: many threads lease and complete at once (their changes share
// synced writes). Every task is leased exactly once, the oldest first per
// location, and after a restart every change is on disk.
TEST_F(LeaseManagerTest, ConcurrentLeasesAndCompletionsAreEachDurableOnce) {
  std::vector<v1::Task> tasks(300);
  for (size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].mutable_backup_set()->set_location(i % 3 == 0 ? "cloud" : "nas");
    tasks[i].mutable_backup_set()->set_name("set" + std::to_string(i));
  }
  auto queued = lm_->Enqueue(tasks);
  ASSERT_TRUE(queued.ok()) << queued.status();
  std::mutex mu;
  std::map<uint64_t, int> leased;  // task -> times leased
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&, w] {
      const std::string worker = "w" + std::to_string(w);
      uint64_t previous_nas = 0;
      while (true) {
        auto t = lm_->Lease(worker, {"nas", "cloud"});
        ASSERT_TRUE(t.ok()) << t.status();
        if (!t->has_value()) return;
        const v1::Task& got = **t;
        if (got.backup_set().location() == "nas") {
          EXPECT_GT(got.id(), previous_nas);  // oldest first, as seen by one worker
          previous_nas = got.id();
        }
        {
          std::lock_guard lock(mu);
          ++leased[got.id()];
        }
        if (got.id() % 2 == 0) {
          auto done =
              lm_->Complete(worker, got.id(), got.attempt(), {v1::DiffCounts(), 1, 0}, nullptr);
          ASSERT_TRUE(done.ok()) << done.status();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(leased.size(), tasks.size());
  for (const auto& [id, n] : leased) EXPECT_EQ(n, 1) << "task " << id;

  Reopen();  // what is on disk
  int done = 0, still_leased = 0;
  for (const v1::Task& t : lm_->All()) {
    EXPECT_EQ(t.attempt(), 1u) << t.id();
    if (t.id() % 2 == 0) {
      EXPECT_EQ(t.state(), v1::TASK_STATE_DONE) << t.id();
      ++done;
    } else {
      EXPECT_EQ(t.state(), v1::TASK_STATE_LEASED) << t.id();
      ++still_leased;
    }
  }
  EXPECT_EQ(done + still_leased, static_cast<int>(tasks.size()));
  auto none = lm_->Lease("late", {"nas", "cloud"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace vigil::coordinator
