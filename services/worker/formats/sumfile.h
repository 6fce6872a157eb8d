// Checksum files kept beside the data: GNU coreutils (`sha256sum`,
// `md5sum`, ...) and BSD `--tag` formats. The reader behind
// `vigil verify --format sumfile` and the worker's `sumfile` checks.
//
// Lines, as coreutils reads them:
//   HASH  name        text mode (two characters: a space and a space)
//   HASH *name        binary mode (same bytes on POSIX)
//   \HASH  na\\me     a leading backslash: the name has \\, \n and \r escapes
//   ALG (name) = HASH BSD / `--tag` form (also with a leading backslash)
//   HASH name         one space (BSD `md5 -r`); not mixed with the forms above
//   # ...             comment, ignored
// The algorithm is the --tag label's, else the file name's when it names one
// (SHA256SUMS, MD5SUMS, x.sha512, ...; a digest of the wrong length is then
// an error), else the one whose digest has that many hex digits (md5 32,
// sha1 40, sha224 56, sha256 64, sha384 96, sha512 128).
//
// Differences from `sha256sum -c`, on purpose: names are relative to the sum
// file's directory (not to the current directory); a name that leaves it
// (absolute, '..') is rejected without being opened, and so is a symlink
// that leads out of it (VerifySumFileAt: any symlink); a malformed line is an error naming
// file:line (coreutils only warns and skips it); a blank line is a warning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/formats/finding.h"
#include "storage/hash.h"

namespace vigil::formats {

class FileSource;

struct SumLine {
  enum class Kind { kEntry, kComment, kBlank };
  Kind kind = Kind::kEntry;
  bool tagged = false;    // "ALG (name) = HASH"
  std::string label;      // tagged: "SHA256"
  std::string hex;        // the digest as written
  std::string name;       // unescaped file name
  bool binary = false;    // '*' before the name
  bool escaped = false;   // the line starts with a backslash
  bool reversed = false;  // "HASH name" with one space
};

// Parses one line (without its terminator). `reversed_state` carries the
// coreutils rule across a file's lines: -1 undecided (start with it), 0 once
// a two-character-separator line was seen, 1 once a one-space line was.
// Returns false with *error and *column (0-based) for a malformed line.
bool ParseSumLine(std::string_view line, int* reversed_state, SumLine* out, std::string* error,
                  size_t* column);

// Algorithm of a --tag label: "MD5", "SHA1", "SHA224", "SHA256", "SHA384",
// "SHA512" (also "SHA2-256", "SHA-256", any case) and "XXH128"
// (xxhsum -H2); nullopt otherwise (BLAKE2b, SHA3-256, CRC, ...).
std::optional<storage::HashAlgorithm> SumLabelAlgorithm(std::string_view label);

// What a checksum file's name says about its algorithm.
struct SumNameHint {
  bool named = false;                               // the name names an algorithm
  std::optional<storage::HashAlgorithm> algorithm;  // nullopt when named but unsupported
  std::string algorithm_name;                       // as recognised: "sha256", "b2", "sha3"
};
// "SHA256SUMS", "sha256sums.txt", "MD5SUMS", "backup.tar.sha512",
// "checksums.md5", "B2SUMS" (named, unsupported), "CHECKSUMS" (not named).
SumNameHint SumFileNameHint(std::string_view file_name);

// The supported algorithm whose hex digest has `hex_digits` digits.
std::optional<storage::HashAlgorithm> AlgorithmForHexLength(size_t hex_digits);

struct SumEntry {
  uint64_t line = 0;
  std::string name;  // as listed (unescaped)
  std::string path;  // canonical, relative to the sum file's directory
  storage::Digest expected;
};

// Parses a whole checksum file (raw bytes). `file` names it in findings;
// `file_name` (its last component) is used for the algorithm hint.
std::vector<SumEntry> ParseSumFile(std::string_view raw, const std::string& file,
                                   std::string_view file_name, Findings* out);

struct SumOptions {
  int threads = 0;                // 0 = one per core
  size_t buffer_bytes = 1 << 20;  // size of each read
  uint64_t max_sum_file_bytes = 1ull << 30;
};

struct SumReport {
  std::string sum_file;   // as given
  std::string directory;  // names are relative to it
  std::vector<storage::HashAlgorithm> algorithms;
  uint64_t entries = 0;     // well-formed lines
  uint64_t ok = 0;          // entries that matched
  uint64_t mismatched = 0;  // digest mismatch
  uint64_t missing = 0;
  uint64_t unreadable = 0;  // present but not readable, not a regular file, symlink refused
  uint64_t rejected = 0;    // names that leave the directory
  uint64_t malformed = 0;   // lines that do not parse (including bad digests)
  uint64_t files_read = 0;
  uint64_t bytes_read = 0;
  std::vector<Finding> errors;
  std::vector<Finding> warnings;
  // Non-empty: a store could not be read (file_source.h's store_error,
  // naming the file and the store): no verdict, the check is incomplete.
  std::string store_error;

  bool valid() const { return errors.empty() && store_error.empty(); }
};

// Verifies every entry of the checksum file at `path`. Each listed file is
// read once for all the algorithms that list it. Never throws. The sum file
// and its directory, named by the operator, are opened by their paths; a
// listed file is opened beneath the directory, and a symbolic link is
// followed only while it stays inside it (openat2 RESOLVE_BENEATH), as
// `sha256sum -c` would follow it.
SumReport VerifySumFile(const std::string& path, const SumOptions& options = {});

// The checksum file `name` in the directory open at `dir_fd` (not closed),
// as the worker reads a backup set: the sum file and every listed file are
// opened beneath `dir_fd` by the rule of storage/open_beneath.h, no
// symbolic link followed at all (a "symlink" error). `shown` names the sum
// file in the report (findings' `file`).
SumReport VerifySumFileAt(int dir_fd, const std::string& name, const std::string& shown,
                          const SumOptions& options = {});

// The checksum file `name` of `src`'s directory (file_source.h: a
// directory's descriptor, or a directory of a storage::Store), every listed
// file read from `src`: the same findings. A store that could not be read
// sets store_error.
SumReport VerifySumFileFrom(FileSource& src, const std::string& name, const std::string& shown,
                            const SumOptions& options = {});

}  // namespace vigil::formats
