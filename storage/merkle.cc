#include "storage/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "storage/catalogue.h"
#include "storage/hex.h"

namespace vigil::storage {

namespace {

MerkleHash Sha256(const void* data, size_t n) {
  MerkleHash out{};
  unsigned int len = 0;
  // EVP_Digest with the built-in SHA-256 cannot fail for in-memory input.
  EVP_Digest(data, n, out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

void PutBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Largest power of two strictly smaller than n. REQUIRES n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

std::string MerkleHex(const MerkleHash& h) {
  return HexEncode({reinterpret_cast<const char*>(h.data()), h.size()});
}

std::optional<MerkleHash> MerkleFromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::optional<std::string> bytes = HexDecode(hex);
  if (!bytes) return std::nullopt;
  MerkleHash h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

MerkleHash MerkleLeafHash(std::string_view leaf) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  MerkleHash out{};
  unsigned int len = 0;
  const unsigned char prefix = 0x00;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, &prefix, 1);
  EVP_DigestUpdate(ctx, leaf.data(), leaf.size());
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Sha256(buf, sizeof buf);
}

MerkleHash MerkleEmptyRoot() { return Sha256("", 0); }

void MerkleBuilder::AddLeafHash(const MerkleHash& leaf_hash) {
  Subtree t{0, leaf_hash};
  // Merge equal-height complete subtrees: the stack mirrors the binary
  // representation of size_.
  while (!stack_.empty() && stack_.back().height == t.height) {
    t.hash = MerkleNodeHash(stack_.back().hash, t.hash);
    ++t.height;
    stack_.pop_back();
  }
  stack_.push_back(t);
  ++size_;
}

MerkleHash MerkleBuilder::Root() const {
  if (stack_.empty()) return MerkleEmptyRoot();
  // RFC 9162 splits at the largest power of two: the left part is the
  // largest complete subtree, the right part recursively the rest. Folding
  // the stack from the smallest (rightmost) subtree gives that shape.
  MerkleHash acc = stack_.back().hash;
  for (size_t i = stack_.size() - 1; i-- > 0;) acc = MerkleNodeHash(stack_[i].hash, acc);
  return acc;
}

void MerkleBuilder::Reset() {
  stack_.clear();
  size_ = 0;
}

std::string EntryLeaf(std::string_view path, uint64_t size, const Digest& digest) {
  std::string out;
  out.reserve(4 + path.size() + 8 + 2 + digest.size());
  PutBE(&out, path.size(), 4);
  out.append(path);
  PutBE(&out, size, 8);
  out.push_back(digest.empty() ? '\0' : static_cast<char>(digest.algorithm()));
  out.push_back(static_cast<char>(digest.size()));
  out.append(digest.view());
  return out;
}

std::string BoundEntryLeaf(std::string_view tenant, std::string_view backup_set,
                           std::string_view path, uint64_t size, const Digest& digest) {
  std::string out(1, static_cast<char>(kBoundLeafFormat));
  for (std::string_view name : {tenant, backup_set}) {
    PutBE(&out, name.size(), 4);
    out.append(name);
  }
  out += EntryLeaf(path, size, digest);
  return out;
}

StatusOr<DecodedEntryLeaf> DecodeEntryLeaf(std::string_view in) {
  auto get = [&](size_t bytes, uint64_t* v) {
    if (in.size() < bytes) return false;
    *v = 0;
    for (size_t i = 0; i < bytes; ++i) *v = *v << 8 | static_cast<uint8_t>(in[i]);
    in.remove_prefix(bytes);
    return true;
  };
  DecodedEntryLeaf d;
  if (!in.empty() && static_cast<uint8_t>(in[0]) == kBoundLeafFormat) {
    d.format = kBoundLeafFormat;
    in.remove_prefix(1);
    for (std::string* name : {&d.tenant, &d.backup_set}) {
      uint64_t len = 0;
      if (!get(4, &len) || in.size() < len) {
        return absl::InvalidArgumentError(name == &d.tenant ? "entry leaf: truncated tenant"
                                                            : "entry leaf: truncated backup set");
      }
      name->assign(in.substr(0, len));
      in.remove_prefix(len);
    }
  } else if (!in.empty() && in[0] != '\0') {
    return absl::InvalidArgumentError("entry leaf: unknown leaf format " +
                                      std::to_string(static_cast<uint8_t>(in[0])));
  }
  uint64_t path_len = 0, alg = 0, dlen = 0;
  if (!get(4, &path_len)) return absl::InvalidArgumentError("entry leaf: truncated path length");
  if (in.size() < path_len) return absl::InvalidArgumentError("entry leaf: truncated path");
  d.path.assign(in.substr(0, path_len));
  in.remove_prefix(path_len);
  if (!get(8, &d.size)) return absl::InvalidArgumentError("entry leaf: truncated size");
  if (!get(1, &alg)) return absl::InvalidArgumentError("entry leaf: truncated algorithm");
  if (!get(1, &dlen)) return absl::InvalidArgumentError("entry leaf: truncated digest length");
  if (in.size() != dlen) {
    return absl::InvalidArgumentError(in.size() < dlen ? "entry leaf: truncated digest"
                                                       : "entry leaf: trailing bytes");
  }
  if (alg == 0) {
    if (dlen != 0) return absl::InvalidArgumentError("entry leaf: digest without algorithm");
    return d;
  }
  if (!IsKnownAlgorithm(static_cast<uint8_t>(alg))) {
    return absl::InvalidArgumentError("entry leaf: unknown algorithm id " + std::to_string(alg));
  }
  auto a = static_cast<HashAlgorithm>(alg);
  if (dlen != DigestSize(a)) {
    return absl::InvalidArgumentError("entry leaf: digest length " + std::to_string(dlen) +
                                      " does not fit " + std::string(AlgorithmName(a)));
  }
  d.digest = Digest(a, {reinterpret_cast<const uint8_t*>(in.data()), in.size()});
  return d;
}

StatusOr<TreeHead> CatalogueRoot(Catalogue& catalogue, const Scope& scope) {
  MerkleBuilder b;
  auto scan = catalogue.Scan(scope);
  for (; scan->Valid(); scan->Next()) {
    const EntryRecord& e = scan->entry();
    b.Add(BoundEntryLeaf(scope.tenant, scope.backup_set, scan->path(), e.size, e.digest));
  }
  if (Status s = scan->status(); !s.ok()) return s;
  return TreeHead{b.size(), b.Root()};
}

std::vector<std::pair<uint64_t, uint64_t>> AuditPathRanges(uint64_t index, uint64_t tree_size) {
  std::vector<std::pair<uint64_t, uint64_t>> top_down;
  uint64_t lo = 0, hi = tree_size;
  while (index < tree_size && hi - lo > 1) {
    uint64_t k = SplitPoint(hi - lo);
    if (index < lo + k) {
      top_down.emplace_back(lo + k, hi);
      hi = lo + k;
    } else {
      top_down.emplace_back(lo, lo + k);
      lo = lo + k;
    }
  }
  std::reverse(top_down.begin(), top_down.end());
  return top_down;
}

StatusOr<std::vector<MerkleHash>> InclusionProof(
    uint64_t index, uint64_t tree_size, const std::function<MerkleHash(uint64_t)>& leaf_hash) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError("inclusion proof: index " + std::to_string(index) +
                                      " is not below tree size " + std::to_string(tree_size));
  }
  auto ranges = AuditPathRanges(index, tree_size);
  // The ranges are disjoint and, with `index`, cover [0, tree_size): visit
  // them in leaf order with one builder, reading each leaf once.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ranges[a].first < ranges[b].first; });
  std::vector<MerkleHash> path(ranges.size());
  MerkleBuilder b;
  for (size_t r : order) {
    b.Reset();
    for (uint64_t i = ranges[r].first; i < ranges[r].second; ++i) b.AddLeafHash(leaf_hash(i));
    path[r] = b.Root();
  }
  return path;
}

StatusOr<std::vector<MerkleHash>> InclusionProof(uint64_t index,
                                                 std::span<const MerkleHash> leaf_hashes) {
  return InclusionProof(index, leaf_hashes.size(),
                        [&](uint64_t i) { return leaf_hashes[static_cast<size_t>(i)]; });
}

Status VerifyInclusion(const MerkleHash& leaf_hash, uint64_t index, uint64_t tree_size,
                       std::span<const MerkleHash> path, const MerkleHash& root) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError("inclusion proof: index " + std::to_string(index) +
                                      " is not below tree size " + std::to_string(tree_size));
  }
  uint64_t fn = index, sn = tree_size - 1;
  MerkleHash r = leaf_hash;
  for (const MerkleHash& p : path) {
    if (sn == 0) {
      return absl::InvalidArgumentError("inclusion proof: path longer than the tree allows");
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = MerkleNodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError("inclusion proof: path shorter than the tree needs");
  }
  if (r != root) {
    return absl::InvalidArgumentError(
        "inclusion proof: the path does not lead to the root (computed " + MerkleHex(r) +
        ", expected " + MerkleHex(root) + ")");
  }
  return absl::OkStatus();
}

Status VerifyInclusionProof(const InclusionProofDoc& doc) {
  return VerifyInclusion(MerkleLeafHash(doc.leaf), doc.index, doc.tree_size, doc.path, doc.root);
}

StatusOr<InclusionProofDoc> CatalogueInclusionProof(Catalogue& catalogue, const Scope& scope,
                                                    std::string_view path) {
  InclusionProofDoc doc;
  bool found = false;
  uint64_t n = 0;
  {
    auto scan = catalogue.Scan(scope);
    for (; scan->Valid(); scan->Next(), ++n) {
      if (!found && scan->path() == path) {
        found = true;
        doc.index = n;
        doc.leaf = BoundEntryLeaf(scope.tenant, scope.backup_set, path, scan->entry().size,
                                  scan->entry().digest);
      }
    }
    if (Status s = scan->status(); !s.ok()) return s;
  }
  if (!found) return absl::NotFoundError("no entry " + std::string(path) + " in the restore point");
  doc.tree_size = n;

  // Second scan: the audit path (leaf_hash is called in increasing order,
  // never for doc.index) and the root, from the same stream of leaves.
  auto scan = catalogue.Scan(scope);
  uint64_t pos = 0;  // index of the leaf under the scanner
  MerkleBuilder root;
  bool changed = false;
  auto advance_to = [&](uint64_t i) -> MerkleHash {
    while (pos <= i && scan->Valid()) {
      MerkleHash h = MerkleLeafHash(BoundEntryLeaf(scope.tenant, scope.backup_set, scan->path(),
                                                   scan->entry().size, scan->entry().digest));
      root.AddLeafHash(h);
      if (pos == doc.index && h != MerkleLeafHash(doc.leaf)) changed = true;
      scan->Next();
      if (pos++ == i) return h;
    }
    changed = true;
    return MerkleHash{};
  };
  auto path_or = InclusionProof(doc.index, n, advance_to);
  if (!path_or.ok()) return path_or.status();
  if (doc.index == n - 1) advance_to(n - 1);  // the last leaf has no range after it
  if (scan->Valid()) changed = true;
  if (Status s = scan->status(); !s.ok()) return s;
  if (changed || root.size() != n) {
    return absl::AbortedError("the restore point changed while the proof was issued; retry");
  }
  doc.path = *std::move(path_or);
  doc.root = root.Root();
  doc.tenant = scope.tenant;
  doc.backup_set = scope.backup_set;
  return doc;
}

}  // namespace vigil::storage
