// Blobs by id (restic_repo.h).
#include "services/worker/formats/restic_repo.h"

#include <algorithm>

#include "storage/hash.h"

namespace vigil::formats::restic {

namespace {

bool EntryLess(const BlobIndex::Entry& a, const BlobIndex::Entry& b) {
  if (a.id != b.id) return a.id < b.id;
  if (a.at.tree != b.at.tree) return a.at.tree < b.at.tree;
  if (a.at.pack != b.at.pack) return a.at.pack < b.at.pack;
  return a.at.offset < b.at.offset;
}

}  // namespace

std::string PackPath(std::string_view raw_pack_id) {
  const std::string hex = Hex(raw_pack_id);
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

uint32_t BlobIndex::AddPack(std::string_view raw_pack_id) {
  packs_.emplace_back(raw_pack_id);
  pack_bad_.emplace_back();
  return static_cast<uint32_t>(packs_.size() - 1);
}

void BlobIndex::Add(uint32_t pack, const IndexBlob& blob) {
  Entry e;
  std::copy_n(blob.id.data(), std::min<size_t>(blob.id.size(), 32), e.id.data());
  e.at.pack = pack;
  e.at.tree = blob.tree;
  e.at.length = static_cast<uint32_t>(blob.length);
  e.at.uncompressed_length =
      static_cast<uint32_t>(std::min<uint64_t>(blob.uncompressed_length, 0xffffffffu));
  e.at.offset = blob.offset;
  entries_.push_back(e);
}

void BlobIndex::Finish() {
  std::sort(entries_.begin(), entries_.end(), EntryLess);
  // The same blob listed twice at the same place (two index files naming
  // one pack) is one location.
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const Entry& a, const Entry& b) {
                               return a.id == b.id && a.at.tree == b.at.tree &&
                                      a.at.pack == b.at.pack && a.at.offset == b.at.offset;
                             }),
                 entries_.end());
  entries_.shrink_to_fit();
}

std::span<const BlobIndex::Entry> BlobIndex::Find(std::string_view raw_id, bool tree) const {
  if (raw_id.size() != 32) return {};
  Entry key;
  std::copy_n(raw_id.data(), 32, key.id.data());
  key.at.tree = tree;
  auto lo =
      std::lower_bound(entries_.begin(), entries_.end(), key, [](const Entry& a, const Entry& b) {
        if (a.id != b.id) return a.id < b.id;
        return a.at.tree < b.at.tree;
      });
  auto hi = lo;
  while (hi != entries_.end() && hi->id == key.id && hi->at.tree == tree) ++hi;
  return {lo, hi};
}

void BlobIndex::MarkPackBad(uint32_t pack, std::string why) {
  if (pack < pack_bad_.size() && pack_bad_[pack].empty()) pack_bad_[pack] = std::move(why);
}

void BlobIndex::MarkBlobBad(uint32_t pack, uint64_t offset, std::string why) {
  bad_blobs_.emplace(std::make_pair(pack, offset), std::move(why));
}

std::string_view BlobIndex::Unusable(const BlobLocation& at) const {
  if (at.pack < pack_bad_.size() && !pack_bad_[at.pack].empty()) return pack_bad_[at.pack];
  auto it = bad_blobs_.find({at.pack, at.offset});
  return it == bad_blobs_.end() ? std::string_view() : std::string_view(it->second);
}

StoreFailure ClassifyStoreFailure(storage::Store& store, std::string_view path,
                                  const storage::Status& status) {
  if (absl::IsNotFound(status)) return StoreFailure::kGone;
  if (!absl::IsInvalidArgument(status) && !absl::IsFailedPrecondition(status)) {
    return StoreFailure::kStore;
  }
  auto st = store.Stat(path);
  if (absl::IsNotFound(st.status())) return StoreFailure::kGone;
  if (!st.ok()) return StoreFailure::kStore;
  if (st->type == storage::StoreEntryType::kSymlink) return StoreFailure::kSymlink;
  if (st->type != storage::StoreEntryType::kFile) return StoreFailure::kNotFile;
  return StoreFailure::kStore;
}

bool PackReader::Read(std::string_view raw_id, const BlobLocation& at, bool cold,
                      std::string* plain, std::string* error) {
  const std::string rel = PackPath(index_.pack_id(at.pack));
  const std::string what = std::string(at.tree ? "tree" : "data") + " blob " + Hex(raw_id) +
                           " in " + rel + " at offset " + std::to_string(at.offset);
  if (!store_error_.ok()) {
    *error = what + ": " + std::string(store_error_.message());
    return false;
  }
  if (at.length < kOverhead || at.length > kMaxBlobBytes || at.PlainSize() > kMaxBlobBytes) {
    *error = what + ": length " + std::to_string(at.length) + " out of range";
    return false;
  }
  const std::string path = storage::JoinStorePath(base_, rel);
  if (cold) store_.DropCached(path);
  sealed_.resize(at.length);
  storage::StatusOr<size_t> got = store_.ReadAt(path, at.offset, sealed_.data(), sealed_.size());
  if (!got.ok()) {
    switch (ClassifyStoreFailure(store_, path, got.status())) {
      case StoreFailure::kGone:
        *error = what + ": cannot open the pack: not found";
        return false;
      case StoreFailure::kSymlink:
        *error = what + ": cannot open the pack: symbolic link, not followed";
        return false;
      case StoreFailure::kNotFile:
        *error = what + ": cannot open the pack: not a regular file";
        return false;
      case StoreFailure::kStore:
        store_error_ = storage::Status(got.status().code(),
                                       "cannot read " + rel + " from " + store_.Describe() + ": " +
                                           std::string(got.status().message()));
        *error = what + ": " + std::string(store_error_.message());
        return false;
    }
  }
  bytes_read_ += *got;
  if (*got < sealed_.size()) {
    *error = what + ": the pack ends " + std::to_string(sealed_.size() - *got) +
             " bytes before the blob does";
    return false;
  }
  std::string err;
  if (!Decrypt(key_, sealed_, plain, &err)) {
    *error = what + ": " + err;
    return false;
  }
  if (at.uncompressed_length > 0) {
    if (!ZstdDecompress(*plain, at.uncompressed_length, &dec_, &err)) {
      *error = what + ": " + err;
      return false;
    }
    if (dec_.size() != at.uncompressed_length) {
      *error = what + ": decompressed to " + std::to_string(dec_.size()) +
               " bytes, the index says " + std::to_string(at.uncompressed_length);
      return false;
    }
    plain->swap(dec_);
  }
  storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kSha256, *plain);
  if (d.view() != raw_id) {
    *error = what + ": content hashes to " + d.Hex() + " (SHA-256)";
    return false;
  }
  return true;
}

bool PackReader::ReadAny(std::string_view raw_id, bool tree, bool cold, std::string* plain,
                         std::string* error) {
  auto locations = index_.Find(raw_id, tree);
  if (locations.empty()) {
    *error = std::string(tree ? "tree" : "data") + " blob " + Hex(raw_id) + " is in no index";
    return false;
  }
  std::string why;
  for (const auto& e : locations) {
    std::string_view bad = index_.Unusable(e.at);
    std::string err;
    if (!bad.empty()) {
      err = std::string(tree ? "tree" : "data") + " blob " + Hex(raw_id) + " in " +
            PackPath(index_.pack_id(e.at.pack)) + ": " + std::string(bad);
    } else if (Read(raw_id, e.at, cold, plain, &err)) {
      return true;
    }
    why += (why.empty() ? "" : "; ") + err;
  }
  *error = why;
  return false;
}

}  // namespace vigil::formats::restic
