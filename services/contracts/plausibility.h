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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
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
  // Paths only in cur, and the bytes of those and of the content_changed
  // ones in cur: the change-rate sample of the new point (signals.h).
  uint64_t new_files = 0;
  uint64_t changed_bytes = 0;
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

// The regular files of two restore points of one backup set, joined by path
// in catalogue key order (depth-first, a directory's children sorted;
// storage/key_codec.h): each step is a path of the old point only, of the
// new point only, or of both. Two Scanner streams, bounded memory whatever
// the points' sizes. Without an old point (nullopt) every file is new.
// Used by ComparePoints and by the ransomware signals (signals.h).
// Not thread-safe (one owner).
class FileJoin {
 public:
  FileJoin(storage::Catalogue& cat, const std::string& tenant, const std::string& backup_set,
           std::optional<int64_t> old_point_ns, int64_t new_point_ns);
  bool Valid() const { return old_ != nullptr || new_ != nullptr; }
  void Next();
  // The entries of the current path; nullptr on the side that lacks it.
  const storage::EntryRecord* old_entry() const { return old_; }
  const storage::EntryRecord* new_entry() const { return new_; }
  // The current path, '/'-separated, relative to the point's root.
  std::string path() const;
  // A scan error (DataLoss on a record that does not decode); check it
  // once !Valid().
  storage::Status status() const;

 private:
  void Settle();  // sets old_/new_ for the current step
  std::unique_ptr<storage::Catalogue::Scanner> p_, q_;
  const storage::EntryRecord* old_ = nullptr;
  const storage::EntryRecord* new_ = nullptr;
};

// Adds one step of a FileJoin (either side may be nullptr, not both) to *c.
void AddToComparison(const storage::EntryRecord* prev, const storage::EntryRecord* cur,
                     PointComparison* c);

// True when two versions of a file differ in size, or in digest when both
// carry one of the same algorithm (see PointComparison::content_changed).
bool ContentDiffers(const storage::EntryRecord& a, const storage::EntryRecord& b);

// Reading the change from a summary (ComparePoints, ScanSignals): whether
// points a < b of the set are both recorded (their diff is then readable);
// the comparison as if every file of `prev` were a common unchanged file;
// and taking one back for a changed path about to be stepped
// (AddToComparison), false when the comparison does not hold it (a count
// would fall below zero; nothing changed).
// The entry if a regular file (the only ones compared), else nullptr.
const storage::EntryRecord* FileOrNull(const storage::EntryRecord* e);
storage::StatusOr<bool> ChangesReadable(storage::Catalogue& cat, const std::string& tenant,
                                        const std::string& backup_set, int64_t a, int64_t b);
PointComparison UnchangedComparison(const PointSummary& prev, int64_t prev_point_ns,
                                    int64_t cur_point_ns);
bool TakeBackUnchanged(const storage::EntryRecord& old, PointComparison* c);

// A comparison or a scan from a tally (ComparePoints, ScanSignals) holds the
// paths changed between the two points in memory: past this many versions
// born or ended between them it reads both points whole instead, in bounded
// memory.
inline constexpr size_t kMaxChangedPaths = 262'144;

// Streams the two restore points of (tenant, backup_set) from the catalogue
// in key order and fills a PointComparison: a merge-join of two Scanner
// streams, bounded memory whatever the points' sizes. A scan error (DataLoss
// on a record that does not decode) is returned as is.
//
// Given the previous point's summary (its files, bytes and zero-length
// files as the join counts them; `time_ns` not read) and both points
// recorded, it reads only the paths whose versions differ between them
// (storage::Versions::Diff): every other file is the same record in both,
// which the summary counts as a common unchanged file, and each changed
// path first takes that back. The same comparison; a summary that does not
// add up with the changes (a count would fall below zero) is not trusted,
// and the points are read whole.
storage::StatusOr<PointComparison> ComparePoints(storage::Catalogue& cat, const std::string& tenant,
                                                 const std::string& backup_set,
                                                 int64_t prev_point_ns, int64_t cur_point_ns,
                                                 const PointSummary* prev_summary = nullptr);

}  // namespace vigil::contracts
