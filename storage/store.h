// The seam under the worker's readers: a tree of named objects where a
// backup lives — a local directory, a prefix of an S3 bucket, a directory on
// an SFTP server. Readers (the tree walk, hashing, discovery of restore
// points, BagIt, checksum files, restic) ask it three things: list a
// directory, stat a path, read a byte range. Beside those, a store may say
// what it knows of itself (Facts: versioning, Object Lock) and of an
// object (StoreEntry: its upload record, its retention): evidence the
// worker reports as the store's word, never as something it read.
//
// Paths are '/'-separated, relative to the store's root ("" is the root),
// with no empty, "." or ".." component and no NUL (CheckStorePath); a store
// never reaches outside its root. Names are raw bytes.
//
// Errors (absl codes; every message names the store by Describe(), and the
// path, never a secret):
//   - NotFound            the path does not exist (an answer, not a failure);
//   - PermissionDenied    the store refused the credentials or the access
//                         (S3 403, SSH authentication refused);
//   - FailedPrecondition  the store is not what the contract says: bucket
//                         missing, host key differs from the pinned one
//                         (refused, never accepted), not a directory;
//   - Unavailable         a transient error (timeout, connection refused or
//                         reset, HTTP 5xx/429) still failing after the
//                         RetryPolicy's attempts;
//   - DataLoss            the store answered something that does not decode
//                         (a listing that is not XML, a short read before
//                         the object's end);
//   - InvalidArgument     a malformed path or request (names it).
//
// Thread safety: a Store may be called from several threads at once unless
// its implementation says otherwise; counters() are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace vigil::storage {

enum class StoreEntryType { kFile, kDirectory, kSymlink, kOther };

struct StoreEntry {
  // List: one component (the child's name). Stat: the path asked.
  std::string name;
  StoreEntryType type = StoreEntryType::kFile;
  uint64_t size = 0;
  // Modification time, ns since the epoch: SFTP the file's mtime (whole
  // seconds unless the server says more), S3 the object's LastModified
  // (when it was written). 0 = unknown (an S3 "directory").
  int64_t mtime_ns = 0;
  std::string link_target;  // kSymlink (SFTP); never followed
  // What the store itself recorded of the content when it was written (S3;
  // empty when it says nothing): the ETag without its quotes (an MD5 of the
  // content only for a single-part upload without SSE-KMS), and the
  // additional checksum x-amz-checksum-sha256, raw 32 bytes. Evidence of
  // the store's record at upload, never of a re-read.
  std::string etag;
  std::string checksum_sha256;
  // From Stat only (S3 HEAD): the store says the object is encrypted with
  // SSE-KMS or SSE-C, under which its ETag is not the content's MD5 even
  // for a single-part upload (x-amz-server-side-encryption "aws:kms...",
  // or x-amz-server-side-encryption-customer-algorithm present).
  bool etag_not_md5 = false;
  // The object's Object Lock, from Stat only (S3 HEAD; a listing does not
  // say): lock_known when the store answered for this object (an S3 HEAD,
  // headers absent = no retention, no legal hold); then lock_mode
  // "GOVERNANCE" / "COMPLIANCE" ("" none), lock_until_ns the retain-until
  // date (ns since the epoch; 0 none) and legal_hold.
  bool lock_known = false;
  std::string lock_mode;
  int64_t lock_until_ns = 0;
  bool legal_hold = false;
};

// What a store says of itself (S3: the bucket's configuration). Each fact
// is kOn / kOff when the store answered, kUnknown when it did not, with the
// reason in *_unknown ("the store cannot tell" for a store without such a
// notion, S3's error for a server that does not implement it). What the
// store says, not what Vigil verified.
enum class StoreFact { kUnknown, kOff, kOn };
struct StoreFacts {
  // Versioning: kOn "Enabled"; kOff "Suspended" or never enabled
  // (versioning_status says which: "Suspended" or "").
  StoreFact versioning = StoreFact::kUnknown;
  std::string versioning_status;
  std::string versioning_unknown;
  // Object Lock on the bucket, and its default retention of new objects
  // (mode "GOVERNANCE" / "COMPLIANCE", "" none; days or years, 0 absent).
  StoreFact object_lock = StoreFact::kUnknown;
  std::string object_lock_unknown;
  std::string default_mode;
  uint32_t default_days = 0;
  uint32_t default_years = 0;
};

// What a store has cost: requests made (every HTTP request or SFTP
// round trip, retries included), content bytes read, retries.
struct StoreCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> retries{0};
};

// How a remote store retries a transient error: `attempts` tries in all,
// waiting first_backoff, doubling up to max_backoff (with jitter) between
// them. `timeout`: a request that makes no progress this long fails as
// transient (connect included).
struct RetryPolicy {
  int attempts = 5;
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds timeout{30000};
};

// The wait before retry number `retry` (1 = the first retry) under `p`:
// first_backoff * 2^(retry-1), capped at max_backoff, times a jitter in
// [0.5, 1.0) drawn from `jitter01` (in [0, 1)).
std::chrono::milliseconds BackoffDelay(const RetryPolicy& p, int retry, double jitter01);

// OK if `path` is a store path as above ("" allowed: the root);
// InvalidArgument naming `what` and the bad component otherwise.
Status CheckStorePath(std::string_view path, std::string_view what);

// Joins a directory and a child name ("" + "a" = "a", "d" + "a" = "d/a").
std::string JoinStorePath(std::string_view dir, std::string_view name);

class Store {
 public:
  virtual ~Store() = default;

  // Where it is, for messages: "/srv/backups", "s3://host/bucket/prefix",
  // "sftp://user@host:port/path". Never a secret.
  virtual std::string Describe() const = 0;

  // Calls `each` once for every child of directory `dir`, in no promised
  // order (S3: key order, a page at a time; SFTP: the server's order), until
  // it returns false. The store holds one page of the listing at a time, so
  // a directory of any size lists in bounded memory; a reader that needs
  // name order sorts what it keeps. NotFound when `dir` does not exist
  // (S3: no key under its prefix, except the root, which is always an
  // empty directory); FailedPrecondition when it is not a directory.
  virtual Status List(std::string_view dir, const std::function<bool(StoreEntry&&)>& each) = 0;

  // The entry at `path` (name = path). Symbolic links are not followed.
  virtual StatusOr<StoreEntry> Stat(std::string_view path) = 0;

  // Reads up to `len` bytes of the file `path` from `offset` into `buf`;
  // returns the number read: fewer than `len` only at the end of the file
  // (0 at or past it).
  virtual StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf,
                                  size_t len) = 0;

  // A hint before a read that must come from the medium, not from a cache
  // of the worker's own (a cold read: restore drills, a confirming
  // re-read): a local store drops the file's cached pages
  // (posix_fadvise DONTNEED). Remote stores hold no cache: no-op. Never
  // fails (a path that cannot be opened is simply not dropped).
  virtual void DropCached(std::string_view path) { (void)path; }

  // What the store says of itself (above). Never fails: a store that
  // cannot answer says why in the *_unknown reasons. Costs requests (S3:
  // two); call it once per task. Default: nothing known, "the store cannot
  // tell" (a local directory, an SFTP server).
  virtual StoreFacts Facts() {
    StoreFacts f;
    f.versioning_unknown = f.object_lock_unknown = "the store cannot tell";
    return f;
  }

  const StoreCounters& counters() const { return counters_; }

 protected:
  StoreCounters counters_;
};

}  // namespace vigil::storage
