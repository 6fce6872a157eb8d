// Held directories (issue 17): the merge that records a set's newest point
// consistent keeps the digests of its directories as the set's reference;
// the next task offers them (Task.held_dirs), and a worker that finds a
// directory the same sends one marker (Observation.held_dir) instead of the
// entries beneath it. The merge takes those entries from the reference, so
// the point is recorded as if sent whole. What it records, and what it
// refuses. In process, no gRPC (CoordinatorFixture).
//
// Thread safety: a gtest fixture, used on the test's thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "services/common/listing_digest.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "storage/catalogue.h"
#include "storage/versions.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kHour = 3'600'000'000'000;
constexpr int64_t kP1 = 1'767'225'600'000'000'000;  // 2026-01-01
constexpr int64_t kP2 = kP1 + 24 * kHour;

class IngestHeldDirsTest : public CoordinatorFixture {
 protected:
  void Use(const std::string& layout) {
    Open();
    SetSpec set;
    set.layout = layout;
    v1::ApplyRequest req = SetRequest(set);
    // A mirror is synced in place: a file with a new mtime is updated.
    req.mutable_backup_sets(0)->set_mutable_(layout.empty());
    Apply(req);
    RegisterWorker();
  }

  // A point's entries, in catalogue order: "big" holds 20 files and
  // "big/sub" 17 (both kept: at least kMinHeldDirEntries beneath them),
  // "small" two (not kept), and a file at the top. `changed` replaces the
  // content of those paths.
  static std::vector<v1::Observation> Day(int64_t point,
                                          const std::map<std::string, std::string>& changed = {}) {
    std::vector<std::string> paths;
    for (int i = 0; i < 20; ++i) paths.push_back("big/f" + std::to_string(10 + i));
    for (int i = 0; i < 17; ++i) paths.push_back("big/sub/s" + std::to_string(10 + i));
    paths.push_back("small/x");
    paths.push_back("small/y");
    paths.push_back("top");
    std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
      return storage::ComparePathOrder(a, b) < 0;
    });
    std::vector<v1::Observation> obs;
    for (const std::string& p : paths) {
      auto c = changed.find(p);
      obs.push_back(Obs(point, p, c != changed.end() ? c->second : "content of " + p));
    }
    return obs;
  }

  // What a worker sends of `obs` in task `t`: a marker (with the proofs of
  // the digests it computed) instead of the entries beneath each directory
  // whose offers are those of Task.held_dirs, none beneath another.
  static std::vector<v1::Observation> AsWorker(const v1::Task& t,
                                               const std::vector<v1::Observation>& obs) {
    const int64_t point = obs.empty() ? 0 : obs[0].restore_point_ns();
    std::map<std::string, v1::ListingDigests> offers;
    for (const auto& d : t.held_dirs().dirs()) offers[d.path()] = d.offer();
    std::vector<std::pair<std::string, v1::ListingDigests>> held;
    DirDigester dirs([&](DirDigester::Dir&& d) {
      auto it = offers.find(d.path);
      if (it == offers.end()) return;
      const v1::ListingDigests mine = HeldDirOffer(d, t.id(), t.attempt());
      if (mine.listing() == it->second.listing() && mine.content() == it->second.content()) {
        held.emplace_back(d.path, HeldDirProof(d, point, t.id(), t.attempt()));
      }
    });
    for (const auto& o : obs) dirs.Add(o);
    dirs.Finish();
    std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
      return storage::ComparePathOrder(a.first, b.first) < 0;
    });
    auto beneath = [](const std::string& p, const std::string& d) {
      return p.size() > d.size() && p.starts_with(d) && p[d.size()] == '/';
    };
    std::vector<v1::Observation> out;
    const std::string* in = nullptr;
    for (const auto& o : obs) {
      if (in != nullptr && beneath(o.path(), *in)) continue;
      in = nullptr;
      for (const auto& [path, proofs] : held) {
        if (beneath(o.path(), path)) {
          v1::Observation m;
          m.set_path(path);
          m.set_restore_point_ns(o.restore_point_ns());
          *m.mutable_held_dir() = proofs;
          out.push_back(m);
          in = &path;
          break;
        }
      }
      if (in == nullptr) out.push_back(o);
    }
    return out;
  }

  storage::StatusOr<v1::CompleteTaskResponse> Send(const v1::Task& t, const Points& points,
                                                   const std::vector<v1::Observation>& obs) {
    auto a = c_->Observe(worker_, Batch(t, 1, points, obs));
    if (!a.ok()) {
      v1::CompleteTaskRequest failed = Done(t, 0);
      failed.set_error(std::string(a.status().message()));
      EXPECT_TRUE(c_->CompleteTask(worker_, failed).ok());
      return a.status();
    }
    return c_->CompleteTask(worker_, Done(t, 1));
  }

  // The entries of a recorded point: path and digest, in catalogue order.
  std::vector<std::pair<std::string, std::string>> Entries(int64_t point) {
    std::vector<std::pair<std::string, std::string>> out;
    auto s = c_->catalogue().Scan({"acme", "fs-nas", point});
    for (; s->Valid(); s->Next())
      out.emplace_back(s->path(), std::string(s->entry().digest.view()));
    EXPECT_TRUE(s->status().ok()) << s->status();
    return out;
  }
  static std::vector<std::pair<std::string, std::string>> Expected(
      const std::vector<v1::Observation>& obs) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& o : obs) out.emplace_back(o.path(), o.digest());
    return out;
  }
  v1::PointRecord RecordOf(int64_t t) {
    auto pts = c_->Points("acme", "fs-nas");
    EXPECT_TRUE(pts.ok()) << pts.status();
    for (auto& r : *pts) {
      if (r.time_ns() == t) return r;
    }
    return {};
  }
  static std::vector<std::string> Offered(const v1::Task& t) {
    std::vector<std::string> out;
    for (const auto& d : t.held_dirs().dirs()) out.push_back(d.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  // A dated set whose kP1 is recorded (the reference), and the next
  // check's task.
  v1::Task ReferenceThenLease() {
    Use("dated-folders");
    EXPECT_TRUE(Send(RunAndLease(), One(), Day(kP1)).ok());
    clock_.Advance(kHour);
    return RunAndLease();
  }
  // Directory `path` of `obs` as a worker digests and counts it.
  static DirDigester::Dir DirOfDay(const std::vector<v1::Observation>& obs,
                                   const std::string& path) {
    DirDigester::Dir out;
    DirDigester dirs([&](DirDigester::Dir&& d) {
      if (d.path == path) out = d;
    });
    for (const auto& o : obs) dirs.Add(o);
    dirs.Finish();
    return out;
  }

  // The held marker of day `point` (Day(point), unchanged) for task `t`.
  static v1::Observation HeldDay(int64_t point, const v1::Task& t) {
    return Held(t, point, DigestsOf(Day(point)));
  }

  static Points One() { return {{kP1, "2026-01-01"}}; }
  static Points Two() { return {{kP1, "2026-01-01"}, {kP2, "2026-01-02"}}; }
};

TEST_F(IngestHeldDirsTest, ADirectoryTheSameAsTheReferencesIsOneMarkerAndRecordedAsIfSent) {
  Use("dated-folders");
  v1::Task first = RunAndLease();
  EXPECT_FALSE(first.has_held_dirs()) << "no reference yet";
  ASSERT_TRUE(Send(first, One(), Day(kP1)).ok());

  // The next task offers the reference's larger directories.
  clock_.Advance(kHour);
  v1::Task t = RunAndLease();
  EXPECT_EQ(t.held_dirs().reference_ns(), kP1);
  EXPECT_EQ(Offered(t), (std::vector<std::string>{"big", "big/sub"}));
  for (const auto& d : t.held_dirs().dirs()) {
    EXPECT_EQ(d.offer().listing().size(), 32u);
    EXPECT_EQ(d.offer().content().size(), 32u);
  }
  // A new day: "small/x" changed, "big" the same. kP1 held whole.
  const auto day2 = Day(kP2, {{"small/x", "changed"}});
  std::vector<v1::Observation> sent;
  const v1::Observation held_p1 = HeldDay(kP1, t);
  sent.push_back(held_p1);
  for (const auto& o : AsWorker(t, day2)) sent.push_back(o);
  ASSERT_EQ(sent.size(), 1u + 1u + 3u) << "kP1's marker, big's marker, small/x, small/y, top";
  EXPECT_TRUE(sent[1].has_held_dir());
  EXPECT_EQ(sent[1].path(), "big");
  auto r = Send(t, Two(), sent);
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::Task& done = r->task();
  EXPECT_EQ(done.dirs_held(), 1u);
  EXPECT_EQ(done.dirs_shared(), 1u) << "a new point after the reference: shared, not read";
  EXPECT_EQ(done.entries_in_held_dirs(), 37u);
  EXPECT_EQ(done.points_held(), 1u);
  EXPECT_EQ(done.entries(), 2 * day2.size());
  EXPECT_EQ(done.counts().added(), day2.size()) << "a new point: every entry recorded";

  // Recorded as if sent whole: the same entries, and the digests a worker
  // computes of the whole point (so the next check can hold it).
  EXPECT_EQ(Entries(kP2), Expected(day2));
  const v1::PointRecord rec = RecordOf(kP2);
  EXPECT_EQ(rec.entries(), day2.size());
  EXPECT_EQ(rec.digests().listing(), DigestsOf(day2).listing());
  EXPECT_EQ(rec.digests().content(), DigestsOf(day2).content());
  EXPECT_EQ(RecordOf(kP1).last_checked_ns(), clock_.NowNs());

  // The newest point is the reference now.
  clock_.Advance(kHour);
  v1::Task third = RunAndLease();
  EXPECT_EQ(third.held_dirs().reference_ns(), kP2);
  EXPECT_EQ(Offered(third), (std::vector<std::string>{"big", "big/sub"}));
}

TEST_F(IngestHeldDirsTest, AMirrorThatChangedSendsItsChangedDirectoriesAndIsVerifiedWhole) {
  Use("");  // a mirror: one point, time 0
  const Points mirror = {};
  ASSERT_TRUE(Send(RunAndLease(), mirror, Day(0)).ok());
  clock_.Advance(kHour);
  const int64_t second = clock_.NowNs();
  v1::Task t = RunAndLease();
  EXPECT_EQ(t.held_dirs().reference_ns(), 0);
  ASSERT_EQ(t.held_points_size(), 1);
  // A sync rewrote small/y (a new mtime) and nothing beneath "big": "big"
  // is one marker, the rest is sent.
  auto now = Day(0, {{"small/y", "synced"}});
  now[now.size() - 2].set_mtime_ns(2);  // synced: a new mtime
  const auto sent = AsWorker(t, now);
  ASSERT_EQ(sent.size(), 4u);
  auto r = Send(t, mirror, sent);
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::Task& done = r->task();
  EXPECT_EQ(done.dirs_held(), 1u);
  EXPECT_EQ(done.dirs_shared(), 0u) << "a point recorded already: taken entry by entry";
  EXPECT_EQ(done.counts().updated(), 1u);
  EXPECT_EQ(done.counts().unchanged(), now.size() - 1);
  EXPECT_EQ(done.counts().modified() + done.counts().missing() + done.counts().added(), 0u);
  // Read whole: the entries beneath the held directory are verified now.
  storage::EntryRecord e;
  storage::VerifyRecord v;
  ASSERT_TRUE(c_->catalogue().GetEntry({"acme", "fs-nas", 0}, "big/sub/s20", &e, &v).ok());
  EXPECT_EQ(v.last_verified_ns, second);
  EXPECT_EQ(RecordOf(0).last_verified_ns(), second);
  EXPECT_EQ(RecordOf(0).digests().content(), DigestsOf(now).content());

  // A file beneath "big/sub" rotten (another size, the same mtime):
  // neither "big" nor "big/sub" is held, the point is sent whole and the
  // damage found.
  clock_.Advance(kHour);
  v1::Task t3 = RunAndLease();
  auto later = now;
  ASSERT_EQ(later[25].path(), "big/sub/s15");
  later[25] = Obs(0, later[25].path(), "rot");
  const auto sent3 = AsWorker(t3, later);
  EXPECT_EQ(sent3.size(), later.size()) << "sent whole";
  auto r3 = Send(t3, mirror, sent3);
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(r3->task().dirs_held(), 0u);
  EXPECT_EQ(r3->task().counts().modified(), 1u);
}

TEST_F(IngestHeldDirsTest, AMarkerWhoseProofsAreNotTheReferencesIsRefusedWhenStaged) {
  v1::Task t = ReferenceThenLease();
  // The proofs of a "big" in which one file differs: refused, nothing of
  // the attempt staged or recorded.
  const auto other = Day(kP2, {{"big/f15", "rotten!"}});
  v1::Observation forged;
  forged.set_path("big");
  forged.set_restore_point_ns(kP2);
  *forged.mutable_held_dir() = HeldDirProof(DirOfDay(other, "big"), kP2, t.id(), t.attempt());
  // Echoing the offer back is not a proof either.
  v1::Observation echo = forged;
  for (const auto& d : t.held_dirs().dirs()) {
    if (d.path() == "big") *echo.mutable_held_dir() = d.offer();
  }
  std::vector<v1::Observation> rest(other.begin() + 37, other.end());
  for (const v1::Observation& bad : {forged, echo}) {
    std::vector<v1::Observation> obs = {bad};
    obs.insert(obs.end(), rest.begin(), rest.end());
    auto r = Send(t, {{kP2, "2026-01-02"}}, obs);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_NE(r.status().message().find("'big'"), std::string::npos) << r.status();
    auto again = c_->LeaseTask(worker_);  // the task again, next attempt
    ASSERT_TRUE(again.ok() && again->has_task()) << again.status();
    t = again->task();
    EXPECT_EQ(t.held_dirs().reference_ns(), kP1);
  }
  EXPECT_TRUE(Entries(kP2).empty());
  // A directory not offered ("small": too few entries) cannot be held.
  v1::Observation m;
  m.set_path("small");
  m.set_restore_point_ns(kP2);
  *m.mutable_held_dir() = HeldDirProof(DirOfDay(Day(kP2), "small"), kP2, t.id(), t.attempt());
  auto r = Send(t, {{kP2, "2026-01-02"}}, {m});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_F(IngestHeldDirsTest, AnEntryBeneathAHeldDirectoryAfterItsMarkerIsRefused) {
  v1::Task t = ReferenceThenLease();
  auto sent = AsWorker(t, Day(kP2));
  ASSERT_TRUE(sent[0].has_held_dir());
  ASSERT_EQ(sent[0].path(), "big");
  v1::Observation extra = Obs(kP2, "big/zz", "smuggled");
  sent.insert(sent.begin() + 1, extra);
  auto r = Send(t, {{kP2, "2026-01-02"}}, sent);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("big/zz"), std::string::npos) << r.status();
  EXPECT_TRUE(Entries(kP2).empty());
}

TEST_F(IngestHeldDirsTest, AMarkerIsAcceptedOnlyInPlaceOfNothingButItsOwnFields) {
  v1::Task t = ReferenceThenLease();
  auto sent = AsWorker(t, Day(kP2));
  ASSERT_TRUE(sent[0].has_held_dir());
  v1::Observation with_type = sent[0];
  with_type.set_type(v1::ENTRY_TYPE_FILE);
  v1::ObservationBatch b = Batch(t, 1, {{kP2, "2026-01-02"}}, {with_type});
  storage::Status s = ValidateBatch(b);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("observations[0].held_dir"), std::string::npos) << s;
  v1::Observation short_proof = sent[0];
  short_proof.mutable_held_dir()->set_listing("short");
  s = ValidateBatch(Batch(t, 1, {{kP2, "2026-01-02"}}, {short_proof}));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  v1::Observation bad_path = sent[0];
  bad_path.set_path("/big");
  s = ValidateBatch(Batch(t, 1, {{kP2, "2026-01-02"}}, {bad_path}));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(ValidateBatch(Batch(t, 1, {{kP2, "2026-01-02"}}, {sent[0]})).ok());
}

// A file touched in an earlier point of the same check (the same content
// under a new mtime) gets a version of its own in that point: the
// reference's entries beneath a held directory stay what its digests say,
// and a later point holding that directory is recorded right.
TEST_F(IngestHeldDirsTest, ATouchInAnotherPointLeavesTheReferenceAsItsDigestsSay) {
  Use("dated-folders");
  auto both = Day(kP1);
  for (const auto& o : Day(kP2)) both.push_back(o);
  ASSERT_TRUE(Send(RunAndLease(), Two(), both).ok());
  constexpr int64_t kP3 = kP2 + 24 * kHour;
  clock_.Advance(kHour);
  v1::Task t = RunAndLease();
  ASSERT_EQ(t.held_dirs().reference_ns(), kP2);
  auto p1 = Day(kP1);
  ASSERT_EQ(p1[0].path(), "big/f10");
  p1[0].set_mtime_ns(99);  // touched in kP1 only
  // kP1 sent (touched), kP2 held whole, kP3 new with "big" held.
  const v1::Observation held_p2 = HeldDay(kP2, t);
  std::vector<v1::Observation> sent = p1;
  sent.push_back(held_p2);
  for (const auto& o : AsWorker(t, Day(kP3))) sent.push_back(o);
  auto r = Send(t, {{kP1, "2026-01-01"}, {kP2, "2026-01-02"}, {kP3, "2026-01-03"}}, sent);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().dirs_held(), 1u);
  // kP1's touch split its version at kP2, not after it: kP3 still shares.
  EXPECT_EQ(r->task().dirs_shared(), 1u);
  EXPECT_EQ(r->task().points_held(), 1u);
  auto mtime = [&](int64_t point) {
    storage::EntryRecord e;
    storage::VerifyRecord v;
    EXPECT_TRUE(c_->catalogue().GetEntry({"acme", "fs-nas", point}, "big/f10", &e, &v).ok());
    return e.mtime_ns;
  };
  EXPECT_EQ(mtime(kP1), 99);
  EXPECT_EQ(mtime(kP2), 1);
  EXPECT_EQ(mtime(kP3), 1);
  EXPECT_EQ(Entries(kP3), Expected(Day(kP3)));
  EXPECT_EQ(RecordOf(kP3).digests().listing(), DigestsOf(Day(kP3)).listing());
  EXPECT_EQ(RecordOf(kP3).digests().content(), DigestsOf(Day(kP3)).content());
}

// The reference point sent in the same check (it changed beneath "big"):
// the merge records it anew before a later point, so "big" can no longer
// stand for that point's entries. Refused when staged; sent whole, the
// later point is recorded as it is.
TEST_F(IngestHeldDirsTest, AReferenceThatSentEntriesHoldsNoDirectoryOfALaterPoint) {
  v1::Task t = ReferenceThenLease();
  ASSERT_EQ(t.held_dirs().reference_ns(), kP1);
  auto grown = Day(kP1);
  grown.insert(grown.begin() + 20, Obs(kP1, "big/f99", "new in the old day"));  // before big/sub
  ASSERT_EQ(grown[19].path(), "big/f29");
  std::vector<v1::Observation> sent = AsWorker(t, grown);  // big/sub held, big's files sent
  ASSERT_TRUE(std::any_of(sent.begin(), sent.end(),
                          [](const v1::Observation& o) { return o.path() == "big/f99"; }));
  for (const auto& o : AsWorker(t, Day(kP2))) sent.push_back(o);  // "big" held
  auto r = Send(t, Two(), sent);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("sent entries in the same check"), std::string::npos)
      << r.status();
  // As a worker does: after the reference was sent, the later point whole.
  auto again = c_->LeaseTask(worker_);
  ASSERT_TRUE(again.ok() && again->has_task()) << again.status();
  const v1::Task& t2 = again->task();
  std::vector<v1::Observation> whole = AsWorker(t2, grown);
  for (const auto& o : Day(kP2)) whole.push_back(o);
  r = Send(t2, Two(), whole);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Entries(kP2), Expected(Day(kP2))) << "no big/f99 in kP2";
  EXPECT_EQ(Entries(kP1), Expected(grown));
}

// A held directory's proof is bound to the directory and the point it is
// sent for: replayed for another point (with the same entries beneath it),
// it is refused.
TEST_F(IngestHeldDirsTest, AProofHoldsForItsOwnDirectoryAndPointOnly) {
  Use("dated-folders");
  ASSERT_TRUE(Send(RunAndLease(), One(), Day(kP1)).ok());
  constexpr int64_t kP3 = kP2 + 24 * kHour;
  clock_.Advance(kHour);
  v1::Task t = RunAndLease();
  std::vector<v1::Observation> sent;
  const v1::Observation held_p1 = HeldDay(kP1, t);
  sent.push_back(held_p1);
  const auto p2 = AsWorker(t, Day(kP2));
  ASSERT_TRUE(p2[0].has_held_dir());
  for (const auto& o : p2) sent.push_back(o);
  std::vector<v1::Observation> p3 = p2;  // kP2's proofs, as kP3's
  for (auto& o : p3) o.set_restore_point_ns(kP3);
  for (const auto& o : p3) sent.push_back(o);
  auto r = Send(t, {{kP1, "2026-01-01"}, {kP2, "2026-01-02"}, {kP3, "2026-01-03"}}, sent);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find(std::to_string(kP3)), std::string::npos) << r.status();
}

// A marker stands where its directory's entries would be: after an entry
// beneath it (or after it), it is refused.
TEST_F(IngestHeldDirsTest, AMarkerAfterAnEntryBeneathItsDirectoryIsRefused) {
  v1::Task t = ReferenceThenLease();
  auto sent = AsWorker(t, Day(kP2));
  ASSERT_TRUE(sent[0].has_held_dir());
  sent.insert(sent.begin(), Obs(kP2, "big/a0", "smuggled first"));
  auto r = Send(t, {{kP2, "2026-01-02"}}, sent);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("after observation 'big/a0'"), std::string::npos)
      << r.status();
  EXPECT_TRUE(Entries(kP2).empty());
}

// A directory record whose counts are not what a worker counts beneath the
// directory (a record damaged on disk) is not offered as the same: the
// offer binds them, so the worker sends the entries and the point is
// recorded as sent (a shared directory takes its counts from the record).
TEST_F(IngestHeldDirsTest, ADirectoryRecordNotCountingItsEntriesIsNotHeld) {
  v1::Task t = ReferenceThenLease();
  const std::string key = keys::HeldDir("acme", "fs-nas", "big/sub");
  std::string v;
  ASSERT_TRUE(c_->catalogue().kv()->Get(storage::Space::kMeta, key, &v).ok());
  v1::HeldDirRecord rec;
  ASSERT_TRUE(rec.ParseFromString(v));
  ASSERT_EQ(rec.entries(), 17u);
  auto held_sub = [](const std::vector<v1::Observation>& sent) {
    return std::any_of(sent.begin(), sent.end(), [](const v1::Observation& o) {
      return o.has_held_dir() && o.path() == "big/sub";
    });
  };
  // "big" changed: only "big/sub" could be held, and is while its record
  // counts right.
  const auto day2 = Day(kP2, {{"big/f10", "changed"}});
  ASSERT_TRUE(held_sub(AsWorker(t, day2)));
  for (int field = 0; field < 3; ++field) {
    v1::HeldDirRecord wrong = rec;
    if (field == 0) wrong.set_entries(16);
    if (field == 1) wrong.set_files(18);
    if (field == 2) wrong.set_bytes(rec.bytes() + 1);
    storage::KvBatch b;
    b.Put(storage::Space::kMeta, key, wrong.SerializeAsString());
    ASSERT_TRUE(c_->catalogue().kv()->Write(b, {}).ok());
    clock_.Advance(kHour);
    t = RunAndLease();
    EXPECT_FALSE(held_sub(AsWorker(t, day2))) << "field " << field;
  }
  auto r = Send(t, {{kP1, "2026-01-01"}, {kP2, "2026-01-02"}}, AsWorker(t, day2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().dirs_held(), 0u);
  EXPECT_EQ(Entries(kP2), Expected(day2));
}

// The last guard of a directory taken from the reference entry by entry
// (not shared: here a new point before the reference): the reference's
// catalogue not holding as many entries beneath it as its record counts
// (a catalogue damaged on disk) refuses the marker.
TEST_F(IngestHeldDirsTest, AReferenceCatalogueNotHoldingTheCountedEntriesRefusesTheMarker) {
  v1::Task t = ReferenceThenLease();
  constexpr int64_t kP0 = kP1 - 24 * kHour;
  auto day0 = Day(kP0, {{"big/f10", "changed"}});
  auto sent = AsWorker(t, day0);
  ASSERT_TRUE(std::any_of(sent.begin(), sent.end(), [](const v1::Observation& o) {
    return o.has_held_dir() && o.path() == "big/sub";
  }));
  storage::KvBatch b;
  b.Delete(storage::Space::kVersions,
           storage::Versions::VersionKey("acme", "fs-nas", "big/sub/s12", kP1));
  ASSERT_TRUE(c_->catalogue().kv()->Write(b, {}).ok());
  const v1::Observation held_p1 = HeldDay(kP1, t);  // the reference, the same
  sent.push_back(held_p1);
  auto r = Send(t, {{kP0, "2025-12-31"}, {kP1, "2026-01-01"}}, sent);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("not as many as its digests counted"), std::string::npos)
      << r.status();
  EXPECT_TRUE(Entries(kP0).empty());
}

// A merge killed after any of its batches, a directory shared in it, then
// completed by the worker's retry after a restart, records what an
// uninterrupted one records (the point resumed takes the directory entry
// by entry: the same entries, digests, counts and next reference).
TEST_F(IngestHeldDirsTest, AMergeKilledAfterAnyBatchRecordsWhatAnUninterruptedOneRecords) {
  // Two new days: every file but those beneath "big/sub" changed (each
  // one a batch of the merge, before and after the directory held); only
  // "top" changed ("big" held, and a batch after it holding no version).
  std::map<std::string, std::string> many = {{"small/x", "x2"}, {"top", "top2"}};
  for (int i = 0; i < 20; ++i) many["big/f" + std::to_string(10 + i)] = "changed";
  for (const auto& changed : {many, std::map<std::string, std::string>{{"top", "top2"}}}) {
    SCOPED_TRACE(std::to_string(changed.size()) + " changed");
    const auto day2 = Day(kP2, changed);
    // A fresh coordinator with kP1 recorded, and the next check staged:
    // kP1 held whole, kP2 sent with "big/sub" held.
    auto staged = [&]() -> v1::Task {
      c_.reset();
      std::filesystem::remove_all(coordinator_options_.data_dir);
      v1::Task t = ReferenceThenLease();
      const v1::Observation held_p1 = HeldDay(kP1, t);
      std::vector<v1::Observation> sent = {held_p1};
      for (const auto& o : AsWorker(t, day2)) sent.push_back(o);
      auto a = c_->Observe(worker_, Batch(t, 1, Two(), sent));
      EXPECT_TRUE(a.ok()) << a.status();
      return t;
    };
    // The merge by hand in small batches, stopped after the stop-th (0:
    // never; its last batch is never written): what a kill there leaves.
    auto merge = [&](const v1::Task& t, uint64_t stop) {
      MergeOptions options;
      options.batch_bytes = 1;
      uint64_t writes = 0;
      options.after_write = [&](uint64_t k) -> storage::Status {
        writes = k;
        return k == stop ? absl::AbortedError("killed") : absl::OkStatus();
      };
      storage::KvBatch last;
      auto m = MergeStaged(c_->catalogue(), t.backup_set(), t.id(), t.attempt(), clock_.NowNs(),
                           keys::Merged(t.id(), t.attempt()), &last, options);
      EXPECT_EQ(m.ok(), stop == 0) << m.status();
      return writes;
    };
    // What the check recorded, times aside.
    auto outcome = [&](const v1::Task& done) {
      std::string o = "entries " + std::to_string(done.entries()) + ", added " +
                      std::to_string(done.counts().added()) + ", unchanged " +
                      std::to_string(done.counts().unchanged()) + ", held " +
                      std::to_string(done.dirs_held()) + "/" +
                      std::to_string(done.entries_in_held_dirs()) + "\n";
      for (const auto& [path, digest] : Entries(kP2)) o += path + " " + digest + "\n";
      const v1::PointRecord r = RecordOf(kP2);
      o += r.digests().SerializeAsString() + " " + std::to_string(r.entries()) + " " +
           std::to_string(r.files()) + " " + std::to_string(r.bytes()) + "\n";
      const std::string prefix = keys::HeldDirs("acme", "fs-nas");
      auto it = c_->catalogue().kv()->NewIterator(
          storage::Space::kMeta, {.upper_bound = storage::PrefixSuccessor(prefix)});
      for (it->Seek(prefix); it->Valid(); it->Next()) {
        o += std::string(it->key()) + " " + std::string(it->value()) + "\n";
      }
      return o;
    };
    v1::Task t = staged();
    auto r = c_->CompleteTask(worker_, Done(t, 1));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->task().dirs_shared(), 1u);
    const std::string clean = outcome(r->task());
    EXPECT_NE(clean.find("big/sub/s26"), std::string::npos) << clean;
    const uint64_t writes = merge(staged(), 0);
    ASSERT_GE(writes, changed.size() > 1 ? 20u : 2u) << "the merge must span several batches";
    for (uint64_t k = 1; k <= writes; ++k) {
      SCOPED_TRACE("killed after batch " + std::to_string(k));
      t = staged();
      merge(t, k);
      Open();  // the restart
      r = c_->CompleteTask(worker_, Done(t, 1));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(outcome(r->task()), clean);
    }
  }
}

TEST_F(IngestHeldDirsTest, AnInconsistentNewestPointOffersNoDirectoriesOfItsOwn) {
  Use("dated-folders");
  ASSERT_TRUE(Send(RunAndLease(), One(), Day(kP1)).ok());
  clock_.Advance(kHour);
  // kP1 found with a rotten file: its digests are cleared, and with them
  // the reference made of it.
  auto rotten = Day(kP1, {{"big/f12", "rotten!!!!!!!!!"}});
  rotten[2].set_size(Day(kP1)[2].size());
  ASSERT_TRUE(Send(RunAndLease(), One(), rotten).ok());
  EXPECT_TRUE(RecordOf(kP1).digests().listing().empty());
  clock_.Advance(kHour);
  v1::Task t = RunAndLease();
  EXPECT_FALSE(t.has_held_dirs());
  EXPECT_EQ(t.held_points_size(), 0);
}

}  // namespace
}  // namespace vigil::coordinator
