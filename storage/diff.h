// Streaming diff of an observed listing against the catalogue.
//
// Both sides are sorted in catalogue key order (ComparePathOrder), so a diff
// is a merge-join of two sorted streams: O(n + m) time, O(1) memory, no
// lookup per entry. The observed side comes from a tree walk or from a
// worker's observation stream; an out-of-order observed stream is rejected
// with InvalidArgument (never silently mis-joined).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/catalogue.h"
#include "storage/entry.h"
#include "storage/status.h"

namespace vigil::storage {

// What was seen of one entry during a check.
struct Observation {
  std::string path;  // relative, '/'-separated, raw bytes
  EntryType type = EntryType::kFile;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  Digest digest;            // empty if not read (unreadable, skipped, special)
  std::string link_target;  // symlinks
  bool unreadable = false;  // found but could not be read
  std::string error;        // why, when unreadable
  // A file whose content was deliberately not read (no digest): compared
  // by type, size and mtime only (kNotRead when they match, else kModified).
  bool not_read = false;
  // Files: the same content's digest with another algorithm (the one a
  // record may still hold after the set's algorithm changed); empty if none.
  // Classify compares a record with the observed digest of its own
  // algorithm, never across algorithms.
  Digest previous_digest;
  // Files read: what the content looked like (storage/content_sample.h).
  // Recorded (RecordOf), never compared: a sample alone is no change.
  ContentSample sample;
};

// Outcome of comparing one observed entry with its record. Persisted in
// pass summaries by name, not number.
enum class DiffKind : uint8_t {
  kUnchanged,   // same type, size and digest (mtime may differ: never a problem)
  kModified,    // immutable set: content/size changed; mutable set: content
                // changed with the same size and mtime (silent corruption)
  kUpdated,     // mutable set: changed together with a new mtime (legitimate)
  kMissing,     // recorded, not observed
  kAdded,       // observed, not recorded
  kUnreadable,  // observed, could not be read
  kNotRead,     // observed but its content was deliberately not read
                // (incremental skip); metadata matched the record
};
std::string_view DiffKindName(DiffKind k);

struct DiffOptions {
  // Mutable mirror semantics (see DiffKind). Default: immutable restore point.
  bool mutable_set = false;
};

// The record of an observed entry, first seen at `first_seen_ns`.
EntryRecord RecordOf(const Observation& obs, int64_t first_seen_ns);

// Pure classification of an observed entry against its record.
// REQUIRES: obs.unreadable == false and, for files, obs.digest non-empty
// unless obs.not_read.
// A file whose record holds a digest of an algorithm neither obs.digest nor
// obs.previous_digest has is judged like a file not read (by type, size and
// mtime: kNotRead when they match): digests of two algorithms are never
// compared. kUnchanged through obs.previous_digest leaves the caller to
// record obs.digest (the set's algorithm now).
DiffKind Classify(const EntryRecord& rec, const Observation& obs, const DiffOptions& options);

struct DiffEvent {
  DiffKind kind;
  std::string_view path;        // valid during the callback
  const EntryRecord* recorded;  // null for kAdded
  const Observation* observed;  // null for kMissing
};

// Pulls observations in catalogue key order. Returns false at the end.
using ObservationSource = std::function<bool(Observation*)>;

struct DiffCounts {
  uint64_t unchanged = 0, modified = 0, updated = 0, missing = 0, added = 0, unreadable = 0,
           not_read = 0;

  // Counts one entry of kind `k`.
  void Add(DiffKind k);
};

// Merge-joins `source` with the catalogue's scan of `scope`, calling `sink`
// for every entry in key order. Stops at the first error (scan corruption,
// out-of-order source) or when sink returns a non-OK status.
Status DiffRestorePoint(Catalogue& cat, const Scope& scope, const ObservationSource& source,
                        const DiffOptions& options,
                        const std::function<Status(const DiffEvent&)>& sink,
                        DiffCounts* counts = nullptr);

}  // namespace vigil::storage
