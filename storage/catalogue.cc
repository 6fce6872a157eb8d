#include "storage/catalogue.h"

#include <algorithm>
#include <cstring>

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

StatusOr<std::unique_ptr<Catalogue>> Catalogue::Open(const std::string& path,
                                                     const RocksKvOptions& options) {
  auto kv = OpenRocksKv(path, options);
  if (!kv.ok()) return kv.status();
  return std::make_unique<Catalogue>(std::move(*kv));
}

namespace {

// The effective VerifyRecord of an entry, from its own record (if any) and
// the restore point's range record: whichever check is newer wins. A full
// pass stamps its problem records with the same time as its range record,
// so a problem found by the last full pass stands.
void ApplyRange(const EntryRecord& entry, bool has_own, int64_t range_ns, VerifyRecord* v) {
  if (has_own && v->last_checked_ns >= range_ns) return;
  *v = VerifyRecord();
  v->last_verified_ns = v->last_checked_ns = std::max(entry.first_seen_ns, range_ns);
}

// Merge-joins the `catalogue` and `verified` keyspaces over one restore
// point: both hold the same keys, `verified` a subset of them.
class ScannerImpl final : public Catalogue::Scanner {
 public:
  ScannerImpl(KvStore* kv, std::string prefix) : prefix_(std::move(prefix)) {
    ScanOptions o;
    o.upper_bound = PrefixSuccessor(prefix_);
    o.bulk = true;
    entries_ = kv->NewIterator(Space::kCatalogue, o);
    verifies_ = kv->NewIterator(Space::kVerified, o);
    entries_->Seek(prefix_);
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
    entries_->Next();
    Load();
  }
  std::string_view encoded_path() const override { return entries_->key().substr(prefix_.size()); }
  std::string path() const override { return DecodePath(encoded_path()); }
  int64_t range_verified_ns() const override { return range_ns_; }
  std::string_view key() const override { return entries_->key(); }
  const EntryRecord& entry() const override { return entry_; }
  const VerifyRecord& verify() const override { return verify_; }
  bool has_verify_record() const override { return has_verify_; }
  Status status() const override { return status_; }

 private:
  void Load() {
    valid_ = false;
    if (!entries_->Valid()) {
      status_ = entries_->status();
      return;
    }
    std::string_view k = entries_->key();
    if (Status s = DecodeEntryRecord(entries_->value(), &entry_); !s.ok()) {
      status_ = absl::DataLossError(std::string(s.message()) + " at path '" +
                                    DecodePath(k.substr(prefix_.size())) + "'");
      return;
    }
    // Advance the verified iterator up to k; it never holds keys that the
    // catalogue lacks, except after a crash between batches, which Writer
    // rules out (same batch), so skipping strays is enough.
    while (verifies_->Valid() && verifies_->key() < k) verifies_->Next();
    has_verify_ = verifies_->Valid() && verifies_->key() == k;
    if (has_verify_) {
      if (Status s = DecodeVerifyRecord(verifies_->value(), &verify_); !s.ok()) {
        status_ = absl::DataLossError(std::string(s.message()) + " at path '" +
                                      DecodePath(k.substr(prefix_.size())) + "'");
        return;
      }
    } else if (!verifies_->status().ok()) {
      status_ = verifies_->status();
      return;
    }
    ApplyRange(entry_, has_verify_, range_ns_, &verify_);
    valid_ = true;
  }

  std::string prefix_;
  std::unique_ptr<KvIterator> entries_, verifies_;
  int64_t range_ns_ = 0;
  EntryRecord entry_;
  VerifyRecord verify_;
  bool has_verify_ = false;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<Catalogue::Scanner> Catalogue::Scan(const Scope& scope) {
  return std::make_unique<ScannerImpl>(
      kv_.get(), RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point));
}

Status Catalogue::GetEntry(const Scope& scope, std::string_view path, EntryRecord* entry,
                           VerifyRecord* verify) {
  if (!IsValidRelativePath(path)) return absl::InvalidArgumentError("invalid path");
  std::string prefix = RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point);
  std::string key = prefix;
  AppendPath(&key, path);
  std::string v;
  if (Status s = kv_->Get(Space::kCatalogue, key, &v); !s.ok()) return s;
  if (Status s = DecodeEntryRecord(v, entry); !s.ok()) return s;
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
  ApplyRange(*entry, has_own, range_ns, verify);
  return absl::OkStatus();
}

Status Catalogue::ForEachHolder(const Digest& digest,
                                const std::function<bool(const EntryKey&)>& fn) {
  std::string prefix = HashIndexPrefix(digest);
  auto it = kv_->NewIterator(Space::kHashIndex, {.upper_bound = PrefixSuccessor(prefix)});
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto hk = DecodeHashKey(it->key());
    if (!hk) return absl::DataLossError("corrupt hash-index key");
    auto ek = DecodeEntryKey(hk->entry_key);
    if (!ek) return absl::DataLossError("corrupt entry key in hash index");
    if (!fn(*ek)) break;
  }
  return it->status();
}

StatusOr<uint64_t> Catalogue::CountEntries(const Scope& scope) {
  std::string prefix = RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point);
  auto it =
      kv_->NewIterator(Space::kCatalogue, {.upper_bound = PrefixSuccessor(prefix), .bulk = true});
  uint64_t n = 0;
  for (it->Seek(prefix); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return it->status();
  return n;
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

Catalogue::Writer::Writer(Catalogue* cat, const Scope& scope, Options options)
    : cat_(cat),
      options_(options),
      prefix_(RestorePointPrefix(scope.tenant, scope.backup_set, scope.restore_point)) {}

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
  const std::string& key = KeyFor(path);
  if (previous != nullptr && !previous->digest.empty() && !(previous->digest == entry.digest)) {
    batch_.Delete(Space::kHashIndex, EncodeHashKey(previous->digest, key));
  }
  EncodeEntryRecord(entry, &value_);
  batch_.Put(Space::kCatalogue, key, value_);
  if (previous != nullptr) batch_.Delete(Space::kVerified, key);
  if (!entry.digest.empty()) batch_.Put(Space::kHashIndex, EncodeHashKey(entry.digest, key), {});
  return MaybeFlush();
}

Status Catalogue::Writer::PutVerify(std::string_view path, const VerifyRecord& verify) {
  const std::string& key = KeyFor(path);
  EncodeVerifyRecord(verify, &value_);
  batch_.Put(Space::kVerified, key, value_);
  return MaybeFlush();
}

Status Catalogue::Writer::DeleteEntry(std::string_view path, const EntryRecord& entry) {
  const std::string& key = KeyFor(path);
  batch_.Delete(Space::kCatalogue, key);
  batch_.Delete(Space::kVerified, key);
  if (!entry.digest.empty()) batch_.Delete(Space::kHashIndex, EncodeHashKey(entry.digest, key));
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

void Catalogue::Writer::PutMeta(std::string_view key, std::string_view value) {
  batch_.Put(Space::kMeta, key, value);
}

Status Catalogue::Writer::MaybeFlush() {
  if (batch_.approximate_bytes() < options_.batch_bytes) return absl::OkStatus();
  return Flush();
}

Status Catalogue::Writer::Flush() {
  if (batch_.count() == 0) return absl::OkStatus();
  Status s = cat_->kv()->Write(batch_, {});
  batch_.Clear();
  ++flushed_batches_;
  return s;
}

Status Catalogue::Writer::Commit(bool sync) {
  if (Status s = Flush(); !s.ok()) return s;
  return sync ? cat_->kv()->Sync() : absl::OkStatus();
}

KvBatch Catalogue::Writer::TakeBatch() {
  KvBatch b = std::move(batch_);
  batch_ = KvBatch();
  return b;
}

}  // namespace vigil::storage
