// The catalogue: Vigil's independent record of every backup entry.
//
// A Catalogue sits on a KvStore (RocksDB by default) and keeps, per entry of
// a restore point:
//   - its EntryRecord (what the file is), stored once per distinct state of
//     a path and shared by every restore point of the set that holds it
//     (`versions`, layout in versions.h: catalogue format 2). A new point
//     writes only what changed since its neighbour;
//   - its VerifyRecord (when it was last checked, outcome) in `verified`,
//     only where it says more than the restore point's range record (below):
//     problems, and entries re-read by an incremental pass,
//   - per restore point, one range record in `verified` under the bare
//     restore-point prefix (sorts before every entry key): the time of the
//     last *full* pass that read every entry of the point. An entry without a
//     newer VerifyRecord of its own was verified ok at that time (or when
//     first seen, if later). A full pass over an unchanged tree therefore
//     writes one record, not one per entry.
//   - one hash-index key per version with a digest in `hash_index`.
// All three change together in one atomic batch, so a crash at any point
// leaves them consistent. Verification state stays per (point, path): copies
// in two points that are not the same physical file are verified apart.
//
// A catalogue written by format 1 (one record per point and path, keyed by
// key_codec.h's EntryKey in `catalogue`) is converted when it is first
// opened for writing (MigrateFormat1, catalogue.cc): restartable, and the
// old records are dropped only in its last, synced write.
//
// Reads stream: Scan() walks one restore point in key order with bounded
// memory, whatever its size. Writes go through a Writer that groups them
// into WriteBatches.
//
// Thread safety: Catalogue is thread-safe; Scanner and Writer are not (one
// per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/entry.h"
#include "storage/key_codec.h"
#include "storage/kv.h"
#include "storage/rocks_kv.h"
#include "storage/status.h"

namespace vigil::storage {

// One restore point of one backup set of one tenant.
struct Scope {
  std::string tenant;
  std::string backup_set;
  int64_t restore_point = 0;
};

class Catalogue {
 public:
  // Opens (creating if needed) a RocksDB-backed catalogue in directory `path`.
  // A format-1 catalogue is migrated first (its progress logged through
  // options.log); opened read-only, it is refused (FailedPrecondition).
  static StatusOr<std::unique_ptr<Catalogue>> Open(const std::string& path,
                                                   const RocksKvOptions& options = {});
  // Wraps any ordered KV store (tests, other backends).
  explicit Catalogue(std::unique_ptr<KvStore> kv) : kv_(std::move(kv)) {}

  KvStore* kv() { return kv_.get(); }

  // Streams a restore point's entries in key order (= depth-first tree order,
  // see key_codec.h), each with its VerifyRecord (synthesised from the entry
  // when none is stored). A record that does not decode stops the scan with
  // DataLoss in status(), naming the path.
  class Scanner {
   public:
    virtual ~Scanner() = default;
    virtual bool Valid() const = 0;
    virtual void Next() = 0;
    // The entry's path suffix as encoded in the key ('/' replaced by NUL);
    // compare with ComparePathOrder() semantics.
    virtual std::string_view encoded_path() const = 0;
    // Relative path with '/' separators.
    virtual std::string path() const = 0;
    // Time of the restore point's last full pass (range record), 0 if none.
    virtual int64_t range_verified_ns() const = 0;
    virtual std::string_view key() const = 0;
    virtual const EntryRecord& entry() const = 0;
    virtual const VerifyRecord& verify() const = 0;
    // True if a VerifyRecord of this entry is stored (whether or not it is
    // superseded by the range record), false if verify() is synthesised.
    virtual bool has_verify_record() const = 0;
    virtual Status status() const = 0;
  };
  std::unique_ptr<Scanner> Scan(const Scope& scope);

  // Point lookup. NotFound if absent.
  Status GetEntry(const Scope& scope, std::string_view path, EntryRecord* entry,
                  VerifyRecord* verify);

  // Calls fn(key) for each entry holding `digest` (same algorithm), until fn
  // returns false: per version holding it, once per restore point that
  // version belongs to. Keys of the whole catalogue (any tenant).
  Status ForEachHolder(const Digest& digest, const std::function<bool(const EntryKey&)>& fn);

  // Number of entries of a restore point (a scan of the set's versions).
  StatusOr<uint64_t> CountEntries(const Scope& scope);

  // Forgets a restore point: its entries (the versions no other point of the
  // set holds) and its verification records. NotFound if not recorded.
  // With `into`, the deletions are added to it (the caller writes it, with
  // keys of its own; the set's only point excepted, whose erasure may write
  // batches of its own); else written at once, synced.
  Status DeletePoint(const Scope& scope, KvBatch* into = nullptr);

  // Forgets a backup set: every version, point, index and hash-index key and
  // verification record. Returns the number of versions erased. Unsynced
  // batches; idempotent if interrupted and redone.
  StatusOr<uint64_t> EraseBackupSet(std::string_view tenant, std::string_view backup_set);

  Status PutMeta(std::string_view key, std::string_view value, bool sync = true);
  // NotFound if absent.
  Status GetMeta(std::string_view key, std::string* value);

  // Batches catalogue writes. Flushes automatically when a batch grows past
  // Options::batch_bytes; Commit() flushes the rest and optionally syncs.
  // Each flushed batch is atomic. Not thread-safe.
  //
  // A writer on a restore point the catalogue does not hold yet records it:
  // its PutEntry calls must then come in catalogue path order (strictly
  // increasing, ComparePathOrder), each entry sharing the version of a
  // neighbouring point when the same (nothing written), and EndPoint() —
  // called by Commit() and TakeBatch() — ends the point: the versions of
  // paths not put end there, and the point records its time of recording
  // (the smallest first_seen_ns put, kept across a redo): its entries count
  // as verified then (ApplyRange), those sharing an older point's version
  // included. The point is recorded only if something was put (or resumed);
  // the stream is made at the first entry. One writer per set at a time. On
  // a recorded point, PutEntry and DeleteEntry may come in any order (a
  // pending overlay keeps several changes of one path in a batch right).
  class Writer {
   public:
    struct Options {
      // Flush a batch when it reaches this many bytes. Default 4 MiB: large
      // enough to amortise the write path, small enough to bound memory.
      size_t batch_bytes = 4 << 20;
    };
    Writer(Catalogue* cat, const Scope& scope, Options options);
    Writer(Catalogue* cat, const Scope& scope) : Writer(cat, scope, Options()) {}

    // Records a new entry, or replaces one (then `previous` is its old record,
    // whose hash-index key is removed). Removes any stored VerifyRecord: a
    // (re)written entry counts as verified when first seen.
    Status PutEntry(std::string_view path, const EntryRecord& entry,
                    const EntryRecord* previous = nullptr);
    // Records the outcome of a check of an existing entry.
    Status PutVerify(std::string_view path, const VerifyRecord& verify);
    // Forgets an entry (and its hash-index key and VerifyRecord).
    Status DeleteEntry(std::string_view path, const EntryRecord& entry);
    // Records that a full pass, which read every entry of the restore point,
    // ended at `time_ns`: entries without a VerifyRecord checked at or after
    // that time count as verified ok then. Write it only after every problem
    // record of that pass (stamped with the same time) is in the batch.
    void PutRangeVerified(int64_t time_ns);
    // Forgets an entry's own VerifyRecord (the range record then applies).
    void DeleteVerify(std::string_view path);
    // A new point only: ends it into the pending batch (see above).
    // Idempotent; a no-op on a recorded point.
    Status EndPoint();
    // A new point only: an earlier writer of it wrote every entry up to and
    // including `path` before a crash (its batches are in the catalogue):
    // continue after it. Call before the first PutEntry.
    Status ResumeAfter(std::string_view path);
    // A new point only, in path order with PutEntry: whether the entries
    // beneath a directory found as recorded point `from` holds them can be
    // shared without reading them (Versions::PointStream::CanShareFrom:
    // false on a recorded point), and the sharing (ShareUnder there).
    StatusOr<bool> CanShareFrom(int64_t from);
    Status ShareUnder(std::string_view dir, uint64_t entries, int64_t first_seen_ns);
    // Adds a meta key to the current batch (atomic with it).
    void PutMeta(std::string_view key, std::string_view value);
    // Removes the meta keys in [begin, end) in the current batch (before
    // the puts that follow it in the batch).
    void DeleteMetaRange(std::string_view begin, std::string_view end);

    // Writes the pending batch.
    Status Flush();
    // Flushes, then syncs the WAL if `sync`.
    Status Commit(bool sync);
    // Hands over the pending batch unwritten and leaves the writer empty: the
    // caller writes it, atomically with keys of its own (earlier batches were
    // flushed already).
    KvBatch TakeBatch();

    uint64_t flushed_batches() const { return flushed_batches_; }
    // Size of the batch not yet written (what MaybeFlush() compares with
    // Options::batch_bytes), for a caller choosing its own flush points.
    size_t pending_bytes() const { return batch_.approximate_bytes(); }

    ~Writer();

   private:
    struct PointState;
    Status MaybeFlush();
    std::string& KeyFor(std::string_view path);

    Catalogue* cat_;
    Options options_;
    Scope scope_;
    std::string prefix_;
    std::string key_;
    std::string value_;
    KvBatch batch_;
    uint64_t flushed_batches_ = 0;
    std::unique_ptr<PointState> point_;
  };

 private:
  std::unique_ptr<KvStore> kv_;
};

// Compares two '/'-separated relative paths in catalogue key order (each '/'
// ranks below every other byte). <0, 0, >0 like memcmp.
int ComparePathOrder(std::string_view a, std::string_view b);

}  // namespace vigil::storage
