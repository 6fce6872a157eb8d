// CompareCopies on a real RocksDB catalogue: agreement by digest (by path or
// through the hash index), true disagreement, and the cases where content
// agreement cannot be established.
#include "services/coordinator/copies.h"

#include <gtest/gtest.h>

#include "storage/hash.h"
#include "tests/support/temp_dir.h"

namespace vigil::coordinator {
namespace {

using contracts::CopyAgreement;

class CopiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = storage::Catalogue::Open(tmp_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }
  void TearDown() override { cat_.reset(); }
  // Writes `files` (path -> content) as restore point `rp` of `set`.
  void Put(const std::string& set, int64_t rp, const std::map<std::string, std::string>& files,
           storage::HashAlgorithm alg = storage::HashAlgorithm::kXxh3_128, int64_t mtime = 1000) {
    storage::Catalogue::Writer w(cat_.get(), {"t", set, rp});
    for (const auto& [path, content] : files) {
      storage::EntryRecord r;
      r.size = content.size();
      r.mtime_ns = mtime;
      r.digest = storage::HashBytes(alg, content);
      r.first_seen_ns = 1;
      ASSERT_TRUE(w.PutEntry(path, r).ok());
    }
    ASSERT_TRUE(w.Commit(true).ok());
  }
  CopyAgreement Compare(int64_t pa = 5, int64_t pb = 7) {
    auto r = CompareCopies(*cat_, "t", "a", pa, "b", pb);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CopyAgreement{};
  }

  vigil::testing::TempDir tmp_;
  std::unique_ptr<storage::Catalogue> cat_;
  const std::map<std::string, std::string> files_ = {
      {"docs/a.pdf", "alpha"}, {"docs/b.pdf", "bravo"}, {"mail/x.pst", "xray"}};
};

TEST_F(CopiesTest, SameContentAgrees) {
  Put("a", 5, files_);
  Put("b", 7, files_);
  CopyAgreement c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kAgree) << c.detail;
  EXPECT_EQ(c.matched, 3u);
  EXPECT_EQ(c.differing, 0u);
}

TEST_F(CopiesTest, SameSizeAndMtimeButOtherBytesDisagrees) {
  Put("a", 5, files_);
  auto other = files_;
  other["docs/b.pdf"] = "brav0";  // bit rot: same size, same mtime
  Put("b", 7, other);
  CopyAgreement c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kDisagree);
  EXPECT_EQ(c.differing, 1u);
  EXPECT_EQ(c.matched, 2u);
  EXPECT_NE(c.detail.find("docs/b.pdf"), std::string::npos) << c.detail;
}

TEST_F(CopiesTest, ANewerVersionIsNotADisagreement) {
  Put("a", 5, files_);
  Put("b", 7, {{"docs/a.pdf", "alpha"}, {"mail/x.pst", "xray"}});
  Put("b", 7, {{"docs/b.pdf", "bravo v2"}}, storage::HashAlgorithm::kXxh3_128, 2000);
  CopyAgreement c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kNotEstablished);
  EXPECT_NE(c.detail.find("1 entries changed"), std::string::npos) << c.detail;
}

TEST_F(CopiesTest, MovedFilesAreFoundThroughTheHashIndex) {
  Put("a", 5, files_);
  Put("b", 7, {{"copy/docs/a.pdf", "alpha"}, {"copy/docs/b.pdf", "bravo"}, {"copy/x.pst", "xray"}});
  // Another restore point of b holding the missing content must not count.
  Put("b", 9, {{"zz", "never in 7"}});
  CopyAgreement c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kAgree) << c.detail;
  EXPECT_EQ(c.matched, 3u);
  Put("a", 5, {{"docs/c.pdf", "never in 7"}});
  c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kNotEstablished);
  EXPECT_EQ(c.missing_in_b, 1u);
  EXPECT_NE(c.detail.find("not found in b"), std::string::npos) << c.detail;
}

TEST_F(CopiesTest, DifferentAlgorithmsCompareSizesOnly) {
  Put("a", 5, files_);
  Put("b", 7, files_, storage::HashAlgorithm::kSha256);
  CopyAgreement c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kNotEstablished);
  EXPECT_NE(c.detail.find("different algorithms"), std::string::npos) << c.detail;
}

// Laid out differently and hashed with another algorithm: the hash index
// cannot find a's entries in b, and that is not "missing" either.
TEST_F(CopiesTest, MovedFilesOfAnotherAlgorithmAreNotCalledMissing) {
  Put("a", 5, files_);
  Put("b", 7, {{"copy/docs/a.pdf", "alpha"}, {"copy/docs/b.pdf", "bravo"}, {"copy/x.pst", "xray"}},
      storage::HashAlgorithm::kSha256);
  CopyAgreement c = Compare();
  EXPECT_EQ(c.state, CopyAgreement::State::kNotEstablished);
  EXPECT_EQ(c.missing_in_b, 0u) << c.detail;
  EXPECT_EQ(c.matched, 0u);
  EXPECT_NE(c.detail.find("3 entries hashed with different algorithms"), std::string::npos)
      << c.detail;
  EXPECT_EQ(c.detail.find("not found"), std::string::npos) << c.detail;
}

}  // namespace
}  // namespace vigil::coordinator
