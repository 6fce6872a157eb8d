// restic repositories (formats 1 and 2), read natively and never written
// to, through the storage seam (storage/store.h): on a filesystem (a
// LocalStore), in an S3 bucket or on an SFTP server alike. The reader
// behind `vigil verify --format restic` and the worker's restic checks.
//
// Without a password: every file under data/, index/ and snapshots/ must be
// named by the SHA-256 of its content (config and keys/ are not; locks/ come
// and go and are only counted); packs must sit in data/XX/ with XX the first
// two hex digits of their name; config and at least one key must exist.
//
// With a password: a key in keys/ is opened (scrypt -> user key -> master
// key), config is decrypted (version 1 or 2), snapshots are listed and
// decrypted FIRST, then indexes (so that a backup running meanwhile, which
// writes packs and indexes before its snapshot, is never taken for missing
// data), then packs are listed. Index <-> packs: every indexed pack exists and
// is at least as large as its blobs imply (error), its exact size is what
// the index implies (warning otherwise), duplicate blobs and mixed packs are
// legal. A pack no index references is a warning whatever its content
// (garbage, another repository's key: the warning says what is wrong), as
// `restic check` calls it non-critical: no snapshot can need it. Then the
// structure (restic_walk.h): every snapshot's tree graph, each tree decoded
// once, every tree and data blob it needs looked up in the index and in the
// packs found usable; what is missing is an error naming the snapshot and
// the path that needs it.
//
// With read_data: each pack is read once — a pack up to 32 MiB with one
// request, a larger one by ranges (its tail, then runs of adjacent blobs of
// at most 32 MiB): memory stays bounded whatever the pack's size; its
// header (encrypted, at the end, its length in the last 4 bytes) is
// decrypted and compared with the index, and every blob is decrypted (MAC checked), decompressed
// when its header entry says so, and its SHA-256 compared with its id. When these checks cover
// every byte (blobs back to back up to the header, every MAC and blob id right, the header as the
// index has it), the pack is not hashed as a whole: each byte is already authenticated, and a
// renamed pack is one the index does not know. Otherwise its SHA-256 is checked against its name
// too. One SHA-256 pass over the data instead of two.
//
// Differences from `restic check`, on purpose: packs are hashed against
// their names even without --read-data (restic only does that with
// --read-data), so a flipped byte is found by every mode, and the blobs of a
// pack that fails it count as unavailable to the snapshots that need them;
// unreferenced packs are read (with --read-data) to say what is wrong with
// them, still as a warning.
//
// The parsers of restic's files are in restic_parse.h, its cryptography in
// restic_crypto.h.
//
// Nothing outside the repository is ever opened: symbolic links are
// reported ("symlink", an error) and never followed (VerifyResticAt).
//
// Damage found in the repository (a pack that does not decrypt, a missing
// pack, ...) is a finding. A store that cannot be read during the check
// (credentials refused, unavailable after its retries, permission denied,
// an I/O error: storage/store.h's codes) is not: the check stops and
// ResticReport::store_error says what could not be read, from which store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "services/worker/formats/finding.h"
#include "services/worker/formats/restic_parse.h"
#include "storage/store.h"

namespace vigil::formats {

struct ResticOptions {
  bool has_password = false;
  std::string password;
  bool read_data = false;
  int threads = 0;                           // 0 = one per core
  uint64_t max_scrypt_memory = 2ull << 30;   // refuse key files needing more
  uint64_t max_metadata_bytes = 1ull << 30;  // index/snapshot/config/key files
  // Packs (raw 32-byte id -> size) whose name check passed at an earlier
  // run (the catalogue's memory): without read_data they are not read again
  // when their size is unchanged. Packs are immutable and content-named.
  const std::unordered_map<std::string, uint64_t>* known_packs = nullptr;
  // Skip known_packs with read_data too (the worker's tasks: the
  // coordinator lists only packs verified blob by blob within the
  // re-verification window). Default false: --read-data reads everything.
  bool skip_known_with_read_data = false;
  // With read_data: a pack up to this size is read whole with one request;
  // a larger one by ranges of at most this size (or one blob, up to
  // restic::kMaxBlobBytes): the memory a thread holds for a pack. Tests
  // lower it to take the ranged path on small packs.
  uint64_t pack_window_bytes = 32ull << 20;
};

// A content-named file as listed (snapshot or pack) and its name check.
struct ResticFileState {
  std::string id;  // hex name
  uint64_t size = 0;
  bool ok = false;       // read and its SHA-256 matched its name (or skipped)
  bool skipped = false;  // known from an earlier run, not read again
  int64_t mtime_ns = 0;  // as listed (lstat)
  // Packs: referenced by a readable index (without a password: unknown,
  // true). An unreferenced pack's problems are warnings, never errors.
  bool referenced = true;
};

struct ResticDirStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

struct ResticReport {
  std::string root;
  std::string fatal;  // non-empty: PATH is not a repository / unusable
  // Non-empty: the store could not be read (naming the file and the
  // store): the check is incomplete and says nothing of the repository
  // (errors and warnings are left empty).
  std::string store_error;
  std::string password_error;  // non-empty: no key opens with the password
  std::string key_file;        // keys/<id> that opened
  int version = 0;             // config version (0: not decrypted)
  std::string repository_id;
  ResticDirStats data, index, snapshots_dir, keys, locks;
  std::vector<restic::Snapshot> snapshots;  // sorted by time
  uint64_t indexed_packs = 0;
  uint64_t indexed_blobs = 0;
  uint64_t packs_read = 0;
  uint64_t blobs_checked = 0;
  uint64_t bytes_read = 0;
  uint64_t packs_skipped = 0;      // known_packs not read again
  uint64_t trees_checked = 0;      // distinct tree blobs decoded by the walk
  uint64_t data_refs_checked = 0;  // data blob references looked up by it
  // Snapshots (hex ids) that cannot be fully restored: a tree or data blob
  // they need is in no index, only in missing or damaged packs, or
  // unreadable (restic_walk.h). Empty without a password.
  std::vector<std::string> incomplete_snapshots;
  std::vector<ResticFileState> snapshot_files;  // in name order
  std::vector<ResticFileState> pack_files;      // in name order
  std::vector<Finding> errors;
  std::vector<Finding> warnings;

  bool valid() const {
    return fatal.empty() && store_error.empty() && password_error.empty() && errors.empty();
  }
};

// Never throws. `path` is opened by its path (it may be reached through
// symbolic links); nothing beneath it is: see VerifyResticAt.
ResticReport VerifyRestic(const std::string& path, const ResticOptions& options = {});

// The repository open at `root_fd` (not closed; `shown` names it in the
// report). Every file and directory beneath it is opened relative to its
// parent's descriptor with O_NOFOLLOW (directories O_DIRECTORY |
// O_NOFOLLOW) and listed with lstat semantics: a symbolic link anywhere
// (config, keys/, a key, locks/, snapshots/, index/, data/, data/XX/, a
// pack, an unknown top-level entry) is an error "symlink" naming it, and is
// never followed, listed or read.
// (Through a LocalStore opened at `root_fd`: storage/local_store.h.)
ResticReport VerifyResticAt(int root_fd, const std::string& shown,
                            const ResticOptions& options = {});

// The repository in `store` beneath `base` (its directory, a store path;
// "" = the store's root); `shown` names it in the report. Listings are
// sorted here (a store promises no order); a store's symbolic link (SFTP,
// local) is reported "symlink" and never followed. Store errors: see
// above (store_error). The store must allow calls from several threads
// (options.threads).
ResticReport VerifyResticIn(storage::Store& store, const std::string& base,
                            const std::string& shown, const ResticOptions& options = {});

}  // namespace vigil::formats
