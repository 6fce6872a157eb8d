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
//
// This file is the log's format and its reading and verification: what a
// client runs offline (`vigil log verify` on a copy of the database, `vigil
// proof verify` on the records a proof carries), with no coordinator. The
// coordinator writes the log with services/coordinator/check_log_writer.h.
//
// Thread safety: stateless functions; concurrent calls are safe as far as
// the KvStore's are.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/kv.h"
#include "storage/status.h"

namespace vigil::check_log {

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
// The head value: U64(seq) || hash (40 bytes).
std::string EncodeHead(const LogHead& head);
Hash RecordHash(std::string_view record_bytes);
std::string HashHex(const Hash& h);

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

}  // namespace vigil::check_log
