// Tests of storage/merkle.h against two independent references:
//   - known answers computed with python3 hashlib (script below), and
//   - a naive recursive RFC 9162 implementation written here from the RFC
//     text (MTH and PATH), sharing no code with the streaming builder.
#include "storage/merkle.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::FromHex;
using testing::ReferencePathOrder;
using testing::TempDir;
using testing::ToHex;

// ---- Naive reference (RFC 9162 §2.1.1, §2.1.3.1, recursive) --------------

std::string RefSha256(std::string_view data) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

// Largest power of two < n, by doubling (n > 1).
size_t RefSplit(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH over leaf *bytes* d[lo, hi).
std::string RefMth(const std::vector<std::string>& d, size_t lo, size_t hi) {
  if (hi == lo) return RefSha256("");
  if (hi - lo == 1) return RefSha256(std::string(1, '\0') + d[lo]);
  size_t k = RefSplit(hi - lo);
  return RefSha256("\x01" + RefMth(d, lo, lo + k) + RefMth(d, lo + k, hi));
}
std::string RefMth(const std::vector<std::string>& d) { return RefMth(d, 0, d.size()); }

// PATH(m, D[lo:hi]).
std::vector<std::string> RefPath(size_t m, const std::vector<std::string>& d, size_t lo,
                                 size_t hi) {
  if (hi - lo <= 1) return {};
  size_t k = RefSplit(hi - lo);
  std::vector<std::string> p;
  if (m < k) {
    p = RefPath(m, d, lo, lo + k);
    p.push_back(RefMth(d, lo + k, hi));
  } else {
    p = RefPath(m - k, d, lo + k, hi);
    p.push_back(RefMth(d, lo, lo + k));
  }
  return p;
}

std::vector<std::string> Leaves(size_t n) {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i) v.push_back("leaf " + std::to_string(i));
  return v;
}

std::string Str(const MerkleHash& h) { return std::string(h.begin(), h.end()); }
MerkleHash Hash(std::string_view s) {
  MerkleHash h{};
  std::copy(s.begin(), s.end(), h.begin());
  return h;
}

MerkleHash BuilderRoot(const std::vector<std::string>& leaves) {
  MerkleBuilder b;
  for (const auto& l : leaves) b.Add(l);
  return b.Root();
}

// ---- Tree hash --------------------------------------------------------------

// Known answers for leaves "leaf 0" .. "leaf n-1", computed with:
//
//   import hashlib
//   H = lambda b: hashlib.sha256(b).digest()
//   def mth(d):
//       n = len(d)
//       if n == 0: return H(b"")
//       if n == 1: return H(b"\x00" + d[0])
//       k = 1
//       while k * 2 < n: k *= 2
//       return H(b"\x01" + mth(d[:k]) + mth(d[k:]))
//   print(mth([b"leaf %d" % i for i in range(n)]).hex())
//
// n = 0 is SHA-256 of the empty string (`printf '' | openssl dgst -sha256`).
TEST(MerkleTest, KnownAnswers) {
  const std::pair<size_t, const char*> kCases[] = {
      {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {1, "1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d305"},
      {2, "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3"},
      {3, "d4f92c8fbb89720eb3b55677c7d7efaddfeb10d11a1a84a0ba8f1a23337faa95"},
      {4, "4f631084a157c54f54fcfb23ff5eb8650c4ba160c295bb13a9832b109d52677e"},
      {5, "341515982d650e23520dbd54d7fcf0afa1b70cc3a16a411d464dc9c1ac96c301"},
      {7, "5a61fc2b54f9cfa71774f2432143dd40c6cb2b11947faf65a7d3da5cb65199c8"},
      {8, "c5c2c820ed342fdda8ce896b6b9cf5b8c00a21cc4b20714cc6e5d3c05c35240b"},
      {9, "7447cadc6862b30dedcb28c4b329909366b3bd338f6a90fefadcc4b2a8a2b948"},
      {1000, "2ff33fb9d8f14f89ca306289633336a168ff3f4532e8f741a0019dcb4c1d60a1"},
  };
  for (const auto& [n, hex] : kCases) {
    SCOPED_TRACE(n);
    EXPECT_EQ(MerkleHex(BuilderRoot(Leaves(n))), hex);
    EXPECT_EQ(ToHex(RefMth(Leaves(n))), hex);  // the reference agrees too
  }
}

TEST(MerkleTest, EmptyAndPrimitives) {
  EXPECT_EQ(MerkleHex(MerkleEmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Str(MerkleLeafHash("x")), RefSha256(std::string("\0x", 2)));
  MerkleHash a = MerkleLeafHash("a"), b = MerkleLeafHash("b");
  EXPECT_EQ(Str(MerkleNodeHash(a, b)), RefSha256("\x01" + Str(a) + Str(b)));
  EXPECT_NE(MerkleNodeHash(a, b), MerkleNodeHash(b, a));
}

// Root() after every Add() matches the reference for every prefix: Root()
// does not disturb the stack, and every n up to 300 (all shapes of up to 9
// levels) is right.
TEST(MerkleTest, EveryPrefixMatchesReference) {
  auto leaves = Leaves(300);
  MerkleBuilder b;
  EXPECT_EQ(Str(b.Root()), RefMth({}));
  for (size_t n = 1; n <= leaves.size(); ++n) {
    b.Add(leaves[n - 1]);
    ASSERT_EQ(b.size(), n);
    ASSERT_EQ(Str(b.Root()), RefMth(leaves, 0, n)) << "n=" << n;
  }
  b.Reset();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.Root(), MerkleEmptyRoot());
}

TEST(MerkleTest, LeafOrderMatters) {
  auto leaves = Leaves(5);
  auto swapped = leaves;
  std::swap(swapped[1], swapped[2]);
  EXPECT_NE(BuilderRoot(leaves), BuilderRoot(swapped));
}

// ---- Leaf encoding ------------------------------------------------------------

// Known answers written with python3 struct:
//   struct.pack(">I", 7) + b"dir/a\xffb" + struct.pack(">Q", 1234567890123)
//     + bytes([2, 32]) + hashlib.sha256(b"hello").digest()
//   struct.pack(">I", 4) + b"link" + struct.pack(">Q", 9) + bytes([0, 0])
TEST(MerkleTest, EntryLeafKnownAnswers) {
  Digest d = HashBytes(HashAlgorithm::kSha256, "hello");
  EXPECT_EQ(ToHex(EntryLeaf("dir/a\xff"
                            "b",
                            1234567890123, d)),
            "000000076469722f61ff620000011f71fb04cb02202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa"
            "7425e73043362938b9824");
  EXPECT_EQ(ToHex(EntryLeaf("link", 9, Digest())), "000000046c696e6b00000000000000090000");
}

TEST(MerkleTest, EntryLeafDecodes) {
  Digest d = HashBytes(HashAlgorithm::kXxh3_128, "content");
  auto dec = DecodeEntryLeaf(EntryLeaf("a/b c", 42, d));
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(dec->path, "a/b c");
  EXPECT_EQ(dec->size, 42u);
  ASSERT_TRUE(dec->digest.has_value());
  EXPECT_EQ(*dec->digest, d);

  auto none = DecodeEntryLeaf(EntryLeaf("l", 1, Digest()));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->digest.has_value());

  std::string good = EntryLeaf("p", 1, HashBytes(HashAlgorithm::kSha256, "x"));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeEntryLeaf(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeEntryLeaf(good + "x").ok());
  std::string bad_alg = good;
  bad_alg[4 + 1 + 8] = 99;
  EXPECT_FALSE(DecodeEntryLeaf(bad_alg).ok());
  std::string wrong_len = good;
  wrong_len[4 + 1 + 8] = static_cast<char>(HashAlgorithm::kMd5);
  EXPECT_FALSE(DecodeEntryLeaf(wrong_len).ok());
}

// Known answer written with python3 struct (docs/proofs.md's example):
//   b"\x02" + struct.pack(">I", 4) + b"acme" + struct.pack(">I", 2) + b"fs"
//     + the format-1 leaf of EntryLeafKnownAnswers
TEST(MerkleTest, BoundEntryLeafKnownAnswerAndDecode) {
  Digest d = HashBytes(HashAlgorithm::kSha256, "hello");
  const std::string leaf = BoundEntryLeaf("acme", "fs",
                                          "dir/a\xff"
                                          "b",
                                          1234567890123, d);
  EXPECT_EQ(ToHex(leaf),
            "020000000461636d65000000026673"
            "000000076469722f61ff620000011f71fb04cb02202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa"
            "7425e73043362938b9824");
  auto dec = DecodeEntryLeaf(leaf);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(dec->format, kBoundLeafFormat);
  EXPECT_EQ(dec->tenant, "acme");
  EXPECT_EQ(dec->backup_set, "fs");
  EXPECT_EQ(dec->path,
            "dir/a\xff"
            "b");
  ASSERT_TRUE(dec->digest.has_value());
  EXPECT_EQ(*dec->digest, d);
  // A format-1 leaf still decodes, and says so.
  auto v1 = DecodeEntryLeaf(EntryLeaf("p", 1, d));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->format, 1);
  EXPECT_TRUE(v1->backup_set.empty());
  for (size_t cut = 0; cut < leaf.size(); ++cut) {
    EXPECT_FALSE(DecodeEntryLeaf(leaf.substr(0, cut)).ok()) << cut;
  }
  std::string unknown = leaf;
  unknown[0] = 3;
  EXPECT_FALSE(DecodeEntryLeaf(unknown).ok());
  // The same entry of another set (or tenant) is another leaf.
  EXPECT_NE(leaf, BoundEntryLeaf("acme", "fs2",
                                 "dir/a\xff"
                                 "b",
                                 1234567890123, d));
  EXPECT_NE(BoundEntryLeaf("a", "bc", "p", 1, d), BoundEntryLeaf("ab", "c", "p", 1, d));
}

// Different entries never share a leaf: lengths are prefixed.
TEST(MerkleTest, EntryLeafIsUnambiguous) {
  Digest d = HashBytes(HashAlgorithm::kSha256, "x");
  EXPECT_NE(EntryLeaf("ab", 1, d), EntryLeaf("a", 1, d));
  EXPECT_NE(EntryLeaf("a", 1, d), EntryLeaf("a", 2, d));
  EXPECT_NE(EntryLeaf("a", 1, d), EntryLeaf("a", 1, HashBytes(HashAlgorithm::kSha256, "y")));
  EXPECT_NE(EntryLeaf("a", 1, Digest()), EntryLeaf("a", 1, d));
}

// ---- Inclusion proofs ---------------------------------------------------------

MerkleHash FlipBit(MerkleHash h, int bit) {
  h[bit / 8 % 32] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

TEST(MerkleTest, InclusionProofsForEveryIndexUpTo33) {
  for (size_t n = 1; n <= 33; ++n) {
    auto leaves = Leaves(n);
    std::vector<MerkleHash> leaf_hashes;
    for (const auto& l : leaves) leaf_hashes.push_back(MerkleLeafHash(l));
    MerkleHash root = Hash(RefMth(leaves));
    for (size_t m = 0; m < n; ++m) {
      SCOPED_TRACE("n=" + std::to_string(n) + " m=" + std::to_string(m));
      auto path = InclusionProof(m, leaf_hashes);
      ASSERT_TRUE(path.ok()) << path.status();
      auto ref = RefPath(m, leaves, 0, n);
      ASSERT_EQ(path->size(), ref.size());
      for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(Str((*path)[i]), ref[i]) << i;

      // The callback form reads leaves in increasing order, never leaf m.
      uint64_t last = 0;
      bool first = true, ordered = true, asked_m = false;
      auto cb = InclusionProof(m, n, [&](uint64_t i) {
        if (!first && i <= last) ordered = false;
        if (i == m) asked_m = true;
        first = false;
        last = i;
        return leaf_hashes[i];
      });
      ASSERT_TRUE(cb.ok());
      EXPECT_EQ(*cb, *path);
      EXPECT_TRUE(ordered);
      EXPECT_FALSE(asked_m);

      const MerkleHash& lh = leaf_hashes[m];
      ASSERT_TRUE(VerifyInclusion(lh, m, n, *path, root).ok());
      // A flipped bit in the leaf, the root, or any path element fails.
      for (int bit : {0, 77, 255}) {
        EXPECT_FALSE(VerifyInclusion(FlipBit(lh, bit), m, n, *path, root).ok());
        EXPECT_FALSE(VerifyInclusion(lh, m, n, *path, FlipBit(root, bit)).ok());
        for (size_t i = 0; i < path->size(); ++i) {
          auto bad = *path;
          bad[i] = FlipBit(bad[i], bit);
          EXPECT_FALSE(VerifyInclusion(lh, m, n, bad, root).ok()) << "path[" << i << "]";
        }
      }
      // Wrong index: another leaf position of the same tree never verifies.
      for (size_t other = 0; other < n + 2; ++other) {
        if (other == m) continue;
        EXPECT_FALSE(VerifyInclusion(lh, other, n, *path, root).ok()) << "index " << other;
      }
      // Wrong size: fails whenever the audit path of (m, size') has another
      // shape. (Where the shape is the same the root is the same expression,
      // so only the root binds the size; proofs sign root and size together.)
      for (uint64_t size2 : {uint64_t{n - 1}, uint64_t{n + 1}, uint64_t{2 * n + 5}, uint64_t{0}}) {
        if (size2 == n) continue;
        bool same_shape = size2 > m && RefPath(m, Leaves(size2), 0, size2).size() == ref.size();
        if (size2 > m && same_shape) {
          // Same length: verify only if every step goes the same way.
          auto r1 = AuditPathRanges(m, n), r2 = AuditPathRanges(m, size2);
          bool same_dirs = true;
          for (size_t i = 0; i < r1.size(); ++i) {
            same_dirs &= (r1[i].first < m) == (r2[i].first < m);
          }
          EXPECT_EQ(VerifyInclusion(lh, m, size2, *path, root).ok(), same_dirs) << size2;
        } else {
          EXPECT_FALSE(VerifyInclusion(lh, m, size2, *path, root).ok()) << "size " << size2;
        }
      }
      // Truncated or extended paths fail.
      if (!path->empty()) {
        auto shorter = *path;
        shorter.pop_back();
        EXPECT_FALSE(VerifyInclusion(lh, m, n, shorter, root).ok());
      }
      auto longer = *path;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(lh, m, n, longer, root).ok());
    }
  }
}

TEST(MerkleTest, InclusionProofRejectsIndexOutOfRange) {
  std::vector<MerkleHash> hashes(3, MerkleLeafHash("x"));
  EXPECT_EQ(InclusionProof(3, hashes).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(InclusionProof(0, std::span<const MerkleHash>()).ok());
  EXPECT_FALSE(VerifyInclusion(MerkleLeafHash("x"), 0, 0, {}, MerkleEmptyRoot()).ok());
}

TEST(MerkleTest, LargeTreeProofs) {
  auto leaves = Leaves(1000);
  std::vector<MerkleHash> hashes;
  for (const auto& l : leaves) hashes.push_back(MerkleLeafHash(l));
  MerkleHash root = BuilderRoot(leaves);
  for (size_t m : {0, 1, 511, 512, 767, 998, 999}) {
    auto path = InclusionProof(m, hashes);
    ASSERT_TRUE(path.ok());
    EXPECT_TRUE(VerifyInclusion(hashes[m], m, 1000, *path, root).ok()) << m;
    EXPECT_FALSE(VerifyInclusion(hashes[m], m, 1000, *path, MerkleLeafHash("y")).ok());
  }
}

// ---- JSON form ----------------------------------------------------------------

TEST(MerkleTest, JsonRoundTripAndVerify) {
  auto leaves = Leaves(9);
  std::vector<MerkleHash> hashes;
  for (const auto& l : leaves) hashes.push_back(MerkleLeafHash(l));
  InclusionProofDoc doc;
  doc.index = 5;
  doc.tree_size = 9;
  doc.leaf = leaves[5];
  doc.path = *InclusionProof(5, hashes);
  doc.root = BuilderRoot(leaves);
  std::string json = SerializeInclusionProof(doc);
  EXPECT_NE(json.find("\"leaf\":\"" + ToHex(leaves[5]) + "\""), std::string::npos) << json;
  auto parsed = ParseInclusionProof(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->index, 5u);
  EXPECT_EQ(parsed->tree_size, 9u);
  EXPECT_EQ(parsed->leaf, leaves[5]);
  EXPECT_EQ(parsed->path, doc.path);
  EXPECT_EQ(parsed->root, doc.root);
  EXPECT_TRUE(VerifyInclusionProof(*parsed).ok());
  parsed->leaf = leaves[4];
  EXPECT_FALSE(VerifyInclusionProof(*parsed).ok());
}

TEST(MerkleTest, JsonErrorsNameTheField) {
  std::string root(64, 'a');
  auto err = [](std::string_view j) {
    auto r = ParseInclusionProof(j);
    EXPECT_FALSE(r.ok()) << j;
    return r.ok() ? std::string() : std::string(r.status().message());
  };
  EXPECT_NE(err("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(err("[]").find("object"), std::string::npos);
  EXPECT_NE(err(R"({"tree_size":1,"leaf":"","path":[],"root":")" + root + "\"}").find("index"),
            std::string::npos);
  EXPECT_NE(
      err(R"({"index":-1,"tree_size":1,"leaf":"","path":[],"root":")" + root + "\"}").find("index"),
      std::string::npos);
  EXPECT_NE(
      err(R"({"index":0,"tree_size":1,"leaf":"zz","path":[],"root":")" + root + "\"}").find("leaf"),
      std::string::npos);
  EXPECT_NE(err(R"({"index":0,"tree_size":1,"leaf":"","path":[],"root":"abc"})").find("root"),
            std::string::npos);
  EXPECT_NE(
      err(R"({"index":0,"tree_size":1,"leaf":"","path":[1],"root":")" + root + "\"}").find("path"),
      std::string::npos);
  EXPECT_NE(err(R"({"index":1,"tree_size":1,"leaf":"","path":[],"root":")" + root + "\"}")
                .find("tree_size"),
            std::string::npos);
}

// ---- Catalogue ----------------------------------------------------------------

TEST(MerkleTest, CatalogueRootAndInclusionProof) {
  TempDir dir;
  auto cat = Catalogue::Open(dir / "db");
  ASSERT_TRUE(cat.ok()) << cat.status();
  Scope scope{"acme", "files", 1'700'000'000'000'000'000};
  Scope other{"acme", "files", 1'700'000'000'000'000'001};

  auto empty = CatalogueRoot(**cat, scope);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->tree_size, 0u);
  EXPECT_EQ(empty->root, MerkleEmptyRoot());

  std::vector<std::string> paths = {"b.txt", "a/z", "a.txt", "a/b/c", "\xff-bin", "a/b.d", "c"};
  std::vector<EntryRecord> recs;
  {
    Catalogue::Writer w(cat->get(), scope);
    for (size_t i = 0; i < paths.size(); ++i) {
      EntryRecord r;
      r.size = i * 10;
      r.mtime_ns = 12345 + static_cast<int64_t>(i);  // not part of the leaf
      r.digest = HashBytes(HashAlgorithm::kSha256, paths[i]);
      if (paths[i] == "c") {
        r.type = EntryType::kSymlink;
        r.digest = Digest();
        r.link_target = "b.txt";
      }
      recs.push_back(r);
      ASSERT_TRUE(w.PutEntry(paths[i], r).ok());
    }
    ASSERT_TRUE(w.Commit(true).ok());
    Catalogue::Writer w2(cat->get(), other);  // another restore point: not in the tree
    EntryRecord r;
    r.digest = HashBytes(HashAlgorithm::kSha256, "other");
    ASSERT_TRUE(w2.PutEntry("a.txt", r).ok());
    ASSERT_TRUE(w2.Commit(true).ok());
  }
  // Independent leaf order: the reference tree order of test_util.h.
  std::vector<size_t> order(paths.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ReferencePathOrder(paths[a], paths[b]) < 0; });
  std::vector<std::string> leaves;
  for (size_t i : order) {
    leaves.push_back(BoundEntryLeaf("acme", "files", paths[i], recs[i].size, recs[i].digest));
  }

  auto head = CatalogueRoot(**cat, scope);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->tree_size, paths.size());
  EXPECT_EQ(Str(head->root), RefMth(leaves));

  for (size_t j = 0; j < order.size(); ++j) {
    const std::string& p = paths[order[j]];
    auto proof = CatalogueInclusionProof(**cat, scope, p);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(proof->index, j) << p;
    EXPECT_EQ(proof->tree_size, paths.size());
    EXPECT_EQ(proof->leaf, leaves[j]);
    EXPECT_EQ(proof->root, head->root);
    EXPECT_TRUE(VerifyInclusionProof(*proof).ok()) << p;
    // Through JSON as a client receives it.
    auto parsed = ParseInclusionProof(SerializeInclusionProof(*proof));
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(VerifyInclusionProof(*parsed).ok());
    // An altered entry (other size) does not verify.
    auto altered = *proof;
    altered.leaf =
        BoundEntryLeaf("acme", "files", p, recs[order[j]].size + 1, recs[order[j]].digest);
    EXPECT_FALSE(VerifyInclusionProof(altered).ok());
    EXPECT_EQ(proof->tenant, "acme");
    EXPECT_EQ(proof->backup_set, "files");
    EXPECT_EQ(parsed->backup_set, "files");
  }
  EXPECT_EQ(CatalogueInclusionProof(**cat, scope, "absent").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vigil::storage
