// Key codec: golden encodings derived by hand from the layout documented in
// storage/key_codec.h, order preservation against an independent reference
// order, decoding of garbage, hash-index keys and PrefixSuccessor.
#include "storage/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::ByteCompare;
using testing::FromHex;
using testing::ReferencePathOrder;
using testing::Sign;
using testing::ToHex;

std::string S(std::string_view s) { return std::string(s); }

// --- Golden encodings ---------------------------------------------------------
// Str("t")      = 74 0001
// Str("b\0x")   = 62 00ff 78 0001          (NUL escaped as 00 ff)
// I64(0)        = 80 00 00 00 00 00 00 00  (sign bit flipped)
// I64(-1)       = 7f ff ff ff ff ff ff ff
// I64(1.7e18)   = 1700000000000000000 = 0x17979cfe362a0000 -> 97979cfe362a0000
// Path("a/b")   = 61 00 62                 ('/' written as 00)

TEST(KeyCodecGolden, RestorePointZero) {
  EntryKey k{"t", S(std::string_view("b\0x", 3)), 0, "a/b"};
  EXPECT_EQ(ToHex(EncodeEntryKey(k)),
            "740001"
            "6200ff780001"
            "8000000000000000"
            "610062");
}

TEST(KeyCodecGolden, RestorePointMinusOne) {
  EntryKey k{"t", S(std::string_view("b\0x", 3)), -1, "a/b"};
  EXPECT_EQ(ToHex(EncodeEntryKey(k)),
            "740001"
            "6200ff780001"
            "7fffffffffffffff"
            "610062");
}

TEST(KeyCodecGolden, RestorePointRealTime) {
  EntryKey k{"t", S(std::string_view("b\0x", 3)), 1700000000000000000, "a/b"};
  EXPECT_EQ(ToHex(EncodeEntryKey(k)),
            "740001"
            "6200ff780001"
            "97979cfe362a0000"
            "610062");
}

TEST(KeyCodecGolden, ExtremeRestorePoints) {
  EntryKey lo{"", "", std::numeric_limits<int64_t>::min(), "x"};
  EntryKey hi{"", "", std::numeric_limits<int64_t>::max(), "x"};
  EXPECT_EQ(ToHex(EncodeEntryKey(lo)),
            "0001"
            "0001"
            "0000000000000000"
            "78");
  EXPECT_EQ(ToHex(EncodeEntryKey(hi)),
            "0001"
            "0001"
            "ffffffffffffffff"
            "78");
}

TEST(KeyCodecGolden, StringsWithFfAndOneBytes) {
  std::string out;
  AppendString(&out, std::string_view("\xff\x01\x00\x00", 4));
  EXPECT_EQ(ToHex(out),
            "ff01"
            "00ff00ff"
            "0001");
  out.clear();
  AppendString(&out, "");
  EXPECT_EQ(ToHex(out), "0001");
}

TEST(KeyCodecGolden, Prefixes) {
  std::string bx("b\0x", 3);
  EXPECT_EQ(ToHex(BackupSetPrefix("t", bx)),
            "740001"
            "6200ff780001");
  EXPECT_EQ(ToHex(RestorePointPrefix("t", bx, -1)),
            "740001"
            "6200ff780001"
            "7fffffffffffffff");
  EXPECT_EQ(ToHex(EncodePath("dir/sub/f.txt")), ToHex(std::string("dir\0sub\0f.txt", 13)));
  EXPECT_EQ(DecodePath(std::string("dir\0sub\0f.txt", 13)), "dir/sub/f.txt");
}

TEST(KeyCodecGolden, PathSortsChildrenBeforeLongerSiblings) {
  // "a/b" is in directory "a", which comes before the file "a.txt".
  std::string p = RestorePointPrefix("t", "b", 0);
  EXPECT_LT(p + EncodePath("a/b"), p + EncodePath("a.txt"));
  EXPECT_LT(p + EncodePath("a"), p + EncodePath("a/b"));
  EXPECT_LT(p + EncodePath("a/b/c/d"), p + EncodePath("a!"));
  EXPECT_LT(ComparePathOrder("a/b", "a.txt"), 0);
  EXPECT_GT(ComparePathOrder("a.txt", "a/b"), 0);
  EXPECT_LT(ComparePathOrder("a/zzz", "a0"), 0);
  EXPECT_EQ(ComparePathOrder("a/b", "a/b"), 0);
}

// --- Order preservation -----------------------------------------------------

// Tuple order written from the definition: tenant bytes, backup set bytes,
// restore point as a signed number, then the tree order of paths.
int ReferenceKeyOrder(const EntryKey& a, const EntryKey& b) {
  if (int c = ByteCompare(a.tenant, b.tenant); c != 0) return c;
  if (int c = ByteCompare(a.backup_set, b.backup_set); c != 0) return c;
  if (a.restore_point != b.restore_point) return a.restore_point < b.restore_point ? -1 : 1;
  return ReferencePathOrder(a.path, b.path);
}

class RandomKeys {
 public:
  explicit RandomKeys(uint32_t seed) : rng_(seed) {}

  // Short strings over a tiny alphabet, so that equal prefixes, prefixes of
  // one another and escape bytes are frequent.
  std::string Name() {
    static constexpr char kAlpha[] = {'\0', '\x01', '\xff', '/', 'a', 'b', '.'};
    std::string s;
    int n = Uniform(0, 4);
    for (int i = 0; i < n; ++i) s.push_back(kAlpha[Uniform(0, sizeof(kAlpha) - 1)]);
    return s;
  }

  std::string Component() {
    static constexpr char kAlpha[] = {'\x01', '\xfe', '\xff', '.', '-', 'a', 'b', ' ', '\n'};
    while (true) {
      std::string s;
      int n = Uniform(1, 3);
      for (int i = 0; i < n; ++i) s.push_back(kAlpha[Uniform(0, sizeof(kAlpha) - 1)]);
      if (s != "." && s != "..") return s;
    }
  }

  std::string Path() {
    std::string p = Component();
    int depth = Uniform(0, 3);
    for (int i = 0; i < depth; ++i) p += "/" + Component();
    return p;
  }

  int64_t RestorePoint() {
    static constexpr int64_t kChoices[] = {
        std::numeric_limits<int64_t>::min(), -256, -1, 0, 1, 255, 256, 1700000000000000000,
        std::numeric_limits<int64_t>::max()};
    if (Uniform(0, 3) == 0) {
      return static_cast<int64_t>(rng_());  // any 64-bit pattern
    }
    return kChoices[Uniform(0, sizeof(kChoices) / sizeof(kChoices[0]) - 1)];
  }

  EntryKey Key() { return {Name(), Name(), RestorePoint(), Path()}; }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::mt19937_64 rng_;
};

TEST(KeyCodecOrder, ByteOrderOfEncodingsEqualsTupleOrder) {
  RandomKeys gen(20261122);
  std::vector<EntryKey> keys;
  for (int i = 0; i < 1500; ++i) keys.push_back(gen.Key());
  std::vector<std::string> enc;
  for (const auto& k : keys) enc.push_back(EncodeEntryKey(k));
  int mismatches = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < keys.size(); ++j) {
      int want = ReferenceKeyOrder(keys[i], keys[j]);
      int got = ByteCompare(enc[i], enc[j]);
      if (want != got && ++mismatches <= 5) {
        ADD_FAILURE() << "keys " << i << " and " << j << ": tuple order " << want << ", byte order "
                      << got << " (" << ToHex(enc[i]) << " vs " << ToHex(enc[j]) << ")";
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(KeyCodecOrder, ComparePathOrderAgreesWithTreeOrderAndEncodedPaths) {
  RandomKeys gen(7);
  std::vector<std::string> paths, encoded;
  for (int i = 0; i < 1200; ++i) {
    paths.push_back(gen.Path());
    encoded.push_back(EncodePath(paths.back()));
  }
  int mismatches = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = 0; j < paths.size(); ++j) {
      const std::string &a = paths[i], &b = paths[j];
      int want = ReferencePathOrder(a, b);
      int got = Sign(ComparePathOrder(a, b));
      int enc = ByteCompare(encoded[i], encoded[j]);
      if ((want != got || want != enc) && ++mismatches <= 5) {
        ADD_FAILURE() << "'" << a << "' vs '" << b << "': tree " << want << ", ComparePathOrder "
                      << got << ", encoded " << enc;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(KeyCodecOrder, ScopePrefixesAreContiguousRanges) {
  // Every key of a restore point (or backup set) lies in [prefix,
  // PrefixSuccessor(prefix)), and every other key lies outside.
  RandomKeys gen(99);
  std::vector<EntryKey> keys;
  for (int i = 0; i < 400; ++i) keys.push_back(gen.Key());
  for (const auto& scope : keys) {
    std::string rp = RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point);
    std::string bs = BackupSetPrefix(scope.tenant, scope.backup_set);
    std::string rp_end = PrefixSuccessor(rp), bs_end = PrefixSuccessor(bs);
    for (const auto& k : keys) {
      std::string e = EncodeEntryKey(k);
      bool same_rp = k.tenant == scope.tenant && k.backup_set == scope.backup_set &&
                     k.restore_point == scope.restore_point;
      bool same_bs = k.tenant == scope.tenant && k.backup_set == scope.backup_set;
      bool in_rp = ByteCompare(e, rp) >= 0 && (rp_end.empty() || ByteCompare(e, rp_end) < 0);
      bool in_bs = ByteCompare(e, bs) >= 0 && (bs_end.empty() || ByteCompare(e, bs_end) < 0);
      ASSERT_EQ(in_rp, same_rp) << ToHex(e) << " vs restore point prefix " << ToHex(rp);
      ASSERT_EQ(in_bs, same_bs) << ToHex(e) << " vs backup set prefix " << ToHex(bs);
    }
  }
}

// --- Decoding ---------------------------------------------------------------

TEST(KeyCodecDecode, RoundTripsRandomKeys) {
  RandomKeys gen(12345);
  for (int i = 0; i < 5000; ++i) {
    EntryKey k = gen.Key();
    auto d = DecodeEntryKey(EncodeEntryKey(k));
    ASSERT_TRUE(d.has_value()) << ToHex(EncodeEntryKey(k));
    EXPECT_EQ(*d, k);
  }
}

TEST(KeyCodecDecode, DecodesGoldenBytes) {
  auto d =
      DecodeEntryKey(FromHex("740001"
                             "6200ff780001"
                             "97979cfe362a0000"
                             "610062"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->tenant, "t");
  EXPECT_EQ(d->backup_set, std::string("b\0x", 3));
  EXPECT_EQ(d->restore_point, 1700000000000000000);
  EXPECT_EQ(d->path, "a/b");
}

TEST(KeyCodecDecode, RejectsEveryTruncationBeforeThePath) {
  EntryKey k{S(std::string_view("t\0", 2)), "set", -5, "dir/file"};
  std::string e = EncodeEntryKey(k);
  size_t path_start = RestorePointPrefix(k.tenant, k.backup_set, k.restore_point).size();
  for (size_t n = 0; n <= path_start; ++n) {
    EXPECT_FALSE(DecodeEntryKey(e.substr(0, n)).has_value()) << "prefix of " << n << " bytes";
  }
  // Inside the path a truncation may still be a valid (shorter) path; it must
  // then decode to exactly what it encodes.
  for (size_t n = path_start + 1; n < e.size(); ++n) {
    auto d = DecodeEntryKey(e.substr(0, n));
    if (d.has_value()) {
      EXPECT_EQ(EncodeEntryKey(*d), e.substr(0, n));
    }
  }
}

TEST(KeyCodecDecode, RejectsBadEscapes) {
  std::string tail = FromHex(
      "0001"
      "8000000000000000"
      "61");
  EXPECT_FALSE(DecodeEntryKey(FromHex("7400") + FromHex("02") + tail).has_value());
  EXPECT_FALSE(DecodeEntryKey(FromHex("740000") + tail).has_value());
  EXPECT_FALSE(DecodeEntryKey(FromHex("7400fe") + tail).has_value());
  EXPECT_FALSE(DecodeEntryKey(FromHex("74")).has_value());
  EXPECT_FALSE(DecodeEntryKey(FromHex("7400")).has_value());
  EXPECT_FALSE(DecodeEntryKey("").has_value());
  // The well-formed variant decodes.
  EXPECT_TRUE(DecodeEntryKey(FromHex("740001") + tail).has_value());
}

TEST(KeyCodecDecode, RejectsBadPaths) {
  std::string p = RestorePointPrefix("t", "b", 0);
  EXPECT_FALSE(DecodeEntryKey(p).has_value()) << "empty path";
  EXPECT_FALSE(DecodeEntryKey(p + "..").has_value());
  EXPECT_FALSE(DecodeEntryKey(p + ".").has_value());
  EXPECT_FALSE(DecodeEntryKey(p + std::string("a\0..\0b", 6)).has_value());
  EXPECT_FALSE(DecodeEntryKey(p + std::string("a\0.", 3)).has_value());
  EXPECT_FALSE(DecodeEntryKey(p + std::string("\0a", 2)).has_value()) << "leading separator";
  EXPECT_FALSE(DecodeEntryKey(p + std::string("a\0", 2)).has_value()) << "trailing separator";
  EXPECT_FALSE(DecodeEntryKey(p + std::string("a\0\0b", 4)).has_value()) << "empty component";
  EXPECT_TRUE(DecodeEntryKey(p + std::string("a\0...\0b", 7)).has_value()) << "'...' is a name";
}

TEST(KeyCodecDecode, RejectsRawSlashInEncodedPath) {
  // Encoded paths separate components with NUL and names cannot hold '/', so
  // EncodeEntryKey never writes a 0x2f byte in the path part. A key holding
  // one is malformed: accepting it would decode two different keys to the
  // same EntryKey (e.g. a hash-index entry pointing at the wrong entry).
  std::string p = RestorePointPrefix("t", "b", 0);
  std::string raw = p + "a/b";                         // not produced by the encoder
  std::string canonical = p + std::string("a\0b", 3);  // the encoding of "a/b"
  ASSERT_NE(raw, canonical);
  auto d = DecodeEntryKey(raw);
  EXPECT_FALSE(d.has_value()) << "decoded to path '" << (d ? d->path : "") << "'";
}

TEST(KeyCodecDecode, DecodedKeysReencodeToTheSameBytes) {
  // Canonical decoding on random byte soup built from key fragments.
  std::mt19937 rng(4242);
  static const std::string kPieces[] = {FromHex("0001"),
                                        FromHex("00ff"),
                                        FromHex("00"),
                                        FromHex("01"),
                                        FromHex("ff"),
                                        "a",
                                        "..",
                                        ".",
                                        "/",
                                        FromHex("8000000000000000"),
                                        FromHex("7fffffffffffffff")};
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int j = 0; j < n; ++j) {
      s += kPieces[std::uniform_int_distribution<size_t>(0, std::size(kPieces) - 1)(rng)];
    }
    auto d = DecodeEntryKey(s);
    if (!d) continue;
    ++decoded;
    ASSERT_EQ(ToHex(EncodeEntryKey(*d)), ToHex(s));
  }
  EXPECT_GT(decoded, 100) << "the generator should produce some valid keys";
}

TEST(KeyCodecPaths, IsValidRelativePath) {
  EXPECT_TRUE(IsValidRelativePath("a"));
  EXPECT_TRUE(IsValidRelativePath("a/b/c"));
  EXPECT_TRUE(IsValidRelativePath("..."));
  EXPECT_TRUE(IsValidRelativePath(".hidden/x"));
  EXPECT_TRUE(IsValidRelativePath("\xff\xfe/\n"));
  EXPECT_FALSE(IsValidRelativePath(""));
  EXPECT_FALSE(IsValidRelativePath("/a"));
  EXPECT_FALSE(IsValidRelativePath("a/"));
  EXPECT_FALSE(IsValidRelativePath("a//b"));
  EXPECT_FALSE(IsValidRelativePath("."));
  EXPECT_FALSE(IsValidRelativePath(".."));
  EXPECT_FALSE(IsValidRelativePath("a/../b"));
  EXPECT_FALSE(IsValidRelativePath("a/."));
  EXPECT_FALSE(IsValidRelativePath(std::string_view("a\0b", 3)));
}

// --- Hash-index keys ----------------------------------------------------------

constexpr HashAlgorithm kAllAlgorithms[] = {
    HashAlgorithm::kXxh3_128, HashAlgorithm::kSha256, HashAlgorithm::kSha512, HashAlgorithm::kSha1,
    HashAlgorithm::kMd5,      HashAlgorithm::kSha224, HashAlgorithm::kSha384};

TEST(KeyCodecHashKey, GoldenPrefix) {
  // XXH3-128("abc") = 06b05ab6733a618578af5f94892f3950 (xxhsum -H2), algorithm 1.
  auto d = Digest::FromHex(HashAlgorithm::kXxh3_128, "06b05ab6733a618578af5f94892f3950");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(ToHex(HashIndexPrefix(*d)),
            "01"
            "06b05ab6733a618578af5f94892f3950");
  std::string ek = EncodeEntryKey({"t", "b", 0, "f"});
  EXPECT_EQ(ToHex(EncodeHashKey(*d, ek)),
            "01"
            "06b05ab6733a618578af5f94892f3950"
            "740001"
            "620001"
            "8000000000000000"
            "66");
}

TEST(KeyCodecHashKey, RoundTripsEveryAlgorithm) {
  RandomKeys gen(5);
  for (HashAlgorithm alg : kAllAlgorithms) {
    for (int i = 0; i < 50; ++i) {
      EntryKey k = gen.Key();
      Digest d = HashBytes(alg, k.path);
      std::string ek = EncodeEntryKey(k);
      std::string hk = EncodeHashKey(d, ek);
      ASSERT_EQ(hk.size(), 1 + DigestSize(alg) + ek.size());
      auto back = DecodeHashKey(hk);
      ASSERT_TRUE(back.has_value()) << AlgorithmName(alg);
      EXPECT_EQ(back->digest, d);
      EXPECT_EQ(back->entry_key, ek);
      auto k2 = DecodeEntryKey(back->entry_key);
      ASSERT_TRUE(k2.has_value());
      EXPECT_EQ(*k2, k);
      EXPECT_EQ(hk.substr(0, HashIndexPrefix(d).size()), HashIndexPrefix(d));
    }
  }
}

TEST(KeyCodecHashKey, RejectsGarbage) {
  EXPECT_FALSE(DecodeHashKey("").has_value());
  EXPECT_FALSE(DecodeHashKey(std::string(20, '\0')).has_value()) << "algorithm 0";
  EXPECT_FALSE(DecodeHashKey(std::string(1, '\x08') + std::string(40, 'x')).has_value());
  EXPECT_FALSE(DecodeHashKey(std::string(1, '\xff') + std::string(70, 'x')).has_value());
  for (HashAlgorithm alg : kAllAlgorithms) {
    std::string key(1, static_cast<char>(alg));
    key += std::string(DigestSize(alg) - 1, 'x');  // one digest byte short
    EXPECT_FALSE(DecodeHashKey(key).has_value()) << AlgorithmName(alg);
    key.push_back('x');
    auto hk = DecodeHashKey(key);  // exactly a digest, empty entry key
    ASSERT_TRUE(hk.has_value()) << AlgorithmName(alg);
    EXPECT_TRUE(hk->entry_key.empty());
  }
}

TEST(KeyCodecHashKey, SameBytesDifferentAlgorithmsAreDifferentPrefixes) {
  // MD5 and XXH3-128 digests are both 16 bytes.
  std::string hex(32, 'a');
  auto x = Digest::FromHex(HashAlgorithm::kXxh3_128, hex);
  auto m = Digest::FromHex(HashAlgorithm::kMd5, hex);
  ASSERT_TRUE(x && m);
  EXPECT_NE(HashIndexPrefix(*x), HashIndexPrefix(*m));
}

// --- PrefixSuccessor ----------------------------------------------------------

TEST(KeyCodecPrefixSuccessor, Examples) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor(std::string_view("ab\xff", 3)), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string_view("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string_view("\x00", 1)), std::string("\x01", 1));
  EXPECT_EQ(PrefixSuccessor(std::string_view("\x01\xfe", 2)), std::string("\x01\xff", 2));
  EXPECT_EQ(PrefixSuccessor(std::string_view("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
}

TEST(KeyCodecPrefixSuccessor, IsTheExclusiveUpperBoundOfThePrefixRange) {
  std::mt19937 rng(31);
  auto bytes = [&](int max_len) {
    static constexpr char kAlpha[] = {'\0', '\x01', '\x7f', '\x80', '\xfe', '\xff'};
    std::string s;
    int n = std::uniform_int_distribution<int>(0, max_len)(rng);
    for (int i = 0; i < n; ++i) s.push_back(kAlpha[std::uniform_int_distribution<int>(0, 5)(rng)]);
    return s;
  };
  for (int i = 0; i < 3000; ++i) {
    std::string p = bytes(4);
    std::string succ = PrefixSuccessor(p);
    for (int j = 0; j < 20; ++j) {
      std::string s = j % 2 == 0 ? p + bytes(4) : bytes(6);
      bool has_prefix = s.starts_with(p);
      bool in_range = ByteCompare(s, p) >= 0 && (succ.empty() || ByteCompare(s, succ) < 0);
      ASSERT_EQ(in_range, has_prefix)
          << "prefix " << ToHex(p) << " string " << ToHex(s) << " successor " << ToHex(succ);
    }
    if (succ.empty()) {
      EXPECT_EQ(p.find_first_not_of('\xff'), std::string::npos) << ToHex(p);
    } else {
      EXPECT_GT(ByteCompare(succ, p), 0);
    }
  }
}

}  // namespace
}  // namespace vigil::storage
