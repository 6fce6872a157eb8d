// The listing digests a worker and the coordinator compare to agree that a
// restore point is unchanged (services/common/listing_digest.h): every field
// they cover changes them, what they do not cover does not, and no two
// listings encode alike.
#include "services/common/listing_digest.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "storage/hash.h"

namespace vigil {
namespace {

v1::Observation File(const std::string& path, const std::string& content) {
  v1::Observation o;
  o.set_path(path);
  o.set_type(v1::ENTRY_TYPE_FILE);
  o.set_size(content.size());
  o.set_mtime_ns(1'700'000'000'000'000'000);
  o.set_restore_point_ns(42);
  storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kXxh3_128, content);
  o.set_digest_algorithm(static_cast<uint32_t>(d.algorithm()));
  o.set_digest(std::string(d.view()));
  return o;
}

std::vector<v1::Observation> Listing() {
  std::vector<v1::Observation> l = {File("a", "alpha"), File("b/c", "gamma")};
  v1::Observation link;
  link.set_path("l");
  link.set_type(v1::ENTRY_TYPE_SYMLINK);
  link.set_link_target("a");
  link.set_size(1);
  l.push_back(link);
  return l;
}

v1::ListingDigests Of(const std::vector<v1::Observation>& l) {
  ListingDigester d;
  for (const auto& o : l) d.Add(o);
  return d.Finish(true);
}

TEST(ListingDigestTest, TheSameListingGivesTheSameDigestsAndFinishStartsAgain) {
  const v1::ListingDigests a = Of(Listing());
  EXPECT_EQ(a.listing().size(), 32u);
  EXPECT_EQ(a.content().size(), 32u);
  EXPECT_NE(a.listing(), a.content());
  ListingDigester d;
  for (int round = 0; round < 2; ++round) {
    for (const auto& o : Listing()) d.Add(o);
    EXPECT_EQ(d.entries(), 3u);
    const v1::ListingDigests b = d.Finish(true);
    EXPECT_EQ(b.listing(), a.listing()) << "round " << round;
    EXPECT_EQ(b.content(), a.content()) << "round " << round;
  }
  for (const auto& o : Listing()) d.Add(o);
  const v1::ListingDigests no_content = d.Finish(false);
  EXPECT_EQ(no_content.listing(), a.listing());
  EXPECT_TRUE(no_content.content().empty());
}

TEST(ListingDigestTest, EveryListedFieldChangesBoth) {
  const v1::ListingDigests base = Of(Listing());
  const std::vector<std::pair<const char*, std::function<void(v1::Observation&)>>> edits = {
      {"path", [](v1::Observation& o) { o.set_path("b/d"); }},
      {"type", [](v1::Observation& o) { o.set_type(v1::ENTRY_TYPE_OTHER); }},
      {"size", [](v1::Observation& o) { o.set_size(o.size() + 1); }},
      {"mtime", [](v1::Observation& o) { o.set_mtime_ns(o.mtime_ns() + 1); }},
      {"link target", [](v1::Observation& o) { o.set_link_target("x"); }},
      {"unreadable", [](v1::Observation& o) { o.set_unreadable(true); }},
  };
  for (const auto& [what, edit] : edits) {
    auto l = Listing();
    edit(l[1]);
    const v1::ListingDigests d = Of(l);
    EXPECT_NE(d.listing(), base.listing()) << what;
    EXPECT_NE(d.content(), base.content()) << what;
  }
}

TEST(ListingDigestTest, TheContentDigestAloneSeesTheFilesDigests) {
  const v1::ListingDigests base = Of(Listing());
  auto l = Listing();
  l[0] = File("a", "alphb");  // same size and mtime, other bytes
  v1::ListingDigests d = Of(l);
  EXPECT_EQ(d.listing(), base.listing());
  EXPECT_NE(d.content(), base.content());
  // The algorithm counts too (the same bytes under SHA-256).
  l = Listing();
  storage::Digest sha = storage::HashBytes(storage::HashAlgorithm::kSha256, "alpha");
  l[0].set_digest_algorithm(static_cast<uint32_t>(sha.algorithm()));
  l[0].set_digest(std::string(sha.view()));
  EXPECT_NE(Of(l).content(), base.content());
  // What neither covers: the point, the not_read flag, the error text.
  l = Listing();
  for (auto& o : l) {
    o.set_restore_point_ns(7);
    o.set_error("ignored");
  }
  d = Of(l);
  EXPECT_EQ(d.listing(), base.listing());
  EXPECT_EQ(d.content(), base.content());
  // A listing without reading (not_read, no digest) has the same listing
  // digest as the read one.
  l = Listing();
  for (auto& o : l) {
    if (o.type() != v1::ENTRY_TYPE_FILE) continue;
    o.set_not_read(true);
    o.clear_digest();
    o.clear_digest_algorithm();
  }
  EXPECT_EQ(Of(l).listing(), base.listing());
}

TEST(ListingDigestTest, OrderSplitsAndPrefixesAreDistinct) {
  const v1::ListingDigests base = Of(Listing());
  auto l = Listing();
  std::swap(l[0], l[1]);
  EXPECT_NE(Of(l).listing(), base.listing()) << "order";
  l = Listing();
  l.pop_back();
  EXPECT_NE(Of(l).listing(), base.listing()) << "a prefix of the listing";
  EXPECT_NE(Of({}).listing(), Of(l).listing());
  // Bytes moved between two fields of one entry, or between two entries.
  v1::Observation x = File("ab", "c"), y = File("a", "bc");
  x.set_size(0);
  y.set_size(0);
  x.set_link_target("");
  y.set_link_target("b");
  EXPECT_NE(Of({x}).listing(), Of({y}).listing());
  EXPECT_NE(Of({File("a", "x"), File("b", "y")}).listing(),
            Of({File("a", "x"), File("b", "y"), File("c", "z")}).listing());
}

TEST(ListingDigestTest, OffersAndProofsAreBoundToTheAttemptAndHideTheDigest) {
  ListingDigester d;
  for (const auto& o : Listing()) d.Add(o);
  const v1::ListingDigests digests = d.Finish(true);
  const v1::ListingDigests offer = HeldOffer(digests, 7, 1);
  const v1::ListingDigests proof = HeldProof(digests, 7, 1);
  for (const std::string* x :
       {&offer.listing(), &offer.content(), &proof.listing(), &proof.content()}) {
    EXPECT_EQ(x->size(), 32u);
    EXPECT_NE(*x, digests.listing());
    EXPECT_NE(*x, digests.content());
  }
  EXPECT_NE(offer.listing(), proof.listing());
  EXPECT_NE(offer.content(), proof.content());
  EXPECT_EQ(HeldProof(digests, 7, 1).listing(), proof.listing()) << "deterministic";
  EXPECT_NE(HeldProof(digests, 7, 2).listing(), proof.listing()) << "another attempt";
  EXPECT_NE(HeldProof(digests, 8, 1).listing(), proof.listing()) << "another task";
  // An absent content digest stays absent.
  v1::ListingDigests listing_only = digests;
  listing_only.clear_content();
  EXPECT_TRUE(HeldOffer(listing_only, 7, 1).content().empty());
  EXPECT_EQ(HeldOffer(listing_only, 7, 1).listing(), offer.listing());
}

}  // namespace
}  // namespace vigil
