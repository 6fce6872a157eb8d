// Classify and the streaming merge-join diff against a RocksDB catalogue.
#include "storage/diff.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::TempDir;

constexpr HashAlgorithm kAlg = HashAlgorithm::kXxh3_128;

EntryRecord RecordOf(std::string_view content, int64_t mtime = 1000) {
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = content.size();
  r.mtime_ns = mtime;
  r.digest = HashBytes(kAlg, content);
  r.first_seen_ns = 1;
  return r;
}

Observation Observe(std::string path, std::string_view content, int64_t mtime = 1000) {
  Observation o;
  o.path = std::move(path);
  o.type = EntryType::kFile;
  o.size = content.size();
  o.mtime_ns = mtime;
  o.digest = HashBytes(kAlg, content);
  return o;
}

std::string Big(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// --- Classify -----------------------------------------------------------------

TEST(Classify, NotReadComparesMetadataOnly) {
  Observation o = Observe("f", "abc");
  o.digest = Digest();
  o.not_read = true;
  // Same size and mtime: not read, not a problem, whatever the bytes are.
  EXPECT_EQ(Classify(RecordOf("xyz"), o, {}), DiffKind::kNotRead);
  // A size or mtime that moved cannot be taken for an update unread.
  EXPECT_EQ(Classify(RecordOf("abcd"), o, {}), DiffKind::kModified);
  EXPECT_EQ(Classify(RecordOf("abc", 999), o, {}), DiffKind::kModified);
  EXPECT_EQ(Classify(RecordOf("abc", 999), o, {.mutable_set = true}), DiffKind::kModified);
  // Unreadable wins.
  o.unreadable = true;
  EXPECT_EQ(Classify(RecordOf("abc"), o, {}), DiffKind::kUnreadable);
}

// A record of XXH3-128 against an observation of SHA-256: the digests are
// never compared with each other. Same content read with both algorithms:
// compared through the record's (unchanged, or modified if it differs);
// with only the other algorithm: judged by metadata (kNotRead), never
// modified or unchanged by digest.
TEST(Classify, DigestsOfTwoAlgorithmsAreNeverCompared) {
  auto sha = [](std::string_view content, std::string_view previous) {
    Observation o = Observe("f", content);
    o.digest = HashBytes(HashAlgorithm::kSha256, content);
    if (!previous.empty()) o.previous_digest = HashBytes(kAlg, previous);
    return o;
  };
  EXPECT_EQ(Classify(RecordOf("abc"), sha("abc", ""), {}), DiffKind::kNotRead);
  EXPECT_EQ(Classify(RecordOf("abc"), sha("abd", ""), {}), DiffKind::kNotRead);  // can't tell
  EXPECT_EQ(Classify(RecordOf("abc"), sha("abc", "abc"), {}), DiffKind::kUnchanged);
  EXPECT_EQ(Classify(RecordOf("abc"), sha("abd", "abd"), {}), DiffKind::kModified);
  // Another size is another content whatever the algorithms.
  EXPECT_EQ(Classify(RecordOf("abc"), sha("abcd", ""), {}), DiffKind::kModified);
  // A previous digest of a third algorithm does not help.
  Observation third = sha("abc", "");
  third.previous_digest = HashBytes(HashAlgorithm::kMd5, "abc");
  EXPECT_EQ(Classify(RecordOf("abc"), third, {}), DiffKind::kNotRead);
  // Mutable set: a new mtime is an update (recorded with the new digest).
  Observation touched = sha("abd", "");
  touched.mtime_ns = 2000;
  EXPECT_EQ(Classify(RecordOf("abc"), touched, {.mutable_set = true}), DiffKind::kUpdated);
}

TEST(Classify, UnchangedContent) {
  EXPECT_EQ(Classify(RecordOf("abc"), Observe("f", "abc"), {}), DiffKind::kUnchanged);
}

TEST(Classify, OneFlippedByteInALargeFileIsModified) {
  std::string data = Big(8 << 20);
  EntryRecord rec = RecordOf(data);
  data[data.size() / 2] ^= 0x01;
  EXPECT_EQ(Classify(rec, Observe("f", data), {}), DiffKind::kModified);
  data[data.size() / 2] ^= 0x01;
  EXPECT_EQ(Classify(rec, Observe("f", data), {}), DiffKind::kUnchanged);
}

TEST(Classify, TruncationIsModified) {
  std::string data = Big(1 << 20);
  EntryRecord rec = RecordOf(data);
  EXPECT_EQ(Classify(rec, Observe("f", data.substr(0, data.size() - 1)), {}), DiffKind::kModified);
  EXPECT_EQ(Classify(rec, Observe("f", ""), {}), DiffKind::kModified);
}

TEST(Classify, SizeMismatchWithTheSameDigestIsModified) {
  // The size is part of the comparison, not only the digest.
  EntryRecord rec = RecordOf("abc");
  Observation o = Observe("f", "abc");
  o.size = 4;
  EXPECT_EQ(Classify(rec, o, {}), DiffKind::kModified);
}

TEST(Classify, EmptyFiles) {
  EXPECT_EQ(Classify(RecordOf(""), Observe("f", ""), {}), DiffKind::kUnchanged);
  EXPECT_EQ(Classify(RecordOf(""), Observe("f", "x"), {}), DiffKind::kModified);
  EXPECT_EQ(Classify(RecordOf("x"), Observe("f", ""), {}), DiffKind::kModified);
}

TEST(Classify, MtimeOnlyChangeIsUnchangedInBothModes) {
  EXPECT_EQ(Classify(RecordOf("abc", 1000), Observe("f", "abc", 2000), {}), DiffKind::kUnchanged);
  EXPECT_EQ(Classify(RecordOf("abc", 1000), Observe("f", "abc", 2000), {.mutable_set = true}),
            DiffKind::kUnchanged);
}

TEST(Classify, ImmutableContentChangeWithNewMtimeIsStillModified) {
  EXPECT_EQ(Classify(RecordOf("abc", 1000), Observe("f", "abd", 2000), {}), DiffKind::kModified);
}

TEST(Classify, MutableNewMtimeIsUpdated) {
  DiffOptions m{.mutable_set = true};
  EXPECT_EQ(Classify(RecordOf("abc", 1000), Observe("f", "abd", 2000), m), DiffKind::kUpdated);
  EXPECT_EQ(Classify(RecordOf("abc", 1000), Observe("f", "longer", 999), m), DiffKind::kUpdated);
}

TEST(Classify, MutableSameSizeAndMtimeButDifferentContentIsModified) {
  DiffOptions m{.mutable_set = true};
  EXPECT_EQ(Classify(RecordOf("abc", 1000), Observe("f", "abd", 1000), m), DiffKind::kModified);
  std::string data = Big(8 << 20);
  EntryRecord rec = RecordOf(data, 77);
  data[12345] ^= 0x80;
  EXPECT_EQ(Classify(rec, Observe("f", data, 77), m), DiffKind::kModified);
}

TEST(Classify, SymlinksCompareTargets) {
  EntryRecord rec;
  rec.type = EntryType::kSymlink;
  rec.link_target = "a/target";
  rec.size = rec.link_target.size();
  rec.mtime_ns = 5;
  Observation o;
  o.path = "l";
  o.type = EntryType::kSymlink;
  o.link_target = "a/target";
  o.size = o.link_target.size();
  o.mtime_ns = 6;
  EXPECT_EQ(Classify(rec, o, {}), DiffKind::kUnchanged);
  o.link_target = "a/other!";
  EXPECT_EQ(Classify(rec, o, {}), DiffKind::kModified);
}

TEST(Classify, TypeChangesAreModifiedAndSpecialFilesUnchanged) {
  EntryRecord other;
  other.type = EntryType::kOther;
  Observation fifo;
  fifo.path = "p";
  fifo.type = EntryType::kOther;
  fifo.mtime_ns = 99;
  EXPECT_EQ(Classify(other, fifo, {}), DiffKind::kUnchanged);
  EXPECT_EQ(Classify(RecordOf(""), fifo, {}), DiffKind::kModified);
  Observation file = Observe("p", "");
  EXPECT_EQ(Classify(other, file, {}), DiffKind::kModified);
}

TEST(Classify, UnreadableWins) {
  Observation o = Observe("f", "abc");
  o.unreadable = true;
  o.error = "EIO";
  EXPECT_EQ(Classify(RecordOf("abc"), o, {}), DiffKind::kUnreadable);
}

TEST(Classify, KindNames) {
  EXPECT_EQ(DiffKindName(DiffKind::kUnchanged), "unchanged");
  EXPECT_EQ(DiffKindName(DiffKind::kModified), "modified");
  EXPECT_EQ(DiffKindName(DiffKind::kUpdated), "updated");
  EXPECT_EQ(DiffKindName(DiffKind::kMissing), "missing");
  EXPECT_EQ(DiffKindName(DiffKind::kAdded), "added");
  EXPECT_EQ(DiffKindName(DiffKind::kUnreadable), "unreadable");
  EXPECT_EQ(DiffKindName(DiffKind::kNotRead), "not_read");
}

// --- DiffRestorePoint ---------------------------------------------------------

struct Event {
  DiffKind kind;
  std::string path;
  bool has_recorded;
  bool has_observed;
  friend bool operator==(const Event&, const Event&) = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << DiffKindName(e.kind) << ":" << e.path << (e.has_recorded ? " R" : "")
            << (e.has_observed ? " O" : "");
}

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }

  // Records `files` (path -> content) as the catalogue state of kScope.
  void Record(const std::map<std::string, std::string>& files, int64_t mtime = 1000) {
    Catalogue::Writer w(cat_.get(), scope_);
    for (const auto& [p, c] : files) ASSERT_TRUE(w.PutEntry(p, RecordOf(c, mtime)).ok()) << p;
    ASSERT_TRUE(w.Commit(false).ok());
  }

  // Diffs a list of observations (in the given order) against the catalogue.
  Status Diff(std::vector<Observation> obs, std::vector<Event>* events, DiffOptions options = {},
              DiffCounts* counts = nullptr) {
    size_t i = 0;
    ObservationSource src = [&](Observation* o) {
      if (i >= obs.size()) return false;
      *o = obs[i++];
      return true;
    };
    return DiffRestorePoint(
        *cat_, scope_, src, options,
        [&](const DiffEvent& e) {
          events->push_back(
              {e.kind, std::string(e.path), e.recorded != nullptr, e.observed != nullptr});
          if (e.recorded != nullptr && e.observed != nullptr) {
            EXPECT_EQ(e.observed->path, e.path);
          }
          return absl::OkStatus();
        },
        counts);
  }

  // Observations of `files` in key order (std::map sorts by bytes, which is
  // the key order only when no name is a prefix of another followed by a byte
  // below '/'; the helpers' callers keep to that).
  static std::vector<Observation> ObserveAll(const std::map<std::string, std::string>& files,
                                             int64_t mtime = 1000) {
    std::vector<Observation> out;
    for (const auto& [p, c] : files) out.push_back(Observe(p, c, mtime));
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Catalogue> cat_;
  Scope scope_{"t", "b", 42};
};

TEST_F(DiffTest, UnchangedTreeReportsOnlyUnchanged) {
  std::map<std::string, std::string> files = {
      {"a/1", "one"}, {"a/2", "two"}, {"b", "bee"}, {"c/d/e", ""}};
  Record(files);
  std::vector<Event> ev;
  DiffCounts counts;
  ASSERT_TRUE(Diff(ObserveAll(files), &ev, {}, &counts).ok());
  ASSERT_EQ(ev.size(), 4u);
  for (const auto& e : ev) {
    EXPECT_EQ(e.kind, DiffKind::kUnchanged) << e;
    EXPECT_TRUE(e.has_recorded && e.has_observed) << e;
  }
  EXPECT_EQ(counts.unchanged, 4u);
  EXPECT_EQ(counts.modified + counts.missing + counts.added + counts.updated, 0u);
}

TEST_F(DiffTest, FlippedByteInALargeFileIsModified) {
  std::string big = Big(8 << 20);
  Record({{"big.bin", big}, {"small", "s"}});
  big[big.size() / 2] ^= 0x20;
  std::vector<Event> ev;
  DiffCounts counts;
  ASSERT_TRUE(Diff({Observe("big.bin", big), Observe("small", "s")}, &ev, {}, &counts).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kModified, "big.bin", true, true},
                                    {DiffKind::kUnchanged, "small", true, true}}));
  EXPECT_EQ(counts.modified, 1u);
  EXPECT_EQ(counts.unchanged, 1u);
}

TEST_F(DiffTest, TruncationDeletionAdditionAndRename) {
  Record({{"keep", "k"}, {"old-name", "payload"}, {"trunc", "0123456789"}, {"gone", "g"}});
  std::vector<Event> ev;
  DiffCounts counts;
  ASSERT_TRUE(Diff({Observe("keep", "k"), Observe("new", "fresh"), Observe("new-name", "payload"),
                    Observe("trunc", "01234")},
                   &ev, {}, &counts)
                  .ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kMissing, "gone", true, false},
                                    {DiffKind::kUnchanged, "keep", true, true},
                                    {DiffKind::kAdded, "new", false, true},
                                    {DiffKind::kAdded, "new-name", false, true},
                                    {DiffKind::kMissing, "old-name", true, false},
                                    {DiffKind::kModified, "trunc", true, true}}));
  EXPECT_EQ(counts.missing, 2u);
  EXPECT_EQ(counts.added, 2u);
  EXPECT_EQ(counts.modified, 1u);
  EXPECT_EQ(counts.unchanged, 1u);
}

TEST_F(DiffTest, EmptyCatalogueMeansEverythingAdded) {
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({Observe("a", ""), Observe("a/b", "x"), Observe("a.txt", "y")}, &ev).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kAdded, "a", false, true},
                                    {DiffKind::kAdded, "a/b", false, true},
                                    {DiffKind::kAdded, "a.txt", false, true}}));
}

TEST_F(DiffTest, EmptyObservationsMeanEverythingMissing) {
  Record({{"x", "1"}, {"y/z", "2"}});
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({}, &ev).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kMissing, "x", true, false},
                                    {DiffKind::kMissing, "y/z", true, false}}));
}

TEST_F(DiffTest, BothEmpty) {
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({}, &ev).ok());
  EXPECT_TRUE(ev.empty());
}

TEST_F(DiffTest, EmptyFiles) {
  Record({{"e1", ""}, {"e2", ""}, {"e3", "not empty"}});
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({Observe("e1", ""), Observe("e2", "now data"), Observe("e3", "")}, &ev).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kUnchanged, "e1", true, true},
                                    {DiffKind::kModified, "e2", true, true},
                                    {DiffKind::kModified, "e3", true, true}}));
}

TEST_F(DiffTest, AwkwardNames) {
  const std::string space = "with space", newline = "new\nline", bad_utf8 = "bad\xff\xfe\xc3(";
  const std::string nested = "dir with space/\x80\x81/tab\there";
  Record({{space, "1"}, {newline, "2"}, {bad_utf8, "3"}, {nested, "4"}});
  // Key order: "bad\xff..." < "dir with space/..." < "new\nline" < "with space".
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({Observe(bad_utf8, "3"), Observe(nested, "changed"), Observe(newline, "2"),
                    Observe("with spac", "added")},
                   &ev)
                  .ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kUnchanged, bad_utf8, true, true},
                                    {DiffKind::kModified, nested, true, true},
                                    {DiffKind::kUnchanged, newline, true, true},
                                    {DiffKind::kAdded, "with spac", false, true},
                                    {DiffKind::kMissing, space, true, false}}));
}

TEST_F(DiffTest, TreeOrderPutsChildrenBeforeLongerSiblings) {
  Record({{"a/b", "1"}, {"a.txt", "2"}});
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({Observe("a/b", "1"), Observe("a.txt", "2")}, &ev).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kUnchanged, "a/b", true, true},
                                    {DiffKind::kUnchanged, "a.txt", true, true}}));
  // Byte order ("a.txt" < "a/b") is not key order: rejected.
  ev.clear();
  Status s = Diff({Observe("a.txt", "2"), Observe("a/b", "1")}, &ev);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

TEST_F(DiffTest, MtimeOnlyChangeIsUnchanged) {
  Record({{"f", "same"}}, 1000);
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({Observe("f", "same", 999999)}, &ev).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kUnchanged, "f", true, true}}));
}

TEST_F(DiffTest, MutableSemantics) {
  Record({{"mirror/updated", "v1"}, {"mirror/rotted", "v1"}, {"mirror/same", "v1"}}, 1000);
  std::vector<Event> ev;
  DiffCounts counts;
  ASSERT_TRUE(Diff({Observe("mirror/rotted", "v2", 1000), Observe("mirror/same", "v1", 1000),
                    Observe("mirror/updated", "v2 longer", 2000)},
                   &ev, {.mutable_set = true}, &counts)
                  .ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kModified, "mirror/rotted", true, true},
                                    {DiffKind::kUnchanged, "mirror/same", true, true},
                                    {DiffKind::kUpdated, "mirror/updated", true, true}}));
  EXPECT_EQ(counts.updated, 1u);
  EXPECT_EQ(counts.modified, 1u);
  // The same observations against an immutable restore point: both modified.
  ev.clear();
  ASSERT_TRUE(Diff({Observe("mirror/rotted", "v2", 1000), Observe("mirror/same", "v1", 1000),
                    Observe("mirror/updated", "v2 longer", 2000)},
                   &ev)
                  .ok());
  EXPECT_EQ(ev[2].kind, DiffKind::kModified);
}

TEST_F(DiffTest, OutOfOrderObservationsAreRejected) {
  Record({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  std::vector<Event> ev;
  Status s = Diff({Observe("a", "1"), Observe("c", "3"), Observe("b", "2")}, &ev);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  ev.clear();
  s = Diff({Observe("a", "1"), Observe("a", "1")}, &ev);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << "duplicates: " << s;
  ev.clear();
  // Out of order after the catalogue is exhausted (only additions left).
  s = Diff(
      {Observe("a", "1"), Observe("b", "2"), Observe("c", "3"), Observe("z", ""), Observe("y", "")},
      &ev);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

TEST_F(DiffTest, SinkErrorStopsTheDiff) {
  Record({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  int calls = 0;
  std::vector<Observation> obs = ObserveAll({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  size_t i = 0;
  Status s = DiffRestorePoint(
      *cat_, scope_,
      [&](Observation* o) {
        if (i >= obs.size()) return false;
        *o = obs[i++];
        return true;
      },
      {},
      [&](const DiffEvent&) {
        return ++calls == 2 ? absl::CancelledError("stop") : absl::OkStatus();
      });
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(calls, 2);
}

TEST_F(DiffTest, OtherRestorePointsAreInvisible) {
  Record({{"f", "1"}});
  {
    Catalogue::Writer w(cat_.get(), {"t", "b", 43});
    ASSERT_TRUE(w.PutEntry("g", RecordOf("x")).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  std::vector<Event> ev;
  ASSERT_TRUE(Diff({Observe("f", "1")}, &ev).ok());
  EXPECT_EQ(ev, (std::vector<Event>{{DiffKind::kUnchanged, "f", true, true}}));
}

TEST_F(DiffTest, LargeInterleavedDiffIsAMergeJoin) {
  // 2,000 recorded, every third missing, every fifth modified, and new names
  // interleaved between the recorded ones.
  std::map<std::string, std::string> recorded;
  for (int i = 0; i < 2000; ++i) recorded[std::to_string(100000 + i)] = std::to_string(i);
  Record(recorded);
  std::vector<Observation> obs;
  uint64_t want_missing = 0, want_modified = 0, want_added = 0, want_unchanged = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string p = std::to_string(100000 + i);
    if (i % 3 == 0) {
      ++want_missing;
    } else if (i % 5 == 0) {
      obs.push_back(Observe(p, "changed"));
      ++want_modified;
    } else {
      obs.push_back(Observe(p, std::to_string(i)));
      ++want_unchanged;
    }
    if (i % 7 == 0) {
      obs.push_back(Observe(p + "x", "new"));
      ++want_added;
    }
  }
  std::vector<Event> ev;
  DiffCounts counts;
  ASSERT_TRUE(Diff(obs, &ev, {}, &counts).ok());
  EXPECT_EQ(counts.missing, want_missing);
  EXPECT_EQ(counts.modified, want_modified);
  EXPECT_EQ(counts.added, want_added);
  EXPECT_EQ(counts.unchanged, want_unchanged);
  EXPECT_EQ(ev.size(), want_missing + want_modified + want_added + want_unchanged);
  for (size_t i = 1; i < ev.size(); ++i) {
    ASSERT_LT(ComparePathOrder(ev[i - 1].path, ev[i].path), 0) << ev[i - 1] << " " << ev[i];
  }
}

}  // namespace
}  // namespace vigil::storage
