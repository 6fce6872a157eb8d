// Task queue and leases.
//
// Every task is a vigil.v1.Task record in the `tasks` keyspace; this class
// keeps them in memory too (loaded by Load()) and writes each change with a
// synced write before returning, so a coordinator killed at any point
// restarts with no task lost.
//
// Group commit: a change is applied in memory under the mutex and appended
// to the open write group; the call then waits, without the mutex, until a
// synced write holding its group is done (the first waiter writes the whole
// group, later arrivals join the next one). Concurrent leases and
// completions thus share one WAL fsync instead of queueing one fsync each
// behind the mutex. Groups are written in order, so a change is never durable
// before one it follows. A change another call sees in memory before it is
// durable was never acknowledged to anyone, and any call acting on it is
// durable only after it. If a group write fails, the in-memory state is
// ahead of the disk: every later call returns an error (the store's
// WriteHealth(), e.g. "database writes failing (no space) ...") until the
// store takes writes again; the next call then reads the tasks back from the
// store (as Load() does at start-up: what is durable is the truth, the
// failed group was never acknowledged, active leases get one TTL of grace)
// and carries on. SetReloadHook() lets the owner drop what it staged for
// the lost groups.
//
// Readers see only what is durable: Get() and All() (status, the dashboard,
// the scheduler, reports) return, for a task changed in a write group not
// yet written, its last durable version (none for a task just enqueued).
// A task thus turns DONE to readers only once the write holding its DONE
// record, and the merge's last batch with it, is on disk; never between the
// in-memory change and the fsync. The lease calls themselves (fencing,
// expiry) act on the in-memory state, as above. Complete() can also keep
// the task's previous version shown after the write (publish = false) until
// Publish(): the caller's own follow-up writes of the completion then
// become visible with the DONE state.
//
// Indexes: queued tasks by location (oldest id first) and leased tasks by
// expiry, so leasing and expiring do not scan every task.
//
// Rules:
//   - Lease() hands the oldest QUEUED task whose location the worker serves,
//     with attempt + 1 (the fencing token) and expiry now + ttl.
//   - Heartbeat() extends a lease to now + ttl.
//   - A lease past its expiry is taken back (ExpireLeases(), also done
//     lazily by every call): the error "lease expired" is recorded and the
//     task re-queued, or marked FAILED once max_attempts attempts failed.
//   - Any call naming another attempt or worker than the current lease gets
//     FailedPrecondition and changes nothing.
//   - Release() hands a lease back without counting a failure.
//   - After a restart, Load() extends every active lease to now + ttl: the
//     workers get one TTL to reconnect before their leases are taken back.
//
// Progress (vigil.v1.TaskProgress) of each LEASED task's current attempt is
// kept in memory beside the lease and never written: it is ephemeral (a
// restart forgets it) and must not add a synced write to the heartbeat
// path. It starts with the lease, is dropped when the task leaves LEASED or
// gets a new attempt, and is attached to the copies Get() and All() return.
//
// Thread safety: all methods are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/coordinator/clock.h"
#include "storage/kv.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

struct LeaseOptions {
  // Lease time to live, ns. Default 30 s.
  int64_t ttl_ns = 30'000'000'000;
  // Attempts after which a failing task is marked FAILED. Default 3.
  uint32_t max_attempts = 3;
};

class LeaseManager {
 public:
  // `kv` and `clock` are not owned and must outlive this object.
  LeaseManager(storage::KvStore* kv, Clock* clock, LeaseOptions options);

  // Reads every task record. Call once before anything else.
  storage::Status Load();

  // Assigns ids to `tasks` (QUEUED, attempt 0) and stores them durably.
  storage::StatusOr<std::vector<v1::Task>> Enqueue(std::vector<v1::Task> tasks);

  // May `candidate` (the oldest queued task at its location) be leased now,
  // with `leased_here` the tasks leased at that location? Called under the
  // manager's mutex: it must not call the manager.
  using LeaseGate = std::function<bool(const v1::Task& candidate,
                                       const std::vector<const v1::Task*>& leased_here)>;
  // Leases one task for `worker` among `locations`; nullopt if none queued.
  // With `gate`, a location whose oldest queued task the gate refuses is
  // passed over (its younger tasks wait too: a location's queue is served
  // in order, so a large task is not starved by small ones).
  storage::StatusOr<std::optional<v1::Task>> Lease(const std::string& worker,
                                                   const std::set<std::string>& locations,
                                                   const LeaseGate& gate = {});

  // Extends the lease; returns the new expiry (ns since epoch). `files_done`
  // and `bytes_done` are the worker's cumulative progress of the attempt
  // (0 = not reported): recorded in memory only, a figure lower than one
  // already known is ignored.
  storage::StatusOr<int64_t> Heartbeat(const std::string& worker, uint64_t task, uint32_t attempt,
                                       uint64_t files_done = 0, uint64_t bytes_done = 0);

  // Adds regular files and bytes read that Observe batches of (task,
  // attempt) brought (each batch counted once, when first acknowledged).
  // Ignored unless (task, attempt) is the current lease. In memory only.
  void AddObserved(uint64_t task, uint32_t attempt, uint64_t files, uint64_t bytes);

  // Sets the expected totals of (task, attempt)'s progress (0 = unknown).
  // Ignored unless (task, attempt) is the current lease. In memory only.
  void SetExpected(uint64_t task, uint32_t attempt, uint64_t files_total, uint64_t bytes_total);

  // OK if (task, attempt, worker) is the current live lease; NotFound for an
  // unknown task; FailedPrecondition otherwise.
  storage::Status CheckLease(const std::string& worker, uint64_t task, uint32_t attempt);

  // Records a failed attempt: re-queued, or FAILED after max_attempts.
  storage::StatusOr<v1::Task> Fail(const std::string& worker, uint64_t task, uint32_t attempt,
                                   const std::string& message);

  // Hands the lease back (re-queued; not counted as a failure).
  storage::Status Release(const std::string& worker, uint64_t task, uint32_t attempt);

  // What a finished attempt found (stored in its DONE record).
  struct Outcome {
    v1::DiffCounts counts;
    uint64_t entries = 0;
    uint64_t bytes_read = 0;
    // CHECK: what the worker found at a set directory without restore
    // points (v1::Task.set_directory).
    std::string set_directory{};
    // What the task cost at its location's store (v1::Task.store_usage);
    // nullopt = not recorded.
    std::optional<v1::StoreUsage> store_usage{};
    // CHECK at a remote location: what its store said
    // (v1::Task.store_evidence); unset otherwise.
    std::optional<v1::StoreEvidence> store_evidence{};
    // CHECK: points held and their entries (v1::Task.points_held).
    uint32_t points_held = 0;
    uint64_t entries_held = 0;
    // CHECK: held directory markers and the entries beneath them
    // (v1::Task.dirs_held).
    uint32_t dirs_held = 0;
    uint64_t entries_in_held_dirs = 0;
    uint32_t dirs_shared = 0;  // of dirs_held (v1::Task.dirs_shared)
  };
  // Marks the current lease DONE with its results. `extra` (may be null) is
  // written in the same atomic, synced batch (e.g. removal of staged data).
  // Repeating it for an attempt already DONE returns the task unchanged.
  // With `publish` false, Get() and All() keep showing the task as it was
  // before (LEASED) until Publish(task), even once DONE is durable; and
  // Lease() gives its gate the task among those leased at its location (the
  // caller records what it spent, then publishes it).
  storage::StatusOr<v1::Task> Complete(const std::string& worker, uint64_t task, uint32_t attempt,
                                       const Outcome& outcome, storage::KvBatch* extra,
                                       bool publish = true);
  // Shows `task`'s durable state to readers again (after Complete() with
  // publish = false). Harmless for a task not held.
  void Publish(uint64_t task);

  // Takes back every expired lease; returns how many.
  storage::StatusOr<int> ExpireLeases();

  // Offboarding: erases every task record of `tenant` from memory and from
  // the store, with `extra` (may be null: e.g. deletes of their staged
  // data), in one synced write group. FailedPrecondition naming a task of
  // the tenant still queued or leased, and then nothing changes. Returns
  // how many task records were erased.
  storage::StatusOr<uint64_t> EraseTenant(const std::string& tenant, const storage::KvBatch* extra);

  // A copy of a task as readers see it (durable; see above); nullopt if
  // unknown.
  std::optional<v1::Task> Get(uint64_t task);
  // Every task as readers see it, by id.
  std::vector<v1::Task> All();
  // The task's current state once it is durable: waits for the write group
  // holding its last change (whether or not it is published). For a caller
  // deciding on the task itself (a repeated CompleteTask). nullopt if
  // unknown.
  storage::StatusOr<std::optional<v1::Task>> GetDurable(uint64_t task);

  // Allocates an id from the shared counter (tasks and checks), durably.
  storage::StatusOr<uint64_t> NextId();

  const LeaseOptions& options() const { return options_; }

  // Called whenever a task's DONE or FAILED state is persisted, under the
  // manager's lock, with the write group's batch: what the hook adds is
  // committed atomically with the state (the tenant's check log record),
  // and groups are written in order. Set once, before any task finishes.
  using FinishHook = std::function<storage::Status(const v1::Task&, storage::KvBatch*)>;
  void SetFinishHook(FinishHook hook) { finish_hook_ = std::move(hook); }
  // Called under the manager's lock when it reads its tasks back after a
  // failed write (see above), before anything else is staged: whatever the
  // finish hook staged in memory for the lost groups must be forgotten. Set
  // once, before any task finishes.
  void SetReloadHook(std::function<void()> hook) { reload_hook_ = std::move(hook); }
  // Called under the manager's lock whenever a task becomes QUEUED
  // (enqueued, handed back, re-queued after a failure or an expiry, read
  // back) or leaves LEASED (a read budget may then admit the next one): a
  // held LeaseTask may now find a task (lease_waiters.h). It is given the
  // task's location ("" from Wake(): any location). It must not call the
  // manager, nor block. May be changed at any time (empty: none).
  using QueuedHook = std::function<void(const std::string& location)>;
  void SetQueuedHook(QueuedHook hook) {
    MutexLock lock(&mu_);
    queued_hook_ = std::move(hook);
  }
  // Calls the hook with "": something outside the manager (a location
  // declared for another site) may make a queued task of any location
  // leasable.
  void Wake() {
    MutexLock lock(&mu_);
    if (queued_hook_) queued_hook_("");
  }

 private:
  FinishHook finish_hook_;
  QueuedHook queued_hook_ GUARDED_BY(mu_);
  std::function<void()> reload_hook_;
  // Reads every task record (mu_ held).
  storage::Status LoadLocked() REQUIRES(mu_);
  // OK if the manager works; after a failed write, reads the tasks back
  // once the store takes writes again, else returns why it cannot.
  storage::Status RecoverLocked() REQUIRES(mu_);
  // Replaces the in-memory task `slot` by `next`, keeping the indexes, and
  // appends its record (and `extra`, may be null) to the open write group.
  // Returns the group to wait for with WaitDurable().
  uint64_t Persist(v1::Task* slot, v1::Task next, const storage::KvBatch* extra = nullptr)
      REQUIRES(mu_);
  // Before `slot` changes in the open group: keeps its durable version for
  // readers (see the class comment) until that group is written.
  void ShadowLocked(const v1::Task& slot) REQUIRES(mu_);
  // Forgets the shadows of tasks whose last change is in a group written.
  void DropDurableShadowsLocked() REQUIRES(mu_);
  // What readers see of task `id` (in-memory `t`, may be null if erased in
  // memory): null if nothing durable.
  const v1::Task* VisibleLocked(uint64_t id, const v1::Task* t) const REQUIRES(mu_);
  // Appends `extra`'s operations to the open write group.
  void AppendToGroupLocked(const storage::KvBatch& extra) REQUIRES(mu_);
  // Adds a task to the indexes (state QUEUED or LEASED) / removes it.
  void IndexLocked(const v1::Task& t) REQUIRES(mu_);
  void UnindexLocked(const v1::Task& t) REQUIRES(mu_);
  // Waits until write group `group` is durable (writing it if no one is).
  // Called with mu_ held; releases it while writing.
  storage::Status WaitDurable(uint64_t group) REQUIRES(mu_);
  // Expires leases; returns the last write group used (0 if none).
  uint64_t ExpireLocked() REQUIRES(mu_);
  // Requeues or fails a task after an unsuccessful attempt (locked).
  storage::Status RecordFailureLocked(v1::Task* t, const std::string& message) REQUIRES(mu_);
  storage::StatusOr<v1::Task*> CurrentLocked(const std::string& worker, uint64_t task,
                                             uint32_t attempt) REQUIRES(mu_);
  storage::StatusOr<uint64_t> NextIdLocked() REQUIRES(mu_);
  // Progress of a leased task's current attempt (see the class comment).
  struct Progress {
    uint32_t attempt = 0;
    int64_t started_ns = 0;  // 0: leased before a restart, start unknown
    int64_t updated_ns = 0;
    uint64_t reported_files = 0, reported_bytes = 0;  // last heartbeat
    uint64_t acked_files = 0, acked_bytes = 0;        // sum of acknowledged batches
    uint64_t files_total = 0, bytes_total = 0;
  };
  // The progress slot of (task, attempt) if it is the current lease, made
  // on first use (after a restart); null otherwise.
  Progress* ProgressLocked(uint64_t task, uint32_t attempt) REQUIRES(mu_);
  // Sets t->progress from progress_ (LEASED tasks with a slot).
  void AttachProgressLocked(v1::Task* t) const REQUIRES(mu_);

  storage::KvStore* kv_;
  Clock* clock_;
  LeaseOptions options_;
  Mutex mu_;
  std::map<uint64_t, v1::Task> tasks_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  // QUEUED task ids by location; LEASED tasks by (expiry, id).
  std::map<std::string, std::set<uint64_t>> queued_ GUARDED_BY(mu_);
  std::set<std::pair<int64_t, uint64_t>> leased_ GUARDED_BY(mu_);
  std::map<uint64_t, Progress> progress_ GUARDED_BY(mu_);  // LEASED tasks only
  // Group commit (see above).
  // Readers' view: the last durable version of each task changed in a
  // group not yet written (or held by Complete(publish = false)).
  struct Shadow {
    uint64_t group = 0;               // the group holding the task's last change
    std::optional<v1::Task> durable;  // nullopt: none (enqueued in that group)
    bool held = false;                // kept after `group` is written, until Publish()
  };
  std::map<uint64_t, Shadow> shadows_ GUARDED_BY(mu_);
  storage::KvBatch open_batch_ GUARDED_BY(mu_);
  uint64_t open_group_ GUARDED_BY(mu_) = 1;     // group open_batch_ belongs to
  uint64_t durable_group_ GUARDED_BY(mu_) = 0;  // last group written
  bool writing_ GUARDED_BY(mu_) = false;
  storage::Status broken_ GUARDED_BY(mu_);  // a failed group write
  CondVar durable_cv_;
};

}  // namespace vigil::coordinator
