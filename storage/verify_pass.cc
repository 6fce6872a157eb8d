#include "storage/verify_pass.h"

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "storage/file_hasher.h"
#include "storage/tree_walker.h"
#include "storage/varint.h"

namespace vigil::storage {

std::string PassSummaryKey(const Scope& scope) {
  std::string k = "pass/";
  AppendString(&k, scope.tenant);
  AppendString(&k, scope.backup_set);
  AppendI64(&k, scope.restore_point);
  return k;
}

namespace {

int64_t RealNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum class Action : uint8_t {
  kHash,         // read and hash the file
  kLinkOf,       // another name of a hard-linked file already read in this pass
  kLinkPending,  // hard link found by a hashing thread's fstat (the walker did
                 // not stat it): read or reused by the collector, in order
  kSkip,         // incremental: verified recently, metadata unchanged
  kNoRead,       // symlink, special file, or an entry that could not be stat'ed
  kMissing,      // recorded, not found
  kDirError,     // an unreadable directory, or a recorded entry beneath one
};

struct Job {
  Action action;
  WalkEntry walk;
  bool has_record = false;
  bool has_verify_record = false;  // rec has a VerifyRecord of its own
  EntryRecord rec;
  VerifyRecord ver;
  FileReading first, second;
  bool reread = false;
  std::string dir_error;  // kDirError: the directory's error
};

struct Batch {
  uint64_t seq = 0;
  std::vector<Job> jobs;
};

// Jobs per batch and bytes to read per batch: small files travel together
// so that queue hand-offs cost nothing next to the reads.
constexpr size_t kBatchJobs = 64;
constexpr uint64_t kBatchBytes = 1 << 20;

// A hard-linked file is read once per (device, inode) and per algorithm: a
// name recorded with another algorithm than the first name needs its own
// reading.
struct InodeKey {
  dev_t dev;
  ino_t ino;
  HashAlgorithm alg;
  friend bool operator==(const InodeKey&, const InodeKey&) = default;
};
struct InodeHash {
  size_t operator()(const InodeKey& k) const {
    return std::hash<uint64_t>()(static_cast<uint64_t>(k.ino) * 0x9E3779B97F4A7C15ull ^
                                 static_cast<uint64_t>(k.dev) ^
                                 (static_cast<uint64_t>(k.alg) << 56));
  }
};

// Both readings of a hard-linked file, reused for its other names.
struct LinkReading {
  FileReading first, second;
  bool reread = false;
};

class Pass {
 public:
  Pass(Catalogue& cat, const PassOptions& o) : cat_(cat), o_(o) {
    now_ = o.now_ns != 0 ? o.now_ns : RealNowNs();
    threads_ = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    window_ = static_cast<size_t>(threads_) * 8 + 8;
    full_pass_ = o.max_age_ns == 0;
  }

  StatusOr<PassSummary> Run();

 private:
  // --- planner thread ---
  void Plan(TreeWalker* walker);
  void Emit(Job&& job, uint64_t read_bytes);
  void FlushBatch();
  void PlanFile(Job& job);
  // --- hashing threads ---
  void HashLoop();
  void HashJob(Job& job, std::map<HashAlgorithm, std::unique_ptr<FileHasher>>& hashers);
  using Hashers = std::map<HashAlgorithm, std::unique_ptr<FileHasher>>;
  // --- collector ---
  Status Collect(Job& job, Catalogue::Writer& w);
  void Fail(Status s);
  // Path and record are copied into the event only when someone listens,
  // not for every entry of the pass.
  void Report(PassEvent&& ev, const Job& job) {
    if (!o_.on_event) return;
    ev.path = job.walk.path;
    if (job.has_record) ev.recorded = job.rec;
    o_.on_event(ev);
  }

  Catalogue& cat_;
  const PassOptions& o_;
  int64_t now_;
  int threads_;
  size_t window_;
  bool full_pass_;  // every entry is read (no --max-age)
  // The walker skips the stat of regular files (the hashing threads fstat
  // them): full passes over a catalogued point, until a hard link shows up.
  bool skip_file_stat_ = false;
  std::atomic<bool> links_seen_{false};
  // Inodes of kLinkPending jobs, for the planner once it stats again. A
  // name planned before the hashing thread met the first one is read twice
  // (rare: both names within the in-flight window, after the switch).
  Mutex links_mu_;
  std::unordered_map<InodeKey, bool, InodeHash> pending_links_ GUARDED_BY(links_mu_);
  PassSummary summary_;

  // Planner state.
  Batch pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t next_seq_ = 0;
  std::string unreadable_prefix_;
  std::unordered_map<InodeKey, bool, InodeHash> seen_inodes_;
  std::atomic<uint64_t> bytes_seen_{0};

  Mutex mu_;
  CondVar cv_;
  std::vector<Batch> queue_ GUARDED_BY(mu_);  // to hashers (FIFO via head index)
  size_t queue_head_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Batch> done_ GUARDED_BY(mu_);  // hashed, waiting for the collector
  size_t in_flight_ GUARDED_BY(mu_) = 0;
  bool planning_done_ GUARDED_BY(mu_) = false;
  uint64_t total_batches_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  uint64_t walk_directories_ GUARDED_BY(mu_) = 0;

  // Collector state.
  std::unordered_map<InodeKey, LinkReading, InodeHash> link_readings_;
  Hashers collector_hashers_;
};

void Pass::Fail(Status s) {
  MutexLock l(&mu_);
  if (error_.ok()) error_ = std::move(s);
  stop_ = true;
  cv_.SignalAll();
}

void Pass::Emit(Job&& job, uint64_t read_bytes) {
  pending_.jobs.push_back(std::move(job));
  pending_bytes_ += read_bytes;
  if (pending_.jobs.size() >= kBatchJobs || pending_bytes_ >= kBatchBytes) FlushBatch();
}

void Pass::FlushBatch() {
  if (pending_.jobs.empty()) return;
  pending_.seq = next_seq_++;
  MutexLock l(&mu_);
  cv_.Wait(&mu_, [&]() REQUIRES(mu_) { return stop_ || in_flight_ < window_; });
  if (stop_) {
    pending_.jobs.clear();
    return;
  }
  ++in_flight_;
  queue_.push_back(std::move(pending_));
  pending_ = Batch();
  pending_bytes_ = 0;
  cv_.SignalAll();
}

// The algorithm an entry is hashed with: its recorded one, else the pass's.
HashAlgorithm AlgorithmFor(const Job& job, HashAlgorithm default_alg) {
  return (job.has_record && job.rec.type == EntryType::kFile && !job.rec.digest.empty())
             ? job.rec.digest.algorithm()
             : default_alg;
}

void Pass::PlanFile(Job& job) {
  if (job.walk.nlink > 1) {
    InodeKey k{job.walk.dev, job.walk.ino, AlgorithmFor(job, o_.algorithm)};
    if (!seen_inodes_.emplace(k, true).second) {
      job.action = Action::kLinkOf;
      return;
    }
    // A name of this inode met earlier without a stat (kLinkPending): the
    // collector reads it before this one, so this one reuses that reading.
    MutexLock l(&links_mu_);
    if (pending_links_.count(k) > 0) {
      job.action = Action::kLinkOf;
      return;
    }
  }
  job.action = Action::kHash;
}

void Pass::Plan(TreeWalker* walker) {
  auto scan = cat_.Scan(o_.scope);
  bool stat_files = !skip_file_stat_;
  walker->set_stat_files(stat_files);
  WalkEntry w;
  bool have_w = walker->Next(&w);
  std::string rec_path;
  while (true) {
    {
      MutexLock l(&mu_);
      if (stop_) break;
    }
    bool have_r = scan->Valid();
    if (!have_r && !scan->status().ok()) {
      Fail(scan->status());
      break;
    }
    if (!have_r && !have_w) break;
    if (have_r) rec_path = scan->path();
    int c = !have_r ? 1 : !have_w ? -1 : ComparePathOrder(rec_path, w.path);
    // An unreadable directory sorts before its own path's record (a file
    // that became a directory): report the directory first.
    if (c == 0 && w.is_directory) c = 1;
    Job job;
    if (c < 0) {  // recorded only
      job.has_record = true;
      job.has_verify_record = scan->has_verify_record();
      job.rec = scan->entry();
      job.ver = scan->verify();
      job.walk.path = rec_path;
      job.walk.type = job.rec.type;
      if (!unreadable_prefix_.empty() && rec_path.starts_with(unreadable_prefix_)) {
        job.action = Action::kDirError;
        job.dir_error = "parent directory unreadable";
      } else {
        job.action = Action::kMissing;
      }
      scan->Next();
      Emit(std::move(job), 0);
      continue;
    }
    if (c == 0) {
      job.has_record = true;
      job.has_verify_record = scan->has_verify_record();
      job.rec = scan->entry();
      job.ver = scan->verify();
      scan->Next();
    }
    job.walk = std::move(w);
    // Once a hashing thread met a hard link, stat again in the walker, so
    // that the planner sees link counts and reads each inode once (the
    // collector reads the few hard links planned before the switch).
    if (!stat_files && links_seen_.load(std::memory_order_relaxed)) {
      stat_files = true;
      walker->set_stat_files(true);
    }
    have_w = walker->Next(&w);
    uint64_t read_bytes = 0;
    if (job.walk.is_directory) {
      job.action = Action::kDirError;
      job.dir_error = job.walk.error_text;
      unreadable_prefix_ = job.walk.path + "/";
    } else if (job.walk.error != 0 || job.walk.type != EntryType::kFile) {
      job.action = Action::kNoRead;
    } else if (job.walk.stat_pending) {
      // Size unknown until the hashing thread's fstat: batch by the
      // recorded size.
      job.action = Action::kHash;
      if (job.has_record) read_bytes = job.rec.size;
    } else {
      bytes_seen_.fetch_add(job.walk.size, std::memory_order_relaxed);
      bool fresh = o_.max_age_ns > 0 && job.has_record && job.rec.type == EntryType::kFile &&
                   job.ver.state == EntryState::kOk &&
                   job.ver.last_verified_ns >= now_ - o_.max_age_ns &&
                   job.rec.size == job.walk.size && job.rec.mtime_ns == job.walk.mtime_ns;
      if (fresh) {
        job.action = Action::kSkip;
      } else {
        PlanFile(job);
        if (job.action == Action::kHash) read_bytes = job.walk.size;
      }
    }
    Emit(std::move(job), read_bytes);
  }
  FlushBatch();
  MutexLock l(&mu_);
  planning_done_ = true;
  total_batches_ = next_seq_;
  walk_directories_ = walker->directories();
  cv_.SignalAll();
}

void Pass::HashJob(Job& job, std::map<HashAlgorithm, std::unique_ptr<FileHasher>>& hashers) {
  HashAlgorithm alg = AlgorithmFor(job, o_.algorithm);
  auto& h = hashers[alg];
  if (!h) h = std::make_unique<FileHasher>(alg);
  int dfd = job.walk.dir ? job.walk.dir->fd() : AT_FDCWD;
  const bool pending = job.walk.stat_pending;
  uint64_t expected = pending ? (job.has_record ? job.rec.size : 0) : job.walk.size;
  job.first = h->Read(dfd, job.walk.name.c_str(), expected, /*drop_cache=*/false,
                      /*skip_hard_linked=*/pending);
  if (pending) {
    // The walker did not stat this file: what the walk would have said
    // comes from fstat on the open file.
    job.walk.stat_pending = false;
    if (job.first.has_stat) {
      job.walk.size = job.first.size;
      job.walk.mtime_ns = job.first.mtime_ns;
      job.walk.dev = job.first.dev;
      job.walk.ino = job.first.ino;
      job.walk.nlink = job.first.nlink;
      bytes_seen_.fetch_add(job.walk.size, std::memory_order_relaxed);
    }
    if (job.first.skipped_hard_linked) {
      {
        MutexLock l(&links_mu_);
        pending_links_.emplace(InodeKey{job.walk.dev, job.walk.ino, alg}, true);
      }
      links_seen_.store(true, std::memory_order_relaxed);
      job.action = Action::kLinkPending;
      return;
    }
  }
  if (!job.first.ok || !job.has_record || job.rec.type != EntryType::kFile) return;
  bool same = job.first.digest == job.rec.digest && job.first.bytes == job.rec.size;
  if (same) return;
  if (o_.diff.mutable_set && job.walk.mtime_ns != job.rec.mtime_ns) return;  // an update
  // A mismatch is re-read once, from the device, before it is declared.
  job.reread = true;
  job.second = h->Read(dfd, job.walk.name.c_str(), job.walk.size, /*drop_cache=*/true);
}

void Pass::HashLoop() {
  std::map<HashAlgorithm, std::unique_ptr<FileHasher>> hashers;
  while (true) {
    Batch b;
    {
      MutexLock l(&mu_);
      cv_.Wait(&mu_, [&]() REQUIRES(mu_) {
        return stop_ || queue_head_ < queue_.size() || planning_done_;
      });
      if (stop_) return;
      if (queue_head_ >= queue_.size()) {
        if (planning_done_) return;
        continue;
      }
      b = std::move(queue_[queue_head_++]);
      if (queue_head_ == queue_.size()) {
        queue_.clear();
        queue_head_ = 0;
      }
    }
    for (Job& j : b.jobs) {
      if (j.action == Action::kHash) HashJob(j, hashers);
    }
    MutexLock l(&mu_);
    uint64_t seq = b.seq;
    done_.emplace(seq, std::move(b));
    cv_.SignalAll();
  }
}

Observation ObservationOf(const WalkEntry& w) {
  Observation o;
  o.path = w.path;
  o.type = w.type;
  o.size = w.size;
  o.mtime_ns = w.mtime_ns;
  o.link_target = w.link_target;
  return o;
}

Status Pass::Collect(Job& job, Catalogue::Writer& w) {
  const std::string& path = job.walk.path;
  PassEvent ev;
  ev.type = job.walk.type;
  ev.has_record = job.has_record;

  auto verify_problem = [&](EntryState state) {
    VerifyRecord v = job.ver;
    v.state = state;
    v.last_checked_ns = now_;
    v.first_reading = ev.first_reading;
    v.second_reading = ev.second_reading;
    v.observed_size = ev.observed_size;
    v.detail = ev.error;
    return w.PutVerify(path, v);
  };
  // A full pass writes nothing for a healthy entry: the range record it
  // writes at the end covers it (an older record of its own is dropped). An
  // incremental pass records each entry it re-read.
  auto verify_ok = [&]() -> Status {
    if (full_pass_) {
      if (job.has_verify_record) w.DeleteVerify(path);
      return absl::OkStatus();
    }
    VerifyRecord v;
    v.last_verified_ns = v.last_checked_ns = now_;
    return w.PutVerify(path, v);
  };
  auto missing = [&]() -> Status {
    ++summary_.counts.missing;
    ev.kind = DiffKind::kMissing;
    Status s;
    if (o_.accept) {
      ev.accepted = true;
      s = w.DeleteEntry(path, job.rec);
    } else {
      s = verify_problem(EntryState::kMissing);
    }
    Report(std::move(ev), job);
    return s;
  };
  auto unreadable = [&](std::string why) -> Status {
    ++summary_.counts.unreadable;
    ev.kind = DiffKind::kUnreadable;
    ev.error = std::move(why);
    Status s;
    if (job.has_record) s = verify_problem(EntryState::kUnreadable);
    Report(std::move(ev), job);
    return s;
  };

  switch (job.action) {
    case Action::kMissing:
      return missing();
    case Action::kDirError:
      if (job.has_record) return unreadable(job.dir_error);
      ev.type = EntryType::kOther;
      ++summary_.counts.unreadable;
      ev.kind = DiffKind::kUnreadable;
      ev.error = job.dir_error;
      Report(std::move(ev), job);
      return absl::OkStatus();
    case Action::kSkip:
      ++summary_.entries;
      ++summary_.counts.not_read;
      return absl::OkStatus();
    default:
      break;
  }

  ++summary_.entries;
  Observation obs = ObservationOf(job.walk);
  ev.observed_size = obs.size;
  ev.observed_mtime_ns = obs.mtime_ns;
  if (job.walk.error != 0) return unreadable(job.walk.error_text);

  if (job.action == Action::kLinkPending) {
    // In walk order here: the first name of the inode is read now, the
    // others reuse its reading, as kLinkOf does for links the planner saw.
    InodeKey inode{job.walk.dev, job.walk.ino, AlgorithmFor(job, o_.algorithm)};
    if (link_readings_.count(inode) > 0) {
      job.action = Action::kLinkOf;
    } else {
      job.action = Action::kHash;
      HashJob(job, collector_hashers_);
    }
  }
  if (job.action == Action::kHash || job.action == Action::kLinkOf) {
    FileReading reading;
    InodeKey inode{job.walk.dev, job.walk.ino, AlgorithmFor(job, o_.algorithm)};
    if (job.action == Action::kLinkOf) {
      // Another name of a file read earlier in this pass (lower sequence,
      // so already collected): reuse both its readings.
      auto it = link_readings_.find(inode);
      if (it != link_readings_.end()) {
        job.first = it->second.first;
        job.second = it->second.second;
        job.reread = it->second.reread;
      }
      reading = job.first;
      ++summary_.hardlinks_reused;
    } else {
      reading = job.first;
      ++summary_.files_read;
      summary_.bytes_read += reading.bytes + (job.reread ? job.second.bytes : 0);
      if (job.walk.nlink > 1) link_readings_[inode] = {job.first, job.second, job.reread};
    }
    if (!reading.ok) {
      if (reading.error == ENOENT) {  // vanished between the walk and the read
        --summary_.entries;
        if (job.has_record) return missing();
        return absl::OkStatus();
      }
      return unreadable(reading.error_text.empty() ? "not read" : reading.error_text);
    }
    obs.digest = reading.digest;
    obs.size = reading.bytes;
    obs.sample = reading.sample;
    ev.observed_size = obs.size;
    ev.first_reading = reading.digest;
    if (job.reread) {
      if (job.action == Action::kHash) ++summary_.rereads;
      if (job.second.ok) {
        ev.second_reading = job.second.digest;
        // The confirming reading decides: a first reading that the re-read
        // contradicts was a transient (memory, bus) error.
        if (job.second.digest == job.rec.digest && job.second.bytes == job.rec.size) {
          ++summary_.transient_mismatches;
          obs.digest = job.second.digest;
          obs.size = job.second.bytes;
          obs.sample = job.second.sample;
        }
      }
    }
  }

  if (!job.has_record) {
    ++summary_.counts.added;
    ev.kind = DiffKind::kAdded;
    Status s = w.PutEntry(path, RecordOf(obs, now_));
    Report(std::move(ev), job);
    return s;
  }

  DiffKind kind = Classify(job.rec, obs, o_.diff);
  ev.kind = kind;
  switch (kind) {
    case DiffKind::kUnchanged: {
      ++summary_.counts.unchanged;
      Status s;
      // Same bytes: a record without their sample (written before samples
      // existed) gets it, once; no change is counted for it.
      const bool sample = job.rec.type == EntryType::kFile && obs.sample.sampled() &&
                          !(obs.sample == job.rec.sample);
      if (obs.mtime_ns != job.rec.mtime_ns || sample) {  // touched only: never a problem
        EntryRecord r = job.rec;
        r.mtime_ns = obs.mtime_ns;
        if (sample) r.sample = obs.sample;
        s = w.PutEntry(path, r, &job.rec);
      }
      if (s.ok()) s = verify_ok();
      if (job.reread) Report(std::move(ev), job);  // transient mismatch: keep evidence
      return s;
    }
    case DiffKind::kUpdated: {
      ++summary_.counts.updated;
      Status s = w.PutEntry(path, RecordOf(obs, job.rec.first_seen_ns), &job.rec);
      if (s.ok()) s = verify_ok();
      Report(std::move(ev), job);
      return s;
    }
    case DiffKind::kModified: {
      ++summary_.counts.modified;
      Status s;
      if (o_.accept) {
        ev.accepted = true;
        s = w.PutEntry(path, RecordOf(obs, now_), &job.rec);
        if (s.ok()) s = verify_ok();
      } else {
        s = verify_problem(EntryState::kModified);
      }
      Report(std::move(ev), job);
      return s;
    }
    default:
      return absl::InternalError("unexpected classification");
  }
}

// Summary persisted for the next pass (progress estimates, status).
std::string EncodeSummary(const PassSummary& s) {
  std::string out;
  out.push_back(1);
  for (uint64_t v : {s.entries, s.files_read, s.bytes_read, s.counts.modified, s.counts.missing,
                     s.counts.unreadable, s.counts.added, static_cast<uint64_t>(s.finished_ns)}) {
    internal::PutVarint64(&out, v);
  }
  return out;
}

uint64_t ExpectedBytes(Catalogue& cat, const Scope& scope) {
  std::string v;
  if (!cat.GetMeta(PassSummaryKey(scope), &v).ok() || v.empty() || v[0] != 1) return 0;
  std::string_view in(v);
  in.remove_prefix(1);
  uint64_t entries, files, bytes;
  if (!internal::GetVarint64(&in, &entries) || !internal::GetVarint64(&in, &files) ||
      !internal::GetVarint64(&in, &bytes)) {
    return 0;
  }
  return bytes;
}

StatusOr<PassSummary> Pass::Run() {
  summary_.started_ns = now_;
  auto walker = TreeWalker::Open(o_.root);
  if (!walker.ok()) return walker.status();
  {
    auto probe = cat_.Scan(o_.scope);
    if (!probe->status().ok()) return probe->status();
    summary_.baseline = !probe->Valid();
  }
  // A baseline keeps the walker's stat: without records, the sizes that
  // size the hashing batches would be unknown.
  skip_file_stat_ = full_pass_ && !summary_.baseline;
  PassProgress progress;
  progress.bytes_expected = ExpectedBytes(cat_, o_.scope);

  std::thread planner([&] { Plan(walker->get()); });
  std::vector<std::thread> hashers;
  for (int i = 0; i < threads_; ++i) hashers.emplace_back([this] { HashLoop(); });

  Catalogue::Writer writer(&cat_, o_.scope);
  auto last_progress = std::chrono::steady_clock::now();
  uint64_t next = 0;
  while (true) {
    Batch b;
    {
      MutexLock l(&mu_);
      cv_.Wait(&mu_, [&]() REQUIRES(mu_) {
        return stop_ || done_.count(next) > 0 || (planning_done_ && next >= total_batches_);
      });
      if (stop_) break;
      auto it = done_.find(next);
      if (it == done_.end()) break;  // planning done and all batches collected
      b = std::move(it->second);
      done_.erase(it);
      --in_flight_;
      cv_.SignalAll();
    }
    ++next;
    for (Job& j : b.jobs) {
      if (Status s = Collect(j, writer); !s.ok()) {
        Fail(s);
        break;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (o_.on_progress && now - last_progress >= std::chrono::milliseconds(100)) {
      last_progress = now;
      progress.entries_done = summary_.entries;
      progress.bytes_read = summary_.bytes_read;
      progress.bytes_seen = bytes_seen_.load(std::memory_order_relaxed);
      o_.on_progress(progress);
    }
  }
  planner.join();
  for (auto& t : hashers) t.join();
  {
    MutexLock l(&mu_);  // the threads are done; the analysis cannot know it
    if (!error_.ok()) return error_;
    summary_.directories = walk_directories_;
  }
  summary_.finished_ns = o_.now_ns != 0 ? o_.now_ns : RealNowNs();
  // Every entry was looked at: record the pass once for the whole point.
  if (full_pass_) writer.PutRangeVerified(now_);
  writer.PutMeta(PassSummaryKey(o_.scope), EncodeSummary(summary_));
  if (Status s = writer.Commit(/*sync=*/true); !s.ok()) return s;
  if (o_.on_progress) {
    progress.entries_done = summary_.entries;
    progress.bytes_read = summary_.bytes_read;
    progress.bytes_seen = bytes_seen_.load();
    progress.walk_done = true;
    o_.on_progress(progress);
  }
  return summary_;
}

}  // namespace

StatusOr<PassSummary> RunVerifyPass(Catalogue& cat, const PassOptions& options) {
  Pass pass(cat, options);
  return pass.Run();
}

}  // namespace vigil::storage
