#include "services/coordinator/lease_manager.h"

#include <algorithm>

#include "services/coordinator/keys.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

LeaseManager::LeaseManager(storage::KvStore* kv, Clock* clock, LeaseOptions options)
    : kv_(kv), clock_(clock), options_(options) {}

Status LeaseManager::Load() {
  MutexLock lock(&mu_);
  return LoadLocked();
}

Status LeaseManager::RecoverLocked() {
  if (broken_.ok()) return absl::OkStatus();
  // Still refused: say why now (not the error of the write that failed).
  if (Status h = kv_->WriteHealth(); !h.ok()) return h;
  // Once broken no group is written, and every waiter has returned.
  open_batch_.Clear();
  if (Status s = LoadLocked(); !s.ok()) return s;
  if (reload_hook_) reload_hook_();
  broken_ = absl::OkStatus();
  return absl::OkStatus();
}

Status LeaseManager::LoadLocked() {
  tasks_.clear();
  queued_.clear();
  leased_.clear();
  progress_.clear();
  shadows_.clear();
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
    IndexLocked(t);
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

void LeaseManager::IndexLocked(const v1::Task& t) {
  if (t.state() == v1::TASK_STATE_QUEUED) {
    queued_[t.backup_set().location()].insert(t.id());
    if (queued_hook_) queued_hook_(t.backup_set().location());
  } else if (t.state() == v1::TASK_STATE_LEASED) {
    leased_.emplace(t.lease_expires_ns(), t.id());
  }
}

void LeaseManager::UnindexLocked(const v1::Task& t) {
  if (t.state() == v1::TASK_STATE_QUEUED) {
    auto it = queued_.find(t.backup_set().location());
    if (it != queued_.end()) {
      it->second.erase(t.id());
      if (it->second.empty()) queued_.erase(it);
    }
  } else if (t.state() == v1::TASK_STATE_LEASED) {
    leased_.erase({t.lease_expires_ns(), t.id()});
  }
}

void LeaseManager::AppendToGroupLocked(const storage::KvBatch& extra) {
  storage::KvBatch* group = &open_batch_;  // the lambda runs here, under mu_
  extra.ForEach(
      [group](storage::KvBatch::Op op, Space space, std::string_view k, std::string_view v) {
        switch (op) {
          case storage::KvBatch::Op::kPut:
            group->Put(space, k, v);
            break;
          case storage::KvBatch::Op::kDelete:
            group->Delete(space, k);
            break;
          case storage::KvBatch::Op::kDeleteRange:
            group->DeleteRange(space, k, v);
            break;
        }
      });
}

void LeaseManager::ShadowLocked(const v1::Task& slot) {
  auto [it, inserted] = shadows_.try_emplace(slot.id());
  // A task with no shadow has its in-memory state durable: keep it. One
  // with a shadow keeps the older durable version it holds.
  if (inserted && slot.state() != v1::TASK_STATE_UNSPECIFIED) it->second.durable = slot;
  it->second.group = open_group_;
}

void LeaseManager::DropDurableShadowsLocked() {
  for (auto it = shadows_.begin(); it != shadows_.end();) {
    if (it->second.group <= durable_group_ && !it->second.held) {
      it = shadows_.erase(it);
    } else {
      ++it;
    }
  }
}

const v1::Task* LeaseManager::VisibleLocked(uint64_t id, const v1::Task* t) const {
  auto it = shadows_.find(id);
  if (it == shadows_.end()) return t;
  return it->second.durable ? &*it->second.durable : nullptr;
}

uint64_t LeaseManager::Persist(v1::Task* slot, v1::Task next, const storage::KvBatch* extra) {
  ShadowLocked(*slot);
  open_batch_.Put(Space::kTasks, keys::Task(next.id()), next.SerializeAsString());
  if (finish_hook_ &&
      (next.state() == v1::TASK_STATE_DONE || next.state() == v1::TASK_STATE_FAILED)) {
    // In the same group as the state: a result is logged exactly once. A
    // hook that fails breaks the manager like a failed write would.
    if (Status s = finish_hook_(next, &open_batch_); !s.ok() && broken_.ok()) broken_ = s;
  }
  if (extra != nullptr) AppendToGroupLocked(*extra);
  // Progress lives as long as the attempt's lease: a new lease starts it
  // again (a lease from before a restart gets one on its first report).
  const bool new_lease =
      next.state() == v1::TASK_STATE_LEASED &&
      (slot->state() != v1::TASK_STATE_LEASED || slot->attempt() != next.attempt());
  // A lease ending (done, failed, expired, handed back): a read budget's
  // gate may now admit its location's next task. (A QUEUED task wakes
  // them in IndexLocked.)
  const bool lease_ends = slot->state() == v1::TASK_STATE_LEASED &&
                          next.state() != v1::TASK_STATE_LEASED &&
                          next.state() != v1::TASK_STATE_QUEUED;
  UnindexLocked(*slot);
  *slot = std::move(next);
  IndexLocked(*slot);
  if (lease_ends && queued_hook_) queued_hook_(slot->backup_set().location());
  if (new_lease) {
    const int64_t now = clock_->NowNs();
    progress_[slot->id()] =
        Progress{.attempt = slot->attempt(), .started_ns = now, .updated_ns = now};
  } else if (slot->state() != v1::TASK_STATE_LEASED) {
    progress_.erase(slot->id());
  }
  return open_group_;
}

LeaseManager::Progress* LeaseManager::ProgressLocked(uint64_t task, uint32_t attempt) {
  auto t = tasks_.find(task);
  if (t == tasks_.end() || t->second.state() != v1::TASK_STATE_LEASED ||
      t->second.attempt() != attempt) {
    return nullptr;
  }
  auto [it, inserted] = progress_.try_emplace(task);
  if (inserted || it->second.attempt != attempt) {
    // Leased before this coordinator started: when it began is unknown.
    it->second = Progress{.attempt = attempt, .updated_ns = clock_->NowNs()};
  }
  return &it->second;
}

void LeaseManager::AttachProgressLocked(v1::Task* t) const {
  if (t->state() != v1::TASK_STATE_LEASED) return;
  auto it = progress_.find(t->id());
  if (it == progress_.end() || it->second.attempt != t->attempt()) return;
  const Progress& p = it->second;
  v1::TaskProgress* out = t->mutable_progress();
  out->set_files_done(std::max(p.reported_files, p.acked_files));
  out->set_bytes_done(std::max(p.reported_bytes, p.acked_bytes));
  out->set_files_total(p.files_total);
  out->set_bytes_total(p.bytes_total);
  out->set_started_ns(p.started_ns);
  out->set_updated_ns(p.updated_ns);
}

void LeaseManager::AddObserved(uint64_t task, uint32_t attempt, uint64_t files, uint64_t bytes) {
  if (files == 0 && bytes == 0) return;
  MutexLock lock(&mu_);
  Progress* p = ProgressLocked(task, attempt);
  if (p == nullptr) return;
  const uint64_t before_files = std::max(p->reported_files, p->acked_files);
  const uint64_t before_bytes = std::max(p->reported_bytes, p->acked_bytes);
  p->acked_files += files;
  p->acked_bytes += bytes;
  if (std::max(p->reported_files, p->acked_files) != before_files ||
      std::max(p->reported_bytes, p->acked_bytes) != before_bytes) {
    p->updated_ns = clock_->NowNs();
  }
}

void LeaseManager::SetExpected(uint64_t task, uint32_t attempt, uint64_t files_total,
                               uint64_t bytes_total) {
  MutexLock lock(&mu_);
  Progress* p = ProgressLocked(task, attempt);
  if (p == nullptr) return;
  p->files_total = files_total;
  p->bytes_total = bytes_total;
}

Status LeaseManager::WaitDurable(uint64_t group) {
  while (durable_group_ < group && broken_.ok()) {
    if (writing_) {
      durable_cv_.Wait(&mu_);
      continue;
    }
    // Lead: write the open group (and everything appended so far) at once.
    writing_ = true;
    storage::KvBatch b = std::move(open_batch_);
    open_batch_ = storage::KvBatch();
    const uint64_t g = open_group_++;
    mu_.Unlock();
    Status s = kv_->Write(b, {.sync = true});
    mu_.Lock();
    writing_ = false;
    if (s.ok()) {
      durable_group_ = g;
      DropDurableShadowsLocked();
    } else {
      broken_ = s;
    }
    durable_cv_.SignalAll();
  }
  return broken_;
}

StatusOr<uint64_t> LeaseManager::NextIdLocked() {
  uint64_t id = next_id_++;
  std::string v;
  keys::AppendU64(&v, next_id_);
  open_batch_.Put(Space::kMeta, keys::kNextId, v);
  return id;
}

StatusOr<uint64_t> LeaseManager::NextId() {
  MutexLock lock(&mu_);
  if (Status s = RecoverLocked(); !s.ok()) return s;
  auto id = NextIdLocked();
  if (Status s = WaitDurable(open_group_); !s.ok()) return s;
  return id;
}

StatusOr<std::vector<v1::Task>> LeaseManager::Enqueue(std::vector<v1::Task> tasks) {
  MutexLock lock(&mu_);
  if (Status s = RecoverLocked(); !s.ok()) return s;
  int64_t now = clock_->NowNs();
  uint64_t group = 0;
  for (auto& t : tasks) {
    t.set_id(next_id_++);
    t.set_state(v1::TASK_STATE_QUEUED);
    t.set_attempt(0);
    t.set_created_ns(now);
    v1::Task& slot = tasks_[t.id()];
    slot.set_id(t.id());  // a fresh slot: not indexed
    group = Persist(&slot, t);
  }
  std::string v;
  keys::AppendU64(&v, next_id_);
  open_batch_.Put(Space::kMeta, keys::kNextId, v);
  if (Status s = WaitDurable(open_group_); !s.ok()) return s;
  (void)group;
  return tasks;
}

StatusOr<uint64_t> LeaseManager::EraseTenant(const std::string& tenant,
                                             const storage::KvBatch* extra) {
  MutexLock lock(&mu_);
  if (Status s = RecoverLocked(); !s.ok()) return s;
  std::vector<uint64_t> ids;
  for (const auto& [id, t] : tasks_) {
    if (t.backup_set().tenant() != tenant) continue;
    if (t.state() == v1::TASK_STATE_QUEUED || t.state() == v1::TASK_STATE_LEASED) {
      return absl::FailedPreconditionError("task " + std::to_string(id) + " of tenant '" + tenant +
                                           "' is still queued or running");
    }
    ids.push_back(id);
  }
  for (uint64_t id : ids) {
    open_batch_.Delete(Space::kTasks, keys::Task(id));
    ShadowLocked(tasks_[id]);  // shown until the erasure is written
    tasks_.erase(id);          // finished: in no index
  }
  if (extra != nullptr) AppendToGroupLocked(*extra);
  if (ids.empty() && (extra == nullptr || extra->count() == 0)) return 0;
  if (Status s = WaitDurable(open_group_); !s.ok()) return s;
  return ids.size();
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

uint64_t LeaseManager::ExpireLocked() {
  int64_t now = clock_->NowNs();
  uint64_t group = 0;
  while (!leased_.empty() && leased_.begin()->first <= now) {
    v1::Task& t = tasks_[leased_.begin()->second];
    v1::Task next = t;
    (void)RecordFailureLocked(&next, "lease expired (worker " + t.worker_id() + " went quiet)");
    group = Persist(&t, std::move(next));
  }
  return group;
}

StatusOr<int> LeaseManager::ExpireLeases() {
  MutexLock lock(&mu_);
  if (Status s = RecoverLocked(); !s.ok()) return s;
  int64_t now = clock_->NowNs();
  int n = 0;
  for (auto it = leased_.begin(); it != leased_.end() && it->first <= now; ++it) ++n;
  if (n == 0) return 0;
  uint64_t group = ExpireLocked();
  if (Status s = WaitDurable(group); !s.ok()) return s;
  return n;
}

StatusOr<std::optional<v1::Task>> LeaseManager::Lease(const std::string& worker,
                                                      const std::set<std::string>& locations,
                                                      const LeaseGate& gate) {
  MutexLock lock(&mu_);
  if (Status s = RecoverLocked(); !s.ok()) return s;
  uint64_t expired = ExpireLocked();
  // The oldest queued task among the worker's locations (that the gate
  // admits).
  uint64_t best = 0;
  for (const auto& l : locations) {
    auto it = queued_.find(l);
    if (it == queued_.end()) continue;
    uint64_t id = *it->second.begin();
    if (best != 0 && id >= best) continue;
    if (gate) {
      std::vector<const v1::Task*> leased_here;
      for (const auto& [expiry, leased] : leased_) {
        const v1::Task& lt = tasks_[leased];
        if (lt.backup_set().location() == l) leased_here.push_back(&lt);
      }
      // Completed but not shown yet (Complete(publish = false)): what it
      // spent is not in the caller's ledger yet (read_ledger.h), so it
      // still counts as leased here, as readers still see it.
      for (const auto& [shadowed, sh] : shadows_) {
        if (sh.held && sh.durable && sh.durable->state() == v1::TASK_STATE_LEASED &&
            sh.durable->backup_set().location() == l) {
          leased_here.push_back(&*sh.durable);
        }
      }
      if (!gate(tasks_[id], leased_here)) continue;
    }
    best = id;
  }
  if (best == 0) {
    if (Status s = WaitDurable(expired); !s.ok()) return s;
    return std::optional<v1::Task>();
  }
  v1::Task& t = tasks_[best];
  v1::Task next = t;
  next.set_state(v1::TASK_STATE_LEASED);
  next.set_attempt(t.attempt() + 1);
  next.set_worker_id(worker);
  next.set_lease_expires_ns(clock_->NowNs() + options_.ttl_ns);
  uint64_t group = Persist(&t, next);
  if (Status s = WaitDurable(group); !s.ok()) return s;
  return std::optional<v1::Task>(std::move(next));
}

StatusOr<v1::Task*> LeaseManager::CurrentLocked(const std::string& worker, uint64_t task,
                                                uint32_t attempt) {
  if (Status s = RecoverLocked(); !s.ok()) return s;
  (void)ExpireLocked();  // written with the caller's change, or by the sweep
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
  MutexLock lock(&mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  // An expiry found here is written before the refusal is returned.
  if (Status s = WaitDurable(open_batch_.count() > 0 ? open_group_ : 0); !s.ok()) return s;
  return cur.status();
}

StatusOr<int64_t> LeaseManager::Heartbeat(const std::string& worker, uint64_t task,
                                          uint32_t attempt, uint64_t files_done,
                                          uint64_t bytes_done) {
  MutexLock lock(&mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) {
    if (Status s = WaitDurable(open_batch_.count() > 0 ? open_group_ : 0); !s.ok()) return s;
    return cur.status();
  }
  v1::Task next = **cur;
  next.set_lease_expires_ns(clock_->NowNs() + options_.ttl_ns);
  const int64_t expires = next.lease_expires_ns();
  uint64_t group = Persist(*cur, std::move(next));
  // Progress: in memory only, never part of the record written above.
  if (Progress* p = ProgressLocked(task, attempt); p != nullptr) {
    const uint64_t before_files = std::max(p->reported_files, p->acked_files);
    const uint64_t before_bytes = std::max(p->reported_bytes, p->acked_bytes);
    p->reported_files = std::max(p->reported_files, files_done);
    p->reported_bytes = std::max(p->reported_bytes, bytes_done);
    if (std::max(p->reported_files, p->acked_files) != before_files ||
        std::max(p->reported_bytes, p->acked_bytes) != before_bytes) {
      p->updated_ns = clock_->NowNs();
    }
  }
  if (Status s = WaitDurable(group); !s.ok()) return s;
  return expires;
}

StatusOr<v1::Task> LeaseManager::Fail(const std::string& worker, uint64_t task, uint32_t attempt,
                                      const std::string& message) {
  MutexLock lock(&mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) {
    if (Status s = WaitDurable(open_batch_.count() > 0 ? open_group_ : 0); !s.ok()) return s;
    return cur.status();
  }
  v1::Task next = **cur;
  (void)RecordFailureLocked(&next, message);
  v1::Task copy = next;
  uint64_t group = Persist(*cur, std::move(next));
  if (Status s = WaitDurable(group); !s.ok()) return s;
  return copy;
}

Status LeaseManager::Release(const std::string& worker, uint64_t task, uint32_t attempt) {
  MutexLock lock(&mu_);
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) {
    if (Status s = WaitDurable(open_batch_.count() > 0 ? open_group_ : 0); !s.ok()) return s;
    return cur.status();
  }
  v1::Task next = **cur;
  next.set_state(v1::TASK_STATE_QUEUED);
  next.clear_worker_id();
  next.set_lease_expires_ns(0);
  uint64_t group = Persist(*cur, std::move(next));
  return WaitDurable(group);
}

StatusOr<v1::Task> LeaseManager::Complete(const std::string& worker, uint64_t task,
                                          uint32_t attempt, const Outcome& outcome,
                                          storage::KvBatch* extra, bool publish) {
  MutexLock lock(&mu_);
  if (Status s = RecoverLocked(); !s.ok()) return s;
  auto it = tasks_.find(task);
  if (it != tasks_.end() && it->second.state() == v1::TASK_STATE_DONE &&
      it->second.attempt() == attempt) {
    v1::Task copy = it->second;  // a repeated CompleteTask: durable once it was answered
    if (Status s = WaitDurable(open_batch_.count() > 0 ? open_group_ : 0); !s.ok()) return s;
    return copy;
  }
  auto cur = CurrentLocked(worker, task, attempt);
  if (!cur.ok()) {
    if (Status s = WaitDurable(open_batch_.count() > 0 ? open_group_ : 0); !s.ok()) return s;
    return cur.status();
  }
  v1::Task next = **cur;
  next.set_state(v1::TASK_STATE_DONE);
  *next.mutable_counts() = outcome.counts;
  next.set_entries(outcome.entries);
  next.set_bytes_read(outcome.bytes_read);
  next.set_points_held(outcome.points_held);
  next.set_entries_held(outcome.entries_held);
  next.set_dirs_held(outcome.dirs_held);
  next.set_entries_in_held_dirs(outcome.entries_in_held_dirs);
  next.set_dirs_shared(outcome.dirs_shared);
  next.set_set_directory(outcome.set_directory);
  if (outcome.store_usage) *next.mutable_store_usage() = *outcome.store_usage;
  if (outcome.store_evidence) *next.mutable_store_evidence() = *outcome.store_evidence;
  next.set_lease_expires_ns(0);
  next.set_finished_ns(clock_->NowNs());
  v1::Task copy = next;
  uint64_t group = Persist(*cur, std::move(next), extra);
  if (!publish) shadows_[task].held = true;
  if (Status s = WaitDurable(group); !s.ok()) return s;
  return copy;
}

void LeaseManager::Publish(uint64_t task) {
  MutexLock lock(&mu_);
  auto it = shadows_.find(task);
  if (it == shadows_.end()) return;
  it->second.held = false;
  if (it->second.group <= durable_group_) shadows_.erase(it);
}

std::optional<v1::Task> LeaseManager::Get(uint64_t task) {
  MutexLock lock(&mu_);
  auto it = tasks_.find(task);
  const v1::Task* t = VisibleLocked(task, it == tasks_.end() ? nullptr : &it->second);
  if (t == nullptr) return std::nullopt;
  v1::Task copy = *t;
  AttachProgressLocked(&copy);
  return copy;
}

std::vector<v1::Task> LeaseManager::All() {
  MutexLock lock(&mu_);
  std::vector<v1::Task> out;
  out.reserve(tasks_.size());
  auto add = [&](uint64_t id, const v1::Task* t) REQUIRES(mu_) {
    if (const v1::Task* v = VisibleLocked(id, t); v != nullptr) {
      out.push_back(*v);
      AttachProgressLocked(&out.back());
    }
  };
  // Tasks in memory, and those erased in memory but not yet on disk, by id.
  auto s = shadows_.begin();
  for (const auto& [id, t] : tasks_) {
    for (; s != shadows_.end() && s->first < id; ++s) add(s->first, nullptr);
    if (s != shadows_.end() && s->first == id) ++s;
    add(id, &t);
  }
  for (; s != shadows_.end(); ++s) add(s->first, nullptr);
  return out;
}

StatusOr<std::optional<v1::Task>> LeaseManager::GetDurable(uint64_t task) {
  MutexLock lock(&mu_);
  if (!broken_.ok()) return broken_;
  auto sh = shadows_.find(task);
  if (sh != shadows_.end()) {
    if (Status s = WaitDurable(sh->second.group); !s.ok()) return s;
  }
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return std::optional<v1::Task>();
  v1::Task copy = it->second;
  AttachProgressLocked(&copy);
  return std::optional<v1::Task>(std::move(copy));
}

}  // namespace vigil::coordinator
