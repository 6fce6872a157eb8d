// How the coordinator's merge records what a check verified: a restore point
// read whole is stamped by one range record (catalogue.h), not one record per
// entry found unchanged, and what it found wrong still stands. In process,
// no gRPC (CoordinatorFixture).
//
// Thread safety: a gtest fixture, used on the test's thread.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/coordinator/coordinator.h"
#include "storage/key_codec.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kHour = 3'600'000'000'000;

class IngestVerifyTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    Apply(SetRequest());
    RegisterWorker();
  }
  storage::VerifyRecord VerifyOf(const std::string& path) {
    storage::EntryRecord rec;
    storage::VerifyRecord ver;
    storage::Status s = c_->catalogue().GetEntry({"acme", "fs-nas", 0}, path, &rec, &ver);
    EXPECT_TRUE(s.ok()) << path << ": " << s;
    return ver;
  }
  // Keys of the point's `verified` records (its range record included).
  size_t VerifiedKeys() {
    const std::string prefix = storage::RestorePointPrefix("acme", "fs-nas", 0);
    auto it = c_->catalogue().kv()->NewIterator(storage::Space::kVerified,
                                                {.upper_bound = storage::PrefixSuccessor(prefix)});
    size_t n = 0;
    for (it->Seek(prefix); it->Valid(); it->Next()) ++n;
    return n;
  }
};

TEST_F(IngestVerifyTest, APointReadWholeIsVerifiedByOneRecordAndAProblemStillStands) {
  std::vector<v1::Observation> obs = {Obs("a", "alpha"), Obs("b", "beta"), Obs("c/d", "delta")};
  EXPECT_EQ(CheckCounts(obs).added(), 3u);
  clock_.Advance(kHour);
  const int64_t second = clock_.NowNs();
  v1::DiffCounts again = CheckCounts(obs);
  EXPECT_EQ(again.unchanged(), 3u);
  EXPECT_EQ(VerifiedKeys(), 1u) << "one range record, nothing per unchanged entry";
  for (const char* p : {"a", "b", "c/d"}) {
    const storage::VerifyRecord v = VerifyOf(p);
    EXPECT_EQ(v.state, storage::EntryState::kOk) << p;
    EXPECT_EQ(v.last_verified_ns, second) << p << ": verified by the second check";
  }
  // b changed in place: damage, recorded with the evidence; it stands over
  // the range record the same check writes.
  clock_.Advance(kHour);
  const int64_t third = clock_.NowNs();
  obs[1] = Obs("b", "rotten");
  EXPECT_EQ(CheckCounts(obs).modified(), 1u);
  EXPECT_EQ(VerifyOf("b").state, storage::EntryState::kModified);
  EXPECT_EQ(VerifyOf("b").last_checked_ns, third);
  EXPECT_EQ(VerifyOf("a").state, storage::EntryState::kOk);
  EXPECT_EQ(VerifyOf("a").last_verified_ns, third);
  EXPECT_EQ(VerifiedKeys(), 2u) << "the range record and b's problem";
}

// A file read under a digest algorithm its record does not hold, with no
// digest of the record's algorithm beside it, is not compared (DiffKind
// kNotRead): the check must not claim it verified (it keeps its older
// verification time, checked now), while the files it did compare are
// verified now, and the point is not said verified whole.
TEST_F(IngestVerifyTest, AFileNotComparedIsNotClaimedVerified) {
  const int64_t first = clock_.NowNs();
  EXPECT_EQ(CheckCounts({Obs("a", "alpha"), Obs("b", "beta"), Obs("c", "gamma")}).added(), 3u);
  clock_.Advance(kHour);
  const int64_t second = clock_.NowNs();
  v1::DiffCounts c = CheckCounts(
      {Obs("a", "alpha"), Obs(0, "b", "beta", storage::HashAlgorithm::kSha256), Obs("c", "gamma")});
  EXPECT_EQ(c.unchanged(), 2u);
  EXPECT_EQ(c.not_read(), 1u);
  const storage::VerifyRecord b = VerifyOf("b");
  EXPECT_EQ(b.last_verified_ns, first) << "b's content was not compared at " << second;
  EXPECT_EQ(b.last_checked_ns, second);
  EXPECT_EQ(VerifyOf("a").last_verified_ns, second);
  EXPECT_EQ(VerifyOf("c").last_verified_ns, second);
}

// A file observed with no digest and neither listed without reading nor
// unreadable would be recorded with no digest and then compare equal to
// itself: verified on nothing. Refused when staged, naming the path.
TEST_F(IngestVerifyTest, AFileWithNoDigestAndNoReasonIsRefused) {
  v1::Task t = RunAndLease();
  v1::Observation bare = Obs("b", "beta");
  bare.clear_digest();
  bare.set_digest_algorithm(0);
  auto a = c_->Observe(worker_, Batch(t, 1, {Obs("a", "alpha"), bare}));
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(a.status())) << a.status();
  EXPECT_NE(a.status().message().find("'b'"), std::string::npos) << a.status();
  // Listed without reading, or unreadable: taken.
  v1::Observation listed = bare, unreadable = bare;
  listed.set_not_read(true);
  unreadable.set_unreadable(true);
  unreadable.set_error("Permission denied");
  auto ok = c_->Observe(worker_, Batch(t, 1, {Obs("a", "alpha"), listed}));
  EXPECT_TRUE(ok.ok()) << ok.status();
  ok = c_->Observe(worker_, Batch(t, 2, {[&] {
                                    v1::Observation u = unreadable;
                                    u.set_path("c");
                                    return u;
                                  }()}));
  EXPECT_TRUE(ok.ok()) << ok.status();
}

}  // namespace
}  // namespace vigil::coordinator
