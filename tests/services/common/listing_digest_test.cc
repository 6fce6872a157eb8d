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

// Directory digests (DirDigester): each directory beneath a point's root is
// reported once the stream leaves it, children first, with what is beneath it.
std::vector<DirDigester::Dir> DirsOf(const std::vector<v1::Observation>& l) {
  std::vector<DirDigester::Dir> out;
  DirDigester d([&](DirDigester::Dir&& dir) { out.push_back(std::move(dir)); });
  for (const auto& o : l) d.Add(o);
  d.Finish();
  return out;
}

const DirDigester::Dir* Find(const std::vector<DirDigester::Dir>& dirs, const std::string& path) {
  for (const auto& d : dirs) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

std::vector<v1::Observation> Tree() {
  return {File("a/b/y", "yy"), File("a/b/z", "zzz"), File("a/c", "c"), File("a/x", "x"),
          File("ab/y", "why"), File("d/e/f", "ef"),  File("g", "gg")};
}

TEST(DirDigestTest, EachDirectoryIsReportedAfterItsEntriesChildrenFirstWithWhatIsBeneathIt) {
  const auto dirs = DirsOf(Tree());
  std::vector<std::string> paths;
  for (const auto& d : dirs) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"a/b", "a", "ab", "d/e", "d"}));
  const DirDigester::Dir* a = Find(dirs, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->entries, 4u);
  EXPECT_EQ(a->files, 4u);
  EXPECT_EQ(a->bytes, 2u + 3u + 1u + 1u);
  EXPECT_EQ(Find(dirs, "a/b")->entries, 2u);
  EXPECT_EQ(Find(dirs, "ab")->entries, 1u) << "'ab' is not beneath 'a'";
  EXPECT_EQ(Find(dirs, "d")->entries, 1u);
  for (const auto& d : dirs) {
    EXPECT_EQ(d.digests.listing().size(), 32u) << d.path;
    EXPECT_EQ(d.digests.content().size(), 32u) << d.path;
  }
  // The same stream again (Finish starts again empty): the same digests.
  std::vector<DirDigester::Dir> twice;
  DirDigester d([&](DirDigester::Dir&& dir) { twice.push_back(std::move(dir)); });
  for (int round = 0; round < 2; ++round) {
    for (const auto& o : Tree()) d.Add(o);
    d.Finish();
  }
  ASSERT_EQ(twice.size(), 2 * dirs.size());
  for (size_t i = 0; i < twice.size(); ++i) {
    EXPECT_EQ(twice[i].path, dirs[i % dirs.size()].path);
    EXPECT_EQ(twice[i].digests.listing(), dirs[i % dirs.size()].digests.listing());
    EXPECT_EQ(twice[i].digests.content(), dirs[i % dirs.size()].digests.content());
  }
}

// A directory added whole (AddDir, a held directory the coordinator shares
// without reading it) gives the digests and counts its entries give one by
// one, for the point and every directory above it.
TEST(DirDigestTest, ADirectoryAddedWholeDigestsAsItsEntries) {
  const auto dirs = DirsOf(Tree());
  for (const std::string whole : {"a/b", "a", "d/e", "ab"}) {
    std::vector<DirDigester::Dir> got;
    ListingDigester d([&](DirDigester::Dir&& dir) { got.push_back(std::move(dir)); });
    bool added = false;
    for (const auto& o : Tree()) {
      if (!o.path().starts_with(whole + "/")) {
        d.Add(o);
      } else if (!added) {
        d.AddDir(*Find(dirs, whole));
        added = true;
      }
    }
    EXPECT_EQ(d.entries(), Tree().size()) << whole;
    const v1::ListingDigests point = d.Finish(true);
    ListingDigester all;
    for (const auto& o : Tree()) all.Add(o);
    const v1::ListingDigests want = all.Finish(true);
    EXPECT_EQ(point.listing(), want.listing()) << whole;
    EXPECT_EQ(point.content(), want.content()) << whole;
    // Every directory but it and those beneath it, each once.
    std::vector<std::string> want_paths, got_paths;
    for (const auto& w : dirs) {
      if (w.path != whole && !w.path.starts_with(whole + "/")) want_paths.push_back(w.path);
    }
    for (const auto& g : got) got_paths.push_back(g.path);
    EXPECT_EQ(got_paths, want_paths) << whole;
    for (const auto& g : got) {
      const DirDigester::Dir* w = Find(dirs, g.path);
      ASSERT_NE(w, nullptr) << g.path;
      EXPECT_EQ(g.digests.content(), w->digests.content()) << g.path;
      EXPECT_EQ(g.entries, w->entries) << g.path;
      EXPECT_EQ(g.files, w->files) << g.path;
      EXPECT_EQ(g.bytes, w->bytes) << g.path;
    }
  }
}

// A directory's offer and proof bind its path and counts: the same digests
// with another count give other ones.
TEST(DirDigestTest, AnOfferBindsTheDirectorysCounts) {
  const DirDigester::Dir a = *Find(DirsOf(Tree()), "a");
  for (int field = 0; field < 4; ++field) {
    DirDigester::Dir b = a;
    if (field == 0) ++b.entries;
    if (field == 1) ++b.files;
    if (field == 2) ++b.bytes;
    if (field == 3) b.path = "A";
    EXPECT_NE(HeldDirOffer(a, 1, 1).listing(), HeldDirOffer(b, 1, 1).listing()) << field;
    EXPECT_NE(HeldDirProof(a, 5, 1, 1).content(), HeldDirProof(b, 5, 1, 1).content()) << field;
  }
  EXPECT_EQ(HeldDirOffer(a, 1, 1).listing(), HeldDirOffer(a, 1, 1).listing());
}

TEST(DirDigestTest, AChangeMovesTheDigestsOfItsDirectoryAndItsAncestorsOnly) {
  const auto before = DirsOf(Tree());
  auto changed_tree = Tree();
  changed_tree[1] = File("a/b/z", "ZZZ");  // same size and mtime, other content
  const auto after = DirsOf(changed_tree);
  for (const std::string p : {"a/b", "a"}) {
    EXPECT_EQ(Find(after, p)->digests.listing(), Find(before, p)->digests.listing()) << p;
    EXPECT_NE(Find(after, p)->digests.content(), Find(before, p)->digests.content()) << p;
  }
  for (const std::string p : {"ab", "d", "d/e"}) {
    EXPECT_EQ(Find(after, p)->digests.listing(), Find(before, p)->digests.listing()) << p;
    EXPECT_EQ(Find(after, p)->digests.content(), Find(before, p)->digests.content()) << p;
  }
  // A file moved to another directory, its size or mtime changed, an entry
  // added: the listing digests move.
  const auto m =
      DirsOf({File("a/b/x", "x"), File("a/b/y", "yy"), File("a/b/z", "zzz"), File("a/c", "c"),
              File("ab/y", "why"), File("d/e/f", "ef"), File("g", "gg")});
  EXPECT_NE(Find(m, "a/b")->digests.listing(), Find(before, "a/b")->digests.listing());
  EXPECT_NE(Find(m, "a")->digests.listing(), Find(before, "a")->digests.listing());
  auto grown = Tree();
  grown.insert(grown.begin() + 3, File("a/w", ""));
  EXPECT_NE(Find(DirsOf(grown), "a")->digests.listing(), Find(before, "a")->digests.listing());
  EXPECT_EQ(Find(DirsOf(grown), "a/b")->digests.listing(), Find(before, "a/b")->digests.listing());
  auto touched = Tree();
  touched[5].set_mtime_ns(touched[5].mtime_ns() + 1);
  EXPECT_NE(Find(DirsOf(touched), "d/e")->digests.listing(),
            Find(before, "d/e")->digests.listing());
  EXPECT_NE(Find(DirsOf(touched), "d")->digests.listing(), Find(before, "d")->digests.listing());
}

TEST(DirDigestTest, TheSameEntriesBeneathTwoDirectoriesGiveTheSameDigests) {
  // Names are relative to the directory: a subtree is known by what is in
  // it, wherever it is (and a point's directory by the same in another
  // point).
  const auto dirs = DirsOf({File("p/q/r", "1"), File("p/s", "2"), File("t/q/r", "1"),
                            File("t/s", "2"), File("u/q/r", "1"), File("u/s", "22")});
  EXPECT_EQ(Find(dirs, "p")->digests.listing(), Find(dirs, "t")->digests.listing());
  EXPECT_EQ(Find(dirs, "p")->digests.content(), Find(dirs, "t")->digests.content());
  EXPECT_NE(Find(dirs, "p")->digests.listing(), Find(dirs, "u")->digests.listing());
  EXPECT_EQ(Find(dirs, "p/q")->digests.content(), Find(dirs, "u/q")->digests.content());
  // A file and a directory of the same name do not encode alike.
  const auto file = DirsOf({File("v/q", "x")});
  const auto dir = DirsOf({File("v/q/r", "x")});
  EXPECT_NE(Find(file, "v")->digests.listing(), Find(dir, "v")->digests.listing());
}

}  // namespace
}  // namespace vigil
