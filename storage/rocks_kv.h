// KvStore on RocksDB: one database, one column family per Space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage/kv.h"

namespace rocksdb {
class Env;
}

namespace vigil::storage {

struct RocksKvOptions {
  // Create the database if it does not exist. Default: true.
  bool create_if_missing = true;
  // Shared LRU block cache for all column families, bytes. Default: 64 MiB.
  // Part of the memory budget: peak RSS stays bounded by this plus the
  // memtables (write_buffer_bytes x 2 per column family).
  size_t block_cache_bytes = 64 << 20;
  // Memtable size per column family, bytes. Default: 16 MiB.
  size_t write_buffer_bytes = 16 << 20;
  // Test seam: a custom Env (in-memory or fault-injecting). Not owned; must
  // outlive the store. Default: nullptr = the real filesystem.
  rocksdb::Env* env = nullptr;
  // Open read-only: no lock taken, so it works while another process (the
  // coordinator) has the database open; it sees what was written when it
  // opened (WAL included). Writes fail. create_if_missing is ignored.
  bool read_only = false;
  // Where RocksDB's warnings and errors and the store's write-health changes
  // go, one line each (no trailing newline); called from any thread.
  // Default (empty): stderr, each line prefixed "vigil: ". RocksDB's own LOG
  // file is not written: it would sit on the disk that fills.
  std::function<void(const std::string&)> log;
  // While writes fail (WriteHealth() not OK), how often the store looks at
  // the free space and, once there is enough, reopens the database to
  // write again, ms. Default: 1000.
  int recovery_poll_ms = 1000;
};

// Opens (or creates) the database at `path`. FailedPrecondition if the
// database was written by an incompatible format version; the format version
// key is written on creation.
//
// A full disk (or another write error) never aborts the process: RocksDB
// stops taking writes, every Write and Sync then fails with Unavailable
// "database writes failing (no space) in PATH: X MiB free, about Y MiB
// needed; writes resume by themselves once space is freed" and changes
// nothing, reads keep working, and WriteHealth() says the same. Background
// errors are learnt through a rocksdb::EventListener (OnBackgroundError).
// A thread watches the free space (every recovery_poll_ms) and, once the
// memtables' flush fits, closes the database and opens it again as a
// restart would (the write-ahead log replayed up to the write that failed);
// WriteHealth() is OK again once that succeeded. Calls made during the
// reopen (well under a second) fail at once with Unavailable; if the
// database cannot be opened for writing it is opened read-only meanwhile.
// Failed attempts back off up to 30 s. Neither RocksDB's own recovery from
// a full disk (it waits for 192 MiB free) nor DB::Resume() (it can hang
// after a failed flush) is used.
StatusOr<std::unique_ptr<KvStore>> OpenRocksKv(const std::string& path,
                                               const RocksKvOptions& options = {});

// Writes a consistent copy of the whole database, openable with
// OpenRocksKv(), to directory `dir`, which must not exist (SST files are
// hard-linked when on the same filesystem, copied otherwise). Safe while the
// store is in use. InvalidArgument if `kv` is not a RocksDB store; the
// RocksDB error otherwise (e.g. `dir` exists).
Status CheckpointRocksKv(KvStore* kv, const std::string& dir);

// RocksDB's own estimates for one keyspace (cheap: read from table
// properties and memtable counters, no scan; used by /metrics).
struct RocksKvEstimate {
  // "rocksdb.estimate-num-keys": keys, counting overwritten and deleted
  // ones not yet compacted away.
  uint64_t keys = 0;
  // "rocksdb.estimate-live-data-size": bytes of live data in SST files.
  uint64_t live_data_bytes = 0;
};
// InvalidArgument if `kv` is not a RocksDB store.
StatusOr<RocksKvEstimate> EstimateRocksKv(KvStore* kv, Space space);

}  // namespace vigil::storage
