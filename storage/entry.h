// What the catalogue records for one backup entry, and how it is encoded.
//
// An entry is split in two records under the same key (see key_codec.h):
//   - EntryRecord in column family `catalogue`: what the file *is* (type,
//     size, mtime, digest, first seen). Written when an entry is first seen
//     or legitimately updated; a verification pass that finds the file
//     unchanged never rewrites it.
//   - VerifyRecord in column family `verified`: when the entry was last
//     checked and with what outcome (a dozen bytes for a healthy entry).
//     This is the record a verification pass rewrites, so moving "last
//     verified" costs a small write, not a rewrite of the entry.
//
// Encodings start with a version byte; decoders reject unknown versions,
// truncated input and trailing garbage with DataLoss (never crash).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/content_sample.h"
#include "storage/hash.h"
#include "storage/status.h"

namespace vigil::storage {

// Persisted. Never renumber.
enum class EntryType : uint8_t {
  kFile = 1,     // regular file: size, mtime and digest are meaningful
  kSymlink = 2,  // recorded as a link (target kept), never followed
  kOther = 3,    // device, FIFO, socket: recorded, never read
};

// Persisted. Never renumber.
enum class EntryState : uint8_t {
  kOk = 0,          // last check matched the recorded entry
  kModified = 1,    // content or size differs from the record (integrity failure)
  kMissing = 2,     // recorded, not found at the last check
  kUnreadable = 3,  // found but could not be read (permission, I/O error)
};

std::string_view EntryTypeName(EntryType t);
std::string_view EntryStateName(EntryState s);

struct EntryRecord {
  EntryType type = EntryType::kFile;
  uint64_t size = 0;          // bytes (symlink: length of target)
  int64_t mtime_ns = 0;       // modification time, ns since epoch
  Digest digest;              // content digest; empty for kSymlink and kOther
  int64_t first_seen_ns = 0;  // when Vigil first recorded this entry
  std::string link_target;    // kSymlink only, raw bytes
  // kFile only: what the worker saw of the content when it last read it
  // (storage/content_sample.h); not sampled in records written before
  // samples existed and for content the worker does not read itself.
  ContentSample sample;

  friend bool operator==(const EntryRecord&, const EntryRecord&) = default;
};

struct VerifyRecord {
  EntryState state = EntryState::kOk;
  int64_t last_verified_ns = 0;  // last time the content was read and matched
  int64_t last_checked_ns = 0;   // last time the entry was looked at at all
  // Evidence of the last problem (kModified: both readings; kUnreadable: the
  // error text). Empty when state == kOk.
  Digest first_reading;
  Digest second_reading;
  uint64_t observed_size = 0;
  std::string detail;

  friend bool operator==(const VerifyRecord&, const VerifyRecord&) = default;
};

void EncodeEntryRecord(const EntryRecord& r, std::string* out);
Status DecodeEntryRecord(std::string_view in, EntryRecord* r);

void EncodeVerifyRecord(const VerifyRecord& r, std::string* out);
Status DecodeVerifyRecord(std::string_view in, VerifyRecord* r);

}  // namespace vigil::storage
