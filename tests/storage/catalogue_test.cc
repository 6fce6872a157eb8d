// The catalogue on a real RocksDB in a temporary directory: writer round
// trips, scan order, the hash index, scope isolation and the format version.
#include "storage/catalogue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/entry.h"
#include "storage/hash.h"
#include "storage/key_codec.h"
#include "storage/versions.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::ReferencePathOrder;
using testing::TempDir;
using testing::ToHex;

EntryRecord FileRec(std::string_view content, int64_t first_seen = 1000,
                    HashAlgorithm alg = HashAlgorithm::kXxh3_128) {
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = content.size();
  r.mtime_ns = 500;
  r.digest = HashBytes(alg, content);
  r.first_seen_ns = first_seen;
  return r;
}

class CatalogueTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    cat_.reset();
    auto c = Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }

  // All (path, entry) of a scope, in scan order.
  std::vector<std::pair<std::string, EntryRecord>> ScanAll(const Scope& scope) {
    std::vector<std::pair<std::string, EntryRecord>> out;
    auto s = cat_->Scan(scope);
    for (; s->Valid(); s->Next()) out.emplace_back(s->path(), s->entry());
    EXPECT_TRUE(s->status().ok()) << s->status();
    return out;
  }

  std::vector<EntryKey> Holders(const Digest& d) {
    std::vector<EntryKey> out;
    Status s = cat_->ForEachHolder(d, [&](const EntryKey& k) {
      out.push_back(k);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Catalogue> cat_;
};

const Scope kScope{"tenant", "set", 1700000000000000000};

TEST_F(CatalogueTest, PutEntryRoundTripsThroughGetEntryAndScan) {
  EntryRecord file = FileRec("hello");
  EntryRecord link;
  link.type = EntryType::kSymlink;
  link.link_target = "../elsewhere";
  link.size = link.link_target.size();
  link.first_seen_ns = 7;
  EntryRecord fifo;
  fifo.type = EntryType::kOther;
  fifo.first_seen_ns = 8;
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("dir/file", file).ok());
    ASSERT_TRUE(w.PutEntry("dir/link", link).ok());
    ASSERT_TRUE(w.PutEntry("fifo", fifo).ok());
    ASSERT_TRUE(w.Commit(true).ok());
  }
  EntryRecord e;
  VerifyRecord v;
  ASSERT_TRUE(cat_->GetEntry(kScope, "dir/file", &e, &v).ok());
  EXPECT_EQ(e, file);
  // No VerifyRecord stored: synthesised as ok, verified when first seen.
  EXPECT_EQ(v.state, EntryState::kOk);
  EXPECT_EQ(v.last_verified_ns, file.first_seen_ns);
  EXPECT_EQ(v.last_checked_ns, file.first_seen_ns);
  ASSERT_TRUE(cat_->GetEntry(kScope, "dir/link", &e, &v).ok());
  EXPECT_EQ(e, link);
  ASSERT_TRUE(cat_->GetEntry(kScope, "fifo", &e, &v).ok());
  EXPECT_EQ(e, fifo);
  EXPECT_TRUE(absl::IsNotFound(cat_->GetEntry(kScope, "dir", &e, &v)));
  EXPECT_TRUE(absl::IsNotFound(cat_->GetEntry(kScope, "dir/fil", &e, &v)));
  EXPECT_TRUE(absl::IsInvalidArgument(cat_->GetEntry(kScope, "../x", &e, &v)));
  EXPECT_TRUE(absl::IsInvalidArgument(cat_->GetEntry(kScope, "", &e, &v)));

  auto all = ScanAll(kScope);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].first, "dir/file");
  EXPECT_EQ(all[0].second, file);
  EXPECT_EQ(all[1].first, "dir/link");
  EXPECT_EQ(all[1].second, link);
  EXPECT_EQ(all[2].first, "fifo");
  auto count = cat_->CountEntries(kScope);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3u);
}

TEST_F(CatalogueTest, ScannerExposesKeysAndSynthesisedVerifyRecords) {
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("a/b", FileRec("1", 11)).ok());
    ASSERT_TRUE(w.PutEntry("c", FileRec("2", 22)).ok());
    VerifyRecord v;
    v.state = EntryState::kModified;
    v.last_verified_ns = 11;
    v.last_checked_ns = 33;
    v.first_reading = HashBytes(HashAlgorithm::kXxh3_128, "x");
    v.second_reading = v.first_reading;
    v.observed_size = 9;
    v.detail = "changed";
    ASSERT_TRUE(w.PutVerify("c", v).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  auto s = cat_->Scan(kScope);
  ASSERT_TRUE(s->Valid());
  EXPECT_EQ(s->path(), "a/b");
  EXPECT_EQ(s->encoded_path(), std::string("a\0b", 3));
  EXPECT_EQ(s->key(),
            EncodeEntryKey({kScope.tenant, kScope.backup_set, kScope.restore_point, "a/b"}));
  EXPECT_FALSE(s->has_verify_record());
  EXPECT_EQ(s->verify().state, EntryState::kOk);
  EXPECT_EQ(s->verify().last_verified_ns, 11);
  EXPECT_EQ(s->verify().last_checked_ns, 11);
  s->Next();
  ASSERT_TRUE(s->Valid());
  EXPECT_EQ(s->path(), "c");
  EXPECT_TRUE(s->has_verify_record());
  EXPECT_EQ(s->verify().state, EntryState::kModified);
  EXPECT_EQ(s->verify().last_checked_ns, 33);
  EXPECT_EQ(s->verify().detail, "changed");
  s->Next();
  EXPECT_FALSE(s->Valid());
  EXPECT_TRUE(s->status().ok());
}

TEST_F(CatalogueTest, PutVerifyRoundTripsAndReplaceClearsIt) {
  EntryRecord old_rec = FileRec("old");
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("f", old_rec).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  VerifyRecord v;
  v.state = EntryState::kUnreadable;
  v.last_verified_ns = 1;
  v.last_checked_ns = 2;
  v.detail = "EIO";
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutVerify("f", v).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  EntryRecord e;
  VerifyRecord got;
  ASSERT_TRUE(cat_->GetEntry(kScope, "f", &e, &got).ok());
  EXPECT_EQ(got, v);
  // A replaced entry counts as verified when first seen again.
  EntryRecord new_rec = FileRec("new", 5000);
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("f", new_rec, &old_rec).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  ASSERT_TRUE(cat_->GetEntry(kScope, "f", &e, &got).ok());
  EXPECT_EQ(e, new_rec);
  EXPECT_EQ(got.state, EntryState::kOk);
  EXPECT_EQ(got.last_verified_ns, 5000);
  auto s = cat_->Scan(kScope);
  ASSERT_TRUE(s->Valid());
  EXPECT_FALSE(s->has_verify_record());
}

TEST_F(CatalogueTest, DeleteEntryForgetsEntryVerifyAndHashKey) {
  EntryRecord r = FileRec("doomed");
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("x", r).ok());
    ASSERT_TRUE(w.PutEntry("y", FileRec("kept")).ok());
    VerifyRecord v;
    v.state = EntryState::kMissing;
    ASSERT_TRUE(w.PutVerify("x", v).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  EXPECT_EQ(Holders(r.digest).size(), 1u);
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.DeleteEntry("x", r).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  EntryRecord e;
  VerifyRecord v;
  EXPECT_TRUE(absl::IsNotFound(cat_->GetEntry(kScope, "x", &e, &v)));
  EXPECT_TRUE(Holders(r.digest).empty());
  std::string key = EncodeEntryKey({kScope.tenant, kScope.backup_set, kScope.restore_point, "x"});
  std::string value;
  EXPECT_TRUE(absl::IsNotFound(cat_->kv()->Get(Space::kVerified, key, &value)));
  auto all = ScanAll(kScope);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, "y");
}

TEST_F(CatalogueTest, WriterRejectsInvalidPaths) {
  Catalogue::Writer w(cat_.get(), kScope);
  for (std::string_view p :
       {std::string_view(""), std::string_view("/abs"), std::string_view("a/../b"),
        std::string_view("a//b"), std::string_view("a/"), std::string_view("a\0b", 3)}) {
    EXPECT_TRUE(absl::IsInvalidArgument(w.PutEntry(p, FileRec("x")))) << ToHex(p);
  }
  ASSERT_TRUE(w.Commit(false).ok());
  EXPECT_TRUE(ScanAll(kScope).empty());
}

TEST_F(CatalogueTest, ScanOrderIsTreeOrder) {
  std::vector<std::string> paths = {
      "a", "a/b", "a.txt", "a b",     "a/b/c", "a/b.c", "a/ba", "a\x01", "a\xff", "\xff\xfe",
      "b", "a-",  "a/\n",  "z/y/x/w", "z/y.x", "A",     ".hid", "...",   "0",     "a/b/c/d/e"};
  std::vector<std::string> shuffled = paths;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
  {
    Catalogue::Writer w(cat_.get(), kScope);
    for (const auto& p : shuffled) ASSERT_TRUE(w.PutEntry(p, FileRec(p)).ok()) << p;
    ASSERT_TRUE(w.Commit(false).ok());
  }
  std::vector<std::string> want = paths;
  std::sort(want.begin(), want.end(), [](const std::string& a, const std::string& b) {
    return ReferencePathOrder(a, b) < 0;
  });
  std::vector<std::string> got;
  for (auto& [p, e] : ScanAll(kScope)) {
    got.push_back(p);
    EXPECT_EQ(e, FileRec(p));
  }
  EXPECT_EQ(got, want);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_LT(ComparePathOrder(got[i - 1], got[i]), 0) << got[i - 1] << " / " << got[i];
  }
}

TEST_F(CatalogueTest, ScopesNeverSeeEachOther) {
  // Scopes chosen so that their key prefixes are as close as possible.
  std::vector<Scope> scopes = {
      {"t", "b", 0},
      {"t", "b", 1},
      {"t", "b", -1},
      {"t", "b", std::numeric_limits<int64_t>::min()},
      // The largest time a restore point can have (INT64_MAX marks a
      // version without end, storage/versions.h).
      {"t", "b", std::numeric_limits<int64_t>::max() - 1},
      {"t", std::string("b\0", 2), 0},
      {"t", "b\x01", 0},
      {"t", "b\xff", 0},
      {"t", "", 0},
      {std::string("t\0", 2), "b", 0},
      {"t\x01", "b", 0},
      {"", "tb", 0},
      {"tb", "", 0},
  };
  {
    for (size_t i = 0; i < scopes.size(); ++i) {
      Catalogue::Writer w(cat_.get(), scopes[i]);
      for (int j = 0; j <= static_cast<int>(i); ++j) {
        std::string p = "s" + std::to_string(i) + "/f" + std::to_string(j);
        ASSERT_TRUE(w.PutEntry(p, FileRec(p)).ok());
      }
      // Names that sort at the extremes of a restore point.
      ASSERT_TRUE(w.PutEntry("\x01", FileRec("lo")).ok());
      ASSERT_TRUE(w.PutEntry("\xff\xff\xff", FileRec("hi")).ok());
      ASSERT_TRUE(w.Commit(false).ok());
    }
  }
  for (size_t i = 0; i < scopes.size(); ++i) {
    auto all = ScanAll(scopes[i]);
    ASSERT_EQ(all.size(), i + 1 + 2) << "scope " << i;
    std::string own = "s" + std::to_string(i) + "/";
    for (auto& [p, e] : all) {
      if (p == "\x01" || p == "\xff\xff\xff") continue;
      EXPECT_TRUE(p.starts_with(own)) << "scope " << i << " saw " << p;
    }
    auto n = cat_->CountEntries(scopes[i]);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, i + 3);
  }
  EXPECT_TRUE(ScanAll({"t", "b", 2}).empty());
  EXPECT_TRUE(ScanAll({"nobody", "b", 0}).empty());
}

TEST_F(CatalogueTest, HashIndexFindsEveryHolderAcrossBackupSets) {
  const std::string shared = "shared content";
  Digest d = HashBytes(HashAlgorithm::kXxh3_128, shared);
  Scope a{"t", "set-a", 100}, b{"t", "set-b", 200}, other_tenant{"u", "set-a", 100};
  {
    Catalogue::Writer w(cat_.get(), a);
    ASSERT_TRUE(w.PutEntry("one", FileRec(shared)).ok());
    ASSERT_TRUE(w.PutEntry("dir/two", FileRec(shared)).ok());
    ASSERT_TRUE(w.PutEntry("unrelated", FileRec("something else")).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  {
    Catalogue::Writer w(cat_.get(), b);
    ASSERT_TRUE(w.PutEntry("copy", FileRec(shared)).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  {
    Catalogue::Writer w(cat_.get(), other_tenant);
    ASSERT_TRUE(w.PutEntry("x", FileRec(shared)).ok());
    // Same digest bytes under another algorithm is another digest.
    EntryRecord md5 = FileRec("irrelevant");
    md5.digest = Digest(HashAlgorithm::kMd5, d.bytes());
    ASSERT_TRUE(w.PutEntry("md5", md5).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  std::vector<EntryKey> want = {{"t", "set-a", 100, "dir/two"},
                                {"t", "set-a", 100, "one"},
                                {"t", "set-b", 200, "copy"},
                                {"u", "set-a", 100, "x"}};
  EXPECT_EQ(Holders(d), want);
  EXPECT_EQ(Holders(Digest(HashAlgorithm::kMd5, d.bytes())),
            (std::vector<EntryKey>{{"u", "set-a", 100, "md5"}}));
  EXPECT_TRUE(Holders(HashBytes(HashAlgorithm::kXxh3_128, "nobody has this")).empty());

  // fn returning false stops the walk.
  int calls = 0;
  ASSERT_TRUE(cat_->ForEachHolder(d, [&](const EntryKey&) { return ++calls < 2; }).ok());
  EXPECT_EQ(calls, 2);

  // Replace one holder with new content, delete another: neither is found.
  {
    Catalogue::Writer w(cat_.get(), a);
    EntryRecord old_rec = FileRec(shared);
    ASSERT_TRUE(w.PutEntry("one", FileRec("rewritten"), &old_rec).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  {
    Catalogue::Writer w(cat_.get(), b);
    ASSERT_TRUE(w.DeleteEntry("copy", FileRec(shared)).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  want = {{"t", "set-a", 100, "dir/two"}, {"u", "set-a", 100, "x"}};
  EXPECT_EQ(Holders(d), want);
  EXPECT_EQ(Holders(HashBytes(HashAlgorithm::kXxh3_128, "rewritten")),
            (std::vector<EntryKey>{{"t", "set-a", 100, "one"}}));
  // Still true after reopening (the hash index is persisted with the entries).
  Reopen();
  EXPECT_EQ(Holders(d), want);
}

TEST_F(CatalogueTest, ReplaceWithTheSameDigestKeepsTheHashKey) {
  EntryRecord r = FileRec("same");
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("f", r).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  EntryRecord touched = r;
  touched.mtime_ns += 1;
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("f", touched, &r).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  EXPECT_EQ(Holders(r.digest).size(), 1u);
}

TEST_F(CatalogueTest, StrayVerifyRecordsAreIgnoredByScan) {
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("b", FileRec("b")).ok());
    VerifyRecord v;
    v.state = EntryState::kMissing;
    ASSERT_TRUE(w.PutVerify("a", v).ok());  // no entry "a"
    ASSERT_TRUE(w.PutVerify("c", v).ok());  // no entry "c"
    ASSERT_TRUE(w.Commit(false).ok());
  }
  auto all = ScanAll(kScope);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, "b");
  auto s = cat_->Scan(kScope);
  EXPECT_FALSE(s->has_verify_record());
}

TEST_F(CatalogueTest, CorruptRecordStopsTheScanWithDataLossNamingThePath) {
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("good", FileRec("g")).ok());
    ASSERT_TRUE(w.PutEntry("later", FileRec("l")).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  KvBatch b;
  std::string value;
  AppendI64(&value, kOpenUntil);  // a version of "k/bad", open, its record garbage
  value += "\x01\x09garbage";
  b.Put(Space::kVersions,
        Versions::VersionKey(kScope.tenant, kScope.backup_set, "k/bad", kScope.restore_point),
        value);
  ASSERT_TRUE(cat_->kv()->Write(b, {}).ok());
  auto s = cat_->Scan(kScope);
  ASSERT_TRUE(s->Valid());
  EXPECT_EQ(s->path(), "good");
  s->Next();
  EXPECT_FALSE(s->Valid());
  EXPECT_TRUE(absl::IsDataLoss(s->status())) << s->status();
  EXPECT_NE(s->status().message().find("k/bad"), std::string_view::npos) << s->status();
  EntryRecord e;
  VerifyRecord v;
  EXPECT_TRUE(absl::IsDataLoss(cat_->GetEntry(kScope, "k/bad", &e, &v)));
}

TEST_F(CatalogueTest, MetaRoundTrips) {
  std::string v;
  EXPECT_TRUE(absl::IsNotFound(cat_->GetMeta("nope", &v)));
  ASSERT_TRUE(cat_->PutMeta("k", std::string("v\0v", 3)).ok());
  ASSERT_TRUE(cat_->GetMeta("k", &v).ok());
  EXPECT_EQ(v, std::string("v\0v", 3));
  {
    Catalogue::Writer w(cat_.get(), kScope);
    w.PutMeta("batched", "yes");
    ASSERT_TRUE(w.Commit(false).ok());
  }
  ASSERT_TRUE(cat_->GetMeta("batched", &v).ok());
  EXPECT_EQ(v, "yes");
}

TEST_F(CatalogueTest, FormatVersionIsWrittenAndChecked) {
  std::string v;
  ASSERT_TRUE(cat_->GetMeta("format_version", &v).ok());
  EXPECT_EQ(v, std::to_string(kFormatVersion));
  {
    Catalogue::Writer w(cat_.get(), kScope);
    ASSERT_TRUE(w.PutEntry("survives", FileRec("s")).ok());
    ASSERT_TRUE(w.Commit(true).ok());
  }
  Reopen();  // reopening an intact catalogue works and keeps its data
  EntryRecord e;
  VerifyRecord vr;
  EXPECT_TRUE(cat_->GetEntry(kScope, "survives", &e, &vr).ok());

  ASSERT_TRUE(cat_->PutMeta("format_version", "999").ok());
  cat_.reset();
  auto c = Catalogue::Open(dir_ / "db");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(c.status())) << c.status();
  EXPECT_NE(c.status().message().find("999"), std::string_view::npos) << c.status();
}

TEST_F(CatalogueTest, UnreadableFormatVersionIsDataLoss) {
  ASSERT_TRUE(cat_->PutMeta("format_version", "1x").ok());
  cat_.reset();
  auto c = Catalogue::Open(dir_ / "db");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsDataLoss(c.status())) << c.status();
}

TEST_F(CatalogueTest, OpenWithoutCreateOnAMissingDirectoryFails) {
  RocksKvOptions o;
  o.create_if_missing = false;
  auto c = Catalogue::Open(dir_ / "absent", o);
  EXPECT_FALSE(c.ok());
}

TEST_F(CatalogueTest, ManyEntriesAcrossAutoFlushedBatches) {
  constexpr int kN = 50000;
  auto path = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "d%03d/f%06d", i % 97, i);
    return std::string(buf);
  };
  uint64_t batches = 0;
  {
    Catalogue::Writer w(cat_.get(), kScope, {.batch_bytes = 64 << 10});
    for (int i = 0; i < kN; ++i) {
      ASSERT_TRUE(w.PutEntry(path(i), FileRec(std::to_string(i), i)).ok());
    }
    EXPECT_GT(w.flushed_batches(), 10u) << "small batches must auto-flush";
    ASSERT_TRUE(w.Commit(true).ok());
    batches = w.flushed_batches();
  }
  EXPECT_GT(batches, 10u);
  Reopen();
  auto n = cat_->CountEntries(kScope);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, static_cast<uint64_t>(kN));
  // Scan: every entry once, in order, with its record.
  std::set<std::string> seen;
  std::string prev;
  auto s = cat_->Scan(kScope);
  for (; s->Valid(); s->Next()) {
    std::string p = s->path();
    if (!prev.empty()) {
      ASSERT_LT(ComparePathOrder(prev, p), 0);
    }
    int i = std::stoi(p.substr(p.find("/f") + 2));
    ASSERT_EQ(p, path(i));
    ASSERT_EQ(s->entry(), FileRec(std::to_string(i), i));
    seen.insert(p);
    prev = std::move(p);
  }
  ASSERT_TRUE(s->status().ok());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kN));
  for (int i : {0, 1, kN / 2, kN - 1}) {
    EntryRecord e;
    VerifyRecord v;
    ASSERT_TRUE(cat_->GetEntry(kScope, path(i), &e, &v).ok());
    EXPECT_EQ(e, FileRec(std::to_string(i), i));
    auto holders = Holders(e.digest);
    ASSERT_EQ(holders.size(), 1u);
    EXPECT_EQ(holders[0].path, path(i));
  }
}

TEST(ComparePathOrderTest, SlashRanksBelowEveryByte) {
  EXPECT_LT(ComparePathOrder("a/b", "a\x01"), 0);
  EXPECT_LT(ComparePathOrder("a/\xff", "a\x01"), 0);
  EXPECT_LT(ComparePathOrder("a", "a/b"), 0);
  EXPECT_GT(ComparePathOrder("a\xff", "a/"), 0);
  EXPECT_LT(ComparePathOrder("\x7f", "\x80"), 0) << "bytes compare unsigned";
  EXPECT_EQ(ComparePathOrder("", ""), 0);
}

}  // namespace
}  // namespace vigil::storage
