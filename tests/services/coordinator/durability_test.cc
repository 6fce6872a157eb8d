// What readers see is durable, and a merge interrupted by a crash counts
// like an uninterrupted one (issue 13). Real RocksDB in a temp dir; the
// only seams are a KvStore wrapper that holds a write (to look inside the
// window between a change in memory and its fsync) and MergeOptions'
// after_write (to stop a merge after any of its batches, as a crash would).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "services/common/listing_digest.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/lease_manager.h"
#include "storage/hash.h"
#include "storage/rocks_kv.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace vigil::coordinator {
namespace {

using storage::Space;

// A KvStore that holds the next write whose batch puts `key` in `space`
// until Release(): the state of everything while that write is on its way.
class GatedKv : public storage::KvStore {
 public:
  explicit GatedKv(storage::KvStore* kv) : kv_(kv) {}
  void HoldWriteOf(Space space, std::string key) {
    std::lock_guard lock(mu_);
    space_ = space;
    key_ = std::move(key);
    armed_ = true;
  }
  void WaitUntilHeld() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    armed_ = false;
    held_ = false;
    cv_.notify_all();
  }

  storage::Status Get(Space s, std::string_view key, std::string* value) override {
    return kv_->Get(s, key, value);
  }
  storage::Status Write(const storage::KvBatch& batch,
                        const storage::WriteOptions& options) override {
    bool hold = false;
    {
      std::lock_guard lock(mu_);
      if (armed_) {
        batch.ForEach(
            [&](storage::KvBatch::Op op, Space space, std::string_view k, std::string_view) {
              if (op == storage::KvBatch::Op::kPut && space == space_ && k == key_) hold = true;
            });
      }
    }
    if (hold) {
      std::unique_lock lock(mu_);
      held_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !armed_; });
    }
    return kv_->Write(batch, options);
  }
  std::unique_ptr<storage::KvIterator> NewIterator(Space s,
                                                   const storage::ScanOptions& options) override {
    return kv_->NewIterator(s, options);
  }
  storage::Status Sync() override { return kv_->Sync(); }

 private:
  storage::KvStore* kv_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, held_ = false;
  Space space_ = Space::kMeta;
  std::string key_;
};

class ReadersSeeDurableStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = storage::OpenRocksKv(tmp_ / "db");
    ASSERT_TRUE(kv.ok()) << kv.status();
    rocks_ = std::move(*kv);
    gated_ = std::make_unique<GatedKv>(rocks_.get());
    lm_ = std::make_unique<LeaseManager>(gated_.get(), &clock_,
                                         LeaseOptions{.ttl_ns = 10'000'000'000, .max_attempts = 3});
    ASSERT_TRUE(lm_->Load().ok());
  }
  void TearDown() override {
    lm_.reset();
    gated_.reset();
    rocks_.reset();
  }
  v1::Task LeasedTask() {
    v1::Task t;
    t.mutable_backup_set()->set_tenant("acme");
    t.mutable_backup_set()->set_location("nas");
    t.mutable_backup_set()->set_name("set");
    auto q = lm_->Enqueue({t});
    EXPECT_TRUE(q.ok()) << q.status();
    auto l = lm_->Lease("w1", {"nas"});
    EXPECT_TRUE(l.ok() && l->has_value());
    return l->value_or(v1::Task());
  }
  bool OnDisk(const std::string& key) {
    std::string v;
    return rocks_->Get(Space::kCatalogue, key, &v).ok();
  }
  std::optional<v1::Task> FromAll(uint64_t id) {
    for (auto& t : lm_->All()) {
      if (t.id() == id) return t;
    }
    return std::nullopt;
  }

  vigil::testing::TempDir tmp_;
  vigil::testing::FakeClock clock_{1'000'000'000'000};
  std::unique_ptr<storage::KvStore> rocks_;
  std::unique_ptr<GatedKv> gated_;
  std::unique_ptr<LeaseManager> lm_;
};

// The DONE record and the merge's last catalogue writes are one write: while
// it is on its way, readers still see the task LEASED (and the catalogue
// without the entry); once it is durable, both at once.
TEST_F(ReadersSeeDurableStateTest, DoneIsShownOnlyOnceItsWriteIsDurable) {
  v1::Task t = LeasedTask();
  storage::KvBatch last;  // the merge's last batch
  last.Put(Space::kCatalogue, "entry", "record");
  gated_->HoldWriteOf(Space::kTasks, keys::Task(t.id()));
  std::thread completer([&] {
    auto done = lm_->Complete("w1", t.id(), t.attempt(), {v1::DiffCounts(), 1, 0}, &last);
    EXPECT_TRUE(done.ok()) << done.status();
  });
  gated_->WaitUntilHeld();
  // In memory the task is DONE (a heartbeat now is refused), but nothing of
  // it is on disk yet: readers see it running.
  EXPECT_TRUE(absl::IsFailedPrecondition(lm_->CheckLease("w1", t.id(), t.attempt())));
  EXPECT_FALSE(OnDisk("entry"));
  EXPECT_EQ(lm_->Get(t.id())->state(), v1::TASK_STATE_LEASED);
  EXPECT_EQ(FromAll(t.id())->state(), v1::TASK_STATE_LEASED);
  gated_->Release();
  completer.join();
  EXPECT_TRUE(OnDisk("entry"));
  EXPECT_EQ(lm_->Get(t.id())->state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(FromAll(t.id())->state(), v1::TASK_STATE_DONE);
}

// A reader polling all along never sees a task DONE before its merge's
// last batch (here one entry) is on disk.
TEST_F(ReadersSeeDurableStateTest, APollingReaderNeverSeesDoneBeforeTheCatalogue) {
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(LeasedTask());
  std::atomic<bool> stop{false};
  std::atomic<int> passes{0}, seen_done{0}, violations{0};
  std::thread reader([&] {
    while (!stop) {
      for (const v1::Task& t : lm_->All()) {
        if (t.state() != v1::TASK_STATE_DONE) continue;
        ++seen_done;
        if (!OnDisk("entry" + std::to_string(t.id()))) ++violations;
      }
      ++passes;
    }
  });
  for (const v1::Task& t : tasks) {
    storage::KvBatch last;
    last.Put(Space::kCatalogue, "entry" + std::to_string(t.id()), "record");
    // The write held until the reader made two passes meanwhile.
    gated_->HoldWriteOf(Space::kTasks, keys::Task(t.id()));
    std::thread completer([&] {
      auto done = lm_->Complete("w1", t.id(), t.attempt(), {v1::DiffCounts(), 1, 0}, &last);
      EXPECT_TRUE(done.ok()) << done.status();
    });
    gated_->WaitUntilHeld();
    const int from = passes.load();
    EXPECT_TRUE(testing::WaitFor([&] { return passes.load() >= from + 2; },
                                 std::chrono::seconds(10), std::chrono::milliseconds(2)))
        << "the reader made no two passes";
    gated_->Release();
    completer.join();
  }
  const int from = passes.load();
  EXPECT_TRUE(testing::WaitFor([&] { return passes.load() >= from + 2; }, std::chrono::seconds(10),
                               std::chrono::milliseconds(2)))
      << "the reader made no two passes";
  stop = true;
  reader.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(seen_done.load(), 0);  // it did see them, once durable
}

// Complete(publish = false): DONE is durable (the call returns), readers
// still see the task running until Publish(); a repeated completion
// (GetDurable) sees DONE at once.
TEST_F(ReadersSeeDurableStateTest, AHeldCompletionIsShownAtPublish) {
  v1::Task t = LeasedTask();
  auto done = lm_->Complete("w1", t.id(), t.attempt(), {v1::DiffCounts(), 1, 0}, nullptr,
                            /*publish=*/false);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(lm_->Get(t.id())->state(), v1::TASK_STATE_LEASED);
  auto durable = lm_->GetDurable(t.id());
  ASSERT_TRUE(durable.ok());
  EXPECT_EQ((*durable)->state(), v1::TASK_STATE_DONE);
  lm_->Publish(t.id());
  EXPECT_EQ(lm_->Get(t.id())->state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(FromAll(t.id())->state(), v1::TASK_STATE_DONE);
}

// A task being enqueued is not shown before its record is on disk.
TEST_F(ReadersSeeDurableStateTest, AnEnqueuedTaskIsShownOnceDurable) {
  v1::Task t;
  t.mutable_backup_set()->set_location("nas");
  gated_->HoldWriteOf(Space::kMeta, std::string(keys::kNextId));
  std::thread enqueuer([&] { EXPECT_TRUE(lm_->Enqueue({t}).ok()); });
  gated_->WaitUntilHeld();
  EXPECT_TRUE(lm_->All().empty());
  EXPECT_FALSE(lm_->Get(1).has_value());
  gated_->Release();
  enqueuer.join();
  ASSERT_EQ(lm_->All().size(), 1u);
  EXPECT_EQ(lm_->All()[0].state(), v1::TASK_STATE_QUEUED);
}

// --- A merge interrupted by a crash ------------------------------------

constexpr int64_t kDay = 86'400'000'000'000;
constexpr int64_t kP1 = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kP2 = kP1 + kDay, kP3 = kP1 + 2 * kDay, kP4 = kP1 + 3 * kDay;

// What a finished check left, without times: counts, the catalogue of every
// point (path, size, digest, state), point records, the check log's record.
struct Outcome {
  v1::DiffCounts counts;
  uint64_t entries = 0;
  std::map<std::string, std::string> catalogue;  // "point/path" -> size, digest, state
  std::map<int64_t, std::string> points;         // time -> files, bytes, gone, damage
  std::string log_counts;                        // the check log record's "counts"
  uint64_t points_held = 0, entries_held = 0;    // held markers merged
  bool operator==(const Outcome& o) const {
    return counts.SerializeAsString() == o.counts.SerializeAsString() && entries == o.entries &&
           catalogue == o.catalogue && points == o.points && log_counts == o.log_counts &&
           points_held == o.points_held && entries_held == o.entries_held;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "counts {" << o.counts.ShortDebugString() << "} entries " << o.entries << ", held "
     << o.points_held << " points, " << o.entries_held << " entries\n";
  for (const auto& [k, v] : o.catalogue) os << "  " << k << " " << v << "\n";
  for (const auto& [k, v] : o.points) os << "  point " << k << ": " << v << "\n";
  return os << "  log counts " << o.log_counts;
}

class InterruptedMergeTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    coordinator_options_.clock = nullptr;  // the real clock
    // The killed merges run at time 77 (Interrupt): a point they mark gone
    // would be gone for decades at the completion, and freed there but not
    // in the uninterrupted reference (points.h, FreeGonePoints).
    coordinator_options_.free_gone_points_after_ns = 0;
  }
  // A fresh database: tenant acme, a dated-folders set, a worker.
  void Fresh() {
    c_.reset();
    std::filesystem::remove_all(coordinator_options_.data_dir);
    Open();
    // SHA-256, as the observations below: a set whose catalogue needs no
    // re-hash (held markers are taken only then).
    v1::ApplyRequest req =
        SetRequest({.name = "daily", .path = "acme/daily", .layout = "dated-folders"});
    req.mutable_backup_sets(0)->set_content_hash("sha256");
    Apply(req);
    RegisterWorker();
  }
  static v1::Observation Obs(int64_t point, const std::string& path, const std::string& content) {
    return CoordinatorFixture::Obs(point, path, content, storage::HashAlgorithm::kSha256);
  }
  static std::string Name(int i) {
    char b[32];
    std::snprintf(b, sizeof b, "d%d/file%03d", i % 3, i);
    return b;
  }
  // Appends one point's observations to `obs` in catalogue order.
  static void AppendSorted(std::vector<v1::Observation>* obs, std::vector<v1::Observation> point) {
    std::sort(point.begin(), point.end(), [](const auto& a, const auto& b) {
      return storage::ComparePathOrder(a.path(), b.path()) < 0;
    });
    obs->insert(obs->end(), point.begin(), point.end());
  }
  // Check 1: points P1..P3, 60 files each, all new.
  static std::vector<v1::Observation> First() {
    std::vector<v1::Observation> obs;
    for (int64_t p : {kP1, kP2, kP3}) {
      std::vector<v1::Observation> point;
      for (int i = 0; i < 60; ++i) point.push_back(Obs(p, Name(i), "v1 " + std::to_string(i)));
      AppendSorted(&obs, std::move(point));
    }
    return obs;
  }
  // Check 2: P1 gone; in P2 files 0-4 modified, 5-9 missing, 60-69 added;
  // P3 unchanged; P4 new (all added).
  static std::vector<v1::Observation> Second() {
    std::vector<v1::Observation> obs;
    for (int64_t p : {kP2, kP3, kP4}) {
      std::vector<v1::Observation> point;
      for (int i = 0; i < 70; ++i) {
        if (p != kP2 && i >= 60) continue;
        if (p == kP2 && i >= 5 && i < 10) continue;
        std::string content = "v1 " + std::to_string(i);
        if (p == kP2 && i < 5) content = "changed " + std::to_string(i);
        if (p == kP4) content = "v4 " + std::to_string(i);
        point.push_back(Obs(p, Name(i), content));
      }
      AppendSorted(&obs, std::move(point));
    }
    return obs;
  }
  // Check 3, after check 1: P1 and P3 held (the markers of the digests
  // check 1 recorded, proved for task `t`), P2 with files 0-4 modified and
  // 60-69 added, P4 new.
  static std::vector<v1::Observation> Third(const v1::Task& t) {
    std::vector<v1::Observation> first = First();
    auto held = [&](int64_t p) {
      ListingDigester d;
      for (const auto& o : first) {
        if (o.restore_point_ns() == p) d.Add(o);
      }
      v1::Observation m;
      m.set_restore_point_ns(p);
      *m.mutable_held() = HeldProof(d.Finish(true), t.id(), t.attempt());
      return m;
    };
    std::vector<v1::Observation> obs = {held(kP1)};
    for (int64_t p : {kP2, kP4}) {
      std::vector<v1::Observation> point;
      for (int i = 0; i < 70; ++i) {
        if (p == kP4 && i >= 60) continue;
        std::string content = "v1 " + std::to_string(i);
        if (p == kP2 && i < 5) content = "changed " + std::to_string(i);
        if (p == kP4) content = "v4 " + std::to_string(i);
        point.push_back(Obs(p, Name(i), content));
      }
      AppendSorted(&obs, std::move(point));
      if (p == kP2) obs.push_back(held(kP3));
    }
    return obs;
  }
  // Runs a check of `obs` (points listed from it) up to its staged
  // batches; returns the leased task.
  v1::Task Stage(const std::vector<v1::Observation>& obs) {
    return Stage([&](const v1::Task&) { return obs; });
  }
  // The same with the observations `make` gives for the leased task.
  v1::Task Stage(const std::function<std::vector<v1::Observation>(const v1::Task&)>& make) {
    const v1::Task t = RunAndLease();
    const std::vector<v1::Observation> obs = make(t);
    std::vector<int64_t> points;
    for (const auto& o : obs) {
      if (points.empty() || points.back() != o.restore_point_ns()) {
        points.push_back(o.restore_point_ns());
      }
    }
    uint64_t seq = 0;
    for (size_t i = 0; i < obs.size(); i += 25) {
      v1::ObservationBatch b;
      b.set_task_id(t.id());
      b.set_attempt(t.attempt());
      b.set_seq(++seq);
      if (seq == 1) {
        for (int64_t p : points) {
          auto* s = b.add_points();
          s->set_time_ns(p);
          s->set_name(std::to_string((p - kP1) / kDay + 1));
          s->set_time_source("name");
        }
      }
      for (size_t j = i; j < obs.size() && j < i + 25; ++j) *b.add_observations() = obs[j];
      auto a = c_->Observe(worker_, b);
      EXPECT_TRUE(a.ok()) << a.status();
    }
    staged_seq_ = seq;
    return t;
  }
  storage::StatusOr<v1::CompleteTaskResponse> Complete(const v1::Task& t) {
    return c_->CompleteTask(worker_, Done(t, staged_seq_));
  }
  // The merge of `t` run by hand, with small batches, stopped after its
  // `stop_after`-th batch (0: never): what a coordinator killed there left.
  // Returns how many batches it wrote.
  uint64_t Interrupt(const v1::Task& t, uint64_t stop_after) {
    MergeOptions options;
    options.batch_bytes = 3000;
    uint64_t writes = 0;
    options.after_write = [&](uint64_t k) -> storage::Status {
      writes = k;
      if (k == stop_after) return absl::AbortedError("killed");
      return absl::OkStatus();
    };
    storage::KvBatch last;
    auto m = MergeStaged(c_->catalogue(), t.backup_set(), t.id(), t.attempt(), 77,
                         keys::Merged(t.id(), t.attempt()), &last, options);
    if (stop_after == 0) {
      EXPECT_TRUE(m.ok()) << m.status();
    }
    return writes;  // `last` is dropped: never written
  }
  Outcome Result(const v1::CompleteTaskResponse& r) {
    Outcome o;
    o.counts = r.task().counts();
    o.entries = r.task().entries();
    o.points_held = r.task().points_held();
    o.entries_held = r.task().entries_held();
    for (int64_t p : {kP1, kP2, kP3, kP4}) {
      auto scan = c_->catalogue().Scan({"acme", "daily", p});
      for (; scan->Valid(); scan->Next()) {
        o.catalogue[std::to_string((p - kP1) / kDay + 1) + "/" + scan->path()] =
            std::to_string(scan->entry().size) + " " + scan->entry().digest.Hex() + " " +
            std::to_string(static_cast<int>(scan->verify().state));
      }
      EXPECT_TRUE(scan->status().ok());
    }
    auto points = c_->Points("acme", "daily");
    EXPECT_TRUE(points.ok());
    for (const auto& p : *points) {
      o.points[p.time_ns()] = std::to_string(p.files()) + " files " + std::to_string(p.bytes()) +
                              " bytes, gone " + (p.gone_ns() != 0 ? "yes" : "no") + ", damage '" +
                              p.damage() + "'";
    }
    // The check log's last record: its payload holds the counts signed
    // into proofs.
    std::string last;
    auto it = c_->catalogue().kv()->NewIterator(Space::kResults, {});
    for (it->Seek(""); it->Valid(); it->Next()) {
      std::string v(it->value());
      if (v.find("\"counts\":") != std::string::npos) last = v;
    }
    size_t at = last.find("\"counts\":");
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) o.log_counts = last.substr(at, last.find('}', at) - at + 1);
    return o;
  }
  // Check 1 and check 2 run cleanly: the reference outcomes.
  void Clean(Outcome* first, Outcome* second, uint64_t* writes_first, uint64_t* writes_second) {
    Fresh();
    v1::Task t = Stage(First());
    *writes_first = Interrupt(t, 0);  // a dry run: how many batches
    Fresh();
    t = Stage(First());
    auto r = Complete(t);
    ASSERT_TRUE(r.ok()) << r.status();
    *first = Result(*r);
    t = Stage(Second());
    *writes_second = Interrupt(t, 0);
    Fresh();
    ASSERT_TRUE(Complete(Stage(First())).ok());
    r = Complete(Stage(Second()));
    ASSERT_TRUE(r.ok()) << r.status();
    *second = Result(*r);
  }

  uint64_t staged_seq_ = 0;
};

TEST_F(InterruptedMergeTest, AMergeKilledAfterAnyOfItsBatchesCountsLikeAnUninterruptedOne) {
  Outcome first, second;
  uint64_t writes_first = 0, writes_second = 0;
  Clean(&first, &second, &writes_first, &writes_second);
  ASSERT_GE(writes_first, 4u) << "the merge must span several batches";
  ASSERT_GE(writes_second, 4u);
  EXPECT_EQ(first.counts.added(), 180u) << first;
  EXPECT_EQ(second.counts.modified(), 5u) << second;
  EXPECT_EQ(second.counts.missing(), 5u) << second;

  for (uint64_t k = 1; k <= writes_first; ++k) {
    SCOPED_TRACE("check 1 killed after batch " + std::to_string(k));
    Fresh();
    v1::Task t = Stage(First());
    Interrupt(t, k);
    Open();                // the restart
    auto r = Complete(t);  // the worker's retry
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Result(*r), first);
  }
  for (uint64_t k = 1; k <= writes_second; ++k) {
    SCOPED_TRACE("check 2 killed after batch " + std::to_string(k));
    Fresh();
    ASSERT_TRUE(Complete(Stage(First())).ok());
    v1::Task t = Stage(Second());
    Interrupt(t, k);
    Open();
    auto r = Complete(t);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Result(*r), second);
  }
}

// Held points among those merged (Observation.held): a held point is
// counted once, whether the merge is killed before it, after it, or in the
// point sent whole between two held ones.
TEST_F(InterruptedMergeTest, HeldPointsAreCountedOnceWhereverTheMergeIsKilled) {
  Fresh();
  ASSERT_TRUE(Complete(Stage(First())).ok());
  v1::Task t = Stage(Third);
  const uint64_t writes = Interrupt(t, 0);
  ASSERT_GE(writes, 4u) << "the merge must span several batches";
  Fresh();
  ASSERT_TRUE(Complete(Stage(First())).ok());
  auto clean = Complete(Stage(Third));
  ASSERT_TRUE(clean.ok()) << clean.status();
  const Outcome want = Result(*clean);
  EXPECT_EQ(want.points_held, 2u) << want;
  EXPECT_EQ(want.entries_held, 120u) << want;
  EXPECT_EQ(want.counts.modified(), 5u) << want;
  EXPECT_EQ(want.counts.added(), 70u) << "P2's 10 and P4's 60: " << want;
  EXPECT_EQ(want.counts.unchanged(), 120u + 55u) << want;
  for (uint64_t k = 1; k <= writes; ++k) {
    SCOPED_TRACE("check 3 killed after batch " + std::to_string(k));
    Fresh();
    ASSERT_TRUE(Complete(Stage(First())).ok());
    t = Stage(Third);
    Interrupt(t, k);
    Open();
    auto r = Complete(t);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Result(*r), want);
  }
}

// Killed twice: the redo itself is interrupted, and resumes from where it
// got to.
TEST_F(InterruptedMergeTest, AResumedMergeKilledAgainResumesAgain) {
  Outcome first, second;
  uint64_t writes_first = 0, writes_second = 0;
  Clean(&first, &second, &writes_first, &writes_second);
  ASSERT_GE(writes_second, 4u);
  Fresh();
  ASSERT_TRUE(Complete(Stage(First())).ok());
  v1::Task t = Stage(Second());
  Interrupt(t, 2);
  Open();
  Interrupt(t, 1);  // the redo: one more batch, then killed again
  Open();
  auto r = Complete(t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Result(*r), second);
}

}  // namespace
}  // namespace vigil::coordinator
