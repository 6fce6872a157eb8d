// Entry versions with point ranges: a catalogue layout whose size follows
// distinct content and change, not files × restore points (issue 17; the
// design and its measured effect are in docs/storage.md, "Restore points
// share what they share").
//
// Most of a restore point is the same as the point before it. Instead of one
// record per (point, path), each distinct state of a path is stored once, as
// a *version* valid over a time range [born, until): it belongs to every
// restore point P of the set recorded here with born <= P < until. A new
// point whose file is unchanged writes nothing for it; a changed file closes
// the old version at the new point (one small write) and adds a new one.
//
// KEY LAYOUT (persisted; catalogue format 2; keyspaces `versions` and
// `hash_index`)
// ---------------------------------------------------------------------
//   S = Str(tenant) Str(backup_set)                      (key_codec.h)
//   version   S Path(path) 0x00 0x00 I64(born)  -> I64(until) EntryRecord
//   point     S 0x00 0x00 I64(point)            -> I64(recorded)
//   born idx  S 0x00 0x01 I64(born) Path(path)  -> empty   (born after the
//             set's first point: a diff or a point deletion never asks for
//             the others; recording a point before the first adds theirs)
//   end idx   S 0x00 0x02 I64(until) Path(path) -> I64(born)   (until finite)
//   pending   S 0x00 0x03 I64(point)            -> I64(recorded)  (a point being
//             recorded: its time, for a redo after a crash; gone once recorded)
//   summary   S 0x00 0x04 I64(point)            -> U8(n) generation[n] blob
//             (a caller's summary of a recorded point's entries, PutSummary)
//   generation S 0x00 0x05                      -> token  (changed by every
//             Update: a summary written under another token is stale)
//   hash idx  (hash_index) 0x00 0x00 U8(alg) digest <version key> -> empty
//
// A Path never starts with 0x00 (names are non-empty, without NUL), so the
// point and index records of a set sort before its versions, and the whole
// set is one key range (offboarding: one DeleteRange). The 0x00 0x00 after a
// path sorts below any "/child" (0x00 then a non-zero byte), so versions are
// in the catalogue's depth-first path order (key_codec.h), a path's versions
// contiguous and ordered by birth. An open version has until = INT64_MAX
// (so INT64_MAX cannot be a restore point's time: NewPoint refuses it).
//
// Invariant: for every recorded point P and path, at most one version covers
// P. Questions a point asks cost the set's versions, not its points:
//   - Scan(P): the set's versions in path order, those covering P;
//   - Diff(A, B): only the versions born or ended in (A, B] (both indexes),
//     memory proportional to that change;
//   - DeletePoint(P): frees the versions no other recorded point holds,
//     found through an index (cost proportional to P's own change; the
//     only point of a set: the set's range);
//   - the hash index names versions: "who holds this digest" stays a prefix
//     scan; a holder's points are those its range covers.
//
// What this layout does not hold: verification state. It stays per
// (point, path) in `verified` (catalogue.h), so copies that are not the same
// physical file are verified apart, as before.
//
// Thread safety: a Versions object is thread-safe (it holds no state of its
// own); a PointStream and a Scanner are not.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/entry.h"
#include "storage/kv.h"
#include "storage/status.h"

namespace vigil::storage {

inline constexpr int64_t kOpenUntil = std::numeric_limits<int64_t>::max();

// One stored version.
struct Version {
  std::string path;  // relative, '/'-separated
  int64_t born_ns = 0;
  int64_t until_ns = kOpenUntil;
  EntryRecord entry;
  // Scan and Get: when the point asked about was recorded (the smallest
  // first_seen_ns of the entries its stream put; 0 if none). An entry
  // sharing an older point's version was read again then.
  int64_t recorded_ns = 0;
};

// True when two records describe the same content (type, size, mtime,
// digest, link target): the second can share the first's version. First
// seen and the content sample are not compared.
bool SameContent(const EntryRecord& a, const EntryRecord& b);

class Versions {
 public:
  // Versions, points and indexes live in `space`, the hash index in
  // `hashes` under the prefix 0x00 0x00 (format-1 hash keys start with a
  // non-zero algorithm id, so both can be told apart while migrating).
  explicit Versions(KvStore* kv, Space space = Space::kVersions, Space hashes = Space::kHashIndex)
      : kv_(kv), space_(space), hashes_(hashes) {}

  // The recorded points of a set, ascending.
  StatusOr<std::vector<int64_t>> Points(std::string_view tenant, std::string_view set);
  // Whether a point of the set is being recorded (a PointStream that wrote
  // entries and did not Finish: an interrupted merge, redone later). Such a
  // point shares versions no recorded point's index shows: nothing of the
  // set may be deleted until it is recorded.
  StatusOr<bool> Recording(std::string_view tenant, std::string_view set);
  // Whether a point recorded after `point` shares every version covering
  // `point` as it is stored: `point` is the set's latest recorded point, no
  // point is being recorded, and no version is born or ends after it (a
  // later point, deleted, can leave versions ending after it). Reads the
  // set's point records and seeks twice.
  StatusOr<bool> NothingAfter(std::string_view tenant, std::string_view set, int64_t point);

  // Records restore point `point` (not yet recorded) from its entries, given
  // in catalogue path order (strictly increasing, ComparePathOrder), into
  // batches the caller writes when it likes (each write atomic). The point
  // may fall anywhere among the recorded ones. Writes only what differs from
  // the versions covering `point`: an entry equal (SameContent) to the one a
  // neighbouring point holds shares its version. Finish() closes the
  // versions of paths not given and records the point, so a point is listed
  // (Points, Scan) only once the batch holding Finish's writes is written.
  // The stream reads the versions as they were when it was made: one
  // stream per set at a time. Not thread-safe.
  class PointStream {
   public:
    virtual ~PointStream() = default;
    // An earlier stream of this point wrote every path up to and including
    // `path` before it was interrupted (a crash between batches): skips
    // them. Call before the first Put.
    virtual Status ResumeAfter(std::string_view path) = 0;
    virtual Status Put(std::string_view path, const EntryRecord& entry, KvBatch* batch) = 0;
    virtual Status Finish(KvBatch* batch) = 0;
    // What this stream wrote: versions added, versions ended at the point,
    // entries that share a version (nothing written for them).
    virtual uint64_t added() const = 0;
    virtual uint64_t closed() const = 0;
    virtual uint64_t shared() const = 0;

    // Sharing a directory's entries without reading them (issue 17, "Held
    // directories"): whether ShareUnder may be called for directories whose
    // entries are, in this point, those recorded point `from` holds. True
    // when `from` is the latest point before this one, none is after it,
    // and NothingAfter(from) held when the stream was made: each version
    // covering `from` then covers this point as it is, and no other
    // version does.
    virtual bool CanShareFrom(int64_t from) const = 0;
    // Every entry beneath directory `dir` (not `dir` itself) is in this
    // point the one the point CanShareFrom names holds (the caller knows it,
    // e.g. from a worker's proof): nothing beneath `dir` is read or written,
    // the stream seeks past it. In path order with Put: after every path
    // put so far (`dir` itself may have been put), and no later path may be
    // beneath it. `entries` are counted as shared; `first_seen_ns` counts
    // as a Put's for the point's time of recording. FailedPrecondition when
    // !CanShareFrom.
    virtual Status ShareUnder(std::string_view dir, uint64_t entries, int64_t first_seen_ns,
                              KvBatch* batch) = 0;
  };
  StatusOr<std::unique_ptr<PointStream>> NewPoint(std::string_view tenant, std::string_view set,
                                                  int64_t point);

  // Streams the entries of a recorded point in path order (an unrecorded
  // point has none). Bounded memory; reads every version of the set. A
  // record that does not decode stops the scan with DataLoss in status(),
  // naming the path.
  class Scanner {
   public:
    virtual ~Scanner() = default;
    virtual bool Valid() const = 0;
    virtual void Next() = 0;
    virtual const Version& version() const = 0;
    // The version key's encoded path (catalogue order; '/' as NUL).
    virtual std::string_view encoded_path() const = 0;
    virtual Status status() const = 0;
  };
  std::unique_ptr<Scanner> Scan(std::string_view tenant, std::string_view set, int64_t point);

  // The same, only the entries beneath directory `dir` (a valid relative
  // path, key_codec.h): the versions of that subtree's key range, not the
  // set's.
  std::unique_ptr<Scanner> ScanUnder(std::string_view tenant, std::string_view set, int64_t point,
                                     std::string_view dir);

  // Whether a recorded point holds a regular file directly in directory
  // `dir` ("" the point's root; false for a point not recorded). Reads the
  // versions of `dir`'s children only, seeking past each subdirectory's
  // subtree: its cost is the number of children before the first such file.
  StatusOr<bool> HoldsFileIn(std::string_view tenant, std::string_view set, int64_t point,
                             std::string_view dir);

  // Number of entries of a recorded point (0 if not recorded): a scan of the
  // set's version keys that decodes no record.
  StatusOr<uint64_t> Count(std::string_view tenant, std::string_view set, int64_t point);

  // The entry of `path` in a recorded point; NotFound if it has none.
  StatusOr<Version> Get(std::string_view tenant, std::string_view set, int64_t point,
                        std::string_view path);

  // Calls fn(path, in_a, in_b) for each path whose entry differs between
  // recorded points a < b (either pointer null: absent there), in path
  // order. Reads only the versions born or ended in (a, b]; memory
  // proportional to their number. Records of the same content
  // (SameContent: a new first seen or content sample) count as the same
  // unless `every_version`: then every path whose points hold different
  // versions is given (the entries of every other path are the same stored
  // record in both points). More than `max_paths` index records in (a, b]:
  // ResourceExhausted before any call of fn (the memory it would take).
  using DiffFn =
      std::function<Status(std::string_view path, const EntryRecord* a, const EntryRecord* b)>;
  Status Diff(std::string_view tenant, std::string_view set, int64_t a, int64_t b, const DiffFn& fn,
              bool every_version = false, size_t max_paths = std::numeric_limits<size_t>::max());

  // A caller's summary of a recorded point's entries (counts it would
  // otherwise read the whole point for), kept beside the point and valid
  // only while the entries it summarises are as they were:
  //   - Generation() names the set's state: every Update (an entry of a
  //     recorded point replaced, removed, or rewritten in place, such as a
  //     content sample) changes it. Read it before reading the entries the
  //     summary is made of, and write the summary under it: an Update in
  //     between leaves the summary stale, and GetSummary does not return it.
  //   - Recording a point does not change the entries of the others (its
  //     versions are its own, or shared as they are); deleting a point
  //     drops its summary (a point recorded again at that time has new
  //     entries); erasing the set drops them all.
  // Opaque bytes to Versions. GetSummary: nullopt when none is stored or it
  // is stale.
  StatusOr<std::string> Generation(std::string_view tenant, std::string_view set);
  void PutSummary(std::string_view tenant, std::string_view set, int64_t point,
                  std::string_view generation, std::string_view summary, KvBatch* batch);
  StatusOr<std::optional<std::string>> GetSummary(std::string_view tenant, std::string_view set,
                                                  int64_t point);

  // Forgets a recorded point: its point record, and the versions no other
  // recorded point holds (with their index and hash keys). Versions it
  // shares stay as they are. Cost: the versions born or ended next to it.
  // With `into`, the deletions are added to it (the caller writes it, with
  // keys of its own); else written at once, synced.
  Status DeletePoint(std::string_view tenant, std::string_view set, int64_t point,
                     KvBatch* into = nullptr);

  // Replaces (entry non-null) or removes (null) the entry of `path` in a
  // recorded point, splitting the version it shares with other points so
  // that they keep theirs. A same-content record rewrites the shared version
  // in place (SameContent, or the same bytes under another digest
  // algorithm: a re-hash; a content sample): it holds for every point that
  // shares it. `points` are the set's recorded points (Points()). Reads the
  // path's versions as stored, or as `pending` says earlier Updates into the
  // same unwritten batch left them (null: one Update per path per batch).
  class Pending {
   public:
    Pending();
    ~Pending();
    // Call when the batch was written (or dropped).
    void Clear();

   private:
    friend class Versions;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };
  Status Update(std::string_view tenant, std::string_view set, int64_t point,
                const std::vector<int64_t>& points, std::string_view path, const EntryRecord* entry,
                KvBatch* batch, Pending* pending = nullptr);

  // Calls fn(tenant, set, version) for each version holding `digest` (same
  // algorithm), in key order, until fn returns false. A version's points
  // are the recorded points in [born, until).
  using HolderFn =
      std::function<bool(std::string_view tenant, std::string_view set, const Version& version)>;
  Status ForEachHolder(const Digest& digest, const HolderFn& fn);

  // Deletes everything of a set (versions, points, indexes, hash keys) into
  // `batch`, flushing it through kv when it grows past 4 MiB; returns the
  // number of versions deleted. Idempotent.
  StatusOr<uint64_t> EraseSet(std::string_view tenant, std::string_view set, KvBatch* batch);

  // The key of one version (tests and tools).
  static std::string VersionKey(std::string_view tenant, std::string_view set,
                                std::string_view path, int64_t born);

 private:
  // NothingAfter for `point` known to be the set's latest recorded point.
  StatusOr<bool> NothingAfterLatest(std::string_view tenant, std::string_view set, int64_t point);
  // The point's entries among the set's versions whose path suffix is in
  // [first, upper) (empty: all of them).
  std::unique_ptr<Scanner> ScanRange(std::string_view tenant, std::string_view set, int64_t point,
                                     std::string_view first, std::string_view upper);

  KvStore* kv_;
  Space space_;
  Space hashes_;
};

}  // namespace vigil::storage
