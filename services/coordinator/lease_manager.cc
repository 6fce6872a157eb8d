#include "services/coordinator/lease_manager.h"

#include "services/coordinator/keys.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

LeaseManager::LeaseManager(storage::KvStore* kv, Clock* clock, LeaseOptions options)
    : kv_(kv), clock_(clock), options_(options) {}

Status LeaseManager::Load() {
  std::lock_guard lock(mu_);
  std::string v;
  Status s = kv_->Get(Space::kMeta, keys::kNextId, &v);
  if (s.ok()) {
    next_id_ = keys::ReadU64(v);
  } else if (!absl::IsNotFound(s)) {
    return s;
  }
  auto it = kv_->NewIterator(Space::kTasks, {.upper_bound = "U"});
  int64_t grace = clock_->NowNs() + options_.ttl_ns;
  bool extended = false;
  for (it->Seek(keys::kTaskPrefix); it->Valid(); it->Next()) {
    v1::Task t;
    if (!t.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("task record does not decode");
    }
    // Leases granted before a restart: give their workers one TTL to
    // reconnect (their expiry may have passed while we were down).
    if (t.state() == v1::TASK_STATE_LEASED && t.lease_expires_ns() < grace) {
      t.set_lease_expires_ns(grace);
      extended = true;
    }
    if (t.id() >= next_id_) next_id_ = t.id() + 1;
    tasks_[t.id()] = std::move(t);
  }
  if (!it->status().ok()) return it->status();
  if (extended) {
    storage::KvBatch b;
    for (auto& [id, t] : tasks_) {
      if (t.state() == v1::TASK_STATE_LEASED)
        b.Put(Space::kTasks, keys::Task(id), t.SerializeAsString());
    }
    return kv_->Write(b, {.sync = true});
  }
  return absl::OkStatus();
}

Status LeaseManager::Persist(const v1::Task& t, storage::KvBatch* extra) {
  storage::KvBatch local;
  storage::KvBatch* b = extra != nullptr ? extra : &local;
  b->Put(Space::kTasks, keys::Task(t.id()), t.SerializeAsString());
  std::unique_lock<std::mutex> hold;
  if (finish_hook_ && (t.state() == v1::TASK_STATE_DONE || t.state() == v1::TASK_STATE_FAILED)) {
    if (Status s = finish_hook_(t, b, &hold); !s.ok()) return s;
  }
  return kv_->Write(*b, {.sync = true});
}

StatusOr<uint64_t> LeaseManager::NextIdLocked() {
  uint64_t id = next_id_++;
  std::string v;
  keys::AppendU64(&v, next_id_);
  storage::KvBatch b;
  b.Put(Space::kMeta, keys::kNextId, v);
  if (Status s = kv_->Write(b, {.sync = true}); !s.ok()) return s;
  return id;
}

StatusOr<uint64_t> LeaseManager::NextId() {
  std::lock_guard lock(mu_);
  return NextIdLocked();
}

StatusOr<std::vector<v1::Task>> LeaseManager::Enqueue(std::vector<v1::Task> tasks) {
  std::lock_guard lock(mu_);
  storage::KvBatch b;
  int64_t now = clock_->NowNs();
  uint64_t first = next_id_;
  for (auto& t : tasks) {
    t.set_id(next_id_++);
    t.set_state(v1::TASK_STATE_QUEUED);
    t.set_attempt(0);
    t.set_created_ns(now);
    b.Put(Space::kTasks, keys::Task(t.id()), t.SerializeAsString());
  }
  std::string v;
  keys::AppendU64(&v, next_id_);
  b.Put(Space::kMeta, keys::kNextId, v);
  if (Status s = kv_->Write(b, {.sync = true}); !s.ok()) {
    next_id_ = first;
    return s;
  }
  for (const auto& t : tasks) tasks_[t.id()] = t;
  return tasks;
}

Status LeaseManager::RecordFailureLocked(v1::Task* t, const std::string& message) {
  v1::TaskError* e = t->add_errors();
  e->set_attempt(t->attempt());
  e->set_worker_id(t->worker_id());
  e->set_at_ns(clock_->NowNs());
  e->set_message(message);
  t->clear_worker_id();
  t->set_lease_expires_ns(0);
  if (t->attempt() >= options_.max_attempts) {
    t->set_state(v1::TASK_STATE_FAILED);
    t->set_finished_ns(clock_->NowNs());
  } else {
    t->set_state(v1::TASK_STATE_QUEUED);
  }
  return absl::OkStatus();
}

Status LeaseManager::ExpireLocked() {
  int64_t now = clock_->NowNs();
  for (auto& [id, t] : tasks_) {
    if (t.state() != v1::TASK_STATE_LEASED || t.lease_expires_ns() > now) continue;
    v1::Task next = t;
    (void)RecordFailureLocked(&next, "lease expired (worker " + t.worker_id() + " went quiet)");
    if (Status s = Persist(next); !s.ok()) return s;
    t = std::move(next);
  }
  return absl::OkStatus();
}

StatusOr<int> LeaseManager::ExpireLeases() {
  std::lock_guard lock(mu_);
  int64_t now = clock_->NowNs();
  int n = 0;
  for (const auto& [id, t] : tasks_) {
    if (t.state() == v1::TASK_STATE_LEASED && t.lease_expires_ns() <= now) ++n;
  }
  if (n == 0) return 0;
  if (Status s = ExpireLocked(); !s.ok()) return s;
  return n;
}

StatusOr<std::optional<v1::Task>> LeaseManager::Lease(const std::string& worker,
                                                      const std::set<std::string>& locations) {
  std::lock_guard lock(mu_);
  if (Status s = ExpireLocked(); !s.ok()) return s;
  for (auto& [id, t] : tasks_) {
    if (t.state() != v1::TASK_STATE_QUEUED) continue;
    if (locations.count(t.backup_set().location()) == 0) continue;
    v1::Task next = t;
    next.set_state(v1::TASK_STATE_LEASED);
    next.set_attempt(t.attempt() + 1);
    next.set_worker_id(worker);
    next.set_lease_expires_ns(clock_->NowNs() + options_.ttl_ns);
    if (Status s = Persist(next); !s.ok()) return s;
    t = next;
    return std::optional<v1::Task>(std::move(next));
  }
  return std::optional<v1::Task>();
}

StatusOr<v1::Task*> LeaseManager::CurrentLocked(const std::string& worker, uint64_t task,
                                                uint32_t attempt) {
  if (Status s = ExpireLocked(); !s.ok()) return s;
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return absl::NotFoundError("unknown task " + std::to_string(task));
  v1::Task& t = it->second;
  if (t.attempt() != attempt) {
    return absl::FailedPreconditionError("task " + std::to_string(task) + ": attempt " +
                                         std::to_string(attempt) + " is stale (current attempt " +
                                         std::to_string(t.attempt()) + ")");
  }
  if (t.state() != v1::TASK_STATE_LEASED || t.worker_id() != worker) {
    return absl::FailedPreconditionError("task " + std::to_string(task) + " attempt " +
                                         std::to_string(attempt) + " is not leased to worker " +
                                         worker);
  }
  return &t;
}

Status LeaseManager::CheckLease(const std::string& worker, uint64_t task, uint32_t attempt) {
  std::lock_guard lock(mu_);
  return CurrentLocked(worker, task, attempt).status();
}

StatusOr<int64_t> LeaseManager::Heartbeat(const std::string& worker, uint64_t task,
                                          uint32_t attempt) {
  std::lock_guard lock(mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) return cur.status();
  v1::Task next = **cur;
  next.set_lease_expires_ns(clock_->NowNs() + options_.ttl_ns);
  if (Status s = Persist(next); !s.ok()) return s;
  **cur = next;
  return next.lease_expires_ns();
}

StatusOr<v1::Task> LeaseManager::Fail(const std::string& worker, uint64_t task, uint32_t attempt,
                                      const std::string& message) {
  std::lock_guard lock(mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) return cur.status();
  v1::Task next = **cur;
  (void)RecordFailureLocked(&next, message);
  if (Status s = Persist(next); !s.ok()) return s;
  **cur = next;
  return next;
}

Status LeaseManager::Release(const std::string& worker, uint64_t task, uint32_t attempt) {
  std::lock_guard lock(mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) return cur.status();
  v1::Task next = **cur;
  next.set_state(v1::TASK_STATE_QUEUED);
  next.clear_worker_id();
  next.set_lease_expires_ns(0);
  if (Status s = Persist(next); !s.ok()) return s;
  **cur = next;
  return absl::OkStatus();
}

StatusOr<v1::Task> LeaseManager::Complete(const std::string& worker, uint64_t task,
                                          uint32_t attempt, const v1::DiffCounts& counts,
                                          uint64_t entries, storage::KvBatch* extra) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task);
  if (it != tasks_.end() && it->second.state() == v1::TASK_STATE_DONE &&
      it->second.attempt() == attempt) {
    return it->second;  // a repeated CompleteTask
  }
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) return cur.status();
  v1::Task next = **cur;
  next.set_state(v1::TASK_STATE_DONE);
  *next.mutable_counts() = counts;
  next.set_entries(entries);
  next.set_lease_expires_ns(0);
  next.set_finished_ns(clock_->NowNs());
  if (Status s = Persist(next, extra); !s.ok()) return s;
  **cur = next;
  return next;
}

std::optional<v1::Task> LeaseManager::Get(uint64_t task) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return std::nullopt;
  return it->second;
}

std::vector<v1::Task> LeaseManager::All() {
  std::lock_guard lock(mu_);
  std::vector<v1::Task> out;
  out.reserve(tasks_.size());
  for (const auto& [id, t] : tasks_) out.push_back(t);
  return out;
}

}  // namespace vigil::coordinator
