// BagIt bags (RFC 8493, and the drafts from version 0.93 to 0.97): the
// validator behind `vigil verify --format bagit` and the worker's `bagit`
// checks (docs/formats.md).
//
// What is checked (docs/formats.md has the full list of findings):
//   - bagit.txt, strictly: exactly "BagIt-Version: M.N" then
//     "Tag-File-Character-Encoding: ENC", UTF-8 without a byte-order mark;
//   - bag-info.txt (package-info.txt before 0.96), leniently: labels in any
//     case, repeated labels, continuation lines; Payload-Oxum is checked
//     against the payload before anything is hashed; Bagging-Date is parsed
//     as the date of the restore point;
//   - every payload manifest manifest-<alg>.txt and tag manifest
//     tagmanifest-<alg>.txt for md5, sha1, sha224, sha256, sha384, sha512;
//   - fetch.txt: entries are checked, never downloaded; a listed file that is
//     absent is a warning, not an error;
//   - completeness both ways: every payload file in every payload manifest
//     (in at least one before 1.0), every listed file present and matching.
// Tag files may be UTF-8, UTF-16 (byte-order mark) or ISO-8859-1 and use LF,
// CRLF or CR line endings: names are decoded, digests are over raw bytes.
// A manifest path is percent-decoded for %0A, %0D and %25 only (RFC 8493
// §2.1.3), then any path that would leave the bag ('..', absolute, '~') is
// rejected without being opened. Symlinks inside the bag are never followed.
//
// Every payload file is read once, with large sequential reads, and fed to
// every algorithm that lists it. Nothing here throws. The parsers of the
// tag files (bagit.txt, bag-info.txt, manifests, fetch.txt) are in
// bagit_parse.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/formats/bagit_parse.h"
#include "services/worker/formats/finding.h"
#include "storage/hash.h"

namespace vigil::formats {

class FileSource;

// ---- the whole bag ------------------------------------------------------

struct BagOptions {
  int threads = 0;                // hashing threads; 0 = one per core
  size_t buffer_bytes = 1 << 20;  // size of each read
  bool fast = false;              // structure, completeness, Payload-Oxum: no payload hashing
  uint64_t max_tag_file_bytes = 1ull << 30;
};

struct BagReport {
  std::string root;
  std::string version;       // as declared in bagit.txt ("1.0"); empty if unreadable
  std::string tag_encoding;  // as declared
  std::vector<storage::HashAlgorithm> algorithms;      // payload manifests verified
  std::vector<storage::HashAlgorithm> tag_algorithms;  // tag manifests verified
  std::vector<std::string> manifests;                  // payload manifest files found
  std::vector<std::string> tag_manifests;              // tag manifest files found
  std::vector<Finding> errors;
  std::vector<Finding> warnings;
  uint64_t payload_files = 0;  // regular files found under data/
  uint64_t payload_bytes = 0;
  std::optional<PayloadOxum> payload_oxum;  // as declared in bag-info.txt
  std::string bagging_date;                 // as declared
  std::optional<int64_t> bagging_date_ns;   // midnight UTC: the restore point's date
  std::vector<BagInfoField> bag_info;
  uint64_t fetch_entries = 0;
  uint64_t fetch_pending = 0;  // listed in fetch.txt and absent
  bool hashed = false;         // false with BagOptions::fast
  uint64_t files_hashed = 0;   // payload and tag files read
  uint64_t bytes_hashed = 0;
  // Non-empty: a store could not be read (file_source.h's store_error,
  // naming the file and the store). The report is then no verdict on the
  // bag: the check is incomplete.
  std::string store_error;

  // No error: every present file matches every manifest that lists it.
  bool valid() const { return errors.empty() && store_error.empty(); }
  // Valid and nothing waiting to be fetched (RFC 8493 §3 "complete").
  bool complete() const { return valid() && fetch_pending == 0; }
};

// Validates the bag at `path`. Never throws; a path that cannot be opened is
// reported as an error ("not_a_bag"). `path` is opened by its path (it may
// be reached through symbolic links); nothing in the bag is: every tag
// file, manifest-listed file and payload directory is opened beneath it with
// no link followed (storage/open_beneath.h), a link being a "symlink" error.
BagReport ValidateBag(const std::string& path, const BagOptions& options = {});

// The bag open at `dir_fd` (not closed); `shown` names it in the report.
BagReport ValidateBagAt(int dir_fd, const std::string& shown, const BagOptions& options = {});

// The bag that is `src`'s directory (file_source.h: a directory's
// descriptor, or a directory of a storage::Store): the same reads, the same
// findings. A store that could not be read sets store_error.
BagReport ValidateBagFrom(FileSource& src, const std::string& shown,
                          const BagOptions& options = {});

}  // namespace vigil::formats
