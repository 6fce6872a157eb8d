// Order-preserving binary keys for the catalogue.
//
// KEY LAYOUT (persisted; changing it needs a new kFormatVersion and a migration)
// ---------------------------------------------------------------------------
// Column family `verified`, and `catalogue` in format 1 (see catalogue.h;
// format 2 keeps entries in `versions`, versions.h):
//
//   EntryKey = Str(tenant) Str(backup_set) I64(restore_point) Path(path)
//
//   Str(s)  each 0x00 byte of s written as 0x00 0xFF, then the terminator
//           0x00 0x01. Byte order of encodings == byte order of strings, and
//           no encoding is a prefix of another, so one tenant, or one
//           (tenant, backup set), is one contiguous key range.
//   I64(t)  restore point time in nanoseconds since the Unix epoch (UTC),
//           8 bytes big-endian with the sign bit flipped, so that numeric
//           order == byte order, negatives included. A backup set without
//           dated restore points (a mutable mirror) uses 0.
//           Restore points are identified by their time, never by their name
//           (rsnapshot renames daily.0 -> daily.1 at every run).
//   Path(p) the path relative to the restore point's root, components joined
//           by 0x00 instead of '/'. Names cannot contain '/' or NUL, so no
//           escaping is needed; paths are raw bytes (not necessarily UTF-8).
//           Joining by 0x00 makes byte order == depth-first pre-order of the
//           tree with each directory's children sorted by name bytes
//           ("a/b" < "a.txt" because 0x00 < '.'), which is the order the tree
//           walker produces: a diff is a merge-join of two sorted streams.
//           The path is last, so it needs no terminator.
//
// Column family `hash_index`:
//
//   HashKey = U8(algorithm) digest[DigestSize(algorithm)] EntryKey
//   value   = empty
//
//   all entries holding a given (algorithm, digest) are one prefix range.
//
// Column family `meta`: human-readable ASCII keys, e.g. "format_version"
// (value: decimal string) and "pass/" Str(tenant) Str(backup_set) for the
// summary of the last verification pass.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/hash.h"

namespace vigil::storage {

// Bumped whenever the key layout or a record encoding changes incompatibly.
// 2: entries stored as versions with point ranges (versions.h); EntryKey
// still keys `verified`. Format 1 (EntryKey -> EntryRecord in `catalogue`)
// is converted on open (catalogue.h).
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestConvertibleFormat = 1;

struct EntryKey {
  std::string tenant;
  std::string backup_set;
  int64_t restore_point = 0;  // ns since epoch; 0 when the set has no points
  std::string path;           // relative, '/'-separated, raw bytes

  friend bool operator==(const EntryKey&, const EntryKey&) = default;
};

// Appends Str(s) to *out.
void AppendString(std::string* out, std::string_view s);
// Appends I64(v) to *out.
void AppendI64(std::string* out, int64_t v);
// Appends Path(p). REQUIRES: p relative, no empty component, no NUL byte
// (IsValidRelativePath(p)).
void AppendPath(std::string* out, std::string_view p);

// True for a non-empty relative path with no empty, "." or ".." component and
// no NUL byte.
bool IsValidRelativePath(std::string_view p);

// Prefix of every key of a tenant's backup set (all restore points).
std::string BackupSetPrefix(std::string_view tenant, std::string_view backup_set);
// Prefix of every key of one restore point.
std::string RestorePointPrefix(std::string_view tenant, std::string_view backup_set,
                               int64_t restore_point);
std::string EncodeEntryKey(const EntryKey& k);

// Decodes a key produced by EncodeEntryKey. Returns nullopt (never crashes) on
// malformed input: missing terminator, bad escape, short integer, bad path.
std::optional<EntryKey> DecodeEntryKey(std::string_view key);

// Decodes only the Path() suffix that follows a known restore-point prefix.
std::string DecodePath(std::string_view encoded_path);
// Encodes a relative path alone (the suffix after RestorePointPrefix()).
std::string EncodePath(std::string_view path);

// Hash-index keys.
std::string HashIndexPrefix(const Digest& d);
std::string EncodeHashKey(const Digest& d, std::string_view entry_key);
// Splits a hash-index key; nullopt on malformed input.
struct HashKey {
  Digest digest;
  std::string_view entry_key;
};
std::optional<HashKey> DecodeHashKey(std::string_view key);

// The smallest key greater than every key starting with `prefix` (empty if
// none exists, i.e. prefix is all 0xFF). Used as an exclusive upper bound.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace vigil::storage
