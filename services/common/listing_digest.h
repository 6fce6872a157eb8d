// The digests of a restore point's listing that let a worker and the
// coordinator agree that a point is what it was at an earlier check without
// sending its entries (Task.held_points, Observation.held, issue 17).
//
// Both sides feed the same observations (v1::Observation, in catalogue
// order within the point) to a ListingDigester: the worker those it would
// send, the coordinator those it received at the check that recorded the
// point consistent. Two SHA-256 digests come out:
//   - listing: per entry its path, type, size, mtime, symlink target and
//     unreadable flag — what a metadata-only listing compares;
//   - content: the same plus the entry's content digest (algorithm id and
//     bytes; none for a directory or special file) — what a read compares.
// Each field is length-prefixed or fixed-width, so that no two listings
// encode alike. SHA-256 and not the set's content hash: a listing is the
// worker's word on thousands of entries, and the comparison must not be
// forgeable by a crafted tree (XXH3 is not collision-resistant).
//
// The digests themselves never travel. A worker that was handed a point's
// digest could echo it back without reading anything; so the coordinator
// hands out an *offer* per digest, SHA-256("vigil held offer" · task ·
// attempt · digest), against which the worker checks the digest it
// computed, and the worker answers with a *proof*, SHA-256("vigil held
// proof" · task · attempt · digest), which only a worker that computed the
// digest can give (and only for this attempt: an old proof does not
// replay).
//
// Thread safety: one digester per thread; the functions are pure.
#pragma once

#include <memory>
#include <string>

#include "storage/hash.h"
#include "vigil/v1/types.pb.h"

namespace vigil {

class ListingDigester {
 public:
  ListingDigester();
  // Adds one entry (a held marker, Observation.held, must not be added).
  void Add(const v1::Observation& o);
  // Entries added so far.
  uint64_t entries() const { return entries_; }
  // The digests of what was added (content only when `with_content`), and
  // starts again empty.
  v1::ListingDigests Finish(bool with_content);

 private:
  std::unique_ptr<storage::Hasher> listing_;
  std::unique_ptr<storage::Hasher> content_;
  std::string buf_;
  uint64_t entries_ = 0;
};

// The offer of `d`'s digests for attempt `attempt` of task `task` (each
// field: empty stays empty).
v1::ListingDigests HeldOffer(const v1::ListingDigests& d, uint64_t task, uint32_t attempt);
// The proof of `d`'s digests for that attempt (likewise).
v1::ListingDigests HeldProof(const v1::ListingDigests& d, uint64_t task, uint32_t attempt);

}  // namespace vigil
