// The digests of a restore point's listing that let a worker and the
// coordinator agree that a point is what it was at an earlier check without
// sending its entries (Task.held_points, Observation.held, issue 17).
//
// Both sides feed the same observations (v1::Observation, in catalogue
// order within the point) to a ListingDigester: the worker those it would
// send, the coordinator those it received at the check that recorded the
// point consistent. Two SHA-256 digests come out:
//   - listing: per entry its name, type, size, mtime, symlink target and
//     unreadable flag — what a metadata-only listing compares;
//   - content: the same plus the entry's content digest (algorithm id and
//     bytes; none for a directory or special file) — what a read compares.
// They are the digests of the point's root directory as DirDigester
// (below) computes them, a tree: each directory's digests cover what is
// beneath it, so one pass gives the point's digests and every directory's
// (Task.held_dirs). This is digest format 2 (kListingDigestsFormat;
// PointRecord.digests_format): format 1, before, hashed each entry's full
// path in one flat stream. Each field is length-prefixed or fixed-width,
// so that no two listings encode alike. SHA-256 and not the set's content
// hash: a listing is the worker's word on thousands of entries, and the
// comparison must not be forgeable by a crafted tree (XXH3 is not
// collision-resistant).
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

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/hash.h"
#include "vigil/v1/types.pb.h"

namespace vigil {

// The digests of every directory of a restore point, from the same
// observations in catalogue order (issue 17, docs/storage.md "Held
// directories"). A directory's digests cover everything beneath it, as a
// tree: its listing digest hashes, in catalogue order, each entry directly
// in it (name, type, size, mtime, link target, unreadable flag) and each
// sub-directory (name and that directory's digests); its content digest
// the same with each entry's content digest and the sub-directories'
// content digests. So each entry is hashed once, whatever its depth, and
// two directories with the same digests hold the same entries beneath them
// (names relative to the directory). A directory is known by the entries
// beneath it: one with none (empty, or holding only empty directories) is
// not reported, as the walk does not report directories. Both sides
// compute them: the worker to compare with the offers of Task.held_dirs,
// the coordinator to keep them for the set's reference point.
//
// Thread safety: one digester per thread.
class DirDigester {
 public:
  struct Dir {
    std::string path;  // relative to the point's root, never empty
    v1::ListingDigests digests;
    uint64_t entries = 0, files = 0, bytes = 0;  // beneath it
  };
  // `on_dir` gets each directory as the stream leaves it (after the last
  // entry beneath it): children before their parent.
  explicit DirDigester(std::function<void(Dir&&)> on_dir);
  ~DirDigester();
  // Adds one entry of the point (never a held marker), in catalogue order.
  void Add(const v1::Observation& o);
  // Adds, in catalogue order, a directory whose digests and counts are
  // known (a held directory: what its entries, added one by one, would
  // give), in place of the entries beneath it. `on_dir` is not called for
  // it nor for the directories beneath it.
  void AddDir(const Dir& d);
  // Closes every directory still open (the point's root is not reported
  // to `on_dir`: its digests are returned), and starts again empty, for
  // another point.
  v1::ListingDigests Finish();

 private:
  struct Frame;
  void Push(std::string_view name);
  void Pop();
  // Makes `parent` the deepest open directory (leaving and entering
  // directories as catalogue order does).
  void MoveTo(std::string_view parent);
  // Adds sub-directory `name` with its digests and counts to frame `up`.
  void AddChild(Frame& up, std::string_view name, const v1::ListingDigests& digests,
                uint64_t entries, uint64_t files, uint64_t bytes);
  std::function<void(Dir&&)> on_dir_;
  std::vector<std::unique_ptr<Frame>> frames_;  // by depth, reused
  size_t depth_ = 0;                            // open frames beyond the root
  std::string cur_;                             // path of the deepest open directory ("": the root)
  std::string buf_;
};

// The digest format ListingDigester computes (PointRecord.digests_format).
inline constexpr uint32_t kListingDigestsFormat = 2;

// A point's digests: its root directory's (DirDigester), and each
// directory's on the way when `on_dir` is given.
class ListingDigester {
 public:
  explicit ListingDigester(std::function<void(DirDigester::Dir&&)> on_dir = nullptr);
  // Adds one entry (a held marker, Observation.held or held_dir, must not
  // be added), in catalogue order.
  void Add(const v1::Observation& o);
  // Adds a directory of known digests (DirDigester::AddDir), counting the
  // entries beneath it.
  void AddDir(const DirDigester::Dir& d);
  // Entries added so far.
  uint64_t entries() const { return entries_; }
  // The digests of what was added (content only when `with_content`), and
  // starts again empty.
  v1::ListingDigests Finish(bool with_content);

 private:
  DirDigester dirs_;
  uint64_t entries_ = 0;
};

// The offer of `d`'s digests for attempt `attempt` of task `task` (each
// field: empty stays empty).
v1::ListingDigests HeldOffer(const v1::ListingDigests& d, uint64_t task, uint32_t attempt);
// The proof of `d`'s digests for that attempt (likewise).
v1::ListingDigests HeldProof(const v1::ListingDigests& d, uint64_t task, uint32_t attempt);
// The same for a directory of a point (Task.held_dirs): the offer is
// bound to the directory (its path, and the entries, files and bytes
// beneath it) too, the proof to the directory and the point (`point_ns`)
// it is sent for, so that a proof computed for one directory of one point
// holds for no other, even one with the same entries, and a record whose
// counts are not what the worker counted is neither offered as the same
// nor proved (the coordinator takes them from its record when it shares a
// directory without reading it).
v1::ListingDigests HeldDirOffer(const DirDigester::Dir& d, uint64_t task, uint32_t attempt);
v1::ListingDigests HeldDirProof(const DirDigester::Dir& d, int64_t point_ns, uint64_t task,
                                uint32_t attempt);

}  // namespace vigil
