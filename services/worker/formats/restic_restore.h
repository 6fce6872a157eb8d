// Restoring a sample of one restic snapshot's files with Vigil's own reader:
// what a restore drill of a "restic-snapshots" backup set does
// (services/worker/drill.h; docs/contracts.md, "Restore drills").
//
// The snapshot is named by its id, which the coordinator's catalogue holds
// (the SHA-256 of the snapshot file): the file is read and must hash to it,
// and from there everything is hash-chained (its tree id, each tree's
// subtrees and data blob ids), so the restored files are checked against
// what the catalogue vouches for, never against the worker's own reading.
//
// The sample: the snapshot's regular files in tree order (depth first,
// names sorted as restic stores them), every k-th one, k = files / sample
// size, skipping a file that would pass the byte limit; deterministic.
// Each sampled file is restored blob by blob (one blob in memory at a
// time): read from its pack with the pack's cached pages dropped first
// (cold reads), MAC checked, decrypted, decompressed, its SHA-256 compared
// with its id, written; the file is fsync'ed, then every directory created
// and the destination. VerifyResticCopy then re-reads a copy from the
// device and checks each piece against its blob id and the total against
// the size the tree records.
//
// Users: services/worker/drill.cc; tests/services/worker/restic_drill_test.cc
// (against `restic restore`). Thread safety: one call at a time per
// destination; nothing shared.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace vigil::formats {

struct ResticSampleOptions {
  uint32_t sample_files = 100;               // at most this many files (0 = 100)
  uint64_t sample_bytes = 0;                 // at most this many bytes in all; 0 = no limit
  uint64_t max_metadata_bytes = 1ull << 30;  // index and snapshot files
  uint64_t max_scrypt_memory = 2ull << 30;
  // Checked between blobs: true ends the restore (ResticRestore::stopped).
  std::function<bool()> stop;
  // Called after each restored file with its bytes.
  std::function<void(uint64_t bytes)> progress;
};

// One sampled file.
struct ResticRestoredFile {
  std::string path;   // relative to the snapshot's root: "home/ann/a.txt" (raw bytes)
  uint64_t size = 0;  // as the tree records it
  uint64_t written = 0;
  // Its content, blob by blob: raw id and plaintext size (what the copy
  // must hash to, piece by piece).
  std::vector<std::pair<std::string, uint64_t>> blobs;
  // Non-empty: not restored (a blob in no index, unreadable, a name that
  // cannot be a path, ...): a mismatch of the drill.
  std::string error;
};

struct ResticRestore {
  // Non-empty: the password opens no key (the worker's configuration, not
  // the repository).
  std::string key_error;
  // Non-empty: the drill could not run (not a repository, the snapshot gone
  // or not matching its id, an index or tree unreadable).
  std::string error;
  // Non-empty: a write to the destination failed (the worker's fault).
  std::string write_error;
  // Non-empty: the repository's store could not be read (credentials
  // refused, unavailable after retries, permission denied: store.h's
  // codes), naming the file and the store: the drill did not run to its
  // end, which says nothing of the backup (not a mismatch, not `error`).
  std::string store_error;
  bool stopped = false;
  uint64_t point_files = 0;               // regular files in the snapshot
  uint64_t point_bytes = 0;               // their sizes, as the trees record them
  std::vector<ResticRestoredFile> files;  // the sample, in tree order
  uint64_t bytes_read = 0;                // from packs, while restoring
  // Wall time (steady clock) of the sample's restore: its trees read, its
  // blobs read cold, written, every file and directory synced. Opening the
  // key, loading the index and sizing the snapshot come before, untimed.
  double seconds = 0;
};

// Restores the sample of snapshot `snapshot_hex` of the repository in
// `store` beneath `base` (its directory, a store path; "" = the store's
// root; `shown` names it in messages) into the empty local directory open
// at `dest_fd` (files as dest/<path>, directories 0700, files 0600). The
// repository is read through the store (local, S3, SFTP: storage/store.h),
// the pack's cached pages dropped before each data blob (Store::DropCached).
ResticRestore RestoreResticSampleIn(storage::Store& store, const std::string& base,
                                    const std::string& shown, const std::string& password,
                                    const std::string& snapshot_hex,
                                    const ResticSampleOptions& options, int dest_fd);

// The same for the repository open at `repo_fd` (through a LocalStore, no
// symbolic link followed beneath it).
ResticRestore RestoreResticSample(int repo_fd, const std::string& shown,
                                  const std::string& password, const std::string& snapshot_hex,
                                  const ResticSampleOptions& options, int dest_fd);

// Re-reads the restored copy of `f` beneath `dest_fd` (its cached pages
// dropped first) and compares it with the tree: each piece with its blob
// id, the total with the recorded size, nothing after. "" when it matches,
// else what differs.
std::string VerifyResticCopy(int dest_fd, const ResticRestoredFile& f);

}  // namespace vigil::formats
