// Synthetic restore points for the ransomware-signal tests
// (contracts/signals_test.cc, coordinator/verdicts_test.cc): a tree is a map
// path -> file (content feeding the digest, size, content sample), written
// into a real Catalogue as one point's entries. Header-only; not
// thread-safe (one test's catalogue).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

#include "storage/catalogue.h"
#include "storage/content_sample.h"
#include "storage/entry.h"
#include "storage/hash.h"

namespace vigil::testing::signal_trees {

using storage::FileFormat;

struct File {
  std::string content;
  uint64_t size = 1000;
  storage::ContentSample sample{};
};
using Tree = std::map<std::string, File>;

// Content samples as the worker would take them.
inline constexpr storage::ContentSample kText{FileFormat::kUnknown, 75};  // ~4.7 bits/byte
inline constexpr storage::ContentSample kDocx{FileFormat::kZip, 126};     // Office Open XML
inline constexpr storage::ContentSample kPdf{FileFormat::kPdf, 110};
inline constexpr storage::ContentSample kJpeg{FileFormat::kJpeg, 126};
inline constexpr storage::ContentSample kZip{FileFormat::kZip, 127};
inline constexpr storage::ContentSample kPe{FileFormat::kPe, 100};
inline constexpr storage::ContentSample kElf{FileFormat::kElf, 96};
inline constexpr storage::ContentSample kSqlite{FileFormat::kSqlite, 60};
// Encrypted: no known magic, uniformly random bytes.
inline constexpr storage::ContentSample kEncrypted{FileFormat::kUnknown, 127};
// Encrypted in part (intermittent): the magic is gone, the middle block is
// still the original, so the sample's entropy stays moderate.
inline constexpr storage::ContentSample kPartlyEncrypted{FileFormat::kUnknown, 104};

// The sample the worker would take of a file of this name's usual content.
inline storage::ContentSample UsualSample(const std::string& path) {
  switch (storage::ExpectedFormat(path)) {
    case FileFormat::kZip:
      return kDocx;
    case FileFormat::kPdf:
      return kPdf;
    case FileFormat::kJpeg:
      return kJpeg;
    case FileFormat::kPe:
      return kPe;
    case FileFormat::kElf:
      return kElf;
    case FileFormat::kSqlite:
      return kSqlite;
    default:
      return kText;
  }
}

inline File Usual(const std::string& path, const std::string& version = "") {
  return {path + version, 1000 + path.size(), UsualSample(path)};
}

// An office share: 40 directories ("share/deptN") of 25 documents (.docx,
// .pdf, .txt, .xlsx, .jpg): 1,000 files.
inline Tree Office() {
  Tree t;
  const char* exts[] = {".docx", ".pdf", ".txt", ".xlsx", ".jpg"};
  for (int d = 0; d < 40; ++d) {
    for (int f = 0; f < 25; ++f) {
      std::string p = "share/dept" + std::to_string(d) + "/doc" + std::to_string(f) + exts[f % 5];
      t[p] = Usual(p);
    }
  }
  return t;
}

// Adds 5,000 program binaries (.dll, .exe, .so under "apps/") and a
// database ("db/app.sqlite", 1 MiB).
inline void AddPrograms(Tree* t) {
  for (int i = 0; i < 5000; ++i) {
    const char* ext = i % 3 == 0 ? ".dll" : (i % 3 == 1 ? ".exe" : ".so");
    std::string p = "apps/bin" + std::to_string(i / 500) + "/m" + std::to_string(i) + ext;
    (*t)[p] = Usual(p);
  }
  (*t)["db/app.sqlite"] = {"db 0", 1 << 20, kSqlite};
}

// Writes `tree` as the entries of (tenant, set, point), every file with
// mtime `mtime_ns` (0: the point's time, so that no version is shared with
// another point; a fixed one: a file unchanged since a point shares its
// version, as the merges make them).
inline void WriteTree(storage::Catalogue& cat, const std::string& tenant, const std::string& set,
                      int64_t point, const Tree& tree, int64_t mtime_ns = 0) {
  storage::Catalogue::Writer w(&cat, storage::Scope{tenant, set, point});
  for (const auto& [path, f] : tree) {
    storage::EntryRecord r;
    r.type = storage::EntryType::kFile;
    r.size = f.size;
    r.mtime_ns = mtime_ns != 0 ? mtime_ns : point;
    r.digest = storage::HashBytes(storage::HashAlgorithm::kXxh3_128, f.content);
    r.first_seen_ns = point;
    r.sample = f.sample;
    ASSERT_TRUE(w.PutEntry(path, r).ok()) << path;
  }
  ASSERT_TRUE(w.Commit(false).ok());
}

}  // namespace vigil::testing::signal_trees
