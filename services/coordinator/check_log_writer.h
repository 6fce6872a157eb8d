// Writing the tenants' hash-chained check logs (services/proofs/check_log.h
// has the format, the reading and the verification): one synced append, or
// appends staged into the caller's batches. Only the coordinator writes a
// check log; a client only verifies one.
//
// Thread safety: Append is thread-safe (serialized per tenant within this
// process); StagedHeads is thread-safe (one mutex).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/proofs/check_log.h"
#include "storage/kv.h"
#include "storage/status.h"

namespace vigil::check_log {

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
  Mutex mu_;
  std::map<std::string, LogHead, std::less<>> heads_ GUARDED_BY(mu_);
};

}  // namespace vigil::check_log
