// The coordinator's domain logic, free of gRPC: the services in
// server.cc only translate requests to these calls and Status codes
// to gRPC codes.
//
// One RocksDB database (the catalogue's) holds everything: locations,
// tenants, backup sets and workers in `meta`, tasks and staged observations
// in `tasks`, entries in `catalogue`. Every accepted change is written with a
// WAL sync before the call returns.
//
// Errors (absl::Status codes, mapped 1:1 to gRPC codes):
//   InvalidArgument     malformed input, names the object and field
//   NotFound            unknown tenant, asset, task
//   FailedPrecondition  stale attempt / lease not held; nothing to check
//   OutOfRange          observation batch seq leaves a gap
//   Unauthenticated     missing or wrong token / credential
//   PermissionDenied    a worker outside its site (its enrol token's site,
//                       a location declared for another site)
//   others              storage errors
//
// Thread safety: thread-safe. Calls do disk I/O: never call them from a gRPC
// callback thread (the service hands them to its executor).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/common/signing.h"
#include "services/coordinator/check_log_writer.h"
#include "services/coordinator/clock.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/lease_manager.h"
#include "services/coordinator/read_ledger.h"
#include "storage/catalogue.h"
#include "storage/status.h"
#include "vigil/v1/admin.pb.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::coordinator {

struct CoordinatorOptions {
  // Directory of the RocksDB database (created if missing). Required.
  std::string data_dir;
  LeaseOptions lease;
  // SHA-256 of the admin token. Empty = admin calls need no token (only
  // for tests and `vigil dev` on loopback).
  std::string admin_token_sha256;
  // SHA-256 of the coordinator's fixed worker enrolment token
  // (--worker-token-file; multi-use, any site). Empty = none: Register then
  // takes only issued one-time enrol tokens. Register always needs one or
  // the other.
  std::string enrol_token_sha256;
  // Not owned. nullptr = the real clock.
  Clock* clock = nullptr;
  // Directory of the MSP's signing key ring (services/common/signing.h).
  // Empty = no key: reports and proofs are refused.
  std::string keys_dir;
  // The MSP's name, shown in reports. Empty = none.
  std::string msp_name;
  // A restore point gone from its backup set for this long has its
  // catalogue entries freed at the set's next check (FreeGonePoints,
  // points.h; its record stays). 0 = never. Default 30 days.
  int64_t free_gone_points_after_ns = 30LL * 24 * 3600 * 1'000'000'000;
};

// SHA-256 of a token, raw 32 bytes.
std::string TokenHash(std::string_view token);
// Compares without an early exit (tokens, credentials).
bool ConstantTimeEqual(std::string_view a, std::string_view b);
// `bytes` random bytes from /dev/urandom, as lowercase hex.
storage::StatusOr<std::string> RandomHex(size_t bytes);
// OK if `value` follows the name rule (contracts::IsValidName: no "." or
// ".."); else InvalidArgument "WHAT: field 'FIELD' must be a name (...)".
// Every name a request brings in goes through it, whatever the call.
storage::Status CheckName(std::string_view what, std::string_view field, std::string_view value);

class Coordinator {
 public:
  static storage::StatusOr<std::unique_ptr<Coordinator>> Open(const CoordinatorOptions& options);

  // --- Admin -----------------------------------------------------------
  // OK for the bootstrap admin token or an issued, valid admin token.
  storage::Status CheckAdminToken(std::string_view bearer_token);
  // CheckAdminToken, and who the caller is: the issued admin token's name,
  // or "admin" (the bootstrap token, an unnamed token, no token required).
  storage::StatusOr<std::string> AdminIdentity(std::string_view bearer_token);
  // Tokens (services/coordinator/tokens.cc; see admin.proto).
  storage::StatusOr<v1::IssueTokenResponse> IssueToken(const v1::IssueTokenRequest& req);
  storage::StatusOr<v1::ListTokensResponse> ListTokens();
  storage::Status RevokeToken(const std::string& id);
  storage::StatusOr<v1::IssueTokenResponse> RotateToken(const std::string& id);
  // The first-start enrolment token: if no enrol token was ever issued,
  // issues a one-time one (any site, named `name`) and returns it;
  // nullopt if one was issued before (used, revoked or not).
  storage::StatusOr<std::optional<v1::IssueTokenResponse>> IssueFirstEnrolToken(
      const std::string& name);
  // The tenant a valid tenant token reads; Unauthenticated otherwise.
  storage::StatusOr<std::string> AuthenticateTenant(std::string_view bearer_token);
  storage::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& req);
  storage::StatusOr<v1::RunCheckResponse> RunCheck(const v1::RunCheckRequest& req);
  storage::StatusOr<v1::GetStatusResponse> GetStatus(const v1::GetStatusRequest& req);
  // A consistent copy of the database in a new directory (see admin.proto).
  storage::Status Backup(const v1::BackupRequest& req);
  // An operator's acceptance of a restore point as clean (admin.proto
  // AcceptPoint), by `by` (AdminIdentity). Under the set's merge lock:
  // resets the later points' verdicts (ResetVerdictsAfter, points.h), then
  // writes the acceptance, and logs one audit line on stderr. Defined in
  // acceptance.cc.
  storage::StatusOr<v1::AcceptPointResponse> AcceptPoint(const v1::AcceptPointRequest& req,
                                                         const std::string& by);
  // Every restore-point record of a backup set, ascending time (points.h;
  // empty if the set was never checked). Defined in points.cc.
  storage::StatusOr<std::vector<v1::PointRecord>> Points(const std::string& tenant,
                                                         const std::string& backup_set);

  // --- Reports and proofs (reports.cc; see admin.proto) -----------------
  storage::StatusOr<v1::ProofFile> MakeReport(const v1::MakeReportRequest& req);
  storage::StatusOr<v1::ListProofsResponse> ListTenantProofs(const std::string& tenant);
  // seq 0 = the latest (of `period` when non-empty).
  storage::StatusOr<v1::ProofFile> GetProof(const std::string& tenant, uint64_t seq,
                                            const std::string& period);
  storage::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(
      const v1::GetInclusionProofRequest& req);
  storage::StatusOr<v1::OffboardTenantResponse> OffboardTenant(
      const v1::OffboardTenantRequest& req);

  // --- Workers ---------------------------------------------------------
  // A new worker, bound to req.site (worker.proto Register): needs the
  // fixed enrolment token or an issued, unused one-time enrol token (used
  // up here; Unauthenticated otherwise, saying where tokens come from);
  // PermissionDenied for a token issued for another site, or a claimed
  // location declared for another site (naming it and its site). A claimed
  // location not declared yet is accepted with a warning in the response.
  storage::StatusOr<v1::RegisterResponse> Register(std::string_view enrol_token,
                                                   const v1::RegisterRequest& req);
  // A restarted worker, already authenticated as `worker_id`: takes the
  // request's locations and capacity (its site must be the enrolled one,
  // else PermissionDenied: enrol again), checks the claims as Register,
  // hands back every task still leased to it, and answers worker_id,
  // lease_ttl_ms and warnings (worker.proto Resume). InvalidArgument as
  // Register.
  storage::StatusOr<v1::RegisterResponse> Resume(const std::string& worker_id,
                                                 const v1::RegisterRequest& req);
  // OK if `credential` is the one issued to `worker_id`.
  storage::Status AuthenticateWorker(const std::string& worker_id, std::string_view credential);
  // The oldest queued task of a location the worker claims and that is
  // declared for its site now (read at every call), unless the location's
  // read budget defers it (read_ledger.h).
  // `served`, if given, gets the locations the worker serves now (what a
  // held call waits for, lease_waiters.h).
  storage::StatusOr<v1::LeaseTaskResponse> LeaseTask(const std::string& worker_id,
                                                     std::set<std::string>* served = nullptr);
  // `hook` is called with a task's location whenever a task is queued or a
  // lease ends, and with "" when an applied change may make a task of any
  // location leasable (LeaseManager::SetQueuedHook: it must not block nor
  // call the coordinator); empty to remove it. The server's held LeaseTask
  // calls (lease_waiters.h) wake on it.
  void SetTaskQueuedHook(std::function<void(const std::string& location)> hook);
  // The lease TTL, ns (LeaseOptions): a held LeaseTask waits at most half
  // of it, so that an idle worker is seen at least every half TTL.
  int64_t lease_ttl_ns() const { return options_.lease.ttl_ns; }
  storage::StatusOr<v1::HeartbeatResponse> Heartbeat(const std::string& worker_id,
                                                     const v1::HeartbeatRequest& req);
  // Checks the lease, validates and stages the batch durably; returns the
  // seq to acknowledge.
  storage::StatusOr<uint64_t> Observe(const std::string& worker_id,
                                      const v1::ObservationBatch& batch);
  // The same for a stream's window of batches, in order, staged with one
  // synced write (see StageBatches in ingest.h): `acked` is the seq to
  // acknowledge (0: nothing), `status` why it stopped before the end.
  struct ObserveResult {
    uint64_t acked = 0;
    storage::Status status;
  };
  ObserveResult ObserveBatches(const std::string& worker_id,
                               const std::vector<const v1::ObservationBatch*>& batches);
  storage::StatusOr<v1::CompleteTaskResponse> CompleteTask(const std::string& worker_id,
                                                           const v1::CompleteTaskRequest& req);
  storage::Status ReleaseTask(const std::string& worker_id, const v1::ReleaseTaskRequest& req);

  // The scheduler (called periodically when enabled): queues one check task
  // per backup set whose inventory or integrity check is due now under its
  // tenant's contract in force (services/contracts/schedule.h: cadences
  // from the commitments, stable jitter, overdue first, never inside the
  // location's maintenance windows), unless a task of that set is already
  // queued or leased. Tasks carry the location's read budget. Restore
  // drills due (on each asset's first backup set) are queued after the
  // checks with QueueDrill, unless a drill of that set is queued or leased;
  // a set with nothing to drill yet is skipped. Returns the tasks queued
  // (one check id for all checks, one per drill).
  storage::StatusOr<std::vector<v1::Task>> ScheduleDue();

  // Queues a restore drill of one backup set (services/coordinator/drills.h):
  // the newest present restore point, a sample of up to `sample_files`
  // (0 = 100) files and `sample_bytes` bytes (0 = no limit) from the
  // catalogue, under a new check id. NotFound (unknown tenant or set),
  // FailedPrecondition (nothing to drill yet). Defined in drills.cc.
  storage::StatusOr<v1::Task> QueueDrill(const std::string& tenant, const std::string& backup_set,
                                         uint32_t sample_files, uint64_t sample_bytes);

  // Takes back expired leases (called periodically).
  storage::Status ExpireLeases();

  // Time of each worker's last LeaseTask or Heartbeat call since this
  // process started, ns (memory only: the verdict watcher times a worker's
  // silence from here, or from opened_ns() for one not seen since).
  std::map<std::string, int64_t> WorkersLastSeen();
  int64_t opened_ns() const { return opened_ns_; }
  // Bytes of content workers read and hashed (observations with a
  // digest), by location, since this process started: counted when a batch
  // is first staged (a batch resent after a reconnect is not counted
  // again). For /metrics.
  std::map<std::string, uint64_t> VerifiedBytesByLocation();
  // Every registered worker's record, in id order (the dashboard's
  // /api/workers).
  storage::StatusOr<std::vector<v1::WorkerRecord>> Workers();
  // The locations a worker serves now: a registered worker claims it, the
  // location is declared for the worker's site, and the worker was seen
  // (WorkersLastSeen; one not seen since this process started is timed
  // from its registration or this process's start, whichever is later)
  // within kWorkerLiveTtls lease TTLs. `sites` (location -> site) is used
  // instead of the stored declarations for the locations it names (Apply's
  // pending ones).
  static constexpr int64_t kWorkerLiveTtls = 3;
  storage::StatusOr<std::set<std::string>> LiveLocations(
      const std::map<std::string, std::string>& sites = {});
  // Every task (the lease manager's copies) with Task.waiting set on the
  // queued ones whose location no worker serves now, or that its read
  // budget defers (read_ledger.h); on a read error, without it (display
  // only).
  std::vector<v1::Task> TasksWithWaiting();

  // For a readiness probe. CheckReadable: one point read of the key every
  // database has (its format version): cheap, and it fails when RocksDB
  // does (I/O error, background error), not when one tenant's evaluation
  // does. WriteHealth: the store's (KvStore::WriteHealth): not OK while
  // writes are refused (a full disk).
  storage::Status CheckReadable();
  storage::Status WriteHealth();

  LeaseManager& leases() { return *leases_; }
  storage::Catalogue& catalogue() { return *cat_; }

 private:
  Coordinator() = default;
  storage::StatusOr<v1::WorkerRecord> LoadWorker(const std::string& id);
  // Sets the expected totals of a just-leased task's progress
  // (vigil.v1.TaskProgress): a drill's sample, or the set's present points
  // as last recorded. Memory only; nothing on failure (total unknown).
  void SetExpectedProgress(const v1::Task& t);
  // The record of `token` if it is an issued token of `kind`, not revoked,
  // not expired (and, for enrol tokens, not used); Unauthenticated if not.
  // A genuine token of another kind says so ("expected an admin token, got
  // a tenant token (id ...)") and sets *other_kind, if given.
  storage::StatusOr<v1::TokenRecord> ValidToken(std::string_view token, v1::TokenKind kind,
                                                bool* other_kind = nullptr);
  // Register's and Resume's site rule: PermissionDenied if a location of
  // `req` is declared for another site than req.site(); a warning in `resp`
  // for each one not declared yet.
  storage::Status CheckClaims(const v1::RegisterRequest& req, v1::RegisterResponse* resp);
  // Apply's warnings for the contracts it applies: each backup set whose
  // location's daily read budget cannot re-read it in full within its
  // integrity commitment's reverifyWithin (contracts::JudgeReadBudget), or
  // whose size is not known yet. `req`'s locations win over stored ones.
  storage::Status ReadBudgetWarnings(const std::vector<PendingContract>& pending,
                                     const v1::ApplyRequest& req, v1::ApplyResponse* resp);
  // The locations `w` claims that are declared for its site, now; with
  // `budgets`, the daily read budgets of those that have one.
  storage::StatusOr<std::set<std::string>> ServedLocations(
      const v1::WorkerRecord& w, std::map<std::string, v1::ReadBudget>* budgets = nullptr);
  // IssueToken; with `old`, also revokes it in the same write (rotation).
  storage::StatusOr<v1::IssueTokenResponse> IssueTokenReplacing(const v1::IssueTokenRequest& req,
                                                                v1::TokenRecord* old);
  Mutex tokens_mu_;  // an enrol token used once, a revocation: read-modify-write
  // Drill tasks (not queued) for each asset's first backup set (drills.cc).
  storage::StatusOr<std::vector<v1::Task>> PlanDrills(const std::string& tenant,
                                                      const std::string& asset);
  storage::StatusOr<v1::CompleteTaskResponse> CompleteDrill(const std::string& worker_id,
                                                            const v1::CompleteTaskRequest& req);

  // The lease manager's finish hook: stages the task's result in its
  // tenant's check log, in the batch that records DONE or FAILED.
  storage::Status LogTaskResult(const v1::Task& t, storage::KvBatch* batch);
  // Drill results on their way to the check log (by task id), set by
  // CompleteDrill around its Complete call.
  Mutex pending_mu_;
  std::map<uint64_t, v1::DrillResult> pending_drills_ GUARDED_BY(pending_mu_);

  storage::StatusOr<v1::Tenant> TenantRecord(const std::string& name);
  std::optional<signing::KeyRing> keys_;

  CoordinatorOptions options_;
  RealClock real_clock_;
  Clock* clock_ = nullptr;
  // Check-log heads staged by the lease manager's write groups (declared
  // before leases_, which uses it through its finish hook).
  check_log::StagedHeads staged_heads_;
  std::unique_ptr<storage::Catalogue> cat_;
  std::unique_ptr<LeaseManager> leases_;
  // What each location spent in the last 24 h (read_ledger.h).
  ReadLedger ledger_;
  Mutex bytes_mu_;
  std::map<std::string, uint64_t> verified_bytes_ GUARDED_BY(bytes_mu_);
  void Seen(const std::string& worker_id);
  int64_t opened_ns_ = 0;
  Mutex seen_mu_;
  std::map<std::string, int64_t> seen_ GUARDED_BY(seen_mu_);
  // Apply holds it exclusively, merges shared (with their set's lock below):
  // merges of different backup sets run in parallel.
  SharedMutex apply_mu_;
  // One mutex per backup set ("tenant/set"), serialising its merges.
  Mutex set_mu_;
  std::map<std::string, std::unique_ptr<Mutex>> set_locks_ GUARDED_BY(set_mu_);
  Mutex& SetLock(const std::string& tenant, const std::string& set) EXCLUDES(set_mu_);
};

}  // namespace vigil::coordinator
