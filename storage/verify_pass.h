// One verification pass of a directory tree against its catalogue: the local
// engine behind `vigil verify`, and the reference for what a worker does.
//
//   walker ──(sorted stat entries)──> planner: merge-join with the catalogue
//      scan, decide per entry: hash it, skip it (incremental), reuse a hard
//      link's reading, or report it missing
//   planner ──(batches of jobs)──> N hashing threads (bounded queue)
//   hashing threads ──(finished batches, any order)──> collector (the calling
//      thread): restores key order, classifies, writes the catalogue in
//      WriteBatches, reports events and progress
//
// Memory is bounded by the in-flight window (batches x batch size), the
// read buffers (one per thread) and the largest directory, not by the tree
// or the catalogue. The pass is idempotent: running it twice on an unchanged
// tree records the same catalogue state (apart from check times).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "storage/catalogue.h"
#include "storage/diff.h"
#include "storage/hash.h"
#include "storage/status.h"

namespace vigil::storage {

struct PassProgress {
  uint64_t entries_done = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_seen = 0;      // total size of files the walk found so far
  uint64_t bytes_expected = 0;  // from the previous pass, 0 if none
  bool walk_done = false;
};

// One entry the pass reports (everything except kUnchanged/kNotRead).
struct PassEvent {
  DiffKind kind;
  std::string path;
  EntryType type = EntryType::kFile;
  // Recorded state (absent for kAdded).
  bool has_record = false;
  EntryRecord recorded;
  // What was observed (absent for kMissing).
  uint64_t observed_size = 0;
  int64_t observed_mtime_ns = 0;
  Digest first_reading;   // the first reading
  Digest second_reading;  // the confirming re-read (kModified only)
  std::string error;      // kUnreadable: why
  bool accepted = false;  // --accept recorded this change as the new baseline
};

struct PassOptions {
  std::string root;  // directory to verify
  Scope scope;
  // Digest algorithm for new entries. Existing entries are checked with the
  // algorithm they were recorded with.
  HashAlgorithm algorithm = HashAlgorithm::kXxh3_128;
  DiffOptions diff;
  // Incremental mode: entries verified within this many ns, whose size and
  // mtime are unchanged, are not re-read. 0 = re-read everything.
  int64_t max_age_ns = 0;
  // Record observed changes (modified, missing) as the new baseline instead
  // of keeping the old record as the reference.
  bool accept = false;
  // Hashing threads. 0 = one per core.
  int threads = 0;
  // Current time (ns since epoch) used for first-seen / verified stamps.
  // 0 = the real clock. A seam for tests.
  int64_t now_ns = 0;
  // Called from the calling thread, at most ~10 times per second and once at
  // the end. May be empty.
  std::function<void(const PassProgress&)> on_progress;
  // Called from the calling thread for each reported entry, in key order.
  std::function<void(const PassEvent&)> on_event;
};

struct PassSummary {
  DiffCounts counts;
  uint64_t entries = 0;     // entries observed (files, links, others)
  uint64_t files_read = 0;  // files whose content was read
  uint64_t bytes_read = 0;  // content bytes read (re-reads included)
  uint64_t hardlinks_reused = 0;
  uint64_t rereads = 0;               // confirming re-reads after a mismatch
  uint64_t transient_mismatches = 0;  // first reading differed, second matched
  uint64_t directories = 0;
  bool baseline = false;  // the catalogue held nothing for this scope
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  uint64_t problems() const { return counts.modified + counts.missing + counts.unreadable; }
};

// Runs the pass. Errors (root missing, catalogue corrupt, write failure) stop
// it; what was committed before stays consistent (each batch is atomic), and
// rerunning the pass completes it.
StatusOr<PassSummary> RunVerifyPass(Catalogue& cat, const PassOptions& options);

// Meta key under which a scope's last PassSummary is kept (JSON-free binary).
std::string PassSummaryKey(const Scope& scope);

}  // namespace vigil::storage
