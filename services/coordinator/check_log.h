// The tenant's hash-chained check log (keyspace `results`): every check
// result is appended to its tenant's chain; each record holds the hash of the
// previous one, so a rewritten, removed or reordered record breaks the chain
// from that point on, and a proof carrying the head lets a client holding an
// earlier proof see that the history was extended, not rewritten.
//
// KEY LAYOUT (keyspace `results`; persisted)
//   "log/"  Str(tenant) U64(seq)  -> record bytes || SHA-256(record bytes)
//   "head/" Str(tenant)           -> U64(seq) || SHA-256 of record `seq`
// Str() is key_codec.h's order-preserving string encoding (so one tenant's
// log is one contiguous range, whatever bytes its name holds), U64 8 bytes
// big-endian (numeric order == key order). seq starts at 1. The head is
// written in the same atomic batch as the record it points to: it catches
// records deleted from the end of the log, which no link can.
//
// RECORD BYTES (canonical, hashed as stored; all integers big-endian)
//   u8   0x01                  format version
//   u32  tenant length, then the tenant bytes
//   u64  seq
//   i64  at_ns                 (two's complement; ns since the Unix epoch)
//   32   prev_hash             SHA-256 record hash of seq-1; 32 zero bytes
//                              for seq 1
//   u32  payload length, then the payload bytes (the check result, JSON)
// hash(record) = SHA-256(record bytes). CHAIN RULE: record seq (seq > 1)
// has prev_hash == hash(record seq-1), and seq runs 1, 2, 3, ... without gap.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/kv.h"
#include "storage/status.h"

namespace vigil::coordinator::check_log {

using Hash = std::array<uint8_t, 32>;

struct LogHead {
  uint64_t seq = 0;  // 0: empty log
  Hash hash{};       // hash of record `seq`; all zero for an empty log
};

struct LogRecord {
  std::string tenant;
  uint64_t seq = 0;
  int64_t at_ns = 0;
  Hash prev_hash{};
  std::string payload;
};

std::string LogKey(std::string_view tenant, uint64_t seq);
std::string HeadKey(std::string_view tenant);
// The canonical record bytes (format above).
std::string EncodeRecord(const LogRecord& r);
// DataLoss on truncated or trailing bytes, or an unknown version.
storage::Status DecodeRecord(std::string_view bytes, LogRecord* r);
Hash RecordHash(std::string_view record_bytes);
std::string HashHex(const Hash& h);

// Appends `record_json` (stored as opaque bytes) to the tenant's log at time
// `at_ns`: record and head in one WriteBatch, WAL synced before it returns.
// Appends are serialized per tenant within this process and link to the
// stored head. Do not mix with a StagedHeads staging into the same
// database: the staged heads would not see this record.
storage::StatusOr<LogHead> Append(storage::KvStore& kv, std::string_view tenant,
                                  const std::string& record_json, int64_t at_ns);

// Stages appends into a caller's batches, so that a check result and its log
// record are committed atomically without waiting for the write: each record
// links to the last record staged for its tenant by this object (kept in
// memory), or to the stored head for the first one. One object per open
// database (the coordinator owns it). Batches must be written in the order
// they were staged (the lease manager's write groups are), and after a
// failed write Forget(tenant) must be called (or the object dropped) before
// staging again.
class StagedHeads {
 public:
  storage::StatusOr<LogHead> Stage(storage::KvStore& kv, std::string_view tenant,
                                   const std::string& record_json, int64_t at_ns,
                                   storage::KvBatch* batch);
  // Drops the in-memory head of `tenant` (after a failed write, or when its
  // log is erased): the next Stage reads the stored head.
  void Forget(std::string_view tenant);
  // Drops every in-memory head (after a failed write whose tenants are not
  // known): each tenant's next Stage reads its stored head.
  void ForgetAll();

 private:
  std::mutex mu_;
  std::map<std::string, LogHead, std::less<>> heads_;  // GUARDED_BY(mu_)
};

// The head of the tenant's log ({0, zeros} if it has none).
storage::StatusOr<LogHead> Head(storage::KvStore& kv, std::string_view tenant);

// Recomputes the whole chain. OK if intact (then *head, if given, is the
// verified head); DataLoss naming the first broken seq and why otherwise:
// "hash mismatch", "prev link broken", "gap in seq", a record that does not
// decode, a head that does not match the last record.
storage::Status Verify(storage::KvStore& kv, std::string_view tenant, LogHead* head = nullptr);

// Calls fn(record, hash) for each record from seq `first_seq` on, in seq
// order, until fn returns false (no chain check; use Verify for that). It
// seeks to `first_seq`: the records before it are not read.
storage::Status Scan(storage::KvStore& kv, std::string_view tenant,
                     const std::function<bool(const LogRecord&, const Hash&)>& fn,
                     uint64_t first_seq = 1);

// Tenants that have a log, in key order.
storage::StatusOr<std::vector<std::string>> Tenants(storage::KvStore& kv);

}  // namespace vigil::coordinator::check_log
