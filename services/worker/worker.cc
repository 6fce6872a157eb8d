#include "services/worker/worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "services/common/connect_errors.h"
#include "services/common/io_budget.h"
#include "services/common/text.h"
#include "services/contracts/restore_points.h"
#include "services/worker/format_tasks.h"
#include "services/worker/formats/safe_io.h"
#include "services/worker/state.h"
#include "storage/file_hasher.h"
#include "storage/hash.h"
#include "storage/key_codec.h"
#include "storage/open_beneath.h"
#include "storage/tree_walker.h"
#include "vigil/v1/worker.grpc.pb.h"

namespace vigil::worker {
namespace {

using std::chrono::milliseconds;

// Retries (registration, leasing, completion, the observation stream's
// resend) wait kRetryInitialMs after a first failure, doubling up to
// kRetryMaxMs; a wait ends early when the channel connects again.
constexpr int kRetryInitialMs = 100;
constexpr int kRetryMaxMs = 2000;
// gRPC's own reconnection: its backoff (x1.6, +-20% jitter) capped so that
// two attempts are never more than kRetryMaxMs apart.
constexpr int kGrpcMaxBackoffMs = kRetryMaxMs * 4 / 5;
// gRPC's minimum connect timeout (its default): see WorkerImpl().
constexpr int kConnectTimeoutMs = 20000;

bool Retryable(grpc::StatusCode c) {
  return c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::DEADLINE_EXCEEDED ||
         c == grpc::StatusCode::CANCELLED || c == grpc::StatusCode::UNKNOWN ||
         c == grpc::StatusCode::INTERNAL || c == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

class WorkerImpl final : public Worker {
 public:
  WorkerImpl(WorkerOptions o, std::optional<WorkerState> stored)
      : o_(std::move(o)), stored_(std::move(stored)) {
    grpc::ChannelArguments args;
    // Reconnecting after a coordinator restart (docs/coordinator.md,
    // "Reconnection"): gRPC's connection attempts back off like the
    // worker's own retries, from kRetryInitialMs, x1.6 per failure, to
    // kGrpcMaxBackoffMs (gRPC adds +-20% jitter: at most 1.92 s between
    // two attempts, within the documented 2 s; gRPC's default grows to two
    // minutes). In gRPC 1.51 GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is not a
    // backoff at all but the minimum connect timeout (a connection attempt,
    // TLS handshake included, may take that long): a refused connection
    // fails at once whatever it is, so it is set to gRPC's own 20 s, never
    // shortened, lest a slow handshake (a distant site, a loaded host)
    // fail forever. What bounds the reconnection is WatchChannel(): it keeps
    // a thread polling the channel, without which gRPC notices a connection
    // attempt's outcome only at its 5 s backup poll (measured on loopback:
    // 5.0-6.8 s from the restarted coordinator's listen() to the worker's
    // connection, RPCs failing with "Connection refused" meanwhile; with
    // it, 0.8-1.7 s).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kRetryInitialMs);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kGrpcMaxBackoffMs);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kConnectTimeoutMs);
    args.SetMaxReceiveMessageSize(16 << 20);
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (!o_.tls_ca_pem.empty() || !o_.tls_cert_pem.empty()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = o_.tls_ca_pem;
      ssl.pem_private_key = o_.tls_key_pem;
      ssl.pem_cert_chain = o_.tls_cert_pem;
      creds = grpc::SslCredentials(ssl);
    }
    channel_ = grpc::CreateCustomChannel(o_.coordinator, creds, args);
    stub_ = v1::WorkerGateway::NewStub(channel_);
  }

  // Leases while fewer than o_.capacity tasks run; each leased task runs
  // on its own thread (RunTask: its own lease, heartbeats and Observe
  // stream). On Stop() every running task finishes or hands its lease back
  // before Run() returns.
  storage::Status Run() override {
    std::thread watcher([this] { WatchChannel(); });
    storage::Status result = Lease();
    std::vector<std::thread> tasks;
    {
      std::unique_lock lock(mu_);
      // Set already after Stop(); after a refused registration, running
      // tasks stop and hand back too.
      stop_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return running_ == 0; });
      for (auto& [n, t] : threads_) tasks.push_back(std::move(t));
      threads_.clear();
      finished_.clear();
    }
    for (auto& t : tasks) t.join();
    watcher.join();
    return result;
  }

  bool registered() const override { return registered_; }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }

 private:
  storage::Status Lease() {
    int backoff_ms = kRetryInitialMs;
    while (!stopped()) {
      JoinFinished();
      {
        // A free slot first: never more than capacity leases at once.
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || running_ < o_.capacity; });
        if (stop_) break;
      }
      if (WorkerId().empty() && stored_) {
        grpc::Status s = Resume();
        if (!s.ok()) {
          if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
              s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
            Log((s.error_code() == grpc::StatusCode::UNIMPLEMENTED
                     ? "the coordinator is too old to resume worker " + stored_->worker_id +
                           " from " + StateFile() + " (no Resume call)"
                     : "the coordinator refused the stored credential of worker " +
                           stored_->worker_id + " (" + StateFile() + "): " + s.error_message()) +
                "; registering again with the enrolment token" +
                (o_.enrol_token.empty() ? " (none given: --token-file)" : ""));
            stored_.reset();
          } else if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            // Another site, or a location of another site: re-enrolling on
            // its own would hide the operator's mistake.
            Log("resume refused: " + s.error_message());
            return absl::PermissionDeniedError("resume refused: " + s.error_message() +
                                               " (worker state: " + StateFile() + ")");
          } else {
            Log("cannot resume as worker " + stored_->worker_id + ": " +
                DescribeConnectError(s, backoff_ms));
            Sleep(backoff_ms);
            backoff_ms = NextBackoffMs(backoff_ms, s);
            continue;
          }
        }
      }
      if (WorkerId().empty()) {
        grpc::Status s = Register();
        if (!s.ok()) {
          Log("cannot register: " + DescribeConnectError(s, backoff_ms));
          if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
              s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
              s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            return absl::UnauthenticatedError(
                "registration refused: " + s.error_message() +
                (o_.enrol_token.empty() && s.error_code() == grpc::StatusCode::UNAUTHENTICATED
                     ? " (this worker was given no --token-file)"
                     : ""));
          }
          Sleep(backoff_ms);
          backoff_ms = NextBackoffMs(backoff_ms, s);
          continue;
        }
      }
      grpc::ClientContext ctx;
      Prepare(&ctx, 10000);
      v1::LeaseTaskResponse resp;
      grpc::Status s = stub_->LeaseTask(&ctx, v1::LeaseTaskRequest(), &resp);
      if (!s.ok()) {
        if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
          // Revoked, or the coordinator's database was replaced.
          Log("the coordinator no longer recognises this worker (" + s.error_message() +
              "): registering again with the enrolment token");
          std::lock_guard lock(id_mu_);
          worker_id_.clear();
          registered_ = false;
        } else if (ConnectFailureOf(s).handshake) {
          Log("cannot lease: " + DescribeConnectError(s, backoff_ms));
        }
        Sleep(backoff_ms);
        backoff_ms = NextBackoffMs(backoff_ms, s);
        continue;
      }
      backoff_ms = kRetryInitialMs;
      if (!resp.has_task()) {
        Sleep(200);
        continue;
      }
      std::lock_guard lock(mu_);
      const uint64_t n = ++started_;
      ++running_;
      threads_.emplace(n, std::thread([this, n, task = std::move(*resp.mutable_task())] {
                         RunTask(task);
                         {
                           std::lock_guard done(mu_);
                           --running_;
                           finished_.push_back(n);
                         }
                         cv_.notify_all();
                       }));
    }
    return absl::OkStatus();
  }
  // Joins the threads of tasks that ended.
  void JoinFinished() {
    std::vector<std::thread> ended;
    {
      std::lock_guard lock(mu_);
      for (uint64_t n : finished_) {
        auto it = threads_.find(n);
        if (it == threads_.end()) continue;
        ended.push_back(std::move(it->second));
        threads_.erase(it);
      }
      finished_.clear();
    }
    for (auto& t : ended) t.join();
  }
  std::string WorkerId() {
    std::lock_guard lock(id_mu_);
    return worker_id_;
  }
  bool stopped() {
    std::lock_guard lock(mu_);
    return stop_;
  }
  // Sleeps up to ms, less if stopped or if the channel connects meanwhile
  // (WatchChannel): a retry waiting out its backoff goes as soon as the
  // coordinator is back.
  void Sleep(int ms) {
    std::unique_lock lock(mu_);
    const uint64_t connected = connected_;
    cv_.wait_for(lock, milliseconds(ms), [&] { return stop_ || connected_ != connected; });
  }
  // Runs beside Run() until Stop(): keeps a thread waiting on the channel's
  // state, asks it to connect whenever it is idle, and wakes the sleeping
  // retries when it becomes READY. gRPC's synchronous calls poll for
  // network events only while a call is in flight; between retries that
  // failed fast (the channel in TRANSIENT_FAILURE), nothing else polls, and
  // the outcome of gRPC's own reconnection attempt waits for its backup
  // poller (every 5 s).
  void WatchChannel() {
    grpc_connectivity_state last = GRPC_CHANNEL_IDLE;
    while (!stopped()) {
      const grpc_connectivity_state s = channel_->GetState(/*try_to_connect=*/true);
      if (s == GRPC_CHANNEL_READY && last != GRPC_CHANNEL_READY) {
        {
          std::lock_guard lock(mu_);
          ++connected_;
        }
        cv_.notify_all();
      }
      last = s;
      channel_->WaitForStateChange(s, std::chrono::system_clock::now() + milliseconds(250));
    }
  }
  // Waits until reading `bytes` fits the task's read budget (heartbeats
  // run on their own thread meanwhile; a stop cuts the wait short).
  void Pace(uint64_t bytes) {
    if (!budget_) return;
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    int64_t at = budget_->Acquire(bytes, now);
    if (at > now) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::nanoseconds(at - now), [this] { return stop_; });
    }
  }
  // Per task: each task runs on its own thread (Run), so these are
  // thread-local. The read budget is the task's own: tasks of one location
  // running at once each get the location's full rate.
  static inline thread_local std::unique_ptr<IoBudget> budget_;
  // Points of the current task listed without reading their content.
  static inline thread_local std::set<int64_t> metadata_only_;
  // Progress of the current task attempt (vigil.v1.TaskProgress units:
  // regular files walked, bytes of those read), sent with every heartbeat.
  // Written by the task's thread, read by its heartbeat thread.
  struct Progress {
    std::atomic<uint64_t> files{0}, bytes{0};
  };
  static inline thread_local Progress* progress_ = nullptr;
  static void CountFile(const v1::Observation& o) {
    if (progress_ == nullptr || o.type() != v1::ENTRY_TYPE_FILE) return;
    progress_->files.fetch_add(1, std::memory_order_relaxed);
    if (!o.digest().empty()) progress_->bytes.fetch_add(o.size(), std::memory_order_relaxed);
  }
  // A failed call's error for the log. When the connection or its TLS
  // handshake failed, the likely cause (common/connect_errors.h: a client
  // certificate the coordinator refuses, the wrong --tls-ca, TLS on one
  // side only) and the delay before the next attempt; else gRPC's message.
  ConnectFailure ConnectFailureOf(const grpc::Status& s) const {
    return DescribeConnectFailure(o_.coordinator, s.error_message(),
                                  {!o_.tls_ca_pem.empty() || !o_.tls_cert_pem.empty(),
                                   !o_.tls_ca_pem.empty(), !o_.tls_cert_pem.empty()});
  }
  std::string DescribeConnectError(const grpc::Status& s, int retry_in_ms) const {
    ConnectFailure f = ConnectFailureOf(s);
    if (f.text.empty()) return s.error_message();
    char delay[32];
    std::snprintf(delay, sizeof delay, "%.1f s", retry_in_ms / 1000.0);
    return f.text + "; retrying in " + delay;
  }
  // The delay after `ms`: doubling to 2 s, or to 30 s while the TLS
  // handshake keeps failing (a retry every second does not fix a
  // certificate).
  int NextBackoffMs(int ms, const grpc::Status& s) const {
    return std::min(ms * 2, ConnectFailureOf(s).handshake ? 30000 : kRetryMaxMs);
  }
  void Log(const std::string& line) {
    if (o_.verbose) {
      const std::string id = WorkerId();
      std::fprintf(stderr, "worker %s: %s\n", id.empty() ? "-" : id.c_str(), line.c_str());
    }
  }
  void Prepare(grpc::ClientContext* ctx, int deadline_ms) {
    std::string id, credential;
    {
      std::lock_guard lock(id_mu_);
      id = worker_id_;
      credential = credential_;
    }
    ctx->AddMetadata("authorization", "Bearer " + credential);
    ctx->AddMetadata("vigil-worker-id", id);
    if (deadline_ms > 0) {
      ctx->set_deadline(std::chrono::system_clock::now() + milliseconds(deadline_ms));
    }
  }

  grpc::Status Register() {
    grpc::ClientContext ctx;
    if (!o_.enrol_token.empty()) ctx.AddMetadata("authorization", "Bearer " + o_.enrol_token);
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(10000));
    v1::RegisterRequest req;
    req.set_site(o_.site);
    for (const auto& [name, root] : o_.locations) req.add_locations(name);
    req.set_capacity(o_.capacity);
    v1::RegisterResponse resp;
    grpc::Status s = stub_->Register(&ctx, req, &resp);
    if (s.ok()) {
      {
        std::lock_guard lock(id_mu_);
        worker_id_ = resp.worker_id();
        registered_ = true;
        credential_ = resp.credential();
      }
      ttl_ms_ = resp.lease_ttl_ms() > 0 ? resp.lease_ttl_ms() : 30000;
      Log("registered (site " + o_.site + ", lease TTL " + std::to_string(ttl_ms_.load()) + " ms)");
      for (const auto& w : resp.warnings()) Log("warning: " + w);
      if (!o_.state_dir.empty()) {
        storage::Status saved =
            SaveWorkerState(o_.state_dir, {resp.worker_id(), resp.credential()});
        // The credential still works in memory; only a restart would need
        // a new enrolment. Loud, but no reason to stop checking now.
        Log(saved.ok() ? "credential stored in " + StateFile()
                       : "ERROR: cannot store the credential (" + std::string(saved.message()) +
                             "): a restart will need a new enrolment token");
      }
    }
    return s;
  }

  // Resumes as the stored worker (worker.proto Resume).
  grpc::Status Resume() {
    {
      std::lock_guard lock(id_mu_);
      worker_id_ = stored_->worker_id;
      credential_ = stored_->credential;
    }
    grpc::ClientContext ctx;
    Prepare(&ctx, 10000);
    v1::RegisterRequest req;
    req.set_site(o_.site);
    for (const auto& [name, root] : o_.locations) req.add_locations(name);
    req.set_capacity(o_.capacity);
    v1::RegisterResponse resp;
    grpc::Status s = stub_->Resume(&ctx, req, &resp);
    std::lock_guard lock(id_mu_);
    if (!s.ok()) {
      worker_id_.clear();
      credential_.clear();
      return s;
    }
    registered_ = true;
    ttl_ms_ = resp.lease_ttl_ms() > 0 ? resp.lease_ttl_ms() : 30000;
    if (o_.verbose) {
      std::fprintf(stderr,
                   "worker %s: resumed with the credential in %s (site %s, lease TTL %u ms)\n",
                   worker_id_.c_str(), StateFile().c_str(), o_.site.c_str(), ttl_ms_.load());
      for (const auto& w : resp.warnings()) {
        std::fprintf(stderr, "worker %s: warning: %s\n", worker_id_.c_str(), w.c_str());
      }
    }
    return s;
  }
  std::string StateFile() const { return o_.state_dir + "/" + kStateFileName; }

  // What happened to a task attempt.
  struct Outcome {
    enum Kind { kDone, kError, kLost, kStopped } kind = kDone;
    std::string error;
    uint64_t final_seq = 0;
    // A drill task's result (sent with kDone; drill_result.error set when
    // the drill could not run).
    bool drill = false;
    v1::DrillResult drill_result{};
    // Check tasks: directories two levels below the location's root.
    std::vector<std::string> location_dirs{};
    // Check tasks of bagit, sumfile and restic sets (format_tasks.h).
    std::vector<v1::FormatVerdict> verdicts{};
    std::vector<v1::ResticPack> packs{};
  };

  // Directory names two levels below a location's root ("A/B"), hidden
  // names skipped, symlinks not followed, at most 10,000: what is stored
  // there, for the coordinator's scope check. Names only, never contents.
  static std::vector<std::string> SurveyLocation(const std::string& root) {
    std::vector<std::string> out;
    auto list = [](int dirfd) {
      std::vector<std::string> names;
      DIR* d = fdopendir(dirfd);
      if (d == nullptr) {
        close(dirfd);
        return names;
      }
      while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        struct stat st {};
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
          names.push_back(e->d_name);
        }
      }
      closedir(d);
      std::sort(names.begin(), names.end());
      return names;
    };
    int top = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0) return out;
    int top_dup = dup(top);
    for (const std::string& a : list(top_dup)) {
      int sub = openat(top, a.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;
      for (const std::string& b : list(sub)) {
        if (out.size() >= 10'000) break;
        out.push_back(a + "/" + b);
      }
    }
    close(top);
    return out;
  }

  void RunTask(const v1::Task& task) {
    const uint64_t id = task.id();
    const uint32_t attempt = task.attempt();
    Log("leased task " + std::to_string(id) + " attempt " + std::to_string(attempt) + " (" +
        task.backup_set().tenant() + "/" + task.backup_set().name() + ")");
    std::atomic<bool> lost{false}, done{false};
    Progress progress;
    progress_ = &progress;
    std::mutex hb_mu;
    std::condition_variable hb_cv;
    std::thread heartbeat([&] {
      int every = std::max<int>(100, static_cast<int>(ttl_ms_.load() / 3));
      std::unique_lock lock(hb_mu);
      while (!hb_cv.wait_for(lock, milliseconds(every), [&] { return done.load(); })) {
        grpc::ClientContext ctx;
        Prepare(&ctx, every);
        v1::HeartbeatRequest req;
        req.set_task_id(id);
        req.set_attempt(attempt);
        req.set_files_done(progress.files.load(std::memory_order_relaxed));
        req.set_bytes_done(progress.bytes.load(std::memory_order_relaxed));
        v1::HeartbeatResponse resp;
        grpc::Status s = stub_->Heartbeat(&ctx, req, &resp);
        if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
            s.error_code() == grpc::StatusCode::NOT_FOUND) {
          Log("lease of task " + std::to_string(id) + " lost: " + s.error_message());
          lost = true;
          return;
        }
      }
    });

    Outcome out = Execute(task, &lost);
    if (out.kind == Outcome::kDone && task.kind() == v1::TASK_KIND_CHECK) {
      auto root = o_.locations.find(task.backup_set().location());
      if (root != o_.locations.end()) out.location_dirs = SurveyLocation(root->second);
    }
    if (out.kind == Outcome::kDone || out.kind == Outcome::kError) {
      out = Complete(id, attempt, out, &lost);
    }
    if (out.kind == Outcome::kStopped && !lost) {
      grpc::ClientContext ctx;
      Prepare(&ctx, 5000);
      v1::ReleaseTaskRequest req;
      req.set_task_id(id);
      req.set_attempt(attempt);
      v1::ReleaseTaskResponse resp;
      grpc::Status s = stub_->ReleaseTask(&ctx, req, &resp);
      Log("handed back task " + std::to_string(id) +
          (s.ok() ? "" : " (not acknowledged: " + s.error_message() + ")"));
    }
    {
      std::lock_guard lock(hb_mu);
      done = true;
    }
    hb_cv.notify_all();
    heartbeat.join();
    progress_ = nullptr;
  }

  Outcome Complete(uint64_t id, uint32_t attempt, Outcome out, std::atomic<bool>* lost) {
    int backoff_ms = kRetryInitialMs;
    while (true) {
      if (*lost) return {Outcome::kLost, "", 0};
      grpc::ClientContext ctx;
      Prepare(&ctx, 60000);
      v1::CompleteTaskRequest req;
      req.set_task_id(id);
      req.set_attempt(attempt);
      req.set_final_seq(out.final_seq);
      req.set_error(out.error);
      if (out.drill && out.error.empty()) *req.mutable_drill() = out.drill_result;
      if (out.error.empty()) {
        for (const auto& d : out.location_dirs) req.add_location_dirs(d);
        for (const auto& v : out.verdicts) *req.add_format_verdicts() = v;
        for (const auto& p : out.packs) *req.add_restic_packs() = p;
      }
      v1::CompleteTaskResponse resp;
      grpc::Status s = stub_->CompleteTask(&ctx, req, &resp);
      if (s.ok()) {
        std::string what = " (" + std::to_string(resp.task().entries()) + " entries)";
        if (out.drill) {
          const v1::DrillResult& d = out.drill_result;
          what = d.error().empty()
                     ? " (drill: " + std::to_string(d.files()) + " files, " +
                           std::to_string(d.bytes()) + " bytes in " + std::to_string(d.seconds()) +
                           " s, " + std::to_string(d.mismatches()) + " mismatches)"
                     : " (drill failed: " + d.error() + ")";
        }
        Log("completed task " + std::to_string(id) +
            (out.error.empty() ? what : " with error: " + out.error));
        return out;
      }
      if (!Retryable(s.error_code())) {
        Log("completion of task " + std::to_string(id) + " refused: " + s.error_message());
        return {Outcome::kLost, s.error_message(), 0};
      }
      if (stopped()) return {Outcome::kStopped, "", 0};
      Sleep(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, kRetryMaxMs);
    }
  }

  // A backup set's directory, open: everything of the set is read beneath
  // this descriptor (storage/open_beneath.h), never by a path again.
  struct SetDir {
    std::string path;  // location root + "/" + set path, for messages
    std::shared_ptr<storage::DirHandle> dir;
    int fd() const { return dir->fd(); }
  };

  // Opens the backup set's directory beneath its location root. The root
  // (the MSP's own --location NAME=PATH) is opened by its path and may be a
  // symbolic link; the set's path beneath it may hold none, in any
  // component (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or one
  // component at a time with O_NOFOLLOW): a link is refused naming it.
  storage::StatusOr<SetDir> ResolveRoot(const v1::BackupSet& set) {
    auto it = o_.locations.find(set.location());
    if (it == o_.locations.end()) {
      return absl::FailedPreconditionError("location '" + set.location() + "' not served here");
    }
    if (!storage::IsValidRelativePath(set.path())) {
      return absl::InvalidArgumentError("backup set path '" + set.path() +
                                        "' is not a relative path inside the location");
    }
    int root = open(it->second.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
      return absl::NotFoundError("location root '" + it->second + "': " + std::strerror(errno));
    }
    const std::string want = it->second + "/" + set.path();
    storage::BeneathOpen o = storage::OpenDirBeneath(root, set.path());
    close(root);
    if (o.fd < 0) {
      if (o.symlink()) {
        return absl::PermissionDeniedError(
            "backup set directory '" + want + "': '" + (o.link.empty() ? set.path() : o.link) +
            "' is a symbolic link, not followed (a link in a backup set's path could lead "
            "outside the location root)");
      }
      if (o.error == ENOENT) {
        return absl::NotFoundError("backup set directory '" + want +
                                   "': " + std::strerror(o.error));
      }
      return absl::PermissionDeniedError("backup set directory '" + want +
                                         "': " + std::strerror(o.error));
    }
    return SetDir{want, std::make_shared<storage::DirHandle>(o.fd)};
  }

  // The contract model's view of a task's backup set, for discovery.
  static storage::StatusOr<contracts::BackupSet> ContractSet(const v1::BackupSet& b) {
    contracts::BackupSet c;
    c.name = b.name();
    c.location = b.location();
    c.path = b.path();
    c.format = b.format().empty() ? "dir" : b.format();
    const std::string& l = b.layout();
    if (l.empty() || l == "mirror") {
      c.layout = contracts::Layout::kMirror;
    } else if (l == "dated-folders") {
      c.layout = contracts::Layout::kDatedFolders;
    } else if (l == "rsnapshot") {
      c.layout = contracts::Layout::kRsnapshot;
    } else if (l == "dated-files") {
      c.layout = contracts::Layout::kDatedFiles;
    } else if (l == "bagit-bags") {
      c.layout = contracts::Layout::kBagitBags;
    } else if (l == "restic-snapshots") {
      c.layout = contracts::Layout::kResticSnapshots;
    } else {
      return absl::InvalidArgumentError("unknown restore-point layout '" + l + "'");
    }
    c.pattern = b.pattern();
    c.time_from_mtime = b.time_from_mtime();
    if (!b.content_hash().empty()) c.content_hash = b.content_hash();
    c.mutable_ = b.mutable_();
    return c;
  }

  // A hard-linked file already read in this task (rsnapshot points share
  // unchanged files): its digest is reused while size and mtime match.
  struct LinkedRead {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint32_t algorithm = 0;
    std::string digest;
  };

  Outcome Execute(const v1::Task& task, std::atomic<bool>* lost) {
    if (task.kind() == v1::TASK_KIND_DRILL) return Drill(task, lost);
    auto dir = ResolveRoot(task.backup_set());
    if (!dir.ok()) return {Outcome::kError, std::string(dir.status().message()), 0};
    auto set = ContractSet(task.backup_set());
    if (!set.ok()) return {Outcome::kError, std::string(set.status().message()), 0};
    if (set->format == "restic" || set->layout == contracts::Layout::kResticSnapshots) {
      if (set->format != "restic" || set->layout != contracts::Layout::kResticSnapshots) {
        return {Outcome::kError,
                "a restic repository needs format restic and layout "
                "restic-snapshots",
                0};
      }
      return ExecuteRestic(task, *dir, lost);
    }
    const std::string tz = task.tenant_timezone().empty() ? "UTC" : task.tenant_timezone();
    auto found = contracts::DiscoverRestorePointsAt(*set, dir->fd(), dir->path, tz);
    if (!found.ok()) return {Outcome::kError, std::string(found.status().message()), 0};
    for (const auto& w : found->warnings) {
      Log("task " + std::to_string(task.id()) + " (" + task.backup_set().tenant() + "/" +
          task.backup_set().name() + "): " + w);
    }
    storage::FileHasher hasher(storage::HashAlgorithm::kXxh3_128);
    budget_ = std::make_unique<IoBudget>(task.rate_limit_bytes_per_s());
    metadata_only_.clear();
    metadata_only_.insert(task.metadata_only_points().begin(), task.metadata_only_points().end());
    Stream stream(this, task.id(), task.attempt(), lost);
    v1::ObservationBatch batch;
    batch.set_task_id(task.id());
    batch.set_attempt(task.attempt());
    for (const auto& p : found->points) {
      v1::RestorePointSeen* seen = batch.add_points();
      seen->set_time_ns(p.time_ns);
      seen->set_name(p.name);
      seen->set_time_source(p.time_source);
    }
    uint64_t seq = 0;
    auto flush = [&]() -> Outcome {
      batch.set_seq(++seq);
      Outcome o = stream.Send(batch);
      batch.clear_observations();
      batch.clear_points();  // only in the batch with seq 1
      if (o.kind == Outcome::kDone && o_.test_batch_delay_ms > 0) Sleep(o_.test_batch_delay_ms);
      return o;
    };
    auto emit = [&](v1::Observation&& o) -> Outcome {
      CountFile(o);
      *batch.add_observations() = std::move(o);
      if (batch.observations_size() >= o_.batch_size) return flush();
      return {};
    };
    std::map<std::pair<dev_t, ino_t>, LinkedRead> linked;
    uint64_t reused = 0;  // hard-linked files whose digest was reused

    for (const auto& point : found->points) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (stopped()) return {Outcome::kStopped, "", 0};
      Outcome r;
      if (set->layout == contracts::Layout::kDatedFiles) {
        r = EmitFilePoint(*dir, point, hasher, emit);
      } else {
        r = WalkPoint(*dir, point, hasher, linked, &reused, lost, emit);
      }
      if (r.kind != Outcome::kDone) return r;
    }
    // The batch with seq 1 carries the list of points: sent even if empty.
    if (batch.observations_size() > 0 || seq == 0) {
      if (Outcome r = flush(); r.kind != Outcome::kDone) return r;
    }
    // Every batch acknowledged before CompleteTask names the last one.
    if (Outcome r = stream.Flush(); r.kind != Outcome::kDone) return r;
    stream.Close();
    Log("task " + std::to_string(task.id()) + ": " + std::to_string(found->points.size()) +
        " restore point(s), " + std::to_string(reused) + " hard-linked files not read again");
    Outcome done{Outcome::kDone, "", seq};
    // The format's own verdicts, point by point (after the walk: the
    // catalogue's observations are durable first).
    for (const auto& point : found->points) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (stopped()) return {Outcome::kStopped, "", 0};
      if (metadata_only_.count(point.time_ns) != 0) continue;  // not read this time
      const bool file_point = set->layout == contracts::Layout::kDatedFiles;
      // The point's directory beneath the set's, no link followed.
      const std::string pdir = point.name.empty() || file_point ? "" : point.name;
      const std::string prefix = point.name.empty() || file_point ? "" : point.name + "/";
      if (set->format == "bagit") {
        done.verdicts.push_back(CheckBag(dir->fd(), point.name, point.time_ns));
      } else if (set->format == "sumfile" && !file_point) {
        for (auto& v : CheckSumFiles(dir->fd(), pdir, prefix, point.time_ns)) {
          done.verdicts.push_back(std::move(v));
        }
      }
    }
    // dated-files: the checksum files beside the point files, once, as
    // point 0 (no point of the set: a problem marks none of them damaged).
    if (set->format == "sumfile" && set->layout == contracts::Layout::kDatedFiles) {
      for (auto& v : CheckSumFiles(dir->fd(), "", "", 0)) done.verdicts.push_back(std::move(v));
    }
    for (const auto& v : done.verdicts) {
      if (!v.valid()) {
        Log("task " + std::to_string(task.id()) + ": " + v.format() + " '" +
            EscapeForTerminal(v.target()) + "' invalid (" + std::to_string(v.error_count()) +
            " errors)" + (v.errors_size() > 0 ? ": " + v.errors(0) : ""));
      }
    }
    return done;
  }

  // A restic repository: verified with the native reader (blob by blob,
  // known packs skipped); its snapshots are the restore points, each with
  // one observation (its snapshot file); the verdict and the pack list go
  // with CompleteTask.
  Outcome ExecuteRestic(const v1::Task& task, const SetDir& dir, std::atomic<bool>* lost) {
    auto password = ReadResticPassword(o_.secrets, task.backup_set());
    if (!password.ok()) return {Outcome::kError, std::string(password.status().message()), 0};
    ResticTaskResult r = CheckResticRepository(dir.fd(), dir.path, *password, task);
    if (!r.error.empty()) return {Outcome::kError, r.error, 0};
    if (*lost) return {Outcome::kLost, "", 0};
    if (stopped()) return {Outcome::kStopped, "", 0};
    Stream stream(this, task.id(), task.attempt(), lost);
    v1::ObservationBatch batch;
    batch.set_task_id(task.id());
    batch.set_attempt(task.attempt());
    for (const auto& p : r.points) *batch.add_points() = p;
    uint64_t seq = 0;
    auto flush = [&]() -> Outcome {
      batch.set_seq(++seq);
      Outcome o = stream.Send(batch);
      batch.clear_observations();
      batch.clear_points();
      return o;
    };
    for (auto& o : r.observations) {
      *batch.add_observations() = std::move(o);
      if (batch.observations_size() >= o_.batch_size) {
        if (Outcome f = flush(); f.kind != Outcome::kDone) return f;
      }
    }
    if (batch.observations_size() > 0 || seq == 0) {
      if (Outcome f = flush(); f.kind != Outcome::kDone) return f;
    }
    stream.Close();
    const v1::FormatVerdict& v = r.verdict;
    Log("task " + std::to_string(task.id()) + ": restic repository " +
        (v.valid() ? "valid" : "INVALID (" + std::to_string(v.error_count()) + " errors)") + ", " +
        std::to_string(r.points.size()) + " snapshot(s), " + std::to_string(v.packs_read()) +
        " pack(s) read, " + std::to_string(v.packs_skipped()) + " known pack(s) skipped");
    Outcome done{Outcome::kDone, "", seq};
    done.verdicts.push_back(std::move(r.verdict));
    done.packs = std::move(r.packs);
    return done;
  }

  // The point is still where discovery found it, with the same time when the
  // time came from its mtime (rsnapshot may rotate during a check: walking
  // daily.1 after a rotation would read another point under this one's time).
  // It is still of its kind (a directory, or a regular file for
  // dated-files): a symbolic link swapped in is refused, never followed.
  static Outcome CheckPointUnchanged(const SetDir& dir, const contracts::DiscoveredPoint& point,
                                     bool want_dir, struct stat* st) {
    if (fstatat(dir.fd(), point.name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
      return {
          Outcome::kError,
          "restore point '" + point.name + "' vanished during the check: " + std::strerror(errno),
          0};
    }
    if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
      return {Outcome::kError,
              "restore point '" + point.name + "' is no longer a " +
                  (want_dir ? "directory" : "regular file"),
              0};
    }
    const int64_t mtime = int64_t{st->st_mtim.tv_sec} * 1'000'000'000 + st->st_mtim.tv_nsec;
    if (point.time_source == "mtime" && mtime != point.time_ns) {
      return {Outcome::kError,
              "restore point '" + point.name + "' changed during the check (rotated?)", 0};
    }
    return {};
  }

  template <typename Emit>
  Outcome EmitFilePoint(const SetDir& dir, const contracts::DiscoveredPoint& point,
                        storage::FileHasher& hasher, Emit& emit) {
    struct stat st {};
    if (Outcome r = CheckPointUnchanged(dir, point, false, &st); r.kind != Outcome::kDone) {
      return r;
    }
    const int fd = dir.fd();  // the point file: one component, read with O_NOFOLLOW
    v1::Observation o;
    o.set_path(point.name);
    o.set_restore_point_ns(point.time_ns);
    o.set_size(static_cast<uint64_t>(st.st_size));
    o.set_mtime_ns(int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec);
    o.set_type(v1::ENTRY_TYPE_FILE);
    if (metadata_only_.count(point.time_ns) != 0) {  // listed, not read
      o.set_not_read(true);
      return emit(std::move(o));
    }
    Pace(o.size());
    storage::FileReading r = hasher.Read(fd, point.name.c_str(), o.size());
    if (!r.ok && r.error == ENOENT) {
      return {Outcome::kError, "restore point '" + point.name + "' vanished during the check", 0};
    }
    if (r.ok) {
      o.set_size(r.bytes);
      o.set_digest_algorithm(static_cast<uint32_t>(r.digest.algorithm()));
      o.set_digest(std::string(r.digest.view()));
    } else {
      o.set_unreadable(true);
      o.set_error(r.error_text);
    }
    return emit(std::move(o));
  }

  template <typename Emit>
  Outcome WalkPoint(const SetDir& dir, const contracts::DiscoveredPoint& point,
                    storage::FileHasher& hasher,
                    std::map<std::pair<dev_t, ino_t>, LinkedRead>& linked, uint64_t* reused,
                    std::atomic<bool>* lost, Emit& emit) {
    if (!point.name.empty()) {
      struct stat st {};
      if (Outcome r = CheckPointUnchanged(dir, point, true, &st); r.kind != Outcome::kDone) {
        return r;
      }
    }
    // The point's directory beneath the set's, no link followed (a link
    // swapped in since CheckPointUnchanged is refused here).
    auto walker = storage::TreeWalker::OpenAt(
        dir.fd(), point.name, point.name.empty() ? dir.path : dir.path + "/" + point.name);
    if (!walker.ok()) return {Outcome::kError, std::string(walker.status().message()), 0};
    storage::WalkEntry e;
    while ((*walker)->Next(&e)) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (stopped()) return {Outcome::kStopped, "", 0};
      v1::Observation o;
      o.set_path(e.path);
      o.set_size(e.size);
      o.set_mtime_ns(e.mtime_ns);
      o.set_restore_point_ns(point.time_ns);
      if (e.is_directory || e.error != 0) {
        o.set_type(e.is_directory ? v1::ENTRY_TYPE_OTHER
                                  : static_cast<v1::EntryType>(static_cast<int>(e.type)));
        o.set_unreadable(true);
        o.set_error(e.error_text);
      } else if (e.type == storage::EntryType::kFile) {
        o.set_type(v1::ENTRY_TYPE_FILE);
        auto it = e.nlink > 1 ? linked.find({e.dev, e.ino}) : linked.end();
        if (metadata_only_.count(point.time_ns) != 0) {
          o.set_not_read(true);  // listed by the scheduler's choice, not read
        } else if (it != linked.end() && it->second.size == e.size &&
                   it->second.mtime_ns == e.mtime_ns) {
          o.set_digest_algorithm(it->second.algorithm);
          o.set_digest(it->second.digest);
          ++*reused;
        } else {
          Pace(e.size);
          storage::FileReading r = hasher.Read(e.dir->fd(), e.name.c_str(), e.size);
          if (!r.ok && r.error == ENOENT) continue;  // vanished since the walk
          if (r.ok) {
            o.set_size(r.bytes);
            o.set_digest_algorithm(static_cast<uint32_t>(r.digest.algorithm()));
            o.set_digest(std::string(r.digest.view()));
            if (e.nlink > 1 && r.bytes == e.size) {
              linked[{e.dev, e.ino}] = {e.size, e.mtime_ns, o.digest_algorithm(), o.digest()};
            }
          } else {
            o.set_unreadable(true);
            o.set_error(r.error_text);
          }
        }
      } else if (e.type == storage::EntryType::kSymlink) {
        o.set_type(v1::ENTRY_TYPE_SYMLINK);
        o.set_link_target(e.link_target);
        storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kXxh3_128, e.link_target);
        o.set_digest_algorithm(static_cast<uint32_t>(d.algorithm()));
        o.set_digest(std::string(d.view()));
      } else {
        o.set_type(v1::ENTRY_TYPE_OTHER);
      }
      if (Outcome r = emit(std::move(o)); r.kind != Outcome::kDone) return r;
    }
    return {};
  }

  // --- Restore drills ---------------------------------------------------
  //
  // The sample's files are copied from the restore point to
  // SCRATCH/drill-<task>-<attempt>/ as a restore would: cold reads (the
  // source's cached pages are dropped first, POSIX_FADV_DONTNEED, so the
  // read comes from the device), large sequential reads, and synced writes
  // (each file fsync'ed before it is closed, then every directory created
  // and the scratch directory itself: when the clock stops, the restored
  // bytes are on stable storage). The copies are then re-read (pages dropped
  // again) and compared with the size and digest of the coordinator's
  // catalogue sent in the task, never with the source read. The drill
  // directory is removed at the end, whatever happened.
  //
  // Errors: anything about the source (set or point gone, unreadable
  // layout) is the drill's result (DrillResult.error); a file of the sample
  // that cannot be read from the point is a mismatch; a scratch directory
  // that cannot be written is the worker's fault (task error, re-queued).

  static int64_t SteadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  Outcome Drill(const v1::Task& task, std::atomic<bool>* lost) {
    Outcome out;
    out.drill = true;
    v1::DrillResult& res = out.drill_result;
    auto drill_error = [&](const std::string& why) {
      res.set_error(why);
      return out;
    };
    auto dir = ResolveRoot(task.backup_set());
    if (!dir.ok()) {
      if (absl::IsFailedPrecondition(dir.status())) {  // not served here: our fault
        return {Outcome::kError, std::string(dir.status().message()), 0};
      }
      return drill_error(std::string(dir.status().message()));
    }
    auto set = ContractSet(task.backup_set());
    if (!set.ok()) return drill_error(std::string(set.status().message()));
    const std::string tz = task.tenant_timezone().empty() ? "UTC" : task.tenant_timezone();
    auto found = contracts::DiscoverRestorePointsAt(*set, dir->fd(), dir->path, tz);
    if (!found.ok()) return drill_error(std::string(found.status().message()));
    const contracts::DiscoveredPoint* point = nullptr;
    for (const auto& p : found->points) {
      if (p.time_ns == task.drill_point_ns()) point = &p;
    }
    if (point == nullptr) {
      return drill_error("restore point of time " + std::to_string(task.drill_point_ns()) +
                         " ns is no longer present in the backup set");
    }
    const bool file_point = set->layout == contracts::Layout::kDatedFiles;
    std::string base_rel;  // the point's directory, relative to the set's
    if (!point->name.empty()) {
      struct stat st {};
      if (Outcome r = CheckPointUnchanged(*dir, *point, !file_point, &st);
          r.kind != Outcome::kDone) {
        return drill_error(r.error);
      }
      if (!file_point) base_rel = point->name;
    }
    storage::BeneathOpen base = storage::OpenDirBeneath(dir->fd(), base_rel);
    if (base.fd < 0) {
      const std::string shown = base_rel.empty() ? dir->path : dir->path + "/" + base_rel;
      return drill_error("cannot open restore point '" + shown + "': " +
                         (base.symlink() ? std::string("a symbolic link, not followed")
                                         : std::strerror(base.error)));
    }
    const int base_fd = base.fd;
    // The drill's own directory in the scratch (fresh, private).
    const std::string drill_dir =
        o_.scratch + "/drill-" + std::to_string(task.id()) + "-" + std::to_string(task.attempt());
    std::error_code ec;
    std::filesystem::remove_all(drill_dir, ec);
    if (mkdir(drill_dir.c_str(), 0700) != 0) {
      close(base_fd);
      return {Outcome::kError,
              "cannot create drill directory '" + drill_dir + "': " + std::strerror(errno), 0};
    }
    struct Cleanup {
      std::string dir;
      int fd;
      ~Cleanup() {
        close(fd);
        std::error_code e;
        std::filesystem::remove_all(dir, e);
      }
    } cleanup{drill_dir, base_fd};

    std::vector<uint8_t> buf(4 << 20);
    std::vector<std::string> dirs{drill_dir};           // created, to fsync
    std::vector<std::pair<int, std::string>> restored;  // sample index, copy
    auto mismatch = [&](const std::string& path, const std::string& why) {
      res.set_mismatches(res.mismatches() + 1);
      // A string field must be UTF-8: raw byte paths are escaped.
      if (res.mismatch_paths_size() < 20) res.add_mismatch_paths(EscapeForTerminal(path));
      Log("drill of task " + std::to_string(task.id()) + ": '" + EscapeForTerminal(path) + "' " +
          why);
    };
    const int64_t start = SteadyNs();
    for (int i = 0; i < task.drill_sample_size(); ++i) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (stopped()) return {Outcome::kStopped, "", 0};
      const v1::DrillSample& smp = task.drill_sample(i);
      const std::string& path = smp.path();
      if (!storage::IsValidRelativePath(path)) {
        mismatch(path, "is not a relative path inside the point");
        continue;
      }
      // The one rule (storage/open_beneath.h): no link followed on the
      // way, only a regular file returned, O_NONBLOCK cleared once it is one.
      formats::OpenedFile opened =
          formats::OpenBeneath(cleanup.fd, path, formats::Symlinks::kRefuse);
      if (opened.fd < 0) {
        mismatch(path, "cannot be opened: " + opened.error_text);
        continue;
      }
      const int src = opened.fd;
      // Cold read: whatever the page cache holds of the source goes first.
      posix_fadvise(src, 0, 0, POSIX_FADV_DONTNEED);
      posix_fadvise(src, 0, 0, POSIX_FADV_SEQUENTIAL);
      // Parent directories of the copy.
      std::string dst = drill_dir;
      for (size_t p = path.find('/'); p != std::string::npos; p = path.find('/', p + 1)) {
        std::string d = drill_dir + "/" + path.substr(0, p);
        if (mkdir(d.c_str(), 0700) == 0) {
          dirs.push_back(d);
        } else if (errno != EEXIST) {
          close(src);
          return {Outcome::kError, "cannot create '" + d + "': " + std::strerror(errno), 0};
        }
      }
      dst += "/" + path;
      int out_fd = open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out_fd < 0) {
        int err = errno;
        close(src);
        return {Outcome::kError, "cannot create '" + dst + "': " + std::strerror(err), 0};
      }
      uint64_t copied = 0;
      std::string read_error, write_error;
      while (true) {
        if (*lost || stopped()) break;
        ssize_t n = read(src, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          read_error = std::strerror(errno);
          break;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(out_fd, buf.data() + off, static_cast<size_t>(n - off));
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) {
            write_error = std::strerror(errno);
            break;
          }
          off += w;
        }
        if (!write_error.empty()) break;
        copied += static_cast<uint64_t>(n);
      }
      close(src);
      // Synced write: the copy is on stable storage before it counts.
      if (write_error.empty() && fsync(out_fd) != 0) write_error = std::strerror(errno);
      if (close(out_fd) != 0 && write_error.empty()) write_error = std::strerror(errno);
      if (!write_error.empty()) {
        return {Outcome::kError, "cannot write '" + dst + "': " + write_error, 0};
      }
      if (*lost) return {Outcome::kLost, "", 0};
      if (stopped()) return {Outcome::kStopped, "", 0};
      if (!read_error.empty()) {
        mismatch(path, "cannot be read: " + read_error);
        continue;
      }
      res.set_files(res.files() + 1);
      res.set_bytes(res.bytes() + copied);
      if (progress_ != nullptr) {
        progress_->files.fetch_add(1, std::memory_order_relaxed);
        progress_->bytes.fetch_add(copied, std::memory_order_relaxed);
      }
      restored.emplace_back(i, dst);
    }
    // The directory entries of the copies, deepest first, then the scratch.
    dirs.push_back(o_.scratch);
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      int fd = open(it->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0) close(fd);
        return {Outcome::kError, "cannot sync '" + *it + "': " + std::strerror(err), 0};
      }
      close(fd);
    }
    res.set_seconds(static_cast<double>(SteadyNs() - start) / 1e9);
    // Re-hash each copy (read back from the device) against the catalogue.
    std::map<uint32_t, std::unique_ptr<storage::FileHasher>> hashers;
    for (const auto& [i, dst] : restored) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (stopped()) return {Outcome::kStopped, "", 0};
      const v1::DrillSample& smp = task.drill_sample(i);
      const uint32_t alg = smp.digest_algorithm();
      if (alg < 1 || alg > 7) {
        mismatch(smp.path(), "has a digest of unknown algorithm " + std::to_string(alg));
        continue;
      }
      auto& h = hashers[alg];
      if (!h) h = std::make_unique<storage::FileHasher>(static_cast<storage::HashAlgorithm>(alg));
      storage::FileReading r = h->Read(AT_FDCWD, dst.c_str(), smp.size(), /*drop_cache=*/true);
      if (!r.ok) {
        mismatch(smp.path(), "restored copy cannot be read: " + r.error_text);
      } else if (r.bytes != smp.size()) {
        mismatch(smp.path(), "restored " + std::to_string(r.bytes) + " bytes, catalogue has " +
                                 std::to_string(smp.size()));
      } else if (r.digest.view() != smp.digest()) {
        mismatch(smp.path(), "restored content differs from the catalogue");
      }
    }
    return out;
  }

  // The Observe stream of one attempt, reopened after failures. Up to
  // kWindow batches are in flight unacknowledged (the coordinator stores a
  // window with one synced write); they are kept until acknowledged and, when
  // the stream breaks, all resent in order on a new one (the coordinator
  // acknowledges again, without storing twice, what it already had).
  class Stream {
   public:
    static constexpr size_t kWindow = 8;

    Stream(WorkerImpl* w, uint64_t task, uint32_t attempt, std::atomic<bool>* lost)
        : w_(w), task_(task), attempt_(attempt), lost_(lost) {}
    ~Stream() { Close(); }

    // Sends one batch; returns once at most kWindow - 1 are unacknowledged,
    // reconnecting and resending as needed.
    Outcome Send(const v1::ObservationBatch& b) {
      unacked_.push_back(b);
      return Pump(kWindow - 1);
    }
    // Returns once every batch sent is acknowledged.
    Outcome Flush() { return Pump(0); }

    void Close() {
      if (rw_ == nullptr) return;
      rw_->WritesDone();
      // Acks of batches still in flight (stopping mid-window): Finish waits
      // until every incoming message was read.
      for (v1::Ack ack; rw_->Read(&ack);) {
      }
      (void)rw_->Finish();
      rw_.reset();
      ctx_.reset();
      written_ = 0;
    }

   private:
    Outcome Pump(size_t max_unacked) {
      int backoff_ms = 100;
      while (true) {
        if (written_ == unacked_.size() && unacked_.size() <= max_unacked) return {};
        if (*lost_) return {Outcome::kLost, "", 0};
        if (w_->stopped()) return {Outcome::kStopped, "", 0};
        if (rw_ == nullptr) {
          ctx_ = std::make_unique<grpc::ClientContext>();
          w_->Prepare(ctx_.get(), 0);
          rw_ = w_->stub_->Observe(ctx_.get());
        }
        bool ok = true;
        while (ok && written_ < unacked_.size()) {
          ok = rw_->Write(unacked_[written_]);
          if (ok) ++written_;
        }
        while (ok && unacked_.size() > max_unacked) {
          v1::Ack ack;
          ok = rw_->Read(&ack);
          while (ok && !unacked_.empty() && unacked_.front().seq() <= ack.seq()) {
            unacked_.pop_front();
            --written_;
          }
        }
        if (ok) return {};
        grpc::Status s = rw_->Finish();
        rw_.reset();
        ctx_.reset();
        written_ = 0;  // a new stream resends every unacknowledged batch
        if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
            s.error_code() == grpc::StatusCode::NOT_FOUND) {
          w_->Log("batch refused, lease lost: " + s.error_message());
          *lost_ = true;
          return {Outcome::kLost, "", 0};
        }
        if (!Retryable(s.error_code()) && !s.ok()) {
          return {Outcome::kError, "observation batch refused: " + s.error_message(), 0};
        }
        w_->Log(
            "observation stream broken (" + s.error_message() + "), resending batch " +
            std::to_string(unacked_.front().seq()) +
            (unacked_.size() > 1 ? "-" + std::to_string(unacked_.back().seq()) : std::string()) +
            " of task " + std::to_string(task_) + " attempt " + std::to_string(attempt_));
        w_->Sleep(backoff_ms);
        backoff_ms = std::min(backoff_ms * 2, 2000);
      }
    }

    WorkerImpl* w_;
    uint64_t task_;
    uint32_t attempt_;
    std::atomic<bool>* lost_;
    std::deque<v1::ObservationBatch> unacked_;  // sent or to send, ascending seq
    size_t written_ = 0;                        // of unacked_, written on this stream
    std::unique_ptr<grpc::ClientContext> ctx_;
    std::unique_ptr<grpc::ClientReaderWriter<v1::ObservationBatch, v1::Ack>> rw_;
  };

  WorkerOptions o_;
  // Loaded from the state directory; reset once the coordinator refused it.
  // Only Run()'s thread touches it.
  std::optional<WorkerState> stored_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkerGateway::Stub> stub_;
  std::mutex id_mu_;                    // a re-registration races running tasks
  std::string worker_id_, credential_;  // GUARDED_BY(id_mu_)
  std::atomic<bool> registered_{false};
  std::atomic<uint32_t> ttl_ms_{30000};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                        // GUARDED_BY(mu_)
  uint64_t connected_ = 0;                   // GUARDED_BY(mu_): times the channel became READY
  uint32_t running_ = 0;                     // GUARDED_BY(mu_): tasks leased, not ended
  uint64_t started_ = 0;                     // GUARDED_BY(mu_): tasks ever started
  std::map<uint64_t, std::thread> threads_;  // GUARDED_BY(mu_): by start number
  std::vector<uint64_t> finished_;           // GUARDED_BY(mu_): ended, not joined
};

}  // namespace

storage::StatusOr<std::unique_ptr<Worker>> Worker::Create(const WorkerOptions& options) {
  if (options.coordinator.empty()) return absl::InvalidArgumentError("no coordinator address");
  if (options.site.empty()) return absl::InvalidArgumentError("no site name (--site)");
  if (options.locations.empty()) {
    return absl::InvalidArgumentError("no location served (--location NAME=PATH)");
  }
  for (const auto& [name, root] : options.locations) {
    struct stat st {};
    if (stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError("location '" + name + "': root '" + root +
                                        "' is not a directory");
    }
  }
  if (options.tls_cert_pem.empty() != options.tls_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key, and a key its certificate");
  }
  if (options.capacity < 1 || options.capacity > 64) {
    return absl::InvalidArgumentError("capacity must be 1..64");
  }
  if (options.batch_size < 1 || options.batch_size > 4096) {
    return absl::InvalidArgumentError("batch size must be 1..4096");
  }
  WorkerOptions o = options;
  if (o.scratch.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    o.scratch = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/vigil-scratch-" +
                std::to_string(getpid());
    if (mkdir(o.scratch.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InvalidArgumentError("cannot create scratch directory '" + o.scratch +
                                        "': " + std::strerror(errno));
    }
  }
  struct stat st {};
  if (stat(o.scratch.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError("scratch '" + o.scratch + "' is not a directory");
  }
  std::optional<WorkerState> stored;
  if (!o.state_dir.empty()) {
    if (mkdir(o.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InvalidArgumentError("cannot create state directory '" + o.state_dir +
                                        "': " + std::strerror(errno));
    }
    if (stat(o.state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(o.state_dir.c_str(), W_OK | X_OK) != 0) {
      return absl::InvalidArgumentError("state directory '" + o.state_dir +
                                        "' is not a writable directory");
    }
    // Corrupt or unreadable: stop here. Enrolling again on our own would
    // spend a one-time token and leave the old worker id orphaned; the
    // operator decides (fix the file, or delete it to enrol again).
    auto loaded = LoadWorkerState(o.state_dir);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          std::string(loaded.status().message()) +
                              " (fix or delete the file; deleting it makes the worker enrol "
                              "again with --token-file)");
    }
    stored = std::move(*loaded);
  }
  return std::unique_ptr<Worker>(new WorkerImpl(std::move(o), std::move(stored)));
}

}  // namespace vigil::worker
