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
// kMaxBlobBytes) and one open pack.
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

// Reads blobs from the packs of the repository open at `root_fd` (not
// owned): each pack data/XX/<id> opened beneath it with no symbolic link
// followed (storage/open_beneath.h), the last one kept open.
class PackReader {
 public:
  PackReader(int root_fd, const Key& key, const BlobIndex& index)
      : root_fd_(root_fd), key_(key), index_(index) {}
  ~PackReader();
  PackReader(const PackReader&) = delete;
  PackReader& operator=(const PackReader&) = delete;

  // Blob `raw_id` from `at`: read (with `cold`, the pack's cached pages for
  // it dropped first: a read from the device), MAC checked, decrypted,
  // decompressed when stored so, its SHA-256 compared with its id. False
  // with *error (naming the pack) otherwise. *plain is reused.
  bool Read(std::string_view raw_id, const BlobLocation& at, bool cold, std::string* plain,
            std::string* error);
  // The first location of (raw_id, tree) that is usable and reads; false
  // with *error saying why none did ("in no index", each failure).
  bool ReadAny(std::string_view raw_id, bool tree, bool cold, std::string* plain,
               std::string* error);

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  int root_fd_;
  Key key_;
  const BlobIndex& index_;
  int fd_ = -1;
  uint32_t fd_pack_ = 0;
  std::string sealed_, dec_;
  uint64_t bytes_read_ = 0;
};

// "data/ab/ab12..." for a raw pack id.
std::string PackPath(std::string_view raw_pack_id);

}  // namespace vigil::formats::restic
