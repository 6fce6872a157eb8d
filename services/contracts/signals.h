// Ransomware signals of a restore point and its verdict (clean, suspicious,
// encrypted), docs/ransomware.md.
//
// The coordinator (services/coordinator/points.h) computes them once a new
// point is merged, against the reference point: the newest earlier point of
// the set judged clean or accepted by an operator, not merely the previous
// one, so that the points after an encryption stay flagged. The set's first
// point (no reference) is judged on its own: ransom notes and files whose
// extension announces a format their content lacks.
//
// ScanSignals is one merge-join of the two points' catalogue entries
// (FileJoin, plausibility.h), or, given the reference's tally, a walk of
// the paths changed between them (below), with bounded memory whatever the
// points' sizes, with no lookup per entry: a renamed file is paired with its new name by
// digest within the join (files gone from the reference and new files not
// yet paired wait in a map of at most 100,000 digests per side; past it,
// SignalScan::untracked_renames). The hash index (Catalogue::ForEachHolder)
// is not used: its memtable is sorted anew for every lookup
// (storage/rocks_kv.cc), too dear for one lookup per vanished file. Judge is a pure function of its
// result, the change-rate history and the contract's thresholds (RansomwareSpec, model.h): redoing
// both gives the same answer.
//
// Plain functions; ScanSignals reads the catalogue through its own scanners
// (the catalogue is thread-safe), so calls on different points may run
// concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/contracts/evaluate.h"
#include "services/contracts/model.h"
#include "services/contracts/plausibility.h"
#include "storage/catalogue.h"
#include "storage/status.h"

namespace vigil::contracts {

// The signal kinds, as stored in v1.PointSignal.kind.
inline constexpr std::string_view kSignalRenames = "renames";
inline constexpr std::string_view kSignalExtensionChanges = "extension-changes";
inline constexpr std::string_view kSignalDeletions = "deletions";
inline constexpr std::string_view kSignalBecameRandom = "became-random";
inline constexpr std::string_view kSignalFormatMismatch = "format-mismatch";
inline constexpr std::string_view kSignalRansomNotes = "ransom-notes";
inline constexpr std::string_view kSignalChangeRate = "change-rate";
// Not a signal of ransomware: why a point with no signal is not clean (its
// verdict kContentNotJudged): the changed or new files with no content
// sample.
inline constexpr std::string_view kSignalContentNotJudged = "content-not-judged";

// The rules Judge() applies (PointRecord.verdict_rules): 1 since a point
// with too many changed files without a content sample is
// kContentNotJudged, not clean.
inline constexpr uint32_t kVerdictRules = 1;

// At most this many example paths per signal.
inline constexpr size_t kMaxSignalExamples = 5;

// One signal with its evidence (the model of v1.PointSignal).
struct Signal {
  std::string kind;
  std::string message;  // counts, threshold, what was not judged
  uint64_t count = 0;
  uint64_t threshold = 0;
  std::vector<std::string> examples;  // paths relative to the point's root
};

// A count and its first few example paths.
struct Tally {
  uint64_t count = 0;
  std::vector<std::string> examples;
  void Add(std::string_view path);
};

// What a restore point's regular files add up to, as a scan counts them:
// kept beside the point (storage::Versions::PutSummary, EncodePointTally) so
// that a later scan against it reads only the paths that changed between
// the two points (storage::Versions::Diff) instead of both points whole.
// Not kept for a point of more than kMaxTallyExtensions extensions (the
// scan's own cap on the reference's: a tally past it would not count the
// same).
struct PointTally {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t zero_length_files = 0;
  uint64_t sampled_files = 0;
  uint64_t long_extension_files = 0;           // an extension too long to be one
  std::map<std::string, uint64_t> extensions;  // lowercased ("" none) -> files
  bool operator==(const PointTally&) const = default;
};
inline constexpr size_t kMaxTallyExtensions = 1024;
std::string EncodePointTally(const PointTally& t);
// nullopt when `in` is not an encoded tally.
std::optional<PointTally> DecodePointTally(std::string_view in);

// What one merge-join of (reference, new point) found; raw counts, judged
// against the thresholds by Judge.
struct SignalScan {
  std::optional<int64_t> reference_ns;  // nullopt: judged on its own
  // Set by the caller when the reference is content-not-judged (not
  // accepted): the messages then do not call it clean.
  bool reference_not_judged = false;
  // The plausibility comparison against the reference (an emptied point).
  PointComparison versus_reference;
  // Reference files gone whose content (digest, non-empty file) is now under
  // another name, new to the point; a move that keeps the file's name (a
  // folder renamed) is not counted.
  Tally renames;
  // x.docx gone and x.docx.SOMETHING or x.SOMETHING new in the same
  // directory, SOMETHING not a known format's extension.
  Tally extension_changes;
  // Changed files (same path, or an extension-change pair) whose reference
  // content was structured and whose new content is random.
  Tally became_random;
  // Files whose extension announces a format whose magic they carried in the
  // reference and no longer carry (no known magic now), and new files with
  // such an extension whose content is random.
  Tally format_mismatch;
  // Files in became_random or format_mismatch (each counted once).
  uint64_t random_files = 0;
  // New files named like a known ransom note (LooksLikeRansomNote).
  Tally known_notes;
  // New note-like file names (NoteLike, at most 64 KiB, not a renamed file
  // of the reference) found in at least spec.note_directories
  // directories that held files in the reference:
  // the name, the directories, a few of its paths. Sorted by name.
  struct RepeatedName {
    std::string name;
    uint64_t directories = 0;
    std::vector<std::string> examples;
  };
  std::vector<RepeatedName> repeated_names;
  // Extensions whose net loss of files crossed the deletions threshold,
  // sorted by extension ("" = files without one).
  struct ExtensionLoss {
    std::string extension;
    uint64_t reference_files = 0, gone = 0, added = 0;
    std::vector<std::string> examples;  // gone paths
  };
  std::vector<ExtensionLoss> deletions;
  // Files of the new point with a content sample, and changed or new files
  // that could not be judged on content (no sample on one side).
  uint64_t sampled_files = 0;
  uint64_t not_judged = 0;
  std::vector<std::string> not_judged_examples;  // the first of them
  // Bounded maps overflowed: files whose extension was not tracked, new
  // note-like names not tracked (the caps are in signals.cc).
  uint64_t untracked_extensions = 0;
  uint64_t untracked_names = 0;
  uint64_t untracked_renames = 0;  // files not paired: the renames count is a lower bound
  // Not judged, kept for the next scans: the tallies the scan counted (the
  // reference's only when it read the reference whole), nullopt past
  // kMaxTallyExtensions; and whether it read only the changed paths
  // (given the reference's tally).
  std::optional<PointTally> reference_tally, new_tally;
  bool read_changes_only = false;
};

// Streams the reference point (none: nullopt) and the new point of
// (tenant, backup_set) and collects the signals' raw evidence. A scan or
// index error is returned as is.
//
// Given the reference's tally (`reference_tally`, both points recorded in
// the catalogue's versions), it reads only the paths whose versions differ
// between the two points (Versions::Diff): every other file of the
// reference is the same stored record in the new point, which the tally
// counts as it would have been stepped (unchanged), and each changed path
// first takes that back. The result is the whole scan's (counts, examples,
// signals), with two differences past the caps: the reference's extensions
// are all tracked first (the whole scan tracks them as met), and the
// note-name cap may keep other names. Whether a directory held files in the
// reference (note names) is asked of the reference's children of it
// (Versions::HoldsFileIn), only for a directory with a new note-like file
// and no changed reference file. A tally that does not add up with the
// changes (a count would fall below zero), or more than kMaxChangedPaths
// changes, and the points are read whole.
storage::StatusOr<SignalScan> ScanSignals(storage::Catalogue& cat, const std::string& tenant,
                                          const std::string& backup_set,
                                          std::optional<int64_t> reference_ns, int64_t new_point_ns,
                                          const RansomwareSpec& spec,
                                          const PointTally* reference_tally = nullptr);

// The change-rate input of a point: its changed_files / changed_bytes
// against the previous point and its file count, and the changed_files of
// the set's earlier points (oldest first; the set's first point, which has
// no previous point, excluded). The last 14 are the baseline.
struct ChangeRate {
  uint64_t changed_files = 0;
  uint64_t changed_bytes = 0;
  uint64_t files = 0;
  std::vector<uint64_t> history;
};
inline constexpr size_t kChangeRateHistory = 14;
inline constexpr size_t kChangeRateMinHistory = 5;

// The kSignalContentNotJudged entry of a scan whose changed or new files
// without a content sample reach spec.random_files_suspicious (as many as
// would flag the point); nullopt below. What makes a point with no other
// signal kContentNotJudged (Judge).
std::optional<Signal> ContentNotJudged(const SignalScan& scan, const RansomwareSpec& spec);

struct PointJudgement {
  PointVerdict verdict = PointVerdict::kClean;
  // The signals that made it, in the order of the kinds above; empty when
  // clean (a change-rate signal alone is not kept: it never flags).
  std::vector<Signal> signals;
};

// The verdict of a scanned point:
//   encrypted  random_files >= spec.random_files_encrypted, or
//              >= spec.random_files_suspicious and >= random_files_fraction
//              of sampled_files;
//   suspicious random_files >= random_files_suspicious, renames >=
//              spec.renames, extension changes >= spec.extension_changes,
//              an extension's net deletions over the threshold, the point
//              emptied against the reference (files-drop, or bytes-drop with
//              zero-length files, with >= 20 reference files), a known
//              ransom-note name, or a note-like name in many directories;
//   content-not-judged  none of these, but not_judged >=
//              spec.random_files_suspicious: as many files as would have
//              flagged the point had no content sample, so encryption is not
//              ruled out (one kSignalContentNotJudged entry says so);
//   clean      otherwise.
// The change-rate signal is added to a point flagged by another signal.
PointJudgement Judge(const SignalScan& scan, const ChangeRate& rate, const RansomwareSpec& spec);

// The change-rate signal alone, if the rate crosses its threshold (exposed
// for tests and docs; Judge keeps it only beside another signal).
std::optional<Signal> ChangeRateSignal(const ChangeRate& rate, const RansomwareSpec& spec);

// True for a file name (no directory) that a known ransomware family uses for
// its note (case-insensitive): "_readme.txt", "HOW_TO_DECRYPT_FILES.txt",
// "DECRYPT_INSTRUCTIONS.html", "!!!READ_ME!!!.txt", "RESTORE_FILES_INFO.txt",
// "+_RECOVER_+.html", "Restore-My-Files.txt", "RyukReadMe.txt" ...; the
// exact list is in signals.cc and docs/ransomware.md. Only note-like
// extensions (NoteLike) count: "README.md", "decrypt.py" or
// "how_to_restore.docx" never match.
bool LooksLikeRansomNote(std::string_view name);

// A name with a note's extension: .txt .html .htm .hta .rtf .url .mht.
bool NoteLike(std::string_view name);

}  // namespace vigil::contracts
