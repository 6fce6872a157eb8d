// Reads one file and hashes it: large sequential reads into a reusable
// buffer, posix_fadvise hints, never follows a symlink, never blocks on a
// FIFO swapped in behind our back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/hash.h"

namespace vigil::storage {

struct FileReading {
  bool ok = false;
  Digest digest;
  uint64_t bytes = 0;  // bytes actually read
  int error = 0;       // errno when !ok
  std::string error_text;
};

class FileHasher {
 public:
  // `buffer_bytes`: size of each read. Default 1 MiB: large enough for
  // sequential throughput, small enough to keep in L2 while hashing.
  explicit FileHasher(HashAlgorithm alg, size_t buffer_bytes = 1 << 20);

  // Hashes the file `name` relative to directory fd `dir_fd` (AT_FDCWD for a
  // path). `expected_size` only tunes read-ahead hints. If `drop_cache`,
  // cached pages are dropped first so the content is re-read from the device
  // (used for the confirming re-read of a mismatch). Reads up to the size
  // fstat reports on the open file, or to EOF if that size is 0 or the file
  // already held more when read.
  FileReading Read(int dir_fd, const char* name, uint64_t expected_size, bool drop_cache = false);

 private:
  std::unique_ptr<Hasher> hasher_;
  std::vector<uint8_t> buffer_;
};

}  // namespace vigil::storage
