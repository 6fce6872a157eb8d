// Hashing: golden digests pinned from the command-line tools, streaming in odd
// chunks, names and hex parsing. The digests are part of the on-disk format
// (catalogue entries, hash-index keys): a change here is a format change.
#include "storage/hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vigil::storage {
namespace {

constexpr HashAlgorithm kAll[] = {
    HashAlgorithm::kXxh3_128, HashAlgorithm::kSha256, HashAlgorithm::kSha512, HashAlgorithm::kSha1,
    HashAlgorithm::kMd5,      HashAlgorithm::kSha224, HashAlgorithm::kSha384};

// 1 MiB: byte i = (i * 31 + (i >> 8)) & 0xff. Produced for the command-line
// tools with:
//   python3 -c "open('pattern','wb').write(bytes((i*31 + (i>>8)) & 0xff
//                                              for i in range(1<<20)))"
std::vector<uint8_t> Pattern() {
  std::vector<uint8_t> p(1 << 20);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>((i * 31 + (i >> 8)) & 0xff);
  return p;
}

struct Golden {
  HashAlgorithm alg;
  const char* empty;
  const char* abc;
  const char* pattern;
};

// Obtained on 2026-11-22 with, for each of the files `empty` (0 bytes), `abc`
// (printf 'abc') and `pattern` (above):
//   xxhsum -H2 FILE   (xxhsum 0.8.1; prints XXH128 in canonical big-endian
//                      order, high 64 bits first)
//   sha256sum FILE, sha512sum FILE, sha1sum FILE, md5sum FILE,
//   sha224sum FILE, sha384sum FILE   (GNU coreutils)
const Golden kGolden[] = {
    {HashAlgorithm::kXxh3_128, "99aa06d3014798d86001c324468d497f",
     "06b05ab6733a618578af5f94892f3950", "6f9c6cb486a848907b185274974b1fd6"},
    {HashAlgorithm::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "f6a34d4c79c3d12c297589206bf216b084347471a53ea5e7fe9a46bd1230f098"},
    {HashAlgorithm::kSha512,
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877ee"
     "c2f63b931bd47417a81a538327af927da3e",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fee"
     "bbd454d4423643ce80e2a9ac94fa54ca49f",
     "649a0c64934370698ff9d6d5b40130c1b6f7fade94f6f29a363aaec752102a34b54df0bd9e5cefa2bf0ca6fd68d25"
     "9a2b556ce7d4cce4272de3d7c4c3aaae145"},
    {HashAlgorithm::kSha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "a9993e364706816aba3e25717850c26c9cd0d89d", "9558d05e282a47120369ffeb0605ab254c87cad5"},
    {HashAlgorithm::kMd5, "d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72",
     "717f0920b9c39605f4ad6923e0e0953b"},
    {HashAlgorithm::kSha224, "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
     "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
     "4bc1d79d5be2832086653c53b118c7247bc4d858dbb954be811112f3"},
    {HashAlgorithm::kSha384,
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b"
     "95b",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c82"
     "5a7",
     "79454623fc20c545be0c3d3682ee433aaef1b85ea7efee47f6d6f9cd1b558b63f25d066adf49f6b461b8b4df178d2"
     "1cd"},
};

TEST(HashGolden, EveryAlgorithmIsPinned) {
  ASSERT_EQ(std::size(kGolden), std::size(kAll));
  for (size_t i = 0; i < std::size(kAll); ++i) EXPECT_EQ(kGolden[i].alg, kAll[i]);
}

TEST(HashGolden, EmptyInput) {
  for (const Golden& g : kGolden) {
    Digest d = HashBytes(g.alg, std::string_view());
    EXPECT_EQ(d.Hex(), g.empty) << AlgorithmName(g.alg);
    EXPECT_EQ(d.algorithm(), g.alg);
    EXPECT_EQ(d.size(), DigestSize(g.alg));
  }
}

TEST(HashGolden, Abc) {
  for (const Golden& g : kGolden) {
    EXPECT_EQ(HashBytes(g.alg, "abc").Hex(), g.abc) << AlgorithmName(g.alg);
  }
}

TEST(HashGolden, OneMebibytePattern) {
  std::vector<uint8_t> p = Pattern();
  for (const Golden& g : kGolden) {
    EXPECT_EQ(HashBytes(g.alg, p).Hex(), g.pattern) << AlgorithmName(g.alg);
  }
}

TEST(HashGolden, DigestSizesMatchHexLengths) {
  for (const Golden& g : kGolden) {
    EXPECT_EQ(2 * DigestSize(g.alg), std::string(g.abc).size()) << AlgorithmName(g.alg);
  }
  EXPECT_EQ(DigestSize(HashAlgorithm::kXxh3_128), 16u);
  EXPECT_EQ(DigestSize(HashAlgorithm::kSha512), static_cast<size_t>(Digest::kMaxSize));
}

TEST(HashStreaming, OddChunksEqualOneShot) {
  std::vector<uint8_t> p = Pattern();
  const size_t kChunks[] = {1, 3, 7, 63, 64, 65, 127, 4095, 65537, 333333};
  for (const Golden& g : kGolden) {
    auto h = NewHasher(g.alg);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->algorithm(), g.alg);
    for (size_t chunk : kChunks) {
      h->Reset();
      for (size_t off = 0; off < p.size(); off += chunk) {
        size_t n = std::min(chunk, p.size() - off);
        h->Update({p.data() + off, n});
      }
      EXPECT_EQ(h->Finish().Hex(), g.pattern) << AlgorithmName(g.alg) << " chunk " << chunk;
    }
  }
}

TEST(HashStreaming, RandomSplitsAndEmptyUpdates) {
  std::vector<uint8_t> p = Pattern();
  std::mt19937 rng(77);
  for (const Golden& g : kGolden) {
    auto h = NewHasher(g.alg);
    h->Reset();
    size_t off = 0;
    while (off < p.size()) {
      size_t n =
          std::min<size_t>(std::uniform_int_distribution<size_t>(0, 9000)(rng), p.size() - off);
      h->Update({p.data() + off, n});  // n may be 0
      off += n;
    }
    EXPECT_EQ(h->Finish().Hex(), g.pattern) << AlgorithmName(g.alg);
  }
}

TEST(HashStreaming, ResetMakesTheHasherReusable) {
  for (const Golden& g : kGolden) {
    auto h = NewHasher(g.alg);
    h->Update({reinterpret_cast<const uint8_t*>("garbage"), 7});
    (void)h->Finish();
    h->Reset();
    h->Update({reinterpret_cast<const uint8_t*>("abc"), 3});
    EXPECT_EQ(h->Finish().Hex(), g.abc) << AlgorithmName(g.alg);
    h->Reset();
    EXPECT_EQ(h->Finish().Hex(), g.empty) << AlgorithmName(g.alg);
  }
}

TEST(HashNames, AlgorithmNames) {
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kXxh3_128), "xxh3-128");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kSha256), "sha256");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kSha512), "sha512");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kSha1), "sha1");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kMd5), "md5");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kSha224), "sha224");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kSha384), "sha384");
}

TEST(HashNames, PersistedNumbersNeverChange) {
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kXxh3_128), 1);
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kSha256), 2);
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kSha512), 3);
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kSha1), 4);
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kMd5), 5);
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kSha224), 6);
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kSha384), 7);
  EXPECT_FALSE(IsKnownAlgorithm(0));
  for (int v = 1; v <= 7; ++v) EXPECT_TRUE(IsKnownAlgorithm(static_cast<uint8_t>(v))) << v;
  for (int v = 8; v <= 255; ++v) EXPECT_FALSE(IsKnownAlgorithm(static_cast<uint8_t>(v))) << v;
}

TEST(HashNames, ParseAlgorithm) {
  for (HashAlgorithm a : kAll) EXPECT_EQ(ParseAlgorithm(AlgorithmName(a)), a);
  EXPECT_EQ(ParseAlgorithm("SHA-256"), HashAlgorithm::kSha256);
  EXPECT_EQ(ParseAlgorithm("sha-256"), HashAlgorithm::kSha256);
  EXPECT_EQ(ParseAlgorithm("Sha512"), HashAlgorithm::kSha512);
  EXPECT_EQ(ParseAlgorithm("SHA-1"), HashAlgorithm::kSha1);
  EXPECT_EQ(ParseAlgorithm("MD5"), HashAlgorithm::kMd5);
  EXPECT_EQ(ParseAlgorithm("XXH3-128"), HashAlgorithm::kXxh3_128);
  EXPECT_EQ(ParseAlgorithm("xxh128"), HashAlgorithm::kXxh3_128);
  EXPECT_EQ(ParseAlgorithm("SHA-224"), HashAlgorithm::kSha224);
  EXPECT_EQ(ParseAlgorithm("sha384"), HashAlgorithm::kSha384);
  EXPECT_FALSE(ParseAlgorithm("").has_value());
  EXPECT_FALSE(ParseAlgorithm("sha3-256").has_value());
  EXPECT_FALSE(ParseAlgorithm("crc32").has_value());
  EXPECT_FALSE(ParseAlgorithm("sha").has_value());
  EXPECT_FALSE(ParseAlgorithm("sha2566").has_value());
  EXPECT_FALSE(ParseAlgorithm("md5 ").has_value());
}

TEST(HashHex, FromHexRoundTripsAndAcceptsUpperCase) {
  for (const Golden& g : kGolden) {
    auto d = Digest::FromHex(g.alg, g.abc);
    ASSERT_TRUE(d.has_value()) << AlgorithmName(g.alg);
    EXPECT_EQ(*d, HashBytes(g.alg, "abc"));
    EXPECT_EQ(d->Hex(), g.abc);
    std::string upper(g.abc);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto u = Digest::FromHex(g.alg, upper);
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(*u, *d);
  }
}

TEST(HashHex, FromHexRejectsBadInput) {
  const std::string good = "06b05ab6733a618578af5f94892f3950";
  EXPECT_TRUE(Digest::FromHex(HashAlgorithm::kXxh3_128, good).has_value());
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kXxh3_128, good.substr(1)).has_value());
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kXxh3_128, good + "00").has_value());
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kXxh3_128, "").has_value());
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kSha256, good).has_value()) << "wrong length";
  std::string bad = good;
  bad[5] = 'g';
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kXxh3_128, bad).has_value());
  bad[5] = ' ';
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kXxh3_128, bad).has_value());
  bad = good;
  bad[0] = '\0';
  EXPECT_FALSE(Digest::FromHex(HashAlgorithm::kXxh3_128, bad).has_value());
}

TEST(HashDigest, EqualityIncludesTheAlgorithm) {
  auto x = Digest::FromHex(HashAlgorithm::kXxh3_128, "d41d8cd98f00b204e9800998ecf8427e");
  auto m = Digest::FromHex(HashAlgorithm::kMd5, "d41d8cd98f00b204e9800998ecf8427e");
  ASSERT_TRUE(x && m);
  EXPECT_FALSE(*x == *m);
  EXPECT_EQ(m->ToString(), "md5:d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(x->ToString(), "xxh3-128:d41d8cd98f00b204e9800998ecf8427e");
  Digest empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.Hex(), "");
  EXPECT_FALSE(x->empty());
  EXPECT_EQ(x->view().size(), 16u);
}

}  // namespace
}  // namespace vigil::storage
