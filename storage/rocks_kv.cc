#include "storage/rocks_kv.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/mutex.h"
#include "base/name_table.h"
#include "base/thread_annotations.h"
#include "storage/hash.h"
#include "storage/key_codec.h"

namespace vigil::storage {

namespace {

constexpr NameRow<Space> kSpaceNames[] = {
    {Space::kMeta, "meta"},         {Space::kCatalogue, "catalogue"},
    {Space::kVerified, "verified"}, {Space::kHashIndex, "hash_index"},
    {Space::kTasks, "tasks"},       {Space::kResults, "results"},
    {Space::kVersions, "versions"}};
static_assert(CoversEnum(kSpaceNames));

}  // namespace

std::string_view SpaceName(Space s) { return NameOf(kSpaceNames, s, "unknown"); }

namespace {

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = "rocksdb: " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

// RocksDB's info log, sent to the store's sink instead of a LOG file in the
// database directory. RocksDB 7.8's file logger aborts the process
// (assertion `sync_without_flush_called_` in WritableFileWriter) on the
// first line after one write to LOG failed, that is as soon as the disk is
// full and RocksDB has something to say about it; and a log on the disk
// that fills is no use to whoever must free it. Errors only: warnings are
// mostly write stalls during a large ingest, and the store logs its own
// line when writes begin to fail and when they work again.
class SinkLogger final : public rocksdb::Logger {
 public:
  explicit SinkLogger(std::function<void(const std::string&)> sink)
      : rocksdb::Logger(rocksdb::InfoLogLevel::ERROR_LEVEL), sink_(std::move(sink)) {}

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char buf[1024];
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string line(buf, std::min(static_cast<size_t>(n), sizeof buf - 1));
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    sink_("rocksdb: " + line);
  }
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

 private:
  std::function<void(const std::string&)> sink_;
};

// Whether writes work, shared by the event listener (called on RocksDB's
// threads), failed foreground writes and the recovery thread.
struct WriteHealthState {
  Mutex mu;
  CondVar cv;
  bool failing GUARDED_BY(mu) = false;   // writes are refused
  bool no_space GUARDED_BY(mu) = false;  // ... because the disk is full
  std::string cause GUARDED_BY(mu);      // RocksDB's words for the first error
  uint64_t failures GUARDED_BY(mu) = 0;  // errors seen, ever
  int64_t since_ms GUARDED_BY(mu) = 0;   // steady clock, when writes began to fail
  bool stop GUARDED_BY(mu) = false;      // the store is closing
};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Records a write error; true if writes worked until now (the caller logs).
bool MarkFailing(WriteHealthState* h, const rocksdb::Status& s) {
  MutexLock lock(&h->mu);
  ++h->failures;
  const bool first = !h->failing;
  if (first) {
    h->failing = true;
    h->no_space = s.IsNoSpace();
    h->cause = s.ToString();
    h->since_ms = SteadyMs();
  } else if (s.IsNoSpace()) {
    h->no_space = true;
  }
  h->cv.SignalAll();
  return first;
}

// Learns of background errors (a flush, a compaction or a WAL write that
// failed) as RocksDB sets them, and keeps RocksDB's own recovery from a full
// disk out of the way (see OpenRocksKv in rocks_kv.h).
class HealthListener final : public rocksdb::EventListener {
 public:
  HealthListener(std::shared_ptr<WriteHealthState> h,
                 std::function<void(const rocksdb::Status&)> on_failing)
      : h_(std::move(h)), on_failing_(std::move(on_failing)) {}
  const char* Name() const override { return "vigil.HealthListener"; }

  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    // A soft error (a compaction out of space) leaves writes working.
    if (error->severity() < rocksdb::Status::Severity::kHardError) return;
    if (MarkFailing(h_.get(), *error)) on_failing_(*error);
  }
  // RocksDB's own recovery from a full disk (SstFileManager) waits for free
  // space of the whole memtable budget (7 x 2 x 16 MiB = 224 MiB, however
  // small the disk): the store reopens the database itself instead.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    if (auto_recovery != nullptr) *auto_recovery = false;
  }

 private:
  std::shared_ptr<WriteHealthState> h_;
  std::function<void(const rocksdb::Status&)> on_failing_;
};

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// The line for the first of a series of write errors.
void LogFailing(const std::function<void(const std::string&)>& log, const std::string& path,
                const rocksdb::Status& s) {
  std::string free;
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) == 0) {
    free = " (" + Mib(static_cast<uint64_t>(st.f_bavail) * st.f_frsize) + " free)";
  }
  log("database writes failing" + std::string(s.IsNoSpace() ? " (no space)" : "") + " in " + path +
      free + ": " + s.ToString() + "; refusing writes until they work again");
}

// Prefix extractor of the hash_index column family: the (algorithm, digest)
// part of a HashKey, whose length depends on the algorithm byte, after the
// 0x00 0x00 that starts catalogue format 2's keys (versions.h; a format-1
// key starts with the algorithm byte itself). Lookups by digest are prefix
// lookups, so prefix bloom filters let RocksDB skip every SST file that
// does not hold the digest. Must not throw (RocksDB contract).
class HashDigestPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "vigil.HashDigestPrefix.v2"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), PrefixLen(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return PrefixLen(key) != 0; }

 private:
  static size_t PrefixLen(const rocksdb::Slice& key) {
    const size_t skip = key.size() >= 2 && key[0] == '\0' && key[1] == '\0' ? 2 : 0;
    if (key.size() <= skip) return 0;
    uint8_t a = static_cast<uint8_t>(key[skip]);
    if (!IsKnownAlgorithm(a)) return 0;
    size_t n = skip + 1 + DigestSize(static_cast<HashAlgorithm>(a));
    return key.size() >= n ? n : 0;
  }
};

// One open RocksDB instance and its column families, shared by the store
// and its live iterators: closed when the last of them lets go of it.
struct DbHandle {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  bool read_only = false;
  // Cleared while writes fail: the flush would fail too.
  std::atomic<bool> flush_on_close{true};

  rocksdb::ColumnFamilyHandle* cf(Space s) const { return cfs[static_cast<int>(s)]; }
  ~DbHandle() {
    if (db == nullptr) return;
    // Flush the memtables on an orderly close: otherwise the next open
    // replays the whole write-ahead log (0.49 s after a pass over 200,000
    // files, against 0.03 s for this flush; docs/BENCHMARKS.md). A failure
    // here loses nothing: the WAL still holds every write.
    if (flush_on_close && !read_only) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      db->Flush(fo, cfs).PermitUncheckedError();
    }
    for (auto* h : cfs) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db->Close().PermitUncheckedError();
  }
};

// Opens the database at `path` (defined below, after the options).
StatusOr<std::shared_ptr<DbHandle>> OpenDb(const std::string& path, const RocksKvOptions& options,
                                           bool read_only,
                                           const std::function<void(const std::string&)>& log,
                                           const std::shared_ptr<WriteHealthState>& health);

class RocksIterator final : public KvIterator {
 public:
  RocksIterator(std::shared_ptr<DbHandle> h, Space s, const ScanOptions& o)
      : h_(std::move(h)), upper_(o.upper_bound) {
    rocksdb::ReadOptions ro;
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    ro.fill_cache = !o.bulk;
    if (o.bulk) ro.readahead_size = 2 << 20;
    it_.reset(h_->db->NewIterator(ro, h_->cf(s)));
  }
  void Seek(std::string_view key) override { it_->Seek(rocksdb::Slice(key.data(), key.size())); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key().ToStringView(); }
  std::string_view value() const override { return it_->value().ToStringView(); }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  std::shared_ptr<DbHandle> h_;  // first: outlives it_
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The iterator of a store with no database open at the moment.
class ErrorIterator final : public KvIterator {
 public:
  explicit ErrorIterator(Status s) : s_(std::move(s)) {}
  void Seek(std::string_view) override {}
  bool Valid() const override { return false; }
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return s_; }

 private:
  Status s_;
};

// Headroom beyond the memtables' size before a reopen is tried: the
// MANIFEST, OPTIONS and the first WAL blocks are written too.
constexpr uint64_t kReopenHeadroomBytes = 4 << 20;
// How long a reopen waits for the calls and iterators using the database.
constexpr int64_t kDrainMs = 30'000;

class RocksKv final : public KvStore {
 public:
  RocksKv(std::shared_ptr<DbHandle> h, std::string path, RocksKvOptions options,
          std::shared_ptr<WriteHealthState> health, std::function<void(const std::string&)> log)
      : path_(std::move(path)),
        options_(std::move(options)),
        health_(std::move(health)),
        log_(std::move(log)),
        h_(std::move(h)) {}
  ~RocksKv() override {
    bool failing = false;
    {
      MutexLock lock(&health_->mu);
      health_->stop = true;
      failing = health_->failing;
    }
    health_->cv.SignalAll();
    if (recovery_.joinable()) recovery_.join();
    std::shared_ptr<DbHandle> h;
    {
      MutexLock lock(&h_mu_);
      h = std::move(h_);
    }
    if (h != nullptr && failing) h->flush_on_close = false;
  }

  // Starts the thread that brings writes back after a write error.
  void StartRecovery(int poll_ms) {
    recovery_ = std::thread([this, poll_ms] { RecoveryLoop(std::max(poll_ms, 10)); });
  }

  Status Get(Space s, std::string_view key, std::string* value) override {
    auto h = Acquire();
    if (h == nullptr) return Reopening();
    return FromRocks(h->db->Get(rocksdb::ReadOptions(), h->cf(s), rocksdb::Slice(key), value));
  }

  Status Write(const KvBatch& batch, const WriteOptions& options) override {
    if (Failing()) return WriteHealth();
    auto h = Acquire();
    if (h == nullptr) return Reopening();
    rocksdb::WriteBatch wb(batch.approximate_bytes() + 64);
    rocksdb::Status s;
    batch.ForEach([&](KvBatch::Op op, Space sp, std::string_view k, std::string_view v) {
      if (!s.ok()) return;
      rocksdb::Slice key(k.data(), k.size()), val(v.data(), v.size());
      switch (op) {
        case KvBatch::Op::kPut:
          s = wb.Put(h->cf(sp), key, val);
          break;
        case KvBatch::Op::kDelete:
          s = wb.Delete(h->cf(sp), key);
          break;
        case KvBatch::Op::kDeleteRange:
          s = wb.DeleteRange(h->cf(sp), key, val);
          break;
      }
    });
    if (!s.ok()) return FromRocks(s);
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    return Written(h->db->Write(wo, &wb));
  }

  std::unique_ptr<KvIterator> NewIterator(Space s, const ScanOptions& options) override {
    auto h = Acquire();
    if (h == nullptr) return std::make_unique<ErrorIterator>(Reopening());
    return std::make_unique<RocksIterator>(std::move(h), s, options);
  }

  // Not DB::SyncWAL(): it syncs the WAL file outside the write path, and
  // once a write to that file failed (disk full) RocksDB 7.8 aborts on an
  // assertion there. An empty synced write goes through the write path: it
  // is refused while writes fail, and otherwise syncs every live WAL file.
  Status Sync() override {
    if (Failing()) return WriteHealth();
    auto h = Acquire();
    if (h == nullptr) return Reopening();
    rocksdb::WriteBatch empty;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return Written(h->db->Write(wo, &empty));
  }

  Status WriteHealth() override {
    std::string cause;
    bool no_space = false;
    {
      MutexLock lock(&health_->mu);
      if (!health_->failing) return absl::OkStatus();
      cause = health_->cause;
      no_space = health_->no_space;
    }
    if (!no_space) {
      return absl::UnavailableError("database writes failing (I/O error) in " + path_ + ": " +
                                    cause + "; retrying by itself");
    }
    DiskSpace sp = SpaceNow();
    return absl::UnavailableError(
        "database writes failing (no space) in " + path_ + ": " +
        (sp.known ? Mib(sp.free) + " free, about " + Mib(sp.needed) + " needed; " : "") +
        "writes resume by themselves once space is freed");
  }

  Status Checkpoint(const std::string& dir) {
    auto h = Acquire();
    if (h == nullptr) return Reopening();
    rocksdb::Checkpoint* raw = nullptr;
    if (Status s = FromRocks(rocksdb::Checkpoint::Create(h->db.get(), &raw)); !s.ok()) return s;
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush = 0: flush the memtables first, so the copy holds
    // everything written so far in SST files (and the WAL is copied too).
    return FromRocks(cp->CreateCheckpoint(dir, /*log_size_for_flush=*/0));
  }

  RocksKvEstimate Estimate(Space s) {
    RocksKvEstimate e;
    auto h = Acquire();
    if (h == nullptr) return e;
    h->db->GetIntProperty(h->cf(s), rocksdb::DB::Properties::kEstimateNumKeys, &e.keys);
    h->db->GetIntProperty(h->cf(s), rocksdb::DB::Properties::kEstimateLiveDataSize,
                          &e.live_data_bytes);
    return e;
  }

 private:
  // The open database, or null while it is being reopened (or could not
  // be): calls then fail at once rather than wait, so that a caller holding
  // an iterator never waits for the reopen that waits for it.
  std::shared_ptr<DbHandle> Acquire() {
    MutexLock lock(&h_mu_);
    return draining_ ? nullptr : h_;
  }
  Status Reopening() const {
    return absl::UnavailableError("database " + path_ +
                                  " is being reopened after a write error; try again");
  }
  bool Failing() {
    MutexLock lock(&health_->mu);
    return health_->failing;
  }

  // The result of a write: an I/O error (RocksDB stops taking writes after
  // one) makes the store unhealthy until it is reopened, and is answered
  // with WriteHealth()'s words.
  Status Written(const rocksdb::Status& s) {
    if (s.ok()) return absl::OkStatus();
    if (!s.IsIOError()) {
      if (!Failing()) return FromRocks(s);
    } else if (MarkFailing(health_.get(), s)) {
      LogFailing(log_, path_, s);
    }
    Status h = WriteHealth();
    return h.ok() ? FromRocks(s) : h;
  }

  struct DiskSpace {
    bool known = false;
    uint64_t free = 0;    // bytes available to the process on the database's filesystem
    uint64_t needed = 0;  // about what reopening writes: the memtables' flush, and headroom
  };
  DiskSpace SpaceNow() {
    DiskSpace sp;
    struct statvfs st {};
    if (statvfs(path_.c_str(), &st) != 0) return sp;
    sp.known = true;
    sp.free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    // What the flush of the memtables writes: at most what they hold, and
    // at most what the live write-ahead logs hold (the memtables' arenas
    // overstate it; the WAL files are deleted once flushed).
    uint64_t mem = UINT64_MAX, wal = 0;
    if (auto h = Acquire(); h != nullptr) {
      h->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &mem);
    }
    std::error_code ec;
    for (std::filesystem::directory_iterator it(path_, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->path().extension() != ".log") continue;
      std::error_code size_ec;
      uint64_t n = it->file_size(size_ec);
      if (!size_ec) wal += n;
    }
    if (ec) wal = mem == UINT64_MAX ? 0 : mem;
    sp.needed = std::min(mem, wal) + kReopenHeadroomBytes;
    return sp;
  }

  // Closes the database and opens it again, as a restart would (the
  // write-ahead log replayed up to the write that failed, the memtables
  // flushed, a fresh log), once no call or iterator uses it any more. If it
  // cannot be opened for writing, it is opened read-only meanwhile, so that
  // reads go on.
  //
  // Why not DB::Resume(): on RocksDB 7.8 it can hang for good in
  // WaitForFlushMemTables after a memtable flush failed for lack of space
  // (seen once in tests/storage/disk_full_test.cc under load: the
  // rolled-back memtable never scheduled again, every background thread
  // idle; cf. facebook/rocksdb#15030 and #13280), and the store could never
  // close either. A reopen takes the path every start takes, which is what
  // brought writes back before this existed: a restart.
  Status Reopen() {
    std::shared_ptr<DbHandle> old;
    {
      MutexLock lock(&h_mu_);
      draining_ = true;
      old = h_;
    }
    if (old != nullptr) {
      const int64_t deadline = SteadyMs() + kDrainMs;
      // Ours and h_: nobody else.
      while (old.use_count() > 2 && SteadyMs() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (old.use_count() > 2) {
        MutexLock lock(&h_mu_);
        draining_ = false;
        return absl::UnavailableError("the database is still in use after " +
                                      std::to_string(kDrainMs / 1000) + " s");
      }
      {
        MutexLock lock(&h_mu_);
        h_.reset();
      }
      old->flush_on_close = false;
      old.reset();  // closed
    }
    auto fresh = OpenDb(path_, options_, /*read_only=*/false, log_, health_);
    std::shared_ptr<DbHandle> next;
    Status result;
    if (fresh.ok()) {
      next = std::move(*fresh);
    } else {
      result = fresh.status();
      auto ro = OpenDb(path_, options_, /*read_only=*/true, log_, health_);
      if (ro.ok()) next = std::move(*ro);
    }
    MutexLock lock(&h_mu_);
    h_ = std::move(next);
    draining_ = false;
    return result;
  }

  // While writes fail: every poll_ms, once the free space looks enough,
  // the database is reopened (Reopen()). The estimate is rough (the flush
  // writes compressed files): with more free space than at the last
  // attempt, it is tried anyway every 30 s. Failed attempts back off,
  // doubling up to 30 s.
  void RecoveryLoop(int poll_ms) {
    constexpr int64_t kRetryAnywayMs = 30'000;
    MutexLock lock(&health_->mu);
    int64_t backoff_ms = poll_ms, next_try_ms = 0, series = -1, last_try_ms = 0;
    uint64_t last_try_free = 0;
    while (true) {
      health_->cv.Wait(&health_->mu,
                       [&]() REQUIRES(health_->mu) { return health_->stop || health_->failing; });
      if (health_->cv.WaitFor(&health_->mu, std::chrono::milliseconds(poll_ms),
                              [&]() REQUIRES(health_->mu) { return health_->stop; })) {
        return;
      }
      const int64_t now = SteadyMs();
      if (!health_->failing || now < next_try_ms) continue;
      const bool no_space = health_->no_space;
      const bool new_series = series != health_->since_ms;
      series = health_->since_ms;
      lock.Unlock();
      DiskSpace sp = SpaceNow();
      if (new_series) {
        last_try_ms = now;
        last_try_free = sp.free;
      }
      const bool enough = !no_space || !sp.known || sp.free >= sp.needed;
      const bool more =
          sp.known && sp.free >= last_try_free + (1 << 20) && now - last_try_ms >= kRetryAnywayMs;
      if (!enough && !more) {
        lock.Lock();
        continue;
      }
      last_try_ms = now;
      last_try_free = sp.free;
      // Errors while reopening count against this attempt only.
      uint64_t failures = 0;
      {
        MutexLock relock(&health_->mu);
        failures = health_->failures;
      }
      Status r = Reopen();
      std::string line;
      lock.Lock();
      if (r.ok() && health_->failures == failures) {
        health_->failing = false;
        health_->no_space = false;
        health_->cause.clear();
        line = "database writes work again in " + path_ + " (reopened after " +
               std::to_string((SteadyMs() - health_->since_ms + 500) / 1000) + " s)";
        backoff_ms = poll_ms;
        next_try_ms = 0;
      } else {
        line = "reopening the database " + path_ + " to write again failed: " +
               (r.ok() ? std::string("a write error meanwhile") : std::string(r.message())) +
               "; trying again in " + std::to_string((backoff_ms + 999) / 1000) +
               " s at the earliest";
        next_try_ms = SteadyMs() + backoff_ms;
        backoff_ms = std::min<int64_t>(backoff_ms * 2, kRetryAnywayMs);
      }
      lock.Unlock();
      log_(line);
      lock.Lock();
    }
  }

  const std::string path_;
  const RocksKvOptions options_;
  std::shared_ptr<WriteHealthState> health_;
  std::function<void(const std::string&)> log_;
  Mutex h_mu_;
  std::shared_ptr<DbHandle> h_ GUARDED_BY(h_mu_);
  bool draining_ GUARDED_BY(h_mu_) = false;  // a reopen waits for its users
  std::thread recovery_;                     // writable stores only
};

// Column family options, chosen for the catalogue's workload and not left at
// defaults:
//  - Keys share long prefixes (tenant / backup set / restore point / dirs):
//    block-based tables delta-encode keys within a block, so the prefixes
//    cost little on disk; 16 KiB blocks favour the dominant access pattern,
//    long ordered scans of one backup set (the diff), over point lookups.
//  - Values are mostly digests (random bytes) and small varints: LZ4 on the
//    upper levels is nearly free on CPU, ZSTD on the bottommost level (where
//    ~90% of the data lives) saves the most space for rarely-rewritten data.
//  - Bloom filters (10 bits/key, ~1% false positives) on whole keys serve
//    point lookups (per-entry Get by the coordinator); on the hash index a
//    prefix extractor makes "who holds this digest?" a prefix-bloom lookup.
//  - Index and filter blocks live in the block cache (pinned for L0), so
//    memory stays bounded by the cache size however large the catalogue.
//  - Dynamic level sizing keeps space amplification near 1.1 for a database
//    that mostly grows.
rocksdb::ColumnFamilyOptions CfOptions(Space s, const std::shared_ptr<rocksdb::Cache>& cache,
                                       const RocksKvOptions& o) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.max_write_buffer_number = 2;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.target_file_size_base = 64 << 20;
  cf.max_bytes_for_level_base = 256 << 20;

  auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  cf.compression =
      has(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  if (has(rocksdb::kZSTD)) cf.bottommost_compression = rocksdb::kZSTD;

  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = (s == Space::kCatalogue || s == Space::kVerified || s == Space::kVersions)
                     ? 16 << 10
                     : 4 << 10;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.format_version = 5;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  if (s == Space::kHashIndex) {
    // Hash-index keys start with a digest: every insert lands at a random
    // place, and a skiplist insert there was ~70% of an ingest's CPU. A
    // vector memtable appends and sorts once at flush (ingest CPU -25..-50%,
    // docs/BENCHMARKS.md); the price, sorting the memtable when an iterator
    // is opened on it, is paid by rare digest lookups only.
    cf.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    cf.prefix_extractor = std::make_shared<HashDigestPrefix>();
    t.whole_key_filtering = false;
    cf.memtable_prefix_bloom_size_ratio = 0.05;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return cf;
}

StatusOr<std::shared_ptr<DbHandle>> OpenDb(const std::string& path, const RocksKvOptions& options,
                                           bool read_only,
                                           const std::function<void(const std::string&)>& log,
                                           const std::shared_ptr<WriteHealthState>& health) {
  rocksdb::DBOptions db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  db.max_background_jobs = 2;
  db.bytes_per_sync = 1 << 20;
  db.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
  // Writes come back through RocksKv::Reopen() only: no resume of
  // RocksDB's own after a retryable I/O error meanwhile (its recovery from
  // a full disk is turned off by HealthListener).
  db.max_bgerror_resume_count = 0;
  // Required by the vector memtable of hash_index; writes are batched, so
  // parallel memtable insertion bought little.
  db.allow_concurrent_memtable_write = false;
  if (options.env != nullptr) db.env = options.env;
  db.info_log = std::make_shared<SinkLogger>(log);
  if (!read_only) {
    db.listeners.push_back(std::make_shared<HealthListener>(
        health, [log, path](const rocksdb::Status& s) { LogFailing(log, path, s); }));
  }
  if (options.create_if_missing && !read_only) {
    // RocksDB makes it too, but says so as an error first when it has no LOG
    // file to create in it.
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
  }
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (int i = 0; i < kNumSpaces; ++i) {
    auto s = static_cast<Space>(i);
    std::string name = i == 0 ? rocksdb::kDefaultColumnFamilyName : std::string(SpaceName(s));
    descs.emplace_back(name, CfOptions(s, cache, options));
  }
  if (read_only) {
    // A catalogue of format 1 lacks the keyspaces added since, which only a
    // writable open creates (and Catalogue::Open then converts it).
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db, path, &existing).ok()) {
      for (const auto& d : descs) {
        if (std::find(existing.begin(), existing.end(), d.name) == existing.end()) {
          return absl::FailedPreconditionError(
              "catalogue " + path + " has format version 1 (no keyspace '" + d.name +
              "'): open it once for writing (a coordinator, or vigil verify) to convert it");
        }
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = read_only ? rocksdb::DB::OpenForReadOnly(db, path, descs, &handles, &raw)
                                 : rocksdb::DB::Open(db, path, descs, &handles, &raw);
  if (!rs.ok()) {
    return absl::Status(FromRocks(rs).code(),
                        "cannot open catalogue " + path + ": " + rs.ToString());
  }
  auto h = std::make_shared<DbHandle>();
  h->db.reset(raw);
  h->cfs = std::move(handles);
  h->read_only = read_only;
  return h;
}

}  // namespace

Status CheckpointRocksKv(KvStore* kv, const std::string& dir) {
  auto* rocks = dynamic_cast<RocksKv*>(kv);
  if (rocks == nullptr) return absl::InvalidArgumentError("not a RocksDB store");
  return rocks->Checkpoint(dir);
}

StatusOr<RocksKvEstimate> EstimateRocksKv(KvStore* kv, Space space) {
  auto* rocks = dynamic_cast<RocksKv*>(kv);
  if (rocks == nullptr) return absl::InvalidArgumentError("not a RocksDB store");
  return rocks->Estimate(space);
}

StatusOr<std::unique_ptr<KvStore>> OpenRocksKv(const std::string& path,
                                               const RocksKvOptions& options) {
  std::function<void(const std::string&)> log = options.log;
  if (!log) {
    log = [](const std::string& line) { std::fprintf(stderr, "vigil: %s\n", line.c_str()); };
  }
  auto health = std::make_shared<WriteHealthState>();
  auto h = OpenDb(path, options, options.read_only, log, health);
  if (!h.ok()) return h.status();
  auto kv = std::make_unique<RocksKv>(std::move(*h), path, options, health, log);
  if (!options.read_only) kv->StartRecovery(options.recovery_poll_ms);

  // Format version: written on creation, checked on every open.
  std::string v;
  Status s = kv->Get(Space::kMeta, "format_version", &v);
  if (absl::IsNotFound(s) && options.read_only) {
    return absl::FailedPreconditionError("catalogue " + path + " has no format version");
  } else if (absl::IsNotFound(s)) {
    KvBatch b;
    b.Put(Space::kMeta, "format_version", std::to_string(kFormatVersion));
    if (Status ws = kv->Write(b, {.sync = true}); !ws.ok()) return ws;
  } else if (!s.ok()) {
    return s;
  } else {
    int found = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), found);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return absl::DataLossError("catalogue " + path + ": unreadable format_version '" + v + "'");
    }
    // Format 1 is still opened: Catalogue::Open converts it.
    if (found != kFormatVersion && found != kOldestConvertibleFormat) {
      return absl::FailedPreconditionError("catalogue " + path + " has format version " +
                                           std::to_string(found) + ", this build reads " +
                                           std::to_string(kFormatVersion));
    }
  }
  return std::unique_ptr<KvStore>(std::move(kv));
}

}  // namespace vigil::storage
