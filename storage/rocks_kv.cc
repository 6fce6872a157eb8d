#include "storage/rocks_kv.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>

#include "storage/hash.h"
#include "storage/key_codec.h"

namespace vigil::storage {

std::string_view SpaceName(Space s) {
  switch (s) {
    case Space::kMeta:
      return "meta";
    case Space::kCatalogue:
      return "catalogue";
    case Space::kVerified:
      return "verified";
    case Space::kHashIndex:
      return "hash_index";
    case Space::kTasks:
      return "tasks";
    case Space::kResults:
      return "results";
  }
  return "unknown";
}

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

// Prefix extractor of the hash_index column family: the (algorithm, digest)
// part of a HashKey, whose length depends on the algorithm byte. Lookups by
// digest are prefix lookups, so prefix bloom filters let RocksDB skip every
// SST file that does not hold the digest. Must not throw (RocksDB contract).
class HashDigestPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "vigil.HashDigestPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), PrefixLen(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return PrefixLen(key) != 0; }

 private:
  static size_t PrefixLen(const rocksdb::Slice& key) {
    if (key.empty()) return 0;
    uint8_t a = static_cast<uint8_t>(key[0]);
    if (!IsKnownAlgorithm(a)) return 0;
    size_t n = 1 + DigestSize(static_cast<HashAlgorithm>(a));
    return key.size() >= n ? n : 0;
  }
};

class RocksIterator final : public KvIterator {
 public:
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const ScanOptions& o)
      : upper_(o.upper_bound) {
    rocksdb::ReadOptions ro;
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    ro.fill_cache = !o.bulk;
    if (o.bulk) ro.readahead_size = 2 << 20;
    it_.reset(db->NewIterator(ro, cf));
  }
  void Seek(std::string_view key) override { it_->Seek(rocksdb::Slice(key.data(), key.size())); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key().ToStringView(); }
  std::string_view value() const override { return it_->value().ToStringView(); }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksKv final : public KvStore {
 public:
  RocksKv(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs)
      : db_(std::move(db)), cfs_(std::move(cfs)) {}
  ~RocksKv() override {
    // Flush the memtables on an orderly close: otherwise the next open
    // replays the whole write-ahead log (0.49 s after a pass over 200,000
    // files, against 0.03 s for this flush; docs/BENCHMARKS.md). A failure
    // here loses nothing: the WAL still holds every write.
    rocksdb::FlushOptions fo;
    fo.wait = true;
    db_->Flush(fo, cfs_).PermitUncheckedError();
    for (auto* h : cfs_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  Status Get(Space s, std::string_view key, std::string* value) override {
    return FromRocks(db_->Get(rocksdb::ReadOptions(), cf(s), rocksdb::Slice(key), value));
  }

  Status Write(const KvBatch& batch, const WriteOptions& options) override {
    rocksdb::WriteBatch wb(batch.approximate_bytes() + 64);
    rocksdb::Status s;
    batch.ForEach([&](KvBatch::Op op, Space sp, std::string_view k, std::string_view v) {
      if (!s.ok()) return;
      rocksdb::Slice key(k.data(), k.size()), val(v.data(), v.size());
      switch (op) {
        case KvBatch::Op::kPut:
          s = wb.Put(cf(sp), key, val);
          break;
        case KvBatch::Op::kDelete:
          s = wb.Delete(cf(sp), key);
          break;
        case KvBatch::Op::kDeleteRange:
          s = wb.DeleteRange(cf(sp), key, val);
          break;
      }
    });
    if (!s.ok()) return FromRocks(s);
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    return FromRocks(db_->Write(wo, &wb));
  }

  std::unique_ptr<KvIterator> NewIterator(Space s, const ScanOptions& options) override {
    return std::make_unique<RocksIterator>(db_.get(), cf(s), options);
  }

  Status Sync() override { return FromRocks(db_->SyncWAL()); }

  Status Checkpoint(const std::string& dir) {
    rocksdb::Checkpoint* raw = nullptr;
    if (Status s = FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw)); !s.ok()) return s;
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush = 0: flush the memtables first, so the copy holds
    // everything written so far in SST files (and the WAL is copied too).
    return FromRocks(cp->CreateCheckpoint(dir, /*log_size_for_flush=*/0));
  }

  RocksKvEstimate Estimate(Space s) {
    RocksKvEstimate e;
    db_->GetIntProperty(cf(s), rocksdb::DB::Properties::kEstimateNumKeys, &e.keys);
    db_->GetIntProperty(cf(s), rocksdb::DB::Properties::kEstimateLiveDataSize, &e.live_data_bytes);
    return e;
  }

 private:
  rocksdb::ColumnFamilyHandle* cf(Space s) { return cfs_[static_cast<int>(s)]; }
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
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
  t.block_size = (s == Space::kCatalogue || s == Space::kVerified) ? 16 << 10 : 4 << 10;
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
  rocksdb::DBOptions db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  db.max_background_jobs = 2;
  db.bytes_per_sync = 1 << 20;
  db.keep_log_file_num = 5;
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Required by the vector memtable of hash_index; writes are batched, so
  // parallel memtable insertion bought little.
  db.allow_concurrent_memtable_write = false;
  if (options.env != nullptr) db.env = options.env;

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (int i = 0; i < kNumSpaces; ++i) {
    auto s = static_cast<Space>(i);
    std::string name = i == 0 ? rocksdb::kDefaultColumnFamilyName : std::string(SpaceName(s));
    descs.emplace_back(name, CfOptions(s, cache, options));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = options.read_only
                           ? rocksdb::DB::OpenForReadOnly(db, path, descs, &handles, &raw)
                           : rocksdb::DB::Open(db, path, descs, &handles, &raw);
  if (!rs.ok()) {
    return absl::Status(FromRocks(rs).code(),
                        "cannot open catalogue " + path + ": " + rs.ToString());
  }
  auto kv = std::make_unique<RocksKv>(std::unique_ptr<rocksdb::DB>(raw), std::move(handles));

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
    if (found != kFormatVersion) {
      return absl::FailedPreconditionError("catalogue " + path + " has format version " +
                                           std::to_string(found) + ", this build reads " +
                                           std::to_string(kFormatVersion));
    }
  }
  return std::unique_ptr<KvStore>(std::move(kv));
}

}  // namespace vigil::storage
