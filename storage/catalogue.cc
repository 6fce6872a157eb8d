#include "storage/catalogue.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "storage/versions.h"

namespace vigil::storage {

int ComparePathOrder(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    uint8_t x = static_cast<uint8_t>(a[i]), y = static_cast<uint8_t>(b[i]);
    if (x == y) continue;
    if (x == '/') x = 0;
    if (y == '/') y = 0;
    return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

namespace {

constexpr size_t kMigrationBatchBytes = 4 << 20;

// Converts a format-1 catalogue (one EntryRecord per point and path in
// `catalogue`, hash keys U8(alg) digest EntryKey) to format 2 (versions.h).
// Restartable: it first drops what an interrupted run wrote (format-2 keys
// only: `versions`, and hash keys under 0x00 0x00), streams the format-1
// entries point after point (in key order: each set's points ascending, so
// each point shares its predecessor's versions), and drops the format-1
// records and sets format_version 2 only in its last, synced write.
// Verification records keep their keys.
Status MigrateFormat1(KvStore* kv, const std::function<void(const std::string&)>& log) {
  auto write = [&](KvBatch* b, bool sync) {
    Status s = kv->Write(*b, {.sync = sync});
    b->Clear();
    return s;
  };
  KvBatch batch;
  {
    auto it = kv->NewIterator(Space::kVersions, {.upper_bound = {}, .bulk = true});
    for (it->Seek(""); it->Valid(); it->Next()) {
      batch.Delete(Space::kVersions, it->key());
      if (batch.approximate_bytes() >= kMigrationBatchBytes) {
        if (Status s = write(&batch, false); !s.ok()) return s;
      }
    }
    if (!it->status().ok()) return it->status();
    batch.DeleteRange(Space::kHashIndex, std::string("\0\0", 2), std::string("\0\x01", 2));
    if (Status s = write(&batch, false); !s.ok()) return s;
  }
  Versions versions(kv);
  std::unique_ptr<Versions::PointStream> stream;
  EntryKey current;
  uint64_t entries = 0, points = 0, added = 0;
  std::string last_key;
  auto end_point = [&]() -> Status {
    if (stream == nullptr) return absl::OkStatus();
    if (Status s = stream->Finish(&batch); !s.ok()) return s;
    added += stream->added();
    ++points;
    stream.reset();
    return write(&batch, false);  // the next point's stream reads it
  };
  auto it = kv->NewIterator(Space::kCatalogue, {.upper_bound = {}, .bulk = true});
  EntryRecord e;
  for (it->Seek(""); it->Valid(); it->Next()) {
    auto k = DecodeEntryKey(it->key());
    if (!k) {
      return absl::DataLossError("undecodable format-1 entry key (" +
                                 std::to_string(it->key().size()) + " bytes) after " +
                                 std::to_string(entries) + " entries");
    }
    if (Status s = DecodeEntryRecord(it->value(), &e); !s.ok()) {
      return absl::DataLossError(std::string(s.message()) + " at '" + k->path + "' of " +
                                 k->tenant + "/" + k->backup_set + " point " +
                                 std::to_string(k->restore_point));
    }
    if (stream == nullptr || k->tenant != current.tenant || k->backup_set != current.backup_set ||
        k->restore_point != current.restore_point) {
      if (Status s = end_point(); !s.ok()) return s;
      auto st = versions.NewPoint(k->tenant, k->backup_set, k->restore_point);
      if (!st.ok()) return st.status();
      stream = std::move(*st);
      current = *k;
    }
    if (Status s = stream->Put(k->path, e, &batch); !s.ok()) return s;
    ++entries;
    last_key.assign(it->key());
    if (batch.approximate_bytes() >= kMigrationBatchBytes) {
      if (Status s = write(&batch, false); !s.ok()) return s;
    }
  }
  if (!it->status().ok()) return it->status();
  if (Status s = end_point(); !s.ok()) return s;
  if (!last_key.empty()) batch.DeleteRange(Space::kCatalogue, "", PrefixSuccessor(last_key));
  // Format-1 hash keys start with their algorithm id (1..254).
  batch.DeleteRange(Space::kHashIndex, "\x01", "\xff");
  batch.Put(Space::kMeta, "format_version", std::to_string(kFormatVersion));
  if (Status s = write(&batch, true); !s.ok()) return s;
  if (log) {
    log("catalogue converted from format 1 to " + std::to_string(kFormatVersion) + ": " +
        std::to_string(entries) + " entries of " + std::to_string(points) +
        " restore points are now " + std::to_string(added) + " versions");
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Catalogue>> Catalogue::Open(const std::string& path,
                                                     const RocksKvOptions& options) {
  auto kv = OpenRocksKv(path, options);
  if (!kv.ok()) return kv.status();
  std::string version;
  if (Status s = (*kv)->Get(Space::kMeta, "format_version", &version); !s.ok()) return s;
  if (version == "1") {
    if (options.read_only) {
      return absl::FailedPreconditionError(
          "catalogue " + path +
          " has format version 1: open it once for writing (a coordinator or vigil verify) to "
          "convert it to format " +
          std::to_string(kFormatVersion));
    }
    if (Status s = MigrateFormat1(kv->get(), options.log); !s.ok()) {
      return absl::Status(
          s.code(), "catalogue " + path + ": converting format 1: " + std::string(s.message()));
    }
  }
  return std::make_unique<Catalogue>(std::move(*kv));
}

namespace {

// The effective VerifyRecord of an entry, from its own record (if any) and
// the restore point's range record: whichever check is newer wins. A full
// pass stamps its problem records with the same time as its range record,
// so a problem found by the last full pass stands. Without a newer record
// of its own, an entry was verified when first seen, when its point was
// recorded (an entry sharing an older point's version was read then), or
// at the range record's time, whichever is latest.
void ApplyRange(const EntryRecord& entry, bool has_own, int64_t range_ns, int64_t recorded_ns,
                VerifyRecord* v) {
  if (has_own && v->last_checked_ns >= range_ns) return;
  *v = VerifyRecord();
  v->last_verified_ns = v->last_checked_ns = std::max({entry.first_seen_ns, range_ns, recorded_ns});
}

// Merge-joins the point's versions with its `verified` records: both in
// catalogue path order, `verified` a subset of the entries (keyed by the
// point's EntryKey prefix and the encoded path).
class ScannerImpl final : public Catalogue::Scanner {
 public:
  ScannerImpl(KvStore* kv, const Scope& scope)
      : prefix_(RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point)),
        versions_(Versions(kv).Scan(scope.tenant, scope.backup_set, scope.restore_point)) {
    ScanOptions o;
    o.upper_bound = PrefixSuccessor(prefix_);
    o.bulk = true;
    verifies_ = kv->NewIterator(Space::kVerified, o);
    verifies_->Seek(prefix_);
    // The range record, if any, is keyed by the bare prefix: first in range.
    if (verifies_->Valid() && verifies_->key() == prefix_) {
      VerifyRecord r;
      if (Status s = DecodeVerifyRecord(verifies_->value(), &r); !s.ok()) {
        status_ = absl::DataLossError(std::string(s.message()) + " (restore point range record)");
        return;
      }
      range_ns_ = r.last_verified_ns;
      verifies_->Next();
    }
    Load();
  }

  bool Valid() const override { return valid_; }
  void Next() override {
    versions_->Next();
    Load();
  }
  std::string_view encoded_path() const override { return versions_->encoded_path(); }
  std::string path() const override { return versions_->version().path; }
  int64_t range_verified_ns() const override { return range_ns_; }
  std::string_view key() const override { return key_; }
  const EntryRecord& entry() const override { return versions_->version().entry; }
  const VerifyRecord& verify() const override { return verify_; }
  bool has_verify_record() const override { return has_verify_; }
  Status status() const override { return status_; }

 private:
  void Load() {
    valid_ = false;
    if (!status_.ok()) return;
    if (!versions_->Valid()) {
      status_ = versions_->status();
      return;
    }
    key_.assign(prefix_);
    key_.append(versions_->encoded_path());
    // Advance the verified iterator up to the key; records of entries the
    // point no longer holds (never left by Writer) are skipped.
    while (verifies_->Valid() && verifies_->key() < key_) verifies_->Next();
    has_verify_ = verifies_->Valid() && verifies_->key() == key_;
    if (has_verify_) {
      if (Status s = DecodeVerifyRecord(verifies_->value(), &verify_); !s.ok()) {
        status_ = absl::DataLossError(std::string(s.message()) + " at path '" +
                                      versions_->version().path + "'");
        return;
      }
    } else if (!verifies_->status().ok()) {
      status_ = verifies_->status();
      return;
    }
    ApplyRange(versions_->version().entry, has_verify_, range_ns_, versions_->version().recorded_ns,
               &verify_);
    valid_ = true;
  }

  std::string prefix_;
  std::unique_ptr<Versions::Scanner> versions_;
  std::unique_ptr<KvIterator> verifies_;
  std::string key_;
  int64_t range_ns_ = 0;
  VerifyRecord verify_;
  bool has_verify_ = false;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<Catalogue::Scanner> Catalogue::Scan(const Scope& scope) {
  return std::make_unique<ScannerImpl>(kv_.get(), scope);
}

Status Catalogue::GetEntry(const Scope& scope, std::string_view path, EntryRecord* entry,
                           VerifyRecord* verify) {
  if (!IsValidRelativePath(path)) return absl::InvalidArgumentError("invalid path");
  std::string prefix = RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point);
  std::string key = prefix;
  AppendPath(&key, path);
  auto version = Versions(kv_.get()).Get(scope.tenant, scope.backup_set, scope.restore_point, path);
  if (!version.ok()) return version.status();
  *entry = std::move(version->entry);
  const int64_t recorded_ns = version->recorded_ns;
  std::string v;
  int64_t range_ns = 0;
  Status rs = kv_->Get(Space::kVerified, prefix, &v);
  if (rs.ok()) {
    VerifyRecord r;
    if (Status s = DecodeVerifyRecord(v, &r); !s.ok()) return s;
    range_ns = r.last_verified_ns;
  } else if (!absl::IsNotFound(rs)) {
    return rs;
  }
  Status s = kv_->Get(Space::kVerified, key, &v);
  bool has_own = s.ok();
  if (!has_own && !absl::IsNotFound(s)) return s;
  if (has_own) {
    if (Status d = DecodeVerifyRecord(v, verify); !d.ok()) return d;
  }
  ApplyRange(*entry, has_own, range_ns, recorded_ns, verify);
  return absl::OkStatus();
}

Status Catalogue::ForEachHolder(const Digest& digest,
                                const std::function<bool(const EntryKey&)>& fn) {
  Versions versions(kv_.get());
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> points;
  Status failed;
  Status s = versions.ForEachHolder(
      digest, [&](std::string_view tenant, std::string_view set, const Version& v) {
        auto [it, added] = points.try_emplace({std::string(tenant), std::string(set)});
        if (added) {
          auto p = versions.Points(tenant, set);
          if (!p.ok()) {
            failed = p.status();
            return false;
          }
          it->second = std::move(*p);
        }
        EntryKey k{std::string(tenant), std::string(set), 0, v.path};
        for (int64_t t : it->second) {
          if (t < v.born_ns || (v.until_ns != kOpenUntil && t >= v.until_ns)) continue;
          k.restore_point = t;
          if (!fn(k)) return false;
        }
        return true;
      });
  return s.ok() ? failed : s;
}

StatusOr<uint64_t> Catalogue::CountEntries(const Scope& scope) {
  return Versions(kv_.get()).Count(scope.tenant, scope.backup_set, scope.restore_point);
}

Status Catalogue::DeletePoint(const Scope& scope, KvBatch* into) {
  const std::string prefix =
      RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point);
  KvBatch own;
  KvBatch& b = into != nullptr ? *into : own;
  if (Status s =
          Versions(kv_.get()).DeletePoint(scope.tenant, scope.backup_set, scope.restore_point, &b);
      !s.ok()) {
    return s;
  }
  // Its verification records, in the same write: point deletes, not a range
  // tombstone (each one in the memtable slows every read until the next
  // flush, docs/BENCHMARKS.md); a point has few (its range record, and the
  // entries with a state of their own).
  const std::string end = PrefixSuccessor(prefix);
  auto it = kv_->NewIterator(Space::kVerified, {.upper_bound = end});
  for (it->Seek(prefix); it->Valid(); it->Next()) b.Delete(Space::kVerified, it->key());
  if (!it->status().ok()) return it->status();
  return into != nullptr ? absl::OkStatus() : kv_->Write(own, {.sync = true});
}

StatusOr<uint64_t> Catalogue::EraseBackupSet(std::string_view tenant, std::string_view backup_set) {
  KvBatch batch;
  auto n = Versions(kv_.get()).EraseSet(tenant, backup_set, &batch);
  if (!n.ok()) return n.status();
  const std::string prefix = BackupSetPrefix(tenant, backup_set);
  batch.DeleteRange(Space::kVerified, prefix, PrefixSuccessor(prefix));
  if (Status s = kv_->Write(batch, {}); !s.ok()) return s;
  return *n;
}

Status Catalogue::PutMeta(std::string_view key, std::string_view value, bool sync) {
  KvBatch b;
  b.Put(Space::kMeta, key, value);
  return kv_->Write(b, {.sync = sync});
}

Status Catalogue::GetMeta(std::string_view key, std::string* value) {
  return kv_->Get(Space::kMeta, key, value);
}

// --- Writer -----------------------------------------------------------------

// What a writer knows of its point: recorded already (Update one path at a
// time against the set's points), or new (a stream of its entries).
struct Catalogue::Writer::PointState {
  Status status;  // why the writer cannot write (reading the points failed)
  std::vector<int64_t> points;
  bool is_new = false;  // the point is not recorded yet: written through `stream`
  // Made at the first entry (a writer that puts nothing reads nothing).
  std::unique_ptr<Versions::PointStream> stream;
  bool wrote = false;  // put or resumed on the stream
  bool ended = false;
  std::string last_path;      // the last path put on the stream
  Versions::Pending pending;  // Updates in the unwritten batch

  // Makes the stream of the new point, if not made yet.
  Status Start(KvStore* kv, const Scope& scope) {
    if (stream != nullptr) return absl::OkStatus();
    auto s = Versions(kv).NewPoint(scope.tenant, scope.backup_set, scope.restore_point);
    if (!s.ok()) return s.status();
    stream = std::move(*s);
    return absl::OkStatus();
  }
};

Catalogue::Writer::Writer(Catalogue* cat, const Scope& scope, Options options)
    : cat_(cat),
      options_(options),
      scope_(scope),
      prefix_(RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point)),
      point_(std::make_unique<PointState>()) {
  auto points = Versions(cat->kv()).Points(scope.tenant, scope.backup_set);
  if (!points.ok()) {
    point_->status = points.status();
    return;
  }
  point_->points = std::move(*points);
  point_->is_new = std::find(point_->points.begin(), point_->points.end(), scope.restore_point) ==
                   point_->points.end();
}

Catalogue::Writer::~Writer() = default;

std::string& Catalogue::Writer::KeyFor(std::string_view path) {
  key_.assign(prefix_);
  AppendPath(&key_, path);
  return key_;
}

Status Catalogue::Writer::PutEntry(std::string_view path, const EntryRecord& entry,
                                   const EntryRecord* previous) {
  if (!IsValidRelativePath(path)) {
    return absl::InvalidArgumentError("invalid relative path '" + std::string(path) + "'");
  }
  if (!point_->status.ok()) return point_->status;
  if (point_->is_new && !point_->ended && previous == nullptr &&
      (point_->last_path.empty() || ComparePathOrder(point_->last_path, path) < 0)) {
    if (Status s = point_->Start(cat_->kv(), scope_); !s.ok()) return s;
    if (Status s = point_->stream->Put(path, entry, &batch_); !s.ok()) return s;
    point_->wrote = true;
    point_->last_path.assign(path);
    return MaybeFlush();
  }
  if (point_->is_new) {
    // Out of path order (or a replacement) on a point being recorded: the
    // point is ended with what it holds and written, then changed entry by
    // entry like a recorded one (correct, but each such entry may split a
    // shared version: callers put in order).
    if (Status s = point_->Start(cat_->kv(), scope_); !s.ok()) return s;
    point_->wrote = true;
    if (Status s = EndPoint(); !s.ok()) return s;
    if (Status s = Flush(); !s.ok()) return s;
    point_->stream.reset();
    point_->is_new = false;
    point_->points.push_back(scope_.restore_point);
    std::sort(point_->points.begin(), point_->points.end());
  }
  if (Status s = Versions(cat_->kv())
                     .Update(scope_.tenant, scope_.backup_set, scope_.restore_point, point_->points,
                             path, &entry, &batch_, &point_->pending);
      !s.ok()) {
    return s;
  }
  if (previous != nullptr) batch_.Delete(Space::kVerified, KeyFor(path));
  return MaybeFlush();
}

Status Catalogue::Writer::PutVerify(std::string_view path, const VerifyRecord& verify) {
  const std::string& key = KeyFor(path);
  EncodeVerifyRecord(verify, &value_);
  batch_.Put(Space::kVerified, key, value_);
  return MaybeFlush();
}

Status Catalogue::Writer::DeleteEntry(std::string_view path, const EntryRecord&) {
  if (!point_->status.ok()) return point_->status;
  if (point_->is_new) {
    return absl::FailedPreconditionError("restore point not recorded yet: nothing to delete at '" +
                                         std::string(path) + "'");
  }
  if (Status s = Versions(cat_->kv())
                     .Update(scope_.tenant, scope_.backup_set, scope_.restore_point, point_->points,
                             path, nullptr, &batch_, &point_->pending);
      !s.ok()) {
    return s;
  }
  batch_.Delete(Space::kVerified, KeyFor(path));
  return MaybeFlush();
}

void Catalogue::Writer::PutRangeVerified(int64_t time_ns) {
  VerifyRecord r;
  r.last_verified_ns = r.last_checked_ns = time_ns;
  EncodeVerifyRecord(r, &value_);
  batch_.Put(Space::kVerified, prefix_, value_);
}

void Catalogue::Writer::DeleteVerify(std::string_view path) {
  batch_.Delete(Space::kVerified, KeyFor(path));
}

Status Catalogue::Writer::EndPoint() {
  if (!point_->status.ok()) return point_->status;
  if (!point_->is_new || point_->ended || !point_->wrote) return absl::OkStatus();
  if (Status s = point_->stream->Finish(&batch_); !s.ok()) return s;
  point_->ended = true;
  return absl::OkStatus();
}

Status Catalogue::Writer::ResumeAfter(std::string_view path) {
  if (!point_->status.ok()) return point_->status;
  if (!point_->is_new) return absl::OkStatus();
  if (Status s = point_->Start(cat_->kv(), scope_); !s.ok()) return s;
  if (Status s = point_->stream->ResumeAfter(path); !s.ok()) return s;
  point_->wrote = true;
  return absl::OkStatus();
}

StatusOr<bool> Catalogue::Writer::CanShareFrom(int64_t from) {
  if (!point_->status.ok()) return point_->status;
  if (!point_->is_new || point_->ended) return false;
  if (Status s = point_->Start(cat_->kv(), scope_); !s.ok()) return s;
  return point_->stream->CanShareFrom(from);
}

Status Catalogue::Writer::ShareUnder(std::string_view dir, uint64_t entries,
                                     int64_t first_seen_ns) {
  if (!point_->status.ok()) return point_->status;
  if (!point_->is_new || point_->ended) {
    return absl::FailedPreconditionError("restore point recorded already: '" + std::string(dir) +
                                         "' cannot be shared");
  }
  if (Status s = point_->Start(cat_->kv(), scope_); !s.ok()) return s;
  if (Status s = point_->stream->ShareUnder(dir, entries, first_seen_ns, &batch_); !s.ok()) {
    return s;
  }
  point_->wrote = true;
  point_->last_path.assign(dir);
  return MaybeFlush();
}

void Catalogue::Writer::PutMeta(std::string_view key, std::string_view value) {
  batch_.Put(Space::kMeta, key, value);
}

void Catalogue::Writer::DeleteMetaRange(std::string_view begin, std::string_view end) {
  batch_.DeleteRange(Space::kMeta, begin, end);
}

Status Catalogue::Writer::MaybeFlush() {
  if (batch_.approximate_bytes() < options_.batch_bytes) return absl::OkStatus();
  return Flush();
}

Status Catalogue::Writer::Flush() {
  if (batch_.count() == 0) return absl::OkStatus();
  Status s = cat_->kv()->Write(batch_, {});
  batch_.Clear();
  point_->pending.Clear();
  ++flushed_batches_;
  return s;
}

Status Catalogue::Writer::Commit(bool sync) {
  if (Status s = EndPoint(); !s.ok()) return s;
  if (Status s = Flush(); !s.ok()) return s;
  return sync ? cat_->kv()->Sync() : absl::OkStatus();
}

KvBatch Catalogue::Writer::TakeBatch() {
  // A point that cannot end is left unrecorded (call EndPoint() first to
  // see why): its redo records it.
  (void)EndPoint();
  KvBatch b = std::move(batch_);
  batch_ = KvBatch();
  point_->pending.Clear();
  return b;
}

}  // namespace vigil::storage
