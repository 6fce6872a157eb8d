// The public Worker (worker.h): the lease loop. Registers or resumes
// (connection.h), leases while fewer than `capacity` tasks run, runs each
// leased task on its own thread (task_runner.h), and on Stop() waits for
// every running task to finish or hand its lease back.
#include "services/worker/worker.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/contracts/model.h"
#include "services/worker/connection.h"
#include "services/worker/state.h"
#include "services/worker/stream.h"
#include "services/worker/task.h"
#include "services/worker/task_runner.h"

namespace vigil::worker {
namespace {

using std::chrono::milliseconds;

// How long a LeaseTask call may wait at the coordinator for a task
// (LeaseTaskRequest.wait_ms), and the least time between two calls.
constexpr uint32_t kLeaseWaitMs = 5000;
constexpr int64_t kMinLeaseIntervalMs = 200;

class WorkerImpl final : public Worker, public TaskHost {
 public:
  WorkerImpl(WorkerOptions o, std::optional<WorkerState> stored)
      : o_(std::move(o)), stored_(std::move(stored)), conn_(o_), listings_(CacheOptions(o_)) {}

  // Leases while fewer than o_.capacity tasks run; each leased task runs
  // on its own thread (RunTask: its own lease, heartbeats and Observe
  // stream). On Stop() every running task finishes or hands its lease back
  // before Run() returns.
  storage::Status Run() override {
    std::thread watcher([this] {
      conn_.WatchChannel([this] { return stopped(); },
                         [this] {
                           {
                             MutexLock lock(&mu_);
                             ++connected_;
                           }
                           cv_.SignalAll();
                         });
    });
    storage::Status result = Lease();
    std::vector<std::thread> tasks;
    {
      MutexLock lock(&mu_);
      // Set already after Stop(); after a refused registration, running
      // tasks stop and hand back too.
      stop_ = true;
      cv_.SignalAll();
      cv_.Wait(&mu_, [this]() REQUIRES(mu_) { return running_ == 0; });
      for (auto& [n, t] : threads_) tasks.push_back(std::move(t));
      threads_.clear();
      finished_.clear();
    }
    for (auto& t : tasks) t.join();
    watcher.join();
    return result;
  }

  bool registered() const override { return conn_.registered(); }

  void Stop() override {
    {
      MutexLock lock(&mu_);
      stop_ = true;
      if (lease_call_ != nullptr) lease_call_->TryCancel();  // a held LeaseTask
    }
    cv_.SignalAll();
  }

  // TaskHost (task.h), for the tasks running on their threads.
  const WorkerOptions& options() const override { return o_; }
  static storage::ListingCache::Options CacheOptions(const WorkerOptions& o) {
    storage::ListingCache::Options c;
    c.max_bytes = o.listing_cache_bytes;
    return c;
  }
  storage::ListingCache* listing_cache() override {
    return o_.listing_cache_bytes > 0 ? &listings_ : nullptr;
  }
  bool stopped() override {
    MutexLock lock(&mu_);
    return stop_;
  }
  // Sleeps up to ms, less if stopped or if the channel connects meanwhile
  // (WatchChannel): a retry waiting out its backoff goes as soon as the
  // coordinator is back.
  void Sleep(int ms) override {
    MutexLock lock(&mu_);
    const uint64_t connected = connected_;
    cv_.WaitFor(&mu_, milliseconds(ms),
                [&]() REQUIRES(mu_) { return stop_ || connected_ != connected; });
  }
  void Pause(std::chrono::nanoseconds d) override {
    MutexLock lock(&mu_);
    cv_.WaitFor(&mu_, d, [this]() REQUIRES(mu_) { return stop_; });
  }
  void Log(const std::string& line) override { conn_.Log(line); }
  std::unique_ptr<ObservationSink> OpenStream(Attempt* attempt) override {
    return OpenObservationStream(&conn_, this, attempt);
  }

 private:
  storage::Status Lease() {
    int backoff_ms = kRetryInitialMs;
    while (!stopped()) {
      JoinFinished();
      {
        // A free slot first: never more than capacity leases at once.
        MutexLock lock(&mu_);
        cv_.Wait(&mu_, [this]() REQUIRES(mu_) { return stop_ || running_ < o_.capacity; });
        if (stop_) break;
      }
      if (conn_.WorkerId().empty() && stored_) {
        grpc::Status s = conn_.Resume(*stored_);
        if (!s.ok()) {
          if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
              s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
            Log((s.error_code() == grpc::StatusCode::UNIMPLEMENTED
                     ? "the coordinator is too old to resume worker " + stored_->worker_id +
                           " from " + conn_.StateFile() + " (no Resume call)"
                     : "the coordinator refused the stored credential of worker " +
                           stored_->worker_id + " (" + conn_.StateFile() +
                           "): " + s.error_message()) +
                "; registering again with the enrolment token" +
                (o_.enrol_token.empty() ? " (none given: --token-file)" : ""));
            stored_.reset();
          } else if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            // Another site, or a location of another site: re-enrolling on
            // its own would hide the operator's mistake.
            Log("resume refused: " + s.error_message());
            return absl::PermissionDeniedError("resume refused: " + s.error_message() +
                                               " (worker state: " + conn_.StateFile() + ")");
          } else {
            Log("cannot resume as worker " + stored_->worker_id + ": " +
                conn_.DescribeConnectError(s, backoff_ms));
            Sleep(backoff_ms);
            backoff_ms = conn_.NextBackoffMs(backoff_ms, s);
            continue;
          }
        }
      }
      if (conn_.WorkerId().empty()) {
        grpc::Status s = conn_.Register();
        if (!s.ok()) {
          Log("cannot register: " + conn_.DescribeConnectError(s, backoff_ms));
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
          backoff_ms = conn_.NextBackoffMs(backoff_ms, s);
          continue;
        }
      }
      // Long poll: the coordinator holds the call up to kLeaseWaitMs while
      // it has nothing for this worker, and answers as soon as a task is
      // queued; Stop() cancels the call.
      grpc::ClientContext ctx;
      conn_.Prepare(&ctx, 10000 + kLeaseWaitMs);
      {
        MutexLock lock(&mu_);
        if (stop_) break;
        lease_call_ = &ctx;
      }
      v1::LeaseTaskRequest req;
      req.set_wait_ms(kLeaseWaitMs);
      v1::LeaseTaskResponse resp;
      const auto asked = std::chrono::steady_clock::now();
      grpc::Status s = conn_.stub()->LeaseTask(&ctx, req, &resp);
      {
        MutexLock lock(&mu_);
        lease_call_ = nullptr;
      }
      if (!s.ok()) {
        if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
          // Revoked, or the coordinator's database was replaced.
          Log("the coordinator no longer recognises this worker (" + s.error_message() +
              "): registering again with the enrolment token");
          conn_.Forget();
        } else if (conn_.ConnectFailureOf(s).handshake) {
          Log("cannot lease: " + conn_.DescribeConnectError(s, backoff_ms));
        }
        Sleep(backoff_ms);
        backoff_ms = conn_.NextBackoffMs(backoff_ms, s);
        continue;
      }
      backoff_ms = kRetryInitialMs;
      if (!resp.has_task()) {
        // Never more than kMinLeaseIntervalMs apart: a coordinator older
        // than the long poll answers at once.
        const auto took =
            std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - asked);
        if (took.count() < kMinLeaseIntervalMs) {
          Sleep(static_cast<int>(kMinLeaseIntervalMs - took.count()));
        }
        continue;
      }
      MutexLock lock(&mu_);
      const uint64_t n = ++started_;
      ++running_;
      threads_.emplace(n, std::thread([this, n, task = std::move(*resp.mutable_task())] {
                         RunTask(&conn_, this, task);
                         {
                           MutexLock done(&mu_);
                           --running_;
                           finished_.push_back(n);
                         }
                         cv_.SignalAll();
                       }));
    }
    return absl::OkStatus();
  }
  // Joins the threads of tasks that ended.
  void JoinFinished() {
    std::vector<std::thread> ended;
    {
      MutexLock lock(&mu_);
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

  WorkerOptions o_;
  // Loaded from the state directory; reset once the coordinator refused it.
  // Only Run()'s thread touches it.
  std::optional<WorkerState> stored_;
  Connection conn_;  // after o_, which it refers to
  storage::ListingCache listings_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  grpc::ClientContext* lease_call_ GUARDED_BY(mu_) = nullptr;  // LeaseTask in flight
  uint64_t connected_ GUARDED_BY(mu_) = 0;                     // times the channel became READY
  uint32_t running_ GUARDED_BY(mu_) = 0;                       // tasks leased, not ended
  uint64_t started_ GUARDED_BY(mu_) = 0;                       // tasks ever started
  std::map<uint64_t, std::thread> threads_ GUARDED_BY(mu_);    // by start number
  std::vector<uint64_t> finished_ GUARDED_BY(mu_);             // ended, not joined
};

}  // namespace

storage::StatusOr<std::unique_ptr<Worker>> Worker::Create(const WorkerOptions& options) {
  if (options.coordinator.empty()) return absl::InvalidArgumentError("no coordinator address");
  if (options.site.empty()) return absl::InvalidArgumentError("no site name (--site)");
  if (options.locations.empty()) {
    return absl::InvalidArgumentError(
        "no location served (--location NAME=PATH, or --location NAME for a remote one)");
  }
  for (const auto& [name, root] : options.locations) {
    if (root.empty()) {
      // Remote (s3, sftp): its name becomes a file name in --secrets.
      if (!contracts::IsValidName(name)) {
        return absl::InvalidArgumentError("remote location '" + name +
                                          "': invalid name; expected " + contracts::kNameRule);
      }
      continue;
    }
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
