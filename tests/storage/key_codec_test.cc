// The key codec's promises: round trip, byte order == logical order, and no
// crash on malformed keys.
#include "storage/key_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/catalogue.h"

namespace vigil::storage {
namespace {

TEST(KeyCodecTest, RoundTripsWithNulBytesAndNegativeTimes) {
  EntryKey k{std::string("ten\0ant", 7), "set", -5, "a/b\xff/c"};
  auto d = DecodeEntryKey(EncodeEntryKey(k));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, k);
}

TEST(KeyCodecTest, ByteOrderFollowsTimeAndTreeOrder) {
  auto key = [](int64_t t, const char* p) { return EncodeEntryKey({"t", "s", t, p}); };
  EXPECT_LT(key(-1, "a"), key(0, "a"));
  EXPECT_LT(key(0, "z"), key(1, "a"));
  // Depth-first: "a/b" sorts before "a.txt" although '/' > '.'.
  EXPECT_LT(key(0, "a/b"), key(0, "a.txt"));
  EXPECT_LT(ComparePathOrder("a/b", "a.txt"), 0);
}

TEST(KeyCodecTest, PrefixesDelimitRanges) {
  std::string rp = RestorePointPrefix("t", "s", 7);
  std::string k = EncodeEntryKey({"t", "s", 7, "x"});
  EXPECT_EQ(k.rfind(rp, 0), 0u);
  EXPECT_LT(k, PrefixSuccessor(rp));
  // Tenant "t" must not share a range with tenant "t2".
  EXPECT_NE(EncodeEntryKey({"t2", "s", 7, "x"}).rfind(BackupSetPrefix("t", "s"), 0), 0u);
}

TEST(KeyCodecTest, MalformedKeysAreRefused) {
  std::string k = EncodeEntryKey({"t", "s", 1, "a"});
  for (size_t n = 0; n + 1 < k.size(); ++n) {
    EXPECT_FALSE(DecodeEntryKey(k.substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(IsValidRelativePath("../x"));
  EXPECT_FALSE(IsValidRelativePath("a//b"));
  EXPECT_FALSE(IsValidRelativePath("/a"));
  EXPECT_TRUE(IsValidRelativePath("a/b"));
}

}  // namespace
}  // namespace vigil::storage
