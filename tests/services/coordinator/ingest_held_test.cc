// Held restore points (issue 17): a point whose entries the coordinator
// recorded consistent keeps the digests of its listing (PointRecord.digests);
// the next task hands them to the worker (Task.held_points), and a worker
// that sees the same sends one held marker (Observation.held) instead of the
// entries. What the merge then records, and what it refuses. In process, no
// gRPC (CoordinatorFixture).
//
// Thread safety: a gtest fixture, used on the test's thread.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "services/common/listing_digest.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kHour = 3'600'000'000'000;
constexpr int64_t kP1 = 1'767'225'600'000'000'000;  // 2026-01-01
constexpr int64_t kP2 = kP1 + 24 * kHour;

class IngestHeldTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    SetSpec set;
    set.layout = "dated-folders";
    Apply(SetRequest(set));
    RegisterWorker();
    p1_ = {Obs(kP1, "a", "alpha"), Obs(kP1, "b", "beta"), Obs(kP1, "c/d", "delta")};
    p2_ = {Obs(kP2, "a", "alpha"), Obs(kP2, "b", "beta2"), Obs(kP2, "c/d", "delta"),
           Obs(kP2, "e", "epsilon")};
  }

  static Points Listed() { return {{kP1, "2026-01-01"}, {kP2, "2026-01-02"}}; }

  // Leases a check of acme; the task.
  v1::Task Lease() { return RunAndLease(); }
  // Sends `obs` in one batch (with the listing) and completes; the result,
  // or the batch's refusal (the attempt then ends with an error, as a
  // worker's would: the task is queued again).
  storage::StatusOr<v1::CompleteTaskResponse> Send(const v1::Task& t,
                                                   const std::vector<v1::Observation>& obs) {
    auto a = c_->Observe(worker_, Batch(t, 1, Listed(), obs));
    if (!a.ok()) {
      v1::CompleteTaskRequest failed = Done(t, 0);
      failed.set_error(std::string(a.status().message()));
      EXPECT_TRUE(c_->CompleteTask(worker_, failed).ok());
      return a.status();
    }
    return c_->CompleteTask(worker_, Done(t, 1));
  }
  v1::Task Check(const std::vector<v1::Observation>& obs) {
    auto r = Send(Lease(), obs);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->task() : v1::Task();
  }
  std::vector<v1::Observation> Both() const {
    std::vector<v1::Observation> all = p1_;
    all.insert(all.end(), p2_.begin(), p2_.end());
    return all;
  }
  std::map<int64_t, v1::PointRecord> Records() {
    std::map<int64_t, v1::PointRecord> m;
    auto pts = c_->Points("acme", "fs-nas");
    EXPECT_TRUE(pts.ok()) << pts.status();
    if (pts.ok()) {
      for (auto& r : *pts) m[r.time_ns()] = r;
    }
    return m;
  }
  storage::VerifyRecord VerifyOf(int64_t point, const std::string& path) {
    storage::EntryRecord rec;
    storage::VerifyRecord ver;
    storage::Status s = c_->catalogue().GetEntry({"acme", "fs-nas", point}, path, &rec, &ver);
    EXPECT_TRUE(s.ok()) << path << ": " << s;
    return ver;
  }

  // vigil_verified_bytes_total, all locations.
  uint64_t VerifiedBytes() {
    uint64_t n = 0;
    for (const auto& [location, bytes] : c_->VerifiedBytesByLocation()) n += bytes;
    return n;
  }
  static uint64_t SizeOf(const std::vector<v1::Observation>& obs) {
    uint64_t n = 0;
    for (const auto& o : obs) n += o.size();
    return n;
  }

  std::vector<v1::Observation> p1_, p2_;
};

TEST_F(IngestHeldTest, APointRecordedConsistentIsHeldAndVerifiedByItsMarker) {
  v1::Task first = Check(Both());
  EXPECT_EQ(first.counts().added(), 7u);
  EXPECT_EQ(first.points_held(), 0u);
  auto recs = Records();
  EXPECT_EQ(recs[kP1].digests().listing(), DigestsOf(p1_, true).listing());
  EXPECT_EQ(recs[kP1].digests().content(), DigestsOf(p1_, true).content());
  EXPECT_EQ(recs[kP2].digests().content(), DigestsOf(p2_, true).content());
  EXPECT_EQ(recs[kP1].entries(), 3u);
  EXPECT_EQ(recs[kP2].entries(), 4u);

  // The next task carries them; a worker seeing the same sends markers.
  clock_.Advance(kHour);
  const int64_t second = clock_.NowNs();
  v1::Task t = Lease();
  ASSERT_EQ(t.held_points_size(), 2);
  EXPECT_EQ(t.held_points(0).time_ns(), kP1);
  // Offers, bound to the attempt: never the digests themselves.
  EXPECT_EQ(t.held_points(1).digests().content(),
            HeldOffer(DigestsOf(p2_, true), t.id(), t.attempt()).content());
  EXPECT_NE(t.held_points(1).digests().content(), DigestsOf(p2_, true).content());
  const uint64_t bytes_before = VerifiedBytes();
  auto r = Send(t, {Held(t, kP1, DigestsOf(p1_, true)), Held(t, kP2, DigestsOf(p2_, true))});
  ASSERT_TRUE(r.ok()) << r.status();
  // The bytes a held point stands for were read and verified: counted
  // (vigil_verified_bytes_total) as if they had been sent.
  EXPECT_EQ(VerifiedBytes() - bytes_before, SizeOf(p1_) + SizeOf(p2_));
  const v1::Task& done = r->task();
  EXPECT_EQ(done.points_held(), 2u);
  EXPECT_EQ(done.entries_held(), 7u);
  EXPECT_EQ(done.entries(), 7u);
  EXPECT_EQ(done.counts().unchanged(), 7u);
  EXPECT_EQ(done.counts().added() + done.counts().modified() + done.counts().missing(), 0u);
  // Read whole and the same: every entry verified now, the points too.
  EXPECT_EQ(VerifyOf(kP1, "c/d").last_verified_ns, second);
  EXPECT_EQ(VerifyOf(kP2, "e").last_verified_ns, second);
  recs = Records();
  EXPECT_EQ(recs[kP1].last_verified_ns(), second);
  EXPECT_EQ(recs[kP2].last_checked_ns(), second);
  EXPECT_EQ(recs[kP2].gone_ns(), 0);
  EXPECT_EQ(recs[kP2].entries(), 4u) << "kept for the next marker";
  EXPECT_FALSE(recs[kP2].digests().content().empty());
}

TEST_F(IngestHeldTest, AListingOnlyMarkerVerifiesNothing) {
  Check(Both());
  const int64_t first = clock_.NowNs();
  clock_.Advance(kHour);
  const int64_t second = clock_.NowNs();
  v1::DiffCounts c;
  {
    v1::Task t = Lease();
    const uint64_t bytes_before = VerifiedBytes();
    auto r = Send(t, {Held(t, kP1, DigestsOf(p1_, false)), Held(t, kP2, DigestsOf(p2_, true))});
    ASSERT_TRUE(r.ok()) << r.status();
    c = r->task().counts();
    EXPECT_EQ(VerifiedBytes() - bytes_before, SizeOf(p2_)) << "kP1 listed: no byte verified";
  }
  EXPECT_EQ(c.not_read(), 3u) << "kP1's files: listed, not read";
  EXPECT_EQ(c.unchanged(), 4u) << "kP2's read whole";
  EXPECT_EQ(VerifyOf(kP1, "a").last_verified_ns, first);
  EXPECT_EQ(VerifyOf(kP2, "a").last_verified_ns, second);
  auto recs = Records();
  EXPECT_EQ(recs[kP1].last_verified_ns(), first);
  EXPECT_EQ(recs[kP1].last_checked_ns(), second);
}

TEST_F(IngestHeldTest, AMarkerWithOtherDigestsIsRefusedAndChangesNothing) {
  Check(Both());
  auto before = Records();
  clock_.Advance(kHour);
  std::vector<v1::Observation> other = p1_;
  other[1] = Obs(kP1, "b", "rotten");  // same size, other content
  v1::Task t = Lease();
  auto r = Send(t, {Held(t, kP1, DigestsOf(other, true)), Held(t, kP2, DigestsOf(p2_, true))});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find(std::to_string(kP1)), std::string::npos) << r.status();
  auto after = Records();
  EXPECT_EQ(after[kP1].last_checked_ns(), before[kP1].last_checked_ns());
  EXPECT_EQ(after[kP1].digests().content(), before[kP1].digests().content());
  // The attempt is failed and the task queued again.
  auto again = c_->LeaseTask(worker_);
  ASSERT_TRUE(again.ok() && again->has_task()) << again.status();
  EXPECT_EQ(again->task().id(), t.id());
  EXPECT_EQ(again->task().attempt(), t.attempt() + 1);
}

// A worker that did not compute the digests cannot answer: echoing the
// offers back, or the proofs of an earlier attempt, is refused.
TEST_F(IngestHeldTest, OffersEchoedOrProofsReplayedAreRefused) {
  Check(Both());
  v1::Task t = Lease();
  v1::Observation echo1, echo2;
  echo1.set_restore_point_ns(kP1);
  *echo1.mutable_held() = t.held_points(0).digests();
  echo2.set_restore_point_ns(kP2);
  *echo2.mutable_held() = t.held_points(1).digests();
  auto r = Send(t, {echo1, echo2});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  // The next attempt, with the proofs the previous one would have sent.
  auto again = c_->LeaseTask(worker_);
  ASSERT_TRUE(again.ok() && again->has_task()) << again.status();
  const v1::Task& t2 = again->task();
  ASSERT_EQ(t2.attempt(), t.attempt() + 1);
  r = Send(t2, {Held(t, kP1, DigestsOf(p1_, true)), Held(t, kP2, DigestsOf(p2_, true))});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  // Its own proofs are taken.
  auto third = c_->LeaseTask(worker_);
  ASSERT_TRUE(third.ok() && third->has_task()) << third.status();
  const v1::Task& t3 = third->task();
  r = Send(t3, {Held(t3, kP1, DigestsOf(p1_, true)), Held(t3, kP2, DigestsOf(p2_, true))});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().points_held(), 2u);
}

// A refused marker after entries of another point: refused when staged,
// so that nothing of the attempt reaches the catalogue (review finding: at
// the merge, the writes of the points before it were already in).
TEST_F(IngestHeldTest, ARefusedMarkerLeavesNothingOfTheAttempt) {
  Check(Both());
  std::vector<v1::Observation> p1 = p1_;
  p1.push_back(Obs(kP1, "z", "zeta"));
  std::vector<v1::Observation> other = p2_;
  other[0] = Obs(kP2, "a", "alphb");
  v1::Task t = Lease();
  std::vector<v1::Observation> obs = p1;
  obs.push_back(Held(t, kP2, DigestsOf(other, true)));
  // One batch holding both: refused whole.
  auto r = Send(t, obs);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  // Two batches: the entries staged, the marker refused, the attempt
  // failed: still nothing merged.
  t = Lease();
  ASSERT_TRUE(c_->Observe(worker_, Batch(t, 1, Listed(), p1)).ok());
  auto a = c_->Observe(worker_, Batch(t, 2, {Held(t, kP2, DigestsOf(other, true))}));
  EXPECT_TRUE(absl::IsInvalidArgument(a.status())) << a.status();
  v1::CompleteTaskRequest failed = Done(t, 1);
  failed.set_error("the coordinator refused a batch");
  ASSERT_TRUE(c_->CompleteTask(worker_, failed).ok());
  storage::EntryRecord rec;
  storage::VerifyRecord ver;
  EXPECT_TRUE(absl::IsNotFound(c_->catalogue().GetEntry({"acme", "fs-nas", kP1}, "z", &rec, &ver)));
  // The next attempt, sent whole, finds z new.
  t = Lease();
  std::vector<v1::Observation> whole = p1;
  whole.insert(whole.end(), p2_.begin(), p2_.end());
  auto done = Send(t, whole);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->task().counts().added(), 1u);
}

// Markers are taken only where offers are made: not for a set whose tasks
// get none, and not for a point the catalogue no longer records.
TEST_F(IngestHeldTest, MarkersAreRefusedWhereNoOfferIsMade) {
  Check(Both());
  // The catalogue erased under its point records (an offboarding killed
  // between its steps): no offer, and the proofs of the old digests are
  // refused.
  ASSERT_TRUE(c_->catalogue().EraseBackupSet("acme", "fs-nas").ok());
  v1::Task t = Lease();
  EXPECT_EQ(t.held_points_size(), 0);
  auto r = Send(t, {Held(t, kP1, DigestsOf(p1_, true)), Held(t, kP2, DigestsOf(p2_, true))});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("offered none"), std::string::npos) << r.status();
}

TEST_F(IngestHeldTest, MarkersAreRefusedWhileTheCatalogueNeedsARehash) {
  Check(Both());
  // The contract's contentHash changes: the catalogue holds XXH3 digests.
  SetSpec set;
  set.layout = "dated-folders";
  v1::ApplyRequest req = SetRequest(set);
  req.mutable_backup_sets(0)->set_content_hash("sha256");
  Apply(req);
  v1::Task t = Lease();
  EXPECT_NE(t.rehash_from(), 0u);
  EXPECT_EQ(t.held_points_size(), 0);
  auto r = Send(t, {Held(t, kP1, DigestsOf(p1_, true)), Held(t, kP2, DigestsOf(p2_, true))});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_F(IngestHeldTest, AProblemClearsThePointsDigestsUntilItIsConsistentAgain) {
  Check(Both());
  clock_.Advance(kHour);
  std::vector<v1::Observation> rotten = p1_;
  rotten[1] = Obs(kP1, "b", "rotten");
  std::vector<v1::Observation> all = rotten;
  all.insert(all.end(), p2_.begin(), p2_.end());
  EXPECT_EQ(Check(all).counts().modified(), 1u);
  auto recs = Records();
  EXPECT_TRUE(recs[kP1].digests().listing().empty()) << "kP1 is not what its catalogue holds";
  EXPECT_FALSE(recs[kP2].digests().listing().empty());
  // Its digests are no longer offered: the worker must send it again.
  v1::Task t = Lease();
  ASSERT_EQ(t.held_points_size(), 1);
  EXPECT_EQ(t.held_points(0).time_ns(), kP2);
  // A marker for kP1 anyway (digests of the bad state) is refused.
  auto r = Send(t, {Held(t, kP1, DigestsOf(rotten, true)), Held(t, kP2, DigestsOf(p2_, true))});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_F(IngestHeldTest, AMissingOrUnrecordedEntryKeepsNoDigests) {
  // kP2 lists a file it cannot read (new, so not recorded): not consistent.
  std::vector<v1::Observation> p2 = p2_;
  p2.back().clear_digest();
  p2.back().clear_digest_algorithm();
  p2.back().set_unreadable(true);
  p2.back().set_error("Permission denied");
  std::vector<v1::Observation> all = p1_;
  all.insert(all.end(), p2.begin(), p2.end());
  Check(all);
  auto recs = Records();
  EXPECT_FALSE(recs[kP1].digests().listing().empty());
  EXPECT_TRUE(recs[kP2].digests().listing().empty());
  // kP1 loses an entry: missing, digests cleared.
  clock_.Advance(kHour);
  all.erase(all.begin());
  EXPECT_EQ(Check(all).counts().missing(), 1u);
  EXPECT_TRUE(Records()[kP1].digests().listing().empty());
}

TEST_F(IngestHeldTest, AMetadataOnlyListingKeepsTheContentDigestOfTheSameListing) {
  Check(Both());
  const std::string content = Records()[kP1].digests().content();
  ASSERT_FALSE(content.empty());
  clock_.Advance(kHour);
  // kP1 listed without reading (as the scheduler's metadata-only points).
  std::vector<v1::Observation> listed = p1_;
  for (auto& o : listed) {
    o.clear_digest();
    o.clear_digest_algorithm();
    o.set_not_read(true);
  }
  std::vector<v1::Observation> all = listed;
  all.insert(all.end(), p2_.begin(), p2_.end());
  EXPECT_EQ(Check(all).counts().not_read(), 3u);
  EXPECT_EQ(Records()[kP1].digests().content(), content);
  // Listed again with another mtime: a listing of its own, no content.
  clock_.Advance(kHour);
  for (auto& o : all) {
    if (o.restore_point_ns() == kP1 && o.path() == "a") o.set_mtime_ns(2);
  }
  Check(all);
  EXPECT_TRUE(Records()[kP1].digests().listing().empty()) << "a's mtime moved: modified";
}

TEST_F(IngestHeldTest, AHeldMarkerIsItsPointsOnlyObservation) {
  Check(Both());
  v1::Task t = Lease();
  // A marker, then an entry of the same point.
  std::vector<v1::Observation> obs = {Held(t, kP1, DigestsOf(p1_, true)), p1_[0]};
  auto a = c_->Observe(worker_, Batch(t, 1, Listed(), obs));
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(a.status())) << a.status();
  // Across batches: an entry, then the marker.
  a = c_->Observe(worker_, Batch(t, 1, Listed(), {p1_[0]}));
  ASSERT_TRUE(a.ok()) << a.status();
  a = c_->Observe(worker_, Batch(t, 2, {Held(t, kP1, DigestsOf(p1_, true))}));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("held marker"), std::string::npos) << a.status();
  // A marker carrying more than its point, or short digests.
  v1::Observation m = Held(t, kP2, DigestsOf(p2_, true));
  m.set_path("a");
  a = c_->Observe(worker_, Batch(t, 2, {m}));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("observations[0].held"), std::string::npos) << a.status();
  m = Held(t, kP2, DigestsOf(p2_, true));
  m.mutable_held()->set_listing("short");
  a = c_->Observe(worker_, Batch(t, 2, {m}));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("32 bytes"), std::string::npos) << a.status();
}

TEST_F(IngestHeldTest, NoHeldPointsForARestrictedTask) {
  Check(Both());
  // (A set whose catalogue needs a re-hash: MarkersAreRefusedWhile...)
  v1::Task t = Lease();
  ASSERT_GT(t.held_points_size(), 0);
  t.mutable_backup_set()->set_layout("dated-files");
  ASSERT_TRUE(AddHeldPoints(c_->catalogue().kv(), &t).ok());
  EXPECT_EQ(t.held_points_size(), 0);
  t.mutable_backup_set()->set_layout("dated-folders");
  t.mutable_backup_set()->set_format("restic");
  ASSERT_TRUE(AddHeldPoints(c_->catalogue().kv(), &t).ok());
  EXPECT_EQ(t.held_points_size(), 0);
}

}  // namespace
}  // namespace vigil::coordinator
