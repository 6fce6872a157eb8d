// Reading a restic repository's blobs by id: the index turned around (blob
// id -> where it is stored), and a reader that fetches one blob from its
// pack, decrypts it, decompresses it and checks that it hashes to its id.
//
// Users: the structure check (restic_walk.h, run by restic_verify.cc) reads
// tree blobs through these; restore drills (restic_restore.h) read trees and
// data blobs. Nothing here writes.
//
// Memory: a BlobIndex holds one 64-byte entry per indexed blob (restic holds
// its index in memory too); a PackReader holds one blob at a time (at most
// kMaxBlobBytes), read from the repository's storage::Store with one ranged
// ReadAt per blob (a LocalStore keeps the last pack open).
//
// Thread safety: a finished BlobIndex may be read from any number of
// threads (Mark* must not race with readers); a PackReader belongs to one
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/worker/formats/restic_crypto.h"
#include "services/worker/formats/restic_parse.h"
#include "storage/status.h"
#include "storage/store.h"

namespace vigil::formats::restic {

// Largest blob read (in the pack, and decompressed). restic's chunker cuts
// at most 8 MiB; anything far larger is a damaged or hostile index.
inline constexpr uint64_t kMaxBlobBytes = 64ull << 20;

// Where one blob is stored, as an index says.
struct BlobLocation {
  uint32_t pack = 0;  // BlobIndex::pack_id(pack)
  bool tree = false;
  uint32_t length = 0;               // in the pack: IV + ciphertext + MAC
  uint32_t uncompressed_length = 0;  // 0 = stored uncompressed
  uint64_t offset = 0;               // in the pack
  // Bytes of the blob's plaintext (its content once decompressed).
  uint64_t PlainSize() const {
    return uncompressed_length > 0 ? uncompressed_length
                                   : (length >= kOverhead ? length - kOverhead : 0);
  }
};

// Every blob of every index, by (id, type) as restic looks blobs up. A blob
// stored twice has two locations. Build with AddPack/Add, then Finish once.
class BlobIndex {
 public:
  struct Entry {
    std::array<char, 32> id{};
    BlobLocation at;
  };

  uint32_t AddPack(std::string_view raw_pack_id);
  void Add(uint32_t pack, const IndexBlob& blob);
  void Finish();  // sorts; REQUIRES: called once, before Find

  // The locations of blob `raw_id` (32 bytes) of that type; empty when no
  // index lists it.
  std::span<const Entry> Find(std::string_view raw_id, bool tree) const;
  const std::string& pack_id(uint32_t pack) const { return packs_[pack]; }
  size_t packs() const { return packs_.size(); }
  size_t blobs() const { return entries_.size(); }

  // Why a location cannot be used (its data would not restore), set by the
  // verifier from what it found: "" = usable.
  void MarkPackBad(uint32_t pack, std::string why);
  void MarkBlobBad(uint32_t pack, uint64_t offset, std::string why);
  std::string_view Unusable(const BlobLocation& at) const;

 private:
  std::vector<std::string> packs_;     // raw ids
  std::vector<std::string> pack_bad_;  // by pack: why unusable, "" = fine
  std::vector<Entry> entries_;         // sorted by (id, tree) after Finish
  std::map<std::pair<uint32_t, uint64_t>, std::string> bad_blobs_;  // (pack, offset) -> why
};

// Reads blobs from the packs of the repository in `store` beneath `base`
// (the repository's directory, a store path; "" = the store's root): each
// blob with one ReadAt of its range of data/XX/<id>.
//
// A read that fails because of the repository (the pack is gone, is a
// symbolic link, ends before the blob, the blob does not decrypt or hash to
// its id) is a false with *error naming the blob and the pack. A read that
// fails because the store could not be read (StoreFailure::kStore:
// credentials refused, unavailable after retries, ...) sets store_error(),
// and every later Read fails at once with it: the caller's check stops and
// reports it as its own error, not as damage.
class PackReader {
 public:
  PackReader(storage::Store& store, std::string base, const Key& key, const BlobIndex& index)
      : store_(store), base_(std::move(base)), key_(key), index_(index) {}
  PackReader(const PackReader&) = delete;
  PackReader& operator=(const PackReader&) = delete;

  // Blob `raw_id` from `at`: read (with `cold`, the pack's cached pages
  // dropped first, Store::DropCached: a read from the device), MAC checked,
  // decrypted, decompressed when stored so, its SHA-256 compared with its
  // id. False with *error (naming the pack) otherwise. *plain is reused.
  bool Read(std::string_view raw_id, const BlobLocation& at, bool cold, std::string* plain,
            std::string* error);
  // The first location of (raw_id, tree) that is usable and reads; false
  // with *error saying why none did ("in no index", each failure).
  bool ReadAny(std::string_view raw_id, bool tree, bool cold, std::string* plain,
               std::string* error);

  uint64_t bytes_read() const { return bytes_read_; }
  // OK unless a read failed because the store could not be read; then the
  // message names the pack and the store.
  const storage::Status& store_error() const { return store_error_; }

 private:
  storage::Store& store_;
  std::string base_;
  Key key_;
  const BlobIndex& index_;
  std::string sealed_, dec_;
  uint64_t bytes_read_ = 0;
  storage::Status store_error_;
};

// What a failed store call about `path` (listed as a regular file of the
// repository) means for a check:
//   kGone     it vanished since the listing (NotFound): the repository's state;
//   kSymlink  it is a symbolic link now (never followed): a finding;
//   kNotFile  it is something else than a regular file now: a finding;
//   kStore    the store could not be read (PermissionDenied, Unavailable,
//             DataLoss, ...): the check's own error, not a verdict on the
//             repository.
// An InvalidArgument or FailedPrecondition answer is told apart by a Stat
// of `path` (a LocalStore refuses a link with InvalidArgument and a
// non-file with FailedPrecondition; a remote store's FailedPrecondition,
// bucket missing or host key mismatch, fails the Stat as well).
enum class StoreFailure { kGone, kSymlink, kNotFile, kStore };
StoreFailure ClassifyStoreFailure(storage::Store& store, std::string_view path,
                                  const storage::Status& status);

// "data/ab/ab12..." for a raw pack id.
std::string PackPath(std::string_view raw_pack_id);

}  // namespace vigil::formats::restic
