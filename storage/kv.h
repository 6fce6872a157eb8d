// The narrow ordered key-value seam under the catalogue.
//
// Everything above this interface (key codec, catalogue, diff) speaks only of
// ordered byte keys in a few named keyspaces, batched atomic writes and
// ordered range scans. RocksDB implements it today (rocks_kv.h); a distributed
// ordered store (TiKV, FoundationDB) can implement it tomorrow without
// touching the key layout or the merge-join diff.
//
// Thread safety: a KvStore is safe for concurrent use; a KvIterator is not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace vigil::storage {

// The keyspaces (RocksDB column families). Persisted by name, see rocks_kv.cc.
enum class Space : int {
  kMeta = 0,       // format version, pass summaries, (later) tenants/contracts
  kCatalogue = 1,  // EntryKey -> EntryRecord (format 1; empty once migrated)
  kVerified = 2,   // EntryKey -> VerifyRecord
  kHashIndex = 3,  // HashKey  -> empty
  kTasks = 4,      // reserved for the coordinator's task queue
  kResults = 5,    // reserved for the append-only, hash-chained results
  kVersions = 6,   // catalogue format 2: entry versions with point ranges (versions.h)
};
inline constexpr int kNumSpaces = 7;
std::string_view SpaceName(Space s);

// An atomic group of writes. Applied all or nothing by KvStore::Write.
// Operations are kept in one flat buffer (no allocation per operation): a
// catalogue ingest adds millions of them.
class KvBatch {
 public:
  enum class Op : uint8_t { kPut = 1, kDelete = 2, kDeleteRange = 3 };

  void Put(Space s, std::string_view key, std::string_view value) {
    Append(Op::kPut, s, key, value);
  }
  void Delete(Space s, std::string_view key) { Append(Op::kDelete, s, key, {}); }
  // Deletes every key in [begin, end).
  void DeleteRange(Space s, std::string_view begin, std::string_view end) {
    Append(Op::kDeleteRange, s, begin, end);
  }

  size_t count() const { return count_; }
  size_t approximate_bytes() const { return rep_.size(); }
  void Clear() {
    rep_.clear();
    count_ = 0;
  }

  // Calls fn(op, space, key, value_or_end) for each operation, in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::string_view in(rep_);
    while (!in.empty()) {
      auto op = static_cast<Op>(in[0]);
      auto space = static_cast<Space>(in[1]);
      in.remove_prefix(2);
      std::string_view k = Take(&in), v = Take(&in);
      fn(op, space, k, v);
    }
  }

 private:
  void Append(Op op, Space s, std::string_view k, std::string_view v) {
    rep_.push_back(static_cast<char>(op));
    rep_.push_back(static_cast<char>(s));
    PutLen(k.size());
    rep_.append(k);
    PutLen(v.size());
    rep_.append(v);
    ++count_;
  }
  void PutLen(size_t n) {
    char b[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                 static_cast<char>(n)};
    rep_.append(b, 4);
  }
  static std::string_view Take(std::string_view* in) {
    auto u = [&](int i) { return static_cast<size_t>(static_cast<uint8_t>((*in)[i])); };
    size_t n = u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
    std::string_view out = in->substr(4, n);
    in->remove_prefix(4 + n);
    return out;
  }

  std::string rep_;
  size_t count_ = 0;
};

class KvIterator {
 public:
  virtual ~KvIterator() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // REQUIRES: Valid(). Views stay valid until the next Seek/Next.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-OK if iteration stopped because of an error rather than the end.
  virtual Status status() const = 0;
};

struct WriteOptions {
  // Sync the write-ahead log before returning: the write survives a power
  // loss. Default: false (survives a process crash, not a power loss).
  bool sync = false;
};

struct ScanOptions {
  // Exclusive upper bound; empty = none. Bounded scans let the store skip
  // tombstones and files beyond the range.
  std::string upper_bound;
  // Hint that the scan reads a large range once (bulk diff): do not pollute
  // the block cache with it. Default: false.
  bool bulk = false;
};

class KvStore {
 public:
  virtual ~KvStore() = default;
  // NotFound if absent.
  virtual Status Get(Space s, std::string_view key, std::string* value) = 0;
  virtual Status Write(const KvBatch& batch, const WriteOptions& options) = 0;
  virtual std::unique_ptr<KvIterator> NewIterator(Space s, const ScanOptions& options) = 0;
  // Makes every write so far durable (WAL fsync).
  virtual Status Sync() = 0;
  // Whether writes work now: OK, or Unavailable saying why not (e.g. the
  // disk is full: "database writes failing (no space) in DIR: ..."). While
  // it is not OK every Write and Sync fails with it and changes nothing; a
  // store that can recover (rocks_kv.h) does so by itself and this turns OK
  // again. Cheap: no write, no scan. Default: always OK.
  virtual Status WriteHealth() { return absl::OkStatus(); }
};

}  // namespace vigil::storage
