// Merkle trees over catalogue entries: RFC 9162 (Certificate Transparency
// v2) tree hashing with SHA-256, streaming with O(log n) memory, and
// inclusion proofs (audit paths) issued and verified as in RFC 9162 §2.1.3.
//
// TREE HASH (RFC 9162 §2.1.1), HASH = SHA-256
// -------------------------------------------
//   MTH({})      = SHA-256("")                      (empty tree)
//   MTH({d0})    = SHA-256(0x00 || d0)              (leaf hash)
//   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  for n > 1,
//                  k = the largest power of two smaller than n.
//
// LEAF ENCODING of a catalogue entry (EntryLeaf, persisted: never change it,
// add a new encoding instead). All integers big-endian:
//
//   u32  length of path, then the path bytes (relative, '/'-separated, raw
//        bytes as recorded: not necessarily UTF-8)
//   u64  size in bytes
//   u8   algorithm id (storage::HashAlgorithm: 1 xxh3-128, 2 sha256, ...;
//        0 when the entry has no digest: symlinks and special files)
//   u8   digest length, then the digest bytes (0 bytes when no digest)
//
// No timestamps, no state: the leaf says what the file is, so a client can
// recompute it from its own copy of the file. The leaves of a restore point
// are its entries in catalogue key order (key_codec.h: depth-first, each
// directory's children sorted by name bytes).
//
// BOUND LEAF (BoundEntryLeaf, format 2; what catalogue trees and proofs
// use): the entry's tenant and backup set, then the leaf above:
//
//   u8   0x02 (a format-1 leaf starts with 0x00, the high byte of its path
//        length)
//   u32  length of the tenant name, then its bytes
//   u32  length of the backup set name, then its bytes
//   ...  the format-1 leaf of the entry
//
// Two sets holding the same files have different trees, so an inclusion
// proof of one set's entry never verifies against another set's root.
//
// INCLUSION PROOF JSON (SerializeInclusionProof / ParseInclusionProof):
//
//   {"tenant": "acme", "backup_set": "fs",
//    "index": 5, "tree_size": 9, "leaf": "<hex of the leaf bytes>",
//    "path": ["<hex 32 bytes>", ...], "root": "<hex 32 bytes>"}
//
// "tenant" and "backup_set" repeat what a bound leaf names (absent from
// proofs of format-1 leaves; optional here, required by the proof verifier).
// hex is lower-case on output, either case on input. "path" lists the
// sibling subtree hashes from the leaf upwards (RFC 9162 §2.1.3.1 order).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/hash.h"
#include "storage/status.h"

namespace vigil::storage {

class Catalogue;
struct Scope;

using MerkleHash = std::array<uint8_t, 32>;

std::string MerkleHex(const MerkleHash& h);
std::optional<MerkleHash> MerkleFromHex(std::string_view hex);

// SHA-256(0x00 || leaf).
MerkleHash MerkleLeafHash(std::string_view leaf);
// SHA-256(0x01 || left || right).
MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right);
// SHA-256("").
MerkleHash MerkleEmptyRoot();

// Streaming RFC 9162 tree hash. Keeps one hash per set bit of the leaf count
// (a stack of complete-subtree hashes, at most 64): O(log n) memory.
class MerkleBuilder {
 public:
  // Adds a leaf (its bytes; hashed with the 0x00 prefix).
  void Add(std::string_view leaf) { AddLeafHash(MerkleLeafHash(leaf)); }
  // Adds a leaf by its leaf hash (already SHA-256(0x00 || leaf)).
  void AddLeafHash(const MerkleHash& leaf_hash);
  uint64_t size() const { return size_; }
  // Root of the leaves added so far (MerkleEmptyRoot() if none). Does not
  // change the builder: more leaves may be added afterwards.
  MerkleHash Root() const;
  void Reset();

 private:
  struct Subtree {
    int height;
    MerkleHash hash;
  };
  std::vector<Subtree> stack_;  // heights strictly decreasing
  uint64_t size_ = 0;
};

// The leaf bytes of one catalogue entry (format above). `digest` may be empty
// (symlinks, special files): then the algorithm byte is 0.
std::string EntryLeaf(std::string_view path, uint64_t size, const Digest& digest);

// The first byte of a bound leaf.
inline constexpr uint8_t kBoundLeafFormat = 2;
// The bound leaf (format 2, above) of an entry of `tenant`'s `backup_set`.
std::string BoundEntryLeaf(std::string_view tenant, std::string_view backup_set,
                           std::string_view path, uint64_t size, const Digest& digest);

// Decodes EntryLeaf() or BoundEntryLeaf() bytes. InvalidArgument (never a
// crash) on truncated input, trailing bytes, an unknown leaf format or
// algorithm, or a digest of the wrong length.
struct DecodedEntryLeaf {
  int format = 1;                  // 1: EntryLeaf; kBoundLeafFormat: BoundEntryLeaf
  std::string tenant, backup_set;  // format 2 only
  std::string path;
  uint64_t size = 0;
  std::optional<Digest> digest;  // nullopt: no digest
};
StatusOr<DecodedEntryLeaf> DecodeEntryLeaf(std::string_view leaf);

struct TreeHead {
  uint64_t tree_size = 0;
  MerkleHash root{};
};

// Streams one restore point in key order and returns its tree head (bound
// leaves: BoundEntryLeaf of the scope's tenant and backup set). Memory is
// bounded whatever the number of entries.
StatusOr<TreeHead> CatalogueRoot(Catalogue& catalogue, const Scope& scope);

// The ranges [begin, end) of leaves whose subtree hashes form the audit path
// of leaf `index` in a tree of `tree_size` leaves, in path order (from the
// leaf upwards). REQUIRES index < tree_size.
std::vector<std::pair<uint64_t, uint64_t>> AuditPathRanges(uint64_t index, uint64_t tree_size);

// RFC 9162 §2.1.3.1 audit path of leaf `index`. `leaf_hash(i)` returns the
// leaf hash of leaf i; it is called at most once per leaf, in increasing
// order of i (never for `index` itself), so a sequential reader (a catalogue
// scan) can serve it. Memory: O(log n) hashes plus the path.
// InvalidArgument if index >= tree_size.
StatusOr<std::vector<MerkleHash>> InclusionProof(
    uint64_t index, uint64_t tree_size, const std::function<MerkleHash(uint64_t)>& leaf_hash);
StatusOr<std::vector<MerkleHash>> InclusionProof(uint64_t index,
                                                 std::span<const MerkleHash> leaf_hashes);

// RFC 9162 §2.1.3.2: OK if `path` proves that the leaf with `leaf_hash` is
// leaf `index` of the tree of `tree_size` leaves with root `root`;
// InvalidArgument naming the reason otherwise.
Status VerifyInclusion(const MerkleHash& leaf_hash, uint64_t index, uint64_t tree_size,
                       std::span<const MerkleHash> path, const MerkleHash& root);

// An inclusion proof as shipped to a client (JSON form above).
struct InclusionProofDoc {
  // Whose entry the leaf is (a bound leaf's names); empty when not given.
  std::string tenant, backup_set;
  uint64_t index = 0;
  uint64_t tree_size = 0;
  std::string leaf;  // leaf bytes (EntryLeaf encoding for catalogue entries)
  std::vector<MerkleHash> path;
  MerkleHash root{};
};
std::string SerializeInclusionProof(const InclusionProofDoc& doc);
// InvalidArgument naming the field on anything malformed; never throws.
StatusOr<InclusionProofDoc> ParseInclusionProof(std::string_view json);
// VerifyInclusion(MerkleLeafHash(doc.leaf), ...).
Status VerifyInclusionProof(const InclusionProofDoc& doc);

// Issues the inclusion proof of entry `path` of a restore point (bound
// leaf, tenant and backup set filled in): two scans
// (find the index, then the audit path and the root). NotFound if the entry
// is absent; Aborted if the restore point changed between the two scans.
StatusOr<InclusionProofDoc> CatalogueInclusionProof(Catalogue& catalogue, const Scope& scope,
                                                    std::string_view path);

}  // namespace vigil::storage
