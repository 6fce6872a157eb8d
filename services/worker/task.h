// What the code running one task attempt shares with the worker, without
// gRPC: the attempt's outcome (Outcome), its state (Attempt), where its
// observations go (ObservationSink, stream.h) and what it asks of the worker
// (TaskHost: stopping, waiting, logging, a new observation stream).
//
// task_runner.cc runs an attempt (heartbeats, completion, hand-back) and
// calls check_task.h or drill.h to do the work; worker.cc implements
// TaskHost. Nothing here needs a coordinator: the task code can run against
// a fake host and sink.
//
// Thread safety: an Attempt belongs to its task's thread, except `lost`,
// `progress` and `heartbeat_ok_ms`, atomics shared with the attempt's
// heartbeat thread and its stream's watchdog. TaskHost's methods are
// thread-safe. An ObservationSink is used by one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/worker/worker.h"
#include "storage/listing_cache.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::worker {

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
  // Check tasks: what was found at a set directory without restore points
  // ("does not exist", "empty", "holds no restore point";
  // CompleteTaskRequest.set_directory); empty when points were found.
  std::string set_directory{};
  // Check and drill tasks read through a store (s3, sftp, restic drills):
  // the store's counters for the attempt (CompleteTaskRequest.store_usage).
  std::optional<v1::StoreUsage> store_usage{};
  // Check tasks at a remote location: what the store said
  // (CompleteTaskRequest.store_evidence); unset otherwise.
  std::optional<v1::StoreEvidence> store_evidence{};
};

// Progress of a task attempt (vigil.v1.TaskProgress units: regular files
// walked, bytes of those read), sent with every heartbeat. Written by the
// task's thread, read by its heartbeat thread.
struct Progress {
  std::atomic<uint64_t> files{0}, bytes{0};
};

// One attempt of a leased task, from the lease to its completion or
// hand-back.
struct Attempt {
  Attempt(const v1::Task& t, int64_t now_steady_ms) : task(t), heartbeat_ok_ms(now_steady_ms) {}
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  const v1::Task& task;
  // Set when a heartbeat or a batch was refused: the lease is gone, the
  // attempt stops at once and hands nothing back.
  std::atomic<bool> lost{false};
  Progress progress;
  // Steady-clock ms of the attempt's last successful heartbeat (the lease
  // start before the first), for its observation stream. Written by the
  // heartbeat thread.
  std::atomic<int64_t> heartbeat_ok_ms;
};

// Where an attempt's observation batches go: the Observe stream (stream.h).
class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  // Sends one batch; returns once few enough batches are unacknowledged,
  // reconnecting and resending as needed. Anything but kDone ends the
  // attempt.
  virtual Outcome Send(const v1::ObservationBatch& batch) = 0;
  // Returns once every batch sent is acknowledged.
  virtual Outcome Flush() = 0;
  // Ends the stream in order (what is unacknowledged then stays so).
  virtual void Close() = 0;
};

// What a task attempt asks of the worker running it.
class TaskHost {
 public:
  virtual ~TaskHost() = default;
  virtual const WorkerOptions& options() const = 0;
  // True once the worker is stopping: the attempt ends with kStopped and
  // its lease is handed back.
  virtual bool stopped() = 0;
  // Sleeps up to ms, less if stopped or if the channel connects meanwhile:
  // a retry waiting out its backoff goes as soon as the coordinator is
  // back.
  virtual void Sleep(int ms) = 0;
  // Waits up to `d`, less if stopped (pacing reads to a budget).
  virtual void Pause(std::chrono::nanoseconds d) = 0;
  // A line of the worker's log ("worker ID: line" on stderr when verbose).
  virtual void Log(const std::string& line) = 0;
  // A new Observe stream for the attempt (stream.h).
  virtual std::unique_ptr<ObservationSink> OpenStream(Attempt* attempt) = 0;
  // The listings of directories walked, remembered across tasks
  // (WorkerOptions::listing_cache_bytes); nullptr: none, every directory
  // is read.
  virtual storage::ListingCache* listing_cache() { return nullptr; }
};

}  // namespace vigil::worker
