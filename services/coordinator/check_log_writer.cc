#include "services/coordinator/check_log_writer.h"

#include <memory>

namespace vigil::check_log {

namespace {

using storage::KvStore;
using storage::Space;
using storage::Status;
using storage::StatusOr;

Mutex& TenantMutex(std::string_view tenant) {
  static Mutex map_mu;
  static std::map<std::string, std::unique_ptr<Mutex>, std::less<>> mutexes GUARDED_BY(map_mu);
  MutexLock lock(&map_mu);
  auto it = mutexes.find(tenant);
  if (it == mutexes.end()) {
    it = mutexes.emplace(std::string(tenant), std::make_unique<Mutex>()).first;
  }
  return *it->second;
}

// Puts record `prev.seq + 1` linked to `prev` and the new head into `batch`.
StatusOr<LogHead> StageOnto(const LogHead& prev, std::string_view tenant,
                            const std::string& record_json, int64_t at_ns,
                            storage::KvBatch* batch) {
  if (record_json.size() > 0xffffffffu) {
    return absl::InvalidArgumentError("check log record larger than 4 GiB");
  }
  LogRecord r;
  r.tenant = std::string(tenant);
  r.seq = prev.seq + 1;
  r.at_ns = at_ns;
  r.prev_hash = prev.hash;
  r.payload = record_json;
  std::string value = EncodeRecord(r);
  LogHead next{r.seq, RecordHash(value)};
  value.append(reinterpret_cast<const char*>(next.hash.data()), next.hash.size());
  batch->Put(Space::kResults, LogKey(tenant, r.seq), value);
  batch->Put(Space::kResults, HeadKey(tenant), EncodeHead(next));
  return next;
}

}  // namespace

void StagedHeads::Forget(std::string_view tenant) {
  MutexLock lock(&mu_);
  auto it = heads_.find(tenant);
  if (it != heads_.end()) heads_.erase(it);
}

void StagedHeads::ForgetAll() {
  MutexLock lock(&mu_);
  heads_.clear();
}

StatusOr<LogHead> StagedHeads::Stage(KvStore& kv, std::string_view tenant,
                                     const std::string& record_json, int64_t at_ns,
                                     storage::KvBatch* batch) {
  MutexLock lock(&mu_);
  auto it = heads_.find(tenant);
  if (it == heads_.end()) {
    auto head = Head(kv, tenant);
    if (!head.ok()) return head.status();
    it = heads_.emplace(std::string(tenant), *head).first;
  }
  auto next = StageOnto(it->second, tenant, record_json, at_ns, batch);
  if (next.ok()) it->second = *next;
  return next;
}

StatusOr<LogHead> Append(KvStore& kv, std::string_view tenant, const std::string& record_json,
                         int64_t at_ns) {
  MutexLock lock(&TenantMutex(tenant));
  auto head = Head(kv, tenant);
  if (!head.ok()) return head.status();
  storage::KvBatch batch;
  auto next = StageOnto(*head, tenant, record_json, at_ns, &batch);
  if (!next.ok()) return next.status();
  storage::WriteOptions wo;
  wo.sync = true;
  if (Status s = kv.Write(batch, wo); !s.ok()) return s;
  return *next;
}

}  // namespace vigil::check_log
