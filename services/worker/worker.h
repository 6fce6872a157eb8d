// A Vigil worker: registers with a coordinator, leases tasks for the
// locations it serves, walks and hashes the backup set near the data, and
// streams back observations (metadata and hashes, never contents).
//
// Robustness rules (docs/coordinator.md):
//   - a heartbeat every third of the lease TTL keeps the lease; a refused
//     heartbeat (lease lost) abandons the task at once;
//   - every observation batch is sent with a sequence number and kept until
//     acknowledged; when the stream breaks (coordinator restart, a batch
//     refused while the coordinator's disk is full), the worker reads the
//     acks still on their way, reconnects with backoff and resends the
//     unacknowledged batches, for as long as the lease holds; no gRPC call
//     waits for ever (a watchdog cancels it when the lease is lost, on
//     Stop(), or after 60 s without an answer), and an attempt whose
//     streams keep breaking for ten lease TTLs with no batch acknowledged
//     while its heartbeats succeed ends with an error;
//   - up to `capacity` tasks run at once, each on its own thread;
//   - Stop() (SIGTERM) hands every running task's lease back before Run()
//     returns (a task whose completion was accepted is finished);
//   - paths are confined to the location's root: no "..", no symbolic link
//     in any component of the backup set's path (the set's directory is
//     opened beneath the root, storage/open_beneath.h), and nothing of the
//     set is read but beneath that directory's descriptor, no link followed
//     (docs/formats.md "Confinement");
//   - formats (docs/formats.md "Through the system"): a "bagit" set's
//     points are validated as bags and a "sumfile" set's checksum files
//     verified after the walk; a "restic" set is read with the reader
//     (password from the secrets directory) instead of walked: its
//     snapshots are the points; the verdicts travel with CompleteTask;
//   - restore drills (TASK_KIND_DRILL) copy a sample of a restore point to
//     the scratch directory with cold reads and synced writes, re-hash the
//     copies against the catalogue's digests sent in the task, and remove
//     them (docs/contracts.md, "Restore drills").
//
// Inside (each file's header says more): worker.cc the lease loop,
// connection.h the channel and the worker's identity, task_runner.h one
// task attempt (heartbeats, completion), check_task.h and drill.h the work,
// stream.h the observation stream, set_dir.h the backup set's directory.
// gRPC stays behind connection.h: this header is cheap to include.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "storage/status.h"
#include "storage/store.h"

namespace vigil::v1 {
class Location;
}  // namespace vigil::v1

namespace vigil::worker {

struct WorkerOptions {
  // Coordinator address, host:port. Required.
  std::string coordinator;
  // Site name. Required.
  std::string site;
  // Locations served: name -> absolute root directory, or "" for a remote
  // location (`--location NAME`: type s3 or sftp): its address comes with
  // each task (v1::Task.location, from the contract), its credentials from
  // `secrets` (remote/credentials.h: DIR/NAME.s3, DIR/NAME.ssh). A task
  // whose location's kind does not match (a filesystem location served
  // as remote, or the reverse) fails naming both. At least one.
  std::map<std::string, std::string> locations;
  // Tasks run at once, each on its own thread with its own lease,
  // heartbeats and observation stream; never more are leased. 1..64,
  // default 1. Reported to the coordinator at Register.
  uint32_t capacity = 1;
  // Enrolment token sent to Register: the coordinator's fixed one or a
  // one-time enrol token. Empty = none: the coordinator refuses the
  // registration (Run() then returns its error).
  std::string enrol_token;
  // State directory (services/worker/state.h): after a successful Register
  // the worker id and credential are written there (DIR/worker-state, mode
  // 0600, durably), and a later start resumes as that worker (Resume)
  // instead of registering, so a one-time enrolment token is needed once.
  // Created (0700) if missing. Only when the coordinator refuses the stored
  // credential (unknown worker, wrong credential) does the worker register
  // again with `enrol_token` and replace the file. A state file that cannot
  // be read or parsed makes Create fail naming the file, line and field:
  // the worker never re-enrols on its own then. Empty = none: the
  // credential lives in memory only and every start registers.
  std::string state_dir;
  // TLS: PEM CA certificates to verify the coordinator with. Empty with
  // no client certificate = plaintext.
  std::string tls_ca_pem;
  // Mutual TLS: PEM client certificate chain and key (both or neither).
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // Scratch directory for restore drills (must exist; each drill uses a
  // fresh drill-<task>-<attempt>/ in it and removes it). Empty = create
  // $TMPDIR/vigil-scratch-<pid> (0700; /tmp without TMPDIR).
  std::string scratch;
  // Secrets directory: restic passwords and remote locations' credentials,
  // never sent anywhere (services/worker/format_tasks.h ReadResticPassword,
  // services/worker/remote/credentials.h). Empty = none: a restic task or
  // a task of a remote location then fails naming the file it wanted.
  std::string secrets;
  // Opens the store of a remote location (Task.location, kind "s3" or
  // "sftp": its address; the credentials are the factory's own, from the
  // secrets directory). A check of a set at such a location, served here
  // (its name in `locations`), walks and hashes the set through this store
  // (check_task.h), or checks and drills its restic repository through it.
  // Called once per task, on the task's thread; the store
  // lives for the task. Null = this worker reads no remote location: a
  // task for one fails naming it.
  std::function<storage::StatusOr<std::unique_ptr<storage::Store>>(const v1::Location&)> open_store;
  // Observations per batch. Default 512 (the coordinator takes up to 4096).
  int batch_size = 512;
  // Memory for the listings of directories walked (storage/listing_cache.h):
  // a directory whose change time has not moved since a check listed it is
  // not read again by the next (its listing, names and inode numbers, comes
  // from memory). Shared by the worker's tasks. 0 = off: every check reads
  // every directory. Default 64 MiB.
  size_t listing_cache_bytes = size_t{64} << 20;
  // Test hook: sleep this long after each acknowledged batch, so tests can
  // kill a worker or the coordinator mid-task. Default 0.
  int test_batch_delay_ms = 0;
  // Test hook: the observations of a held point read through a store kept
  // while it is compared (check_task.cc kMaxKept); 0 = the default.
  size_t test_max_kept = 0;
  // Log lines to stderr. Default true.
  bool verbose = true;
};

class Worker {
 public:
  // InvalidArgument if an option is missing, a location root is not a
  // directory, or a remote location's name is not a valid name; the state file's error (state.h) if
  // it is unreadable or corrupt, or InvalidArgument if the state directory is not writable.
  static storage::StatusOr<std::unique_ptr<Worker>> Create(const WorkerOptions& options);
  virtual ~Worker() = default;
  // Works until Stop(); returns OK after a clean stop.
  virtual storage::Status Run() = 0;
  // Thread-safe; makes Run() hand back its leases and return soon.
  virtual void Stop() = 0;
  // Thread-safe: true once the coordinator accepted this worker's
  // registration, false again if it stops recognising its credential.
  virtual bool registered() const = 0;
};

}  // namespace vigil::worker
