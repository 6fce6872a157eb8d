// Reading files named by untrusted manifests: opening confined beneath a
// directory, and hashing one file with several algorithms in a single read.
// The lexical path checks done before anything is opened are in
// path_check.h (included here).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/formats/path_check.h"
#include "storage/hash.h"
#include "storage/status.h"

namespace vigil::formats {

enum class Symlinks {
  kRefuse,         // no component may be a symbolic link
  kFollowBeneath,  // symlinks are followed while they stay beneath the directory
};

struct OpenedFile {
  int fd = -1;  // owned by the caller when >= 0
  uint64_t size = 0;
  int error = 0;  // errno when fd < 0
  std::string error_text;
  bool not_found = false;  // ENOENT / ENOTDIR on a component
  bool symlink = false;    // refused: a component is a symbolic link
  bool escapes = false;    // refused: resolution would leave the directory
};

// Opens `rel` (already checked with CheckRelativePath) beneath `dir_fd` for
// reading, by the one path-resolution rule (storage/open_beneath.h):
// openat2(RESOLVE_BENEATH) or a component-by-component walk with O_NOFOLLOW
// (symlinks then always refused). Never blocks on a FIFO, and only returns
// regular files. error_text names the component that is a link.
OpenedFile OpenBeneath(int dir_fd, const std::string& rel, Symlinks policy);

// Tests only: false makes OpenBeneath() use its fallback (no openat2).
void UseOpenat2ForTesting(bool use);

// Reads a whole file beneath `dir_fd` (tag files, sum files). Fails (error
// EFBIG) if it is larger than `max_bytes`.
OpenedFile ReadBeneath(int dir_fd, const std::string& rel, Symlinks policy, uint64_t max_bytes,
                       std::string* content);

// Reads a whole file named by the user on the command line (symlinks
// followed), e.g. the sum file of `vigil verify --format sumfile FILE`;
// never for anything found in a backup set.
OpenedFile ReadPath(const std::string& path, uint64_t max_bytes, std::string* content);

// Hashes files with several algorithms at once: each buffer read is fed to
// every hasher. One per thread; reusable.
class MultiHasher {
 public:
  explicit MultiHasher(size_t buffer_bytes = 1 << 20);

  struct Result {
    bool ok = false;
    std::vector<storage::Digest> digests;  // same order as `algorithms`
    uint64_t bytes = 0;
    std::string error_text;
  };
  // Reads `fd` from its start to EOF. If `drop_cache`, cached pages are
  // dropped first so that the device is read again (confirming re-read).
  Result Hash(int fd, std::span<const storage::HashAlgorithm> algorithms, bool drop_cache = false);
  // Reads through `read(offset, buffer, len)` from offset 0 until it
  // returns 0 (the end) or an error (error_text is its message, *failure
  // the status when not null): the same loop for a store's ReadAt.
  using ReadFn = std::function<storage::StatusOr<size_t>(uint64_t, void*, size_t)>;
  Result HashFrom(const ReadFn& read, std::span<const storage::HashAlgorithm> algorithms,
                  storage::Status* failure = nullptr);

 private:
  storage::Hasher* HasherFor(storage::HashAlgorithm alg);
  std::vector<std::unique_ptr<storage::Hasher>> hashers_;  // indexed by enum value
  std::vector<uint8_t> buffer_;
};

// One file to read and check against one or more expected digests.
struct FileCheck {
  std::string path;                                // beneath the directory, already checked
  std::vector<storage::HashAlgorithm> algorithms;  // distinct; empty = presence only
  std::vector<storage::Digest> expected;           // what the listings say

  // Results.
  OpenedFile open;             // open.error != 0: could not be opened
  MultiHasher::Result first;   // the reading
  MultiHasher::Result second;  // the confirming re-read, if `reread`
  bool reread = false;         // a digest differed: read again from the device

  // Digest of the first (or second) reading for `alg`; empty if not read.
  storage::Digest First(storage::HashAlgorithm alg) const;
  storage::Digest Second(storage::HashAlgorithm alg) const;
};

// Reads every check's file once (all its algorithms in the same pass), in
// parallel, and re-reads once from the device a file whose digest does not
// match one of `expected`.
void RunFileChecks(int dir_fd, Symlinks policy, std::vector<FileCheck>* checks, int threads,
                   size_t buffer_bytes);

// How RunFileChecksWith reaches one file: Open sets c.open (false: not
// opened, c.open says why), Hash reads it whole (`cold`: the confirming
// re-read, from the medium), Close releases what Open took. Called from
// RunFileChecksWith's threads, one file per call.
class FileCheckReader {
 public:
  virtual ~FileCheckReader() = default;
  virtual bool Open(FileCheck& c) = 0;
  virtual MultiHasher::Result Hash(MultiHasher& mh, FileCheck& c, bool cold) = 0;
  virtual void Close(FileCheck& c) = 0;
};

// RunFileChecks over any reader (a directory's descriptors above, a
// storage::Store in file_source.cc): the same reads, re-reads and results.
void RunFileChecksWith(FileCheckReader& reader, std::vector<FileCheck>* checks, int threads,
                       size_t buffer_bytes);

// Calls fn(i, worker) for every i in [0, n) from `threads` threads (0: one
// per core, at most 16); worker is in [0, threads). Returns the thread count.
int ParallelFor(size_t n, int threads, const std::function<void(size_t, int)>& fn);

}  // namespace vigil::formats
