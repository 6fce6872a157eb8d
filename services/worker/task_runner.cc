// One attempt of a leased task (task_runner.h).
#include "services/worker/task_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "services/worker/check_task.h"
#include "services/worker/connection.h"
#include "services/worker/drill.h"

namespace vigil::worker {
namespace {

using std::chrono::milliseconds;

// Sends the attempt's completion, retried with backoff while the lease
// holds and the worker runs.
Outcome Complete(Connection* c, TaskHost* host, uint64_t id, uint32_t attempt, Outcome out,
                 std::atomic<bool>* lost) {
  int backoff_ms = kRetryInitialMs;
  while (true) {
    if (*lost) return {Outcome::kLost, "", 0};
    grpc::ClientContext ctx;
    c->Prepare(&ctx, 60000);
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
      req.set_set_directory(out.set_directory);
      if (out.store_usage) *req.mutable_store_usage() = *out.store_usage;
      if (out.store_evidence) *req.mutable_store_evidence() = *out.store_evidence;
    }
    v1::CompleteTaskResponse resp;
    grpc::Status s = c->stub()->CompleteTask(&ctx, req, &resp);
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
      host->Log("completed task " + std::to_string(id) +
                (out.error.empty() ? what : " with error: " + out.error));
      return out;
    }
    if (!Retryable(s.error_code())) {
      host->Log("completion of task " + std::to_string(id) + " refused: " + s.error_message());
      return {Outcome::kLost, s.error_message(), 0};
    }
    if (host->stopped()) return {Outcome::kStopped, "", 0};
    host->Sleep(backoff_ms);
    backoff_ms = std::min(backoff_ms * 2, kRetryMaxMs);
  }
}

}  // namespace

void RunTask(Connection* c, TaskHost* host, const v1::Task& task) {
  const uint64_t id = task.id();
  const uint32_t attempt = task.attempt();
  host->Log("leased task " + std::to_string(id) + " attempt " + std::to_string(attempt) + " (" +
            task.backup_set().tenant() + "/" + task.backup_set().name() + ")");
  std::atomic<bool> done{false};
  auto steady_ms = [] {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  Attempt a(task, steady_ms());
  std::atomic<bool>& lost = a.lost;
  Progress& progress = a.progress;
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  std::thread heartbeat([&] {
    int every = std::max<int>(100, static_cast<int>(c->ttl_ms() / 3));
    std::unique_lock lock(hb_mu);
    while (!hb_cv.wait_for(lock, milliseconds(every), [&] { return done.load(); })) {
      grpc::ClientContext ctx;
      c->Prepare(&ctx, every);
      v1::HeartbeatRequest req;
      req.set_task_id(id);
      req.set_attempt(attempt);
      req.set_files_done(progress.files.load(std::memory_order_relaxed));
      req.set_bytes_done(progress.bytes.load(std::memory_order_relaxed));
      v1::HeartbeatResponse resp;
      grpc::Status s = c->stub()->Heartbeat(&ctx, req, &resp);
      if (s.ok()) a.heartbeat_ok_ms = steady_ms();
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
          s.error_code() == grpc::StatusCode::NOT_FOUND) {
        host->Log("lease of task " + std::to_string(id) + " lost: " + s.error_message());
        lost = true;
        return;
      }
    }
  });

  Outcome out = task.kind() == v1::TASK_KIND_DRILL ? RunDrill(host, &a) : RunCheck(host, &a);
  if (out.kind == Outcome::kDone && task.kind() == v1::TASK_KIND_CHECK) {
    const auto& locations = host->options().locations;
    auto root = locations.find(task.backup_set().location());
    // A remote location (root "") was surveyed through its store by the
    // check itself (RunCheck).
    if (root != locations.end() && !root->second.empty()) {
      out.location_dirs = SurveyLocation(root->second);
    }
  }
  if (out.kind == Outcome::kDone || out.kind == Outcome::kError) {
    out = Complete(c, host, id, attempt, out, &lost);
  }
  if (out.kind == Outcome::kStopped && !lost) {
    grpc::ClientContext ctx;
    c->Prepare(&ctx, 5000);
    v1::ReleaseTaskRequest req;
    req.set_task_id(id);
    req.set_attempt(attempt);
    v1::ReleaseTaskResponse resp;
    grpc::Status s = c->stub()->ReleaseTask(&ctx, req, &resp);
    host->Log("handed back task " + std::to_string(id) +
              (s.ok() ? "" : " (not acknowledged: " + s.error_message() + ")"));
  }
  {
    std::lock_guard lock(hb_mu);
    done = true;
  }
  hb_cv.notify_all();
  heartbeat.join();
}

}  // namespace vigil::worker
