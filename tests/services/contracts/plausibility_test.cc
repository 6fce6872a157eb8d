// Plausibility of a new restore point: thresholds at their boundaries, and
// ComparePoints on a real RocksDB catalogue for ordinary churn, an emptied
// source, a mass-encrypted source and files truncated to zero.
#include "services/contracts/plausibility.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "services/common/text.h"
#include "storage/catalogue.h"
#include "storage/entry.h"
#include "storage/hash.h"
#include "tests/storage/test_util.h"

namespace vigil::contracts {
namespace {

using storage::EntryRecord;
using storage::EntryType;
using storage::HashAlgorithm;
using ::testing::HasSubstr;

std::vector<FindingKind> Kinds(const std::vector<PlausibilityFinding>& f) {
  std::vector<FindingKind> out;
  for (const auto& x : f) out.push_back(x.kind);
  return out;
}

bool Has(const std::vector<PlausibilityFinding>& f, FindingKind k) {
  for (const auto& x : f) {
    if (x.kind == k) return true;
  }
  return false;
}

// A comparison with nothing remarkable apart from what a test sets.
PointComparison Steady(uint64_t files = 1000, uint64_t bytes = 1 << 30) {
  PointComparison c;
  c.prev = {1, files, bytes, 0};
  c.cur = {2, files, bytes, 0};
  c.common_files = files;
  return c;
}

TEST(CheckPlausibility, SteadyPointHasNoFinding) {
  EXPECT_TRUE(CheckPlausibility(Steady()).empty());
  EXPECT_TRUE(CheckPlausibility(PointComparison{}).empty());  // two empty points
}

TEST(CheckPlausibility, BytesDropBoundary) {
  PointComparison c = Steady(1000, 1000);
  c.cur.bytes = 500;  // exactly half: not above the allowed drop
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kBytesDrop));
  c.cur.bytes = 499;
  EXPECT_THAT(Kinds(CheckPlausibility(c)), ::testing::ElementsAre(FindingKind::kBytesDrop));
  c.cur.bytes = 0;
  EXPECT_TRUE(Has(CheckPlausibility(c), FindingKind::kBytesDrop));
  // Growth is never a drop; nothing to drop from an empty point.
  c.cur.bytes = 5000;
  EXPECT_TRUE(CheckPlausibility(c).empty());
  c.prev.bytes = 0;
  c.cur.bytes = 0;
  EXPECT_TRUE(CheckPlausibility(c).empty());
  // Option respected.
  c = Steady(1000, 1000);
  c.cur.bytes = 700;
  PlausibilityOptions strict;
  strict.max_bytes_drop = 0.2;
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kBytesDrop));
  EXPECT_TRUE(Has(CheckPlausibility(c, strict), FindingKind::kBytesDrop));
}

TEST(CheckPlausibility, BytesDropMessageIsHuman) {
  PointComparison c = Steady();
  c.prev.bytes = 13'207'024'435;  // 12.3 GiB
  c.cur.bytes = 1'181'116'006;    // 1.1 GiB
  auto f = CheckPlausibility(c);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "size fell from " + HumanBytes(13'207'024'435.0) + " to " +
                              HumanBytes(1'181'116'006.0) + " (-91%)");
  EXPECT_THAT(f[0].message, HasSubstr("12.3 GiB"));
}

TEST(CheckPlausibility, FilesDropBoundary) {
  PointComparison c = Steady(100);
  c.cur.files = 70;  // exactly 30% fewer
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kFilesDrop));
  c.cur.files = 69;
  auto f = CheckPlausibility(c);
  ASSERT_THAT(Kinds(f), ::testing::ElementsAre(FindingKind::kFilesDrop));
  EXPECT_THAT(f[0].message, HasSubstr("100"));
  EXPECT_THAT(f[0].message, HasSubstr("69"));
  EXPECT_THAT(f[0].message, HasSubstr("-31%"));
  c = Steady(10);
  c.cur.files = 7;
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kFilesDrop));
  c.cur.files = 6;
  EXPECT_TRUE(Has(CheckPlausibility(c), FindingKind::kFilesDrop));
}

TEST(CheckPlausibility, ZeroLengthNeedsBothTheCountAndOnePercent) {
  PointComparison c = Steady(1000);
  c.became_zero_length = 6;
  c.new_zero_length = 4;  // 10: not above the default 10
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kZeroLength));
  c.new_zero_length = 5;  // 11 > 10 and 11 > 1% of 1000
  auto f = CheckPlausibility(c);
  ASSERT_THAT(Kinds(f), ::testing::ElementsAre(FindingKind::kZeroLength));
  EXPECT_THAT(f[0].message, HasSubstr("11"));
  c.cur.files = 1100;  // 11 is exactly 1%: not above
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kZeroLength));
  c.cur.files = 1099;
  EXPECT_TRUE(Has(CheckPlausibility(c), FindingKind::kZeroLength));
  // Many empty files in a huge point are below 1%.
  c.cur.files = 1'000'000;
  c.became_zero_length = 5000;
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kZeroLength));
  c.became_zero_length = 10'000;
  EXPECT_TRUE(Has(CheckPlausibility(c), FindingKind::kZeroLength));
}

TEST(CheckPlausibility, MassChangeBoundary) {
  PointComparison c = Steady(20);
  c.content_changed = 12;  // exactly 60%
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kMassChange));
  c.content_changed = 13;
  auto f = CheckPlausibility(c);
  ASSERT_THAT(Kinds(f), ::testing::ElementsAre(FindingKind::kMassChange));
  EXPECT_THAT(f[0].message, HasSubstr("65%"));
  // Fewer than 20 common files: too few to judge.
  c = Steady(19);
  c.content_changed = 19;
  EXPECT_FALSE(Has(CheckPlausibility(c), FindingKind::kMassChange));
  PlausibilityOptions loose;
  loose.max_changed_fraction = 0.7;
  c = Steady(20);
  c.content_changed = 14;
  EXPECT_TRUE(Has(CheckPlausibility(c), FindingKind::kMassChange));
  EXPECT_FALSE(Has(CheckPlausibility(c, loose), FindingKind::kMassChange));
}

// --- ComparePoints on a real catalogue ----------------------------------------

constexpr int64_t kPrev = 1'790'000'000'000'000'000;
constexpr int64_t kCur = kPrev + 86'400'000'000'000;

struct FileSpec {
  std::string content;
  uint64_t size = 0;  // of the real file; content only feeds the digest
};

using Tree = std::map<std::string, FileSpec>;

class ComparePointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = storage::Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }

  void Write(const std::string& set, int64_t point, const Tree& tree) {
    storage::Catalogue::Writer w(cat_.get(), storage::Scope{"acme", set, point});
    for (const auto& [path, spec] : tree) {
      EntryRecord r;
      r.type = EntryType::kFile;
      r.size = spec.size;
      r.mtime_ns = point;
      r.digest = storage::HashBytes(HashAlgorithm::kXxh3_128, spec.content);
      r.first_seen_ns = point;
      ASSERT_TRUE(w.PutEntry(path, r).ok());
    }
    ASSERT_TRUE(w.Commit(false).ok());
  }

  // Expected comparison computed from the two trees by map lookups (no
  // merge-join), independently of the code under test.
  static PointComparison Expected(const Tree& prev, const Tree& cur) {
    PointComparison c;
    c.prev.time_ns = kPrev;
    c.cur.time_ns = kCur;
    for (const auto& [p, s] : prev) {
      ++c.prev.files;
      c.prev.bytes += s.size;
      if (s.size == 0) ++c.prev.zero_length_files;
    }
    for (const auto& [p, s] : cur) {
      ++c.cur.files;
      c.cur.bytes += s.size;
      if (s.size == 0) ++c.cur.zero_length_files;
      auto it = prev.find(p);
      if (it == prev.end()) {
        if (s.size == 0) ++c.new_zero_length;
        ++c.new_files;
        c.changed_bytes += s.size;
        continue;
      }
      ++c.common_files;
      if (it->second.content != s.content || it->second.size != s.size) {
        ++c.content_changed;
        c.changed_bytes += s.size;
      }
      if (it->second.size > 0 && s.size == 0) ++c.became_zero_length;
    }
    return c;
  }

  static void ExpectSame(const PointComparison& got, const PointComparison& want) {
    EXPECT_EQ(got.prev.time_ns, want.prev.time_ns);
    EXPECT_EQ(got.cur.time_ns, want.cur.time_ns);
    EXPECT_EQ(got.prev.files, want.prev.files);
    EXPECT_EQ(got.prev.bytes, want.prev.bytes);
    EXPECT_EQ(got.prev.zero_length_files, want.prev.zero_length_files);
    EXPECT_EQ(got.cur.files, want.cur.files);
    EXPECT_EQ(got.cur.bytes, want.cur.bytes);
    EXPECT_EQ(got.cur.zero_length_files, want.cur.zero_length_files);
    EXPECT_EQ(got.common_files, want.common_files);
    EXPECT_EQ(got.content_changed, want.content_changed);
    EXPECT_EQ(got.became_zero_length, want.became_zero_length);
    EXPECT_EQ(got.new_zero_length, want.new_zero_length);
    EXPECT_EQ(got.new_files, want.new_files);
    EXPECT_EQ(got.changed_bytes, want.changed_bytes);
  }

  PointComparison Compare(const Tree& prev, const Tree& cur) {
    Write("files", kPrev, prev);
    Write("files", kCur, cur);
    auto c = ComparePoints(*cat_, "acme", "files", kPrev, kCur);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return {};
    ExpectSame(*c, Expected(prev, cur));
    return *c;
  }

  // A 200-file tree whose names exercise the key order ("a/b" < "a.txt").
  static Tree Baseline() {
    Tree t;
    for (int i = 0; i < 200; ++i) {
      std::string dir = i % 3 == 0 ? "docs" : (i % 3 == 1 ? "docs.old" : "docs/sub");
      std::string path = dir + "/file" + std::to_string(i) + (i % 2 ? ".txt" : "");
      t[path] = {"content of " + path, 10'000 + static_cast<uint64_t>(i) * 37};
    }
    return t;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Catalogue> cat_;
};

TEST_F(ComparePointsTest, NormalDailyChurnIsPlausible) {
  Tree prev = Baseline();
  Tree cur = prev;
  int changed = 0;
  for (auto& [path, spec] : cur) {
    if (changed++ % 20 == 0) {  // 5% of the files edited, a little larger
      spec.content += " edited";
      spec.size += spec.size / 5;
    }
  }
  cur["docs/new-report.pdf"] = {"new", 5000};
  cur["docs/empty.lock"] = {"", 0};
  PointComparison c = Compare(prev, cur);
  EXPECT_EQ(c.common_files, 200u);
  EXPECT_EQ(c.content_changed, 10u);
  EXPECT_EQ(c.new_zero_length, 1u);
  EXPECT_GT(c.cur.bytes, c.prev.bytes);
  EXPECT_LT(c.cur.bytes, c.prev.bytes + c.prev.bytes / 50);  // about +1%
  EXPECT_TRUE(CheckPlausibility(c).empty());
}

TEST_F(ComparePointsTest, EmptiedSourceIsFlagged) {
  Tree prev = Baseline();
  Tree cur;
  cur["docs/README.txt"] = {"left over", 120};
  PointComparison c = Compare(prev, cur);
  EXPECT_EQ(c.common_files, 0u);
  auto f = CheckPlausibility(c);
  EXPECT_TRUE(Has(f, FindingKind::kBytesDrop));
  EXPECT_TRUE(Has(f, FindingKind::kFilesDrop));
  EXPECT_FALSE(Has(f, FindingKind::kMassChange));
}

TEST_F(ComparePointsTest, MassEncryptedSourceIsFlagged) {
  Tree prev = Baseline();
  Tree cur;
  for (const auto& [path, spec] : prev) {
    // Same path, ciphertext: every digest differs, a few bytes larger.
    cur[path] = {"ENCRYPTED:" + spec.content, spec.size + 16};
  }
  PointComparison c = Compare(prev, cur);
  EXPECT_EQ(c.common_files, 200u);
  EXPECT_EQ(c.content_changed, 200u);
  auto f = CheckPlausibility(c);
  ASSERT_THAT(Kinds(f), ::testing::ElementsAre(FindingKind::kMassChange));
  EXPECT_THAT(f[0].message, HasSubstr("100%"));
}

TEST_F(ComparePointsTest, ContentChangeWithTheSameSizeIsSeenByTheDigest) {
  Tree prev = Baseline();
  Tree cur;
  for (const auto& [path, spec] : prev) cur[path] = {spec.content + "!", spec.size};
  PointComparison c = Compare(prev, cur);
  EXPECT_EQ(c.content_changed, 200u);
  EXPECT_TRUE(Has(CheckPlausibility(c), FindingKind::kMassChange));
}

TEST_F(ComparePointsTest, FilesTruncatedToZeroAreFlagged) {
  Tree prev = Baseline();
  Tree cur = prev;
  int i = 0;
  for (auto& [path, spec] : cur) {
    if (i++ % 8 == 0) spec = {"", 0};  // 25 files truncated
  }
  PointComparison c = Compare(prev, cur);
  EXPECT_EQ(c.became_zero_length, 25u);
  EXPECT_EQ(c.cur.zero_length_files, 25u);
  auto f = CheckPlausibility(c);
  EXPECT_THAT(Kinds(f), ::testing::ElementsAre(FindingKind::kZeroLength));
}

TEST_F(ComparePointsTest, OnlyTheTwoPointsOfTheSetAreRead) {
  Tree prev = Baseline();
  Tree cur = prev;
  // Neighbouring key ranges: another set, another point, another tenant.
  Write("files-2", kPrev, {{"docs/x", {"x", 1}}});
  Write("files", kCur + 1, {{"docs/y", {"y", 0}}});
  Write("file", kCur, {{"docs/z", {"z", 0}}});
  {
    storage::Catalogue::Writer w(cat_.get(), storage::Scope{"acme2", "files", kCur});
    EntryRecord r;
    r.size = 0;
    r.digest = storage::HashBytes(HashAlgorithm::kXxh3_128, "");
    ASSERT_TRUE(w.PutEntry("docs/zz", r).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  PointComparison c = Compare(prev, cur);
  EXPECT_EQ(c.cur.files, 200u);
  EXPECT_EQ(c.new_zero_length, 0u);
  EXPECT_TRUE(CheckPlausibility(c).empty());
}

TEST_F(ComparePointsTest, SymlinksAreNotCountedAsFiles) {
  Tree prev = Baseline();
  Tree cur = prev;
  cur.erase("docs/file0");
  Write("files", kPrev, prev);
  Write("files", kCur, cur);
  {
    storage::Catalogue::Writer w(cat_.get(), storage::Scope{"acme", "files", kCur});
    EntryRecord link;
    link.type = EntryType::kSymlink;
    link.link_target = "docs";
    link.size = link.link_target.size();
    ASSERT_TRUE(w.PutEntry("docs/file0", link).ok());  // a file became a link
    ASSERT_TRUE(w.PutEntry("latest", link).ok());
    ASSERT_TRUE(w.Commit(false).ok());
  }
  auto c = ComparePoints(*cat_, "acme", "files", kPrev, kCur);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->prev.files, 200u);
  EXPECT_EQ(c->cur.files, 199u);
  EXPECT_EQ(c->common_files, 199u);
  EXPECT_EQ(c->content_changed, 0u);
}

TEST_F(ComparePointsTest, MissingPointsCompareAsEmpty) {
  auto c = ComparePoints(*cat_, "acme", "nothing", kPrev, kCur);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->prev.files, 0u);
  EXPECT_EQ(c->cur.files, 0u);
  EXPECT_TRUE(CheckPlausibility(*c).empty());
}

}  // namespace
}  // namespace vigil::contracts
