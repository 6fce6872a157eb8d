// Reads one file and hashes it: large sequential reads into a reusable
// buffer, posix_fadvise hints, never follows a symlink, never blocks on a
// FIFO swapped in behind our back. While it hashes it samples the content
// (ContentSampler: first and middle block, from the same buffers; no extra
// read). Not thread-safe: one FileHasher per thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/content_sample.h"
#include "storage/hash.h"

namespace vigil::storage {

class Store;

struct FileReading {
  bool ok = false;
  Digest digest;
  // The same bytes with the hasher's second algorithm (FileHasher(alg,
  // also)); empty without one.
  Digest also_digest;
  // ReadStore with `upload`: the same bytes in that algorithm (to compare
  // with what the store recorded at upload); empty otherwise.
  Digest upload_digest;
  uint64_t bytes = 0;  // bytes actually read
  int error = 0;       // errno when !ok
  std::string error_text;
  // From fstat on the open file; set whenever the file could be opened and
  // fstat'ed (even if the read then failed or was skipped).
  bool has_stat = false;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  nlink_t nlink = 1;
  // Not read because it has more than one link and the caller asked so
  // (skip_hard_linked); ok is false, error 0, the stat fields are set.
  bool skipped_hard_linked = false;
  // What the bytes read looked like (format from the first bytes, entropy
  // of the first and middle KiB): set when ok, not sampled otherwise.
  ContentSample sample;
};

class FileHasher {
 public:
  // `buffer_bytes`: size of each read. Default 1 MiB: large enough for
  // sequential throughput, small enough to keep in L2 while hashing.
  explicit FileHasher(HashAlgorithm alg, size_t buffer_bytes = 1 << 20);
  // Hashes each file with `alg` and `also` in the same read (a catalogue
  // moving from one algorithm to another compares the old digest and
  // records the new one): FileReading::also_digest.
  FileHasher(HashAlgorithm alg, HashAlgorithm also, size_t buffer_bytes = 1 << 20);

  // Hashes the file `name` relative to directory fd `dir_fd` (AT_FDCWD for a
  // path). `expected_size` only tunes read-ahead hints. If `drop_cache`,
  // cached pages are dropped first so the content is re-read from the device
  // (used for the confirming re-read of a mismatch). Reads up to the size
  // fstat reports on the open file, or to EOF if that size is 0 or the file
  // already held more when read.
  // If `skip_hard_linked`, a file with more than one link is only fstat'ed,
  // not read (see FileReading::skipped_hard_linked).
  FileReading Read(int dir_fd, const char* name, uint64_t expected_size, bool drop_cache = false,
                   bool skip_hard_linked = false);

  // Hashes the file `path` of `store` (storage/store.h) with ReadAt in
  // reads of the hasher's buffer size, straight into its buffer: the same
  // digests (both algorithms) and the same content sample as Read() gives
  // for the same bytes. `expected_size` is the size the listing gave: the
  // reads stop there (no request past the end), or at the end of the file
  // if that comes first, or go on to the end if it is 0 (as Read trusts no
  // size of 0). has_stat is set with size = expected_size; a store has no
  // inodes (dev, ino 0; nlink 0) and mtime_ns is left 0 (the listing has
  // it). A failure sets error to the errno the store's code stands for
  // (ENOENT NotFound, EACCES PermissionDenied, EINVAL FailedPrecondition,
  // EIO otherwise) and error_text to "read: " and the store's message.
  // `upload` (set only when the store recorded a digest of the object at
  // upload: an S3 checksum or MD5 ETag): the content is also hashed with
  // that algorithm from the same buffers (FileReading::upload_digest; the
  // set's own digest is reused when the algorithm is the same).
  FileReading ReadStore(Store& store, std::string_view path, uint64_t expected_size,
                        std::optional<HashAlgorithm> upload = std::nullopt);

 private:
  std::unique_ptr<Hasher> hasher_;
  std::unique_ptr<Hasher> also_;    // null: one algorithm
  std::unique_ptr<Hasher> upload_;  // ReadStore's `upload`, kept between reads
  std::vector<uint8_t> buffer_;
  ContentSampler sampler_;
};

}  // namespace vigil::storage
