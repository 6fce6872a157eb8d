// Plausibility of a new restore point against the previous one.
//
// A backup of an emptied or ransomware-encrypted source passes every hash
// check: the files are read back exactly as they were written. What gives it
// away is the comparison with the previous point: a sharp drop in size or
// file count, files that became empty, or the content of most files changing
// at once. These are findings to show an operator, not integrity failures.
//
// Only regular files (storage::EntryType::kFile) are counted and joined:
// symbolic links and special files are skipped on both sides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "storage/status.h"

namespace vigil::contracts {

struct PointSummary {
  int64_t time_ns = 0;
  uint64_t files = 0;  // regular files
  uint64_t bytes = 0;  // sum of their sizes
  uint64_t zero_length_files = 0;
};

// Computed by a merge-join of the two points' entries (same relative paths).
struct PointComparison {
  PointSummary prev, cur;
  uint64_t common_files = 0;  // paths present in both
  // Common paths whose size differs, or whose digests differ when both carry
  // one of the same algorithm (digests of different algorithms are not
  // compared: a change of content_hash is not a change of content).
  uint64_t content_changed = 0;
  uint64_t became_zero_length = 0;  // common paths non-empty in prev, empty in cur
  uint64_t new_zero_length = 0;     // paths only in cur with size 0
};

struct PlausibilityOptions {
  // cur.bytes < (1 - max_bytes_drop) * prev.bytes -> kBytesDrop. A drop of
  // exactly the fraction is not a finding.
  double max_bytes_drop = 0.5;
  // Same on the file count -> kFilesDrop.
  double max_files_drop = 0.3;
  // became_zero_length + new_zero_length above this AND above 1% of
  // cur.files -> kZeroLength.
  uint64_t max_new_zero_length = 10;
  // content_changed / common_files above this, with common_files >= 20
  // -> kMassChange.
  double max_changed_fraction = 0.6;
};

enum class FindingKind { kBytesDrop, kFilesDrop, kZeroLength, kMassChange };
const char* FindingKindName(FindingKind k);  // "bytes-drop", "files-drop", ...

struct PlausibilityFinding {
  FindingKind kind;
  std::string message;  // human: "size fell from 12.3 GiB to 1.1 GiB (-91%)"
};

// Findings in the order kBytesDrop, kFilesDrop, kZeroLength, kMassChange;
// empty when the new point looks like an ordinary successor.
std::vector<PlausibilityFinding> CheckPlausibility(const PointComparison& c,
                                                   const PlausibilityOptions& o = {});

// Streams the two restore points of (tenant, backup_set) from the catalogue
// in key order and fills a PointComparison: a merge-join of two Scanner
// streams, bounded memory whatever the points' sizes. A scan error (DataLoss
// on a record that does not decode) is returned as is.
storage::StatusOr<PointComparison> ComparePoints(storage::Catalogue& cat, const std::string& tenant,
                                                 const std::string& backup_set,
                                                 int64_t prev_point_ns, int64_t cur_point_ns);

}  // namespace vigil::contracts
