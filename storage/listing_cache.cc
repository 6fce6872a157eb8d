#include "storage/listing_cache.h"

#include <time.h>
#include <xxhash.h>

#include <algorithm>
#include <string>
#include <utility>

namespace vigil::storage {
namespace {

int64_t RealtimeNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// What one listing costs in memory, about: each name's heap bytes beyond
// std::string's small buffer, its DirName, the vector.
size_t BytesOf(const std::vector<DirName>& names) {
  size_t bytes = sizeof(std::vector<DirName>) + names.capacity() * sizeof(DirName);
  for (const DirName& n : names) {
    if (n.name.capacity() > 15) bytes += n.name.capacity() + 1;
  }
  return bytes;
}

// A key and its slot in the hash map, about.
constexpr size_t kSlotBytes = 64;

uint64_t ContentHash(const std::vector<DirName>& names) {
  std::string buf;
  for (const DirName& n : names) {
    const uint64_t len = n.name.size();
    const uint64_t ino = n.ino;
    buf.append(reinterpret_cast<const char*>(&len), sizeof len);
    buf.append(n.name);
    buf.push_back(static_cast<char>(n.type));
    buf.append(reinterpret_cast<const char*>(&ino), sizeof ino);
  }
  return XXH3_64bits(buf.data(), buf.size());
}

bool SameNames(const std::vector<DirName>& a, const std::vector<DirName>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const DirName& x, const DirName& y) {
    return x.name == y.name && x.type == y.type && x.ino == y.ino;
  });
}

}  // namespace

ListingCache::ListingCache(Options options) : options_(std::move(options)) {}

ListingCache::Listing ListingCache::Find(const Key& key, int64_t ctime_ns) {
  MutexLock lock(&mu_);
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second.ctime_ns != ctime_ns) {
    ++misses_;
    return {};
  }
  ++hits_;
  it->second.used = true;
  return it->second.listing;
}

bool ListingCache::Settled(int64_t ctime_ns) const {
  if (options_.max_bytes == 0) return false;
  const int64_t now = options_.now_ns ? options_.now_ns() : RealtimeNs();
  return ctime_ns <= now - options_.settle_ns;
}

void ListingCache::Put(const Key& key, int64_t ctime_ns, Listing listing) {
  if (options_.max_bytes == 0 || listing.names == nullptr) return;
  MutexLock lock(&mu_);
  auto [it, added] = slots_.try_emplace(key);
  Slot& slot = it->second;
  if (!added) {
    if (slot.ctime_ns == ctime_ns && slot.listing.names == listing.names) {
      slot.listing = std::move(listing);  // what a later walk learnt of it
      return;
    }
    DropLocked(slot);
  } else {
    bytes_ += kSlotBytes;
  }
  // The same names as a listing kept already: that one is shared.
  const uint64_t h = ContentHash(*listing.names);
  std::vector<Shared>& bucket = shared_[h];
  Shared* kept = nullptr;
  for (Shared& sh : bucket) {
    if (sh.names == listing.names || SameNames(*sh.names, *listing.names)) {
      kept = &sh;
      break;
    }
  }
  if (kept == nullptr) {
    kept = &bucket.emplace_back();
    kept->names = listing.names;
    kept->bytes = BytesOf(*listing.names);
    bytes_ += kept->bytes;
    ++listings_;
  }
  ++kept->users;
  listing.names = kept->names;
  slot.ctime_ns = ctime_ns;
  slot.listing = std::move(listing);
  slot.content_hash = h;
  slot.used = false;
  if (bytes_ > options_.max_bytes) SweepLocked(key);
}

void ListingCache::DropLocked(const Slot& slot) {
  auto it = shared_.find(slot.content_hash);
  if (it == shared_.end()) return;
  std::vector<Shared>& bucket = it->second;
  for (size_t i = 0; i < bucket.size(); ++i) {
    if (bucket[i].names != slot.listing.names) continue;
    if (--bucket[i].users == 0) {
      bytes_ -= bucket[i].bytes;
      --listings_;
      bucket.erase(bucket.begin() + static_cast<std::ptrdiff_t>(i));
      if (bucket.empty()) shared_.erase(it);
    }
    return;
  }
}

void ListingCache::SweepLocked(const Key& keep) {
  // Not found since the last sweep: dropped. Found: kept, unmarked.
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (it->second.used || it->first == keep) {
      it->second.used = false;
      ++it;
      continue;
    }
    DropLocked(it->second);
    bytes_ -= kSlotBytes;
    slots_.erase(it++);
  }
  if (bytes_ <= options_.max_bytes) return;
  // Everything was in use: more than fits. Others go until a quarter of
  // the bound is free.
  const size_t target = options_.max_bytes - options_.max_bytes / 4;
  for (auto it = slots_.begin(); it != slots_.end() && bytes_ > target;) {
    if (it->first == keep) {
      ++it;
      continue;
    }
    DropLocked(it->second);
    bytes_ -= kSlotBytes;
    slots_.erase(it++);
  }
}

ListingCache::Stats ListingCache::stats() const {
  MutexLock lock(&mu_);
  Stats s;
  s.hits = hits_;
  s.misses = misses_;
  s.directories = slots_.size();
  s.listings = listings_;
  s.bytes = bytes_;
  return s;
}

}  // namespace vigil::storage
