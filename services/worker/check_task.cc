// CHECK tasks (check_task.h).
#include "services/worker/check_task.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "services/common/io_budget.h"
#include "services/common/listing_digest.h"
#include "services/common/text.h"
#include "services/contracts/proto_bridge.h"
#include "services/contracts/restore_points.h"
#include "services/worker/format_tasks.h"
#include "services/worker/set_dir.h"
#include "storage/catalogue.h"
#include "storage/file_hasher.h"
#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/local_store.h"
#include "storage/store_walker.h"
#include "storage/tree_walker.h"

namespace vigil::worker {
namespace {

// A hard-linked file already read in this task (rsnapshot points share
// unchanged files): its digest is reused while size, mtime and ctime match.
struct LinkedRead {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // (an inode number reused by a new file: not the same)
  uint32_t algorithm = 0;
  std::string digest;
  uint32_t previous_algorithm = 0;  // Task.rehash_from's digest, if asked
  std::string previous_digest;
  v1::ContentSample sample;  // the same bytes: the same sample
};

// An attempt's observations in numbered batches of options().batch_size on
// its stream (TaskHost::OpenStream). The batch with seq 1 carries the list
// of restore points and is sent even when empty (Finish).
class BatchWriter {
 public:
  // delay_ms: the test hook WorkerOptions::test_batch_delay_ms, slept after
  // each acknowledged batch; 0 = none.
  BatchWriter(TaskHost* host, Attempt* attempt, int delay_ms)
      : host_(host), stream_(host->OpenStream(attempt)), delay_ms_(delay_ms) {
    batch_.set_task_id(attempt->task.id());
    batch_.set_attempt(attempt->task.attempt());
  }

  // A restore point for the first batch.
  v1::RestorePointSeen* AddPoint() { return batch_.add_points(); }
  // Adds one observation; sends the batch once it is full.
  Outcome Add(v1::Observation&& o) {
    *batch_.add_observations() = std::move(o);
    if (batch_.observations_size() >= host_->options().batch_size) return Send();
    return {};
  }
  // Sends what is left (the first batch, with the points, even if empty).
  Outcome Finish() {
    if (batch_.observations_size() > 0 || seq_ == 0) return Send();
    return {};
  }
  // Returns once every batch sent is acknowledged.
  Outcome Flush() { return stream_->Flush(); }
  void Close() { stream_->Close(); }
  // The last batch's seq (0 before the first).
  uint64_t seq() const { return seq_; }

 private:
  Outcome Send() {
    batch_.set_seq(++seq_);
    Outcome o = stream_->Send(batch_);
    batch_.clear_observations();
    batch_.clear_points();  // only in the batch with seq 1
    if (o.kind == Outcome::kDone && delay_ms_ > 0) host_->Sleep(delay_ms_);
    return o;
  }

  TaskHost* host_;
  std::unique_ptr<ObservationSink> stream_;
  const int delay_ms_;
  v1::ObservationBatch batch_;
  uint64_t seq_ = 0;
};

// Whether the directory open at `fd` has no entry but . and .. (an
// unreadable one counts as not empty: it is not known to be).
bool IsEmptyDir(int fd) {
  int list_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (list_fd < 0) return false;
  DIR* d = fdopendir(list_fd);
  if (d == nullptr) {
    ::close(list_fd);
    return false;
  }
  rewinddir(d);
  bool empty = true;
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  closedir(d);
  return empty;
}

// The same for the directory `dir` of a store (an error listing it counts
// as not empty).
bool IsEmptyStoreDir(storage::Store& store, const std::string& dir) {
  bool empty = true;
  storage::Status s = store.List(dir, [&](storage::StoreEntry&&) {
    empty = false;
    return false;
  });
  return s.ok() && empty;
}

// A set read as a restic repository (format or layout says so); one that
// is half one (the other does not) is refused with kHalfRestic.
bool IsRestic(const contracts::BackupSet& s) {
  return s.format == "restic" || s.layout == contracts::Layout::kResticSnapshots;
}
bool HalfRestic(const contracts::BackupSet& s) {
  return IsRestic(s) && (s.format != "restic" || s.layout != contracts::Layout::kResticSnapshots);
}
constexpr char kHalfRestic[] =
    "a restic repository needs format restic and layout restic-snapshots";

// Task.held_dirs by path: the offer of each directory's digests.
using HeldDirOffers = absl::flat_hash_map<std::string, const v1::ListingDigests*>;
// Directories a point holds the same as the reference's (path, proofs), in
// catalogue order, none beneath another.
using HeldDirsFound = std::vector<std::pair<std::string, v1::ListingDigests>>;

// One check attempt, on the task's thread.
class CheckRun {
 public:
  CheckRun(TaskHost* host, Attempt* attempt) : host_(host), a_(attempt) {}

  Outcome Run() {
    const v1::Task& task = a_->task;
    if (IsRemoteLocation(task)) return RunOverStore();
    auto dir = ResolveSetDir(host_->options().locations, task.backup_set());
    if (absl::IsNotFound(dir.status())) return NoBackup(dir.status());
    if (!dir.ok()) return {Outcome::kError, std::string(dir.status().message()), 0};
    local_ = std::move(*dir);
    auto set = ContractSet(task.backup_set());
    if (!set.ok()) return {Outcome::kError, std::string(set.status().message()), 0};
    if (IsRestic(*set)) {
      if (HalfRestic(*set)) return {Outcome::kError, kHalfRestic, 0};
      return RunRestic();
    }
    return CheckPoints(*set);
  }

  // A set at a remote location (S3, SFTP): the same check through the
  // location's store (WorkerOptions::open_store), every format by the same
  // reader as on disk. The store's counters go to the log.
  Outcome RunOverStore() {
    const v1::Task& task = a_->task;
    auto set = ContractSet(task.backup_set());
    if (!set.ok()) return {Outcome::kError, std::string(set.status().message()), 0};
    const bool restic = IsRestic(*set);
    if (HalfRestic(*set)) return {Outcome::kError, kHalfRestic, 0};
    auto dir = ResolveStoreSetDir(host_->options(), task);
    if (absl::IsNotFound(dir.status())) return NoBackup(dir.status());
    if (!dir.ok()) return {Outcome::kError, std::string(dir.status().message()), 0};
    store_ = std::move(*dir);
    AskStore();
    Outcome r = restic ? RunRestic() : CheckPoints(*set);
    if (r.kind == Outcome::kDone) r.store_evidence = evidence_;
    if (r.kind == Outcome::kDone) {
      // The location's directories for the scope finding, through the
      // same store (its root is the location's root).
      r.location_dirs = SurveyLocation(*store_->store);
    }
    // What the task cost in all, the survey included: what it reports and
    // the location's read budget is charged.
    host_->Log("task " + std::to_string(task.id()) + " ended: " + StoreCost());
    r.store_usage = UsageOf(*store_->store);
    return r;
  }

  // What the store says of itself, once per task (StoreEvidence): the
  // bucket's versioning and Object Lock, or why not known.
  void AskStore() {
    const storage::StoreFacts f = store_->store->Facts();
    evidence_.set_store(store_->store->Describe());
    evidence_.set_measured_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    using storage::StoreFact;
    if (f.versioning == StoreFact::kUnknown) {
      evidence_.set_versioning_unmeasured(f.versioning_unknown);
    } else {
      evidence_.set_versioning(f.versioning == StoreFact::kOn       ? "enabled"
                               : f.versioning_status == "Suspended" ? "suspended"
                                                                    : "off");
    }
    if (f.object_lock == StoreFact::kUnknown) {
      evidence_.set_object_lock_unmeasured(f.object_lock_unknown);
    } else {
      evidence_.set_object_lock(f.object_lock == StoreFact::kOn ? "on" : "off");
      evidence_.set_default_retention_mode(f.default_mode);
      evidence_.set_default_retention_days(f.default_days);
      evidence_.set_default_retention_years(f.default_years);
    }
    // Each object's retention is asked (a HEAD) only where the bucket can
    // hold one.
    lock_on_ = f.object_lock == StoreFact::kOn;
  }

  // Whether an MD5 ETag that differs from the bytes read is one: only on
  // such a disagreement (rare) the object is asked (a HEAD, unless `head`
  // already holds one) whether SSE-KMS or SSE-C encrypts it, under which
  // S3's ETag is not an MD5 of the content. A store that cannot answer
  // leaves it a disagreement (the finding names both digests).
  bool EtagIsMd5(const std::string& path, const storage::StoreEntry& head) {
    if (head.lock_known) return !head.etag_not_md5;  // a HEAD was made
    auto st = store_->store->Stat(path);
    return !st.ok() || !st->etag_not_md5;
  }

  // Reads the object `path` of the store (`shown` in messages) with
  // `hasher`; where the store recorded a digest of it at upload (an S3
  // SHA-256 checksum, or an ETag of 32 hex digits: a single-part upload's
  // MD5), that digest too, from the same buffers, compared with the record;
  // with Object Lock on, the object's retention at the task's instant.
  storage::FileReading ReadObject(storage::FileHasher& hasher, const std::string& path,
                                  const std::string& shown, uint64_t size, const std::string& etag,
                                  std::string checksum) {
    storage::StoreEntry head;
    if (lock_on_) {
      auto st = store_->store->Stat(path);
      if (st.ok()) head = std::move(*st);
      if (checksum.empty()) checksum = head.checksum_sha256;
    }
    std::optional<storage::HashAlgorithm> upload;
    std::string recorded;
    if (checksum.size() == 32) {
      upload = storage::HashAlgorithm::kSha256;
      recorded = std::move(checksum);
    } else if (auto md5 = etag.size() == 32 ? storage::HexDecode(etag) : std::nullopt) {
      upload = storage::HashAlgorithm::kMd5;  // a multipart ETag ("...-N") is not 32 hex digits
      recorded = std::move(*md5);
    }
    storage::FileReading r = hasher.ReadStore(*store_->store, path, size, upload);
    if (!r.ok) return r;
    if (!upload) {
      evidence_.set_checksums_absent(evidence_.checksums_absent() + 1);
    } else if (r.upload_digest.view() == recorded) {
      evidence_.set_checksums_agree(evidence_.checksums_agree() + 1);
    } else if (*upload == storage::HashAlgorithm::kMd5 && !EtagIsMd5(path, head)) {
      // Encrypted with SSE-KMS or SSE-C: the ETag was never the content's
      // MD5, so there is no record to compare with.
      evidence_.set_checksums_absent(evidence_.checksums_absent() + 1);
    } else {
      evidence_.set_checksums_disagree(evidence_.checksums_disagree() + 1);
      if (evidence_.disagreeing_size() < 20) {
        evidence_.add_disagreeing(EscapeForTerminal(shown) + ": the store recorded " +
                                  (*upload == storage::HashAlgorithm::kMd5 ? "md5 " : "sha256 ") +
                                  storage::HexEncode(recorded) +
                                  " at upload, the bytes read give " +
                                  storage::HexEncode(r.upload_digest.view()));
      }
    }
    if (head.lock_known) {
      const bool retained = head.legal_hold || (!head.lock_mode.empty() &&
                                                head.lock_until_ns > evidence_.measured_ns());
      if (retained) {
        evidence_.set_objects_retained(evidence_.objects_retained() + 1);
      } else {
        evidence_.set_objects_not_retained(evidence_.objects_not_retained() + 1);
      }
    }
    return r;
  }

  // What reading the set's store cost: "s3://b/p: 25 request(s), 6294575
  // byte(s) read, 0 retry(ies)".
  std::string StoreCost() const {
    const storage::StoreCounters& c = store_->store->counters();
    return store_->store->Describe() + ": " + std::to_string(c.requests.load()) + " request(s), " +
           std::to_string(c.bytes_read.load()) + " byte(s) read, " +
           std::to_string(c.retries.load()) + " retry(ies)";
  }

  // Nothing at the set's path: evidence for the scope finding ("in scope,
  // no backup found"), not a failed task. No point is listed.
  Outcome NoBackup(const storage::Status& why) {
    host_->Log("task " + std::to_string(a_->task.id()) + ": " + std::string(why.message()) +
               ": no backup found");
    Outcome done{Outcome::kDone, "", 0};
    done.set_directory = "does not exist";
    return done;
  }

  // The set's restore points discovered, walked and hashed (local_ or
  // store_ holds the set), then the format's verdicts.
  Outcome CheckPoints(const contracts::BackupSet& set_model) {
    const v1::Task& task = a_->task;
    std::atomic<bool>* lost = &a_->lost;
    const contracts::BackupSet* set = &set_model;
    const std::string tz = task.tenant_timezone().empty() ? "UTC" : task.tenant_timezone();
    auto found = store_ ? contracts::DiscoverRestorePointsIn(*set, *store_->store, store_->path,
                                                             store_->shown, tz)
                        : contracts::DiscoverRestorePointsAt(*set, local_->fd(), local_->path, tz);
    if (!found.ok()) return {Outcome::kError, std::string(found.status().message()), 0};
    for (const auto& w : found->warnings) {
      host_->Log("task " + std::to_string(task.id()) + " (" + task.backup_set().tenant() + "/" +
                 task.backup_set().name() + "): " + w);
    }
    // The set's algorithm (contentHash); with Task.rehash_from, the
    // catalogue's previous one too, from the same read.
    auto alg = contracts::ContentHashOf(task.backup_set());
    if (!alg.ok()) return {Outcome::kError, std::string(alg.status().message()), 0};
    alg_ = *alg;
    const uint32_t from = task.rehash_from();
    std::optional<storage::FileHasher> dual;
    if (from != 0 && from <= 255 && storage::IsKnownAlgorithm(static_cast<uint8_t>(from)) &&
        static_cast<storage::HashAlgorithm>(from) != alg_) {
      dual.emplace(alg_, static_cast<storage::HashAlgorithm>(from));
    } else {
      dual.emplace(alg_);
    }
    storage::FileHasher& hasher = *dual;
    budget_ = std::make_unique<IoBudget>(task.rate_limit_bytes_per_s());
    metadata_only_.clear();
    metadata_only_.insert(task.metadata_only_points().begin(), task.metadata_only_points().end());
    BatchWriter batches(host_, a_, host_->options().test_batch_delay_ms);
    for (const auto& p : found->points) {
      v1::RestorePointSeen* seen = batches.AddPoint();
      seen->set_time_ns(p.time_ns);
      seen->set_name(p.name);
      seen->set_time_source(p.time_source);
    }
    uint64_t emitted = 0;
    auto emit = [&](v1::Observation&& o) -> Outcome {
      if (!counted_) CountFile(o);  // (a point SameAsHeld read: counted then)
      ++emitted;
      return batches.Add(std::move(o));
    };
    linked_.clear();
    linked_index_.clear();
    cursor_ = 0;
    uint64_t reused = 0;  // hard-linked files whose digest was reused
    // Points the coordinator holds digests of (Task.held_points): sent as a
    // held marker when the walk finds the same. Not with a re-hash asked.
    std::map<int64_t, const v1::HeldPoint*> held;
    if (task.rehash_from() == 0) {
      for (const auto& h : task.held_points()) held[h.time_ns()] = &h;
    }
    uint64_t points_held = 0;
    // Directories of the set's reference point (Task.held_dirs), by path:
    // each point sent is digested directory by directory first, and a
    // directory found the same is one marker instead of its entries. Not
    // with a re-hash asked, nor through a store.
    HeldDirOffers dir_offers;
    if (task.rehash_from() == 0 && !store_) {
      for (const auto& d : task.held_dirs().dirs()) dir_offers[d.path()] = &d.offer();
    }
    dirs_held_ = 0;
    // A point found the same as its held digests: one marker with the
    // proofs instead of its entries. Not an entry: not counted in `emitted`
    // (an empty mirror held is still found empty below).
    auto send_held = [&](int64_t t, v1::ListingDigests&& proofs) -> Outcome {
      ForgetPoint();
      v1::Observation marker;
      marker.set_restore_point_ns(t);
      *marker.mutable_held() = std::move(proofs);
      ++points_held;
      return batches.Add(std::move(marker));
    };

    for (const auto& point : found->points) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (host_->stopped()) return {Outcome::kStopped, "", 0};
      Outcome r;
      const bool file_point = set->layout == contracts::Layout::kDatedFiles;
      if (store_ && file_point) {
        r = EmitStoreFilePoint(point, hasher, emit);
      } else if (store_) {
        // Through a store a second listing costs requests (and reading,
        // a second GET of every object): what the walk sees is kept while
        // it is compared, and sent if it differs — for points of at most
        // kMaxKept entries (when recorded).
        const bool read = metadata_only_.count(point.time_ns) == 0;
        auto h = held.find(point.time_ns);
        if (h == held.end() || h->second->entries() == 0 || h->second->entries() > MaxKept() / 2 ||
            (read && h->second->digests().content().empty())) {
          r = WalkStorePoint(point, hasher, lost, emit);
        } else {
          std::optional<v1::ListingDigests> same;
          std::vector<v1::Observation> kept;
          kept.reserve(h->second->entries());
          bool again = false;
          const v1::StoreEvidence before = evidence_;
          r = SameAsHeldInStore(point, hasher, lost, read, h->second->digests(), &same, &kept,
                                &again);
          if (r.kind != Outcome::kDone) return r;
          if (same) {
            if (Outcome e = send_held(point.time_ns, std::move(*same)); e.kind != Outcome::kDone) {
              return e;
            }
            continue;
          }
          for (v1::Observation& o : kept) {
            if (r = emit(std::move(o)); r.kind != Outcome::kDone) break;
          }
          if (again && r.kind == Outcome::kDone) {
            // The same objects: counted once, as the walk that is sent read
            // them.
            evidence_ = before;
            r = WalkStorePoint(point, hasher, lost, emit);
          }
          ForgetPoint();
        }
      } else if (file_point) {
        r = EmitFilePoint(*local_, point, hasher, emit);
      } else {
        const bool read = metadata_only_.count(point.time_ns) == 0;
        HeldDirsFound dirs;
        if (auto h = held.find(point.time_ns); h != held.end() || !dir_offers.empty()) {
          std::optional<v1::ListingDigests> same;
          r = SameAsHeld(*local_, point, hasher, &reused, lost, read,
                         h != held.end() ? &h->second->digests() : nullptr, dir_offers, &same,
                         &dirs);
          if (r.kind != Outcome::kDone) return r;
          if (same) {
            if (Outcome e = send_held(point.time_ns, std::move(*same)); e.kind != Outcome::kDone) {
              return e;
            }
            continue;
          }
        }
        // (A point SameAsHeld read and found changed: its files' digests
        // are reused, nothing is read twice; beneath a directory found
        // held, nothing is sent but its marker.)
        // (Hard-linked files reused in the walk that read the point are
        // counted there, once.)
        uint64_t reused_again = 0;
        r = WalkPoint(*local_, point, hasher, counted_ ? &reused_again : &reused, lost, read, emit,
                      dirs.empty() ? nullptr : &dirs);
        ForgetPoint();
        // The reference point itself sent (it changed): the coordinator
        // records it anew before the later points, so its directories no
        // longer stand for theirs (coordinator/ingest.cc,
        // CheckReferenceUnsent).
        if (task.has_held_dirs() && point.time_ns == task.held_dirs().reference_ns()) {
          dir_offers.clear();
        }
      }
      if (r.kind != Outcome::kDone) return r;
    }
    if (Outcome r = batches.Finish(); r.kind != Outcome::kDone) return r;
    // Every batch acknowledged before CompleteTask names the last one.
    if (Outcome r = batches.Flush(); r.kind != Outcome::kDone) return r;
    batches.Close();
    host_->Log("task " + std::to_string(task.id()) + ": " + std::to_string(found->points.size()) +
               " restore point(s), " +
               (store_ ? StoreCost() + ", "
                       : std::to_string(reused) + " hard-linked files not read again, " +
                             std::to_string(listings_reused_) +
                             " directories unchanged since listed (not read again), ") +
               std::to_string(points_held) +
               " held (the same as at the last check: entries not sent), " +
               std::to_string(dirs_held_) +
               " directories held (the same as the reference point's: entries not sent)");
    Outcome done{Outcome::kDone, "", batches.seq()};
    // No restore point (a mirror: nothing in it): say what the directory
    // held, for the scope finding.
    auto is_empty = [&] {
      return store_ ? IsEmptyStoreDir(*store_->store, store_->path) : IsEmptyDir(local_->fd());
    };
    if (found->points.empty()) {
      done.set_directory = is_empty() ? "empty" : "holds no restore point";
    } else if (set->layout == contracts::Layout::kMirror && emitted == 0 && is_empty()) {
      done.set_directory = "empty";
    }
    // The format's own verdicts, point by point (after the walk: the
    // catalogue's observations are durable first).
    for (const auto& point : found->points) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (host_->stopped()) return {Outcome::kStopped, "", 0};
      if (metadata_only_.count(point.time_ns) != 0) continue;  // not read this time
      const bool file_point = set->layout == contracts::Layout::kDatedFiles;
      // The point's directory beneath the set's, no link followed.
      const std::string pdir = point.name.empty() || file_point ? "" : point.name;
      const std::string prefix = point.name.empty() || file_point ? "" : point.name + "/";
      if (set->format == "bagit") {
        auto v = Bag(point.name, point.time_ns);
        if (!v.ok()) return {Outcome::kError, std::string(v.status().message()), 0};
        done.verdicts.push_back(std::move(*v));
      } else if (set->format == "sumfile" && !file_point) {
        if (Outcome r = SumFiles(pdir, prefix, point.time_ns, &done); r.kind != Outcome::kDone) {
          return r;
        }
      }
    }
    // dated-files: the checksum files beside the point files, once, as
    // point 0 (no point of the set: a problem marks none of them damaged).
    if (set->format == "sumfile" && set->layout == contracts::Layout::kDatedFiles) {
      if (Outcome r = SumFiles("", "", 0, &done); r.kind != Outcome::kDone) return r;
    }
    if (store_ && !done.verdicts.empty()) {  // what the format's reads added
      host_->Log("task " + std::to_string(task.id()) + ": " + set->format + " verdicts, " +
                 StoreCost());
    }
    for (const auto& v : done.verdicts) {
      if (!v.valid()) {
        host_->Log("task " + std::to_string(task.id()) + ": " + v.format() + " '" +
                   EscapeForTerminal(v.target()) + "' invalid (" + std::to_string(v.error_count()) +
                   " errors)" + (v.errors_size() > 0 ? ": " + v.errors(0) : ""));
      }
    }
    return done;
  }

  // The bag `target` of the set (local_ or store_ holds it).
  storage::StatusOr<v1::FormatVerdict> Bag(const std::string& target, int64_t point_ns) {
    if (store_) return CheckBag(*store_->store, store_->path, target, point_ns);
    return CheckBag(local_->fd(), target, point_ns);
  }

  // The checksum files of the set's directory `dir`, into done->verdicts.
  Outcome SumFiles(const std::string& dir, const std::string& prefix, int64_t point_ns,
                   Outcome* done) {
    std::vector<v1::FormatVerdict> vs;
    if (store_) {
      auto r = CheckSumFiles(*store_->store, store_->path, dir, prefix, point_ns);
      if (!r.ok()) return {Outcome::kError, std::string(r.status().message()), 0};
      vs = std::move(*r);
    } else {
      vs = CheckSumFiles(local_->fd(), dir, prefix, point_ns);
    }
    for (auto& v : vs) done->verdicts.push_back(std::move(v));
    return {Outcome::kDone, "", 0};
  }

  // A restic repository: verified with the native reader (blob by blob,
  // known packs skipped); its snapshots are the restore points, each with
  // one observation (its snapshot file); the verdict and the pack list go
  // with CompleteTask.
  // local_ or store_ holds the repository (read through a LocalStore or
  // the location's store: the same reader).
  Outcome RunRestic() {
    const v1::Task& task = a_->task;
    std::atomic<bool>* lost = &a_->lost;
    auto password = ReadResticPassword(host_->options().secrets, task.backup_set());
    if (!password.ok()) return {Outcome::kError, std::string(password.status().message()), 0};
    ResticTaskResult r =
        store_ ? CheckResticRepository(*store_->store, store_->path, store_->shown, *password, task)
               : CheckResticRepository(local_->fd(), local_->path, *password, task);
    if (!r.error.empty()) return {Outcome::kError, r.error, 0};
    if (*lost) return {Outcome::kLost, "", 0};
    if (host_->stopped()) return {Outcome::kStopped, "", 0};
    BatchWriter batches(host_, a_, /*delay_ms=*/0);
    for (const auto& p : r.points) *batches.AddPoint() = p;
    for (auto& o : r.observations) {
      if (Outcome f = batches.Add(std::move(o)); f.kind != Outcome::kDone) return f;
    }
    if (Outcome f = batches.Finish(); f.kind != Outcome::kDone) return f;
    batches.Close();
    const v1::FormatVerdict& v = r.verdict;
    host_->Log("task " + std::to_string(task.id()) + ": restic repository " +
               (v.valid() ? "valid" : "INVALID (" + std::to_string(v.error_count()) + " errors)") +
               ", " + std::to_string(r.points.size()) + " snapshot(s), " +
               std::to_string(v.packs_read()) + " pack(s) read, " +
               std::to_string(v.packs_skipped()) + " known pack(s) skipped" +
               (store_ ? ", " + StoreCost() : std::string()));
    Outcome done{Outcome::kDone, "", batches.seq()};
    done.verdicts.push_back(std::move(r.verdict));
    done.packs = std::move(r.packs);
    return done;
  }

 private:
  // Waits until reading `bytes` fits the task's read budget (heartbeats
  // run on their own thread meanwhile; a stop cuts the wait short).
  void Pace(uint64_t bytes) {
    if (!budget_) return;
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    int64_t at = budget_->Acquire(bytes, now);
    if (at > now) host_->Pause(std::chrono::nanoseconds(at - now));
  }
  // Counts a regular file walked (and its bytes when read) in the
  // attempt's progress.
  void CountFile(const v1::Observation& o) {
    if (o.type() != v1::ENTRY_TYPE_FILE) return;
    a_->progress.files.fetch_add(1, std::memory_order_relaxed);
    if (!o.digest().empty()) a_->progress.bytes.fetch_add(o.size(), std::memory_order_relaxed);
  }

  // The observation of a dated file point (its size and mtime as just
  // seen), read by `read` (a FileReading) unless the point is
  // metadata-only.
  template <typename Emit, typename Read>
  Outcome EmitPointFile(const contracts::DiscoveredPoint& point, uint64_t size, int64_t mtime_ns,
                        Read read, Emit& emit) {
    v1::Observation o;
    o.set_path(point.name);
    o.set_restore_point_ns(point.time_ns);
    o.set_size(size);
    o.set_mtime_ns(mtime_ns);
    o.set_type(v1::ENTRY_TYPE_FILE);
    if (metadata_only_.count(point.time_ns) != 0) {  // listed, not read
      o.set_not_read(true);
      return emit(std::move(o));
    }
    Pace(o.size());
    storage::FileReading r = read(o.size());
    if (!r.ok && r.error == ENOENT) {
      return {Outcome::kError, "restore point '" + point.name + "' vanished during the check", 0};
    }
    SetReading(r, &o);
    return emit(std::move(o));
  }

  template <typename Emit>
  Outcome EmitFilePoint(const SetDir& dir, const contracts::DiscoveredPoint& point,
                        storage::FileHasher& hasher, Emit& emit) {
    struct stat st {};
    if (Outcome r = CheckPointUnchanged(dir, point, false, &st); r.kind != Outcome::kDone) {
      return r;
    }
    const int fd = dir.fd();  // the point file: one component, read with O_NOFOLLOW
    return EmitPointFile(
        point, static_cast<uint64_t>(st.st_size),
        int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
        [&](uint64_t size) { return hasher.Read(fd, point.name.c_str(), size); }, emit);
  }

  template <typename Emit>
  Outcome EmitStoreFilePoint(const contracts::DiscoveredPoint& point, storage::FileHasher& hasher,
                             Emit& emit) {
    storage::StoreEntry st;
    if (Outcome r = CheckStorePointUnchanged(*store_, point, false, &st);
        r.kind != Outcome::kDone) {
      return r;
    }
    const std::string path = storage::JoinStorePath(store_->path, point.name);
    return EmitPointFile(
        point, st.size, st.mtime_ns,
        [&](uint64_t size) {
          return ReadObject(hasher, path, point.name, size, st.etag, st.checksum_sha256);
        },
        emit);
  }

  // Starts the observation of walked entry `e` of `point`; true when it is
  // a regular file whose content is still to be read (type FILE set),
  // false when the observation is complete (an entry that could not be
  // examined, a symbolic link with its target's digest, a special file).
  bool DescribeEntry(const storage::WalkEntry& e, const contracts::DiscoveredPoint& point,
                     v1::Observation* o) const {
    o->set_path(e.path);
    o->set_size(e.size);
    o->set_mtime_ns(e.mtime_ns);
    o->set_restore_point_ns(point.time_ns);
    if (e.is_directory || e.error != 0) {
      o->set_type(e.is_directory ? v1::ENTRY_TYPE_OTHER
                                 : static_cast<v1::EntryType>(static_cast<int>(e.type)));
      o->set_unreadable(true);
      o->set_error(e.error_text);
    } else if (e.type == storage::EntryType::kFile) {
      o->set_type(v1::ENTRY_TYPE_FILE);
      return true;
    } else if (e.type == storage::EntryType::kSymlink) {
      o->set_type(v1::ENTRY_TYPE_SYMLINK);
      o->set_link_target(e.link_target);
      storage::Digest d = storage::HashBytes(alg_, e.link_target);
      o->set_digest_algorithm(static_cast<uint32_t>(d.algorithm()));
      o->set_digest(std::string(d.view()));
    } else {
      o->set_type(v1::ENTRY_TYPE_OTHER);
    }
    return false;
  }

  // Whether `point` is what the coordinator's offers say: `held` (its
  // point's, Task.held_points; null: none) and `dir_offers` (the reference
  // point's directories, Task.held_dirs). A point to be `read`: walked
  // reading every file (hard-linked ones once per task), its listing and
  // content digested, the digests of its files kept until ForgetPoint()
  // (but those beneath a directory found held: not needed again); a
  // metadata-only point: its listing walked (nothing read) and digested.
  // `*same` is set to the proofs to send in a held marker, left empty when
  // the point differs: its entries are then sent by a walk of their own,
  // which reads nothing again (one more stat walk for a changed point, no
  // second read) and sends one marker for each directory in `*dirs` (those
  // found the same as the reference's, none beneath another, in catalogue
  // order) instead of the entries beneath it.
  Outcome SameAsHeld(const SetDir& dir, const contracts::DiscoveredPoint& point,
                     storage::FileHasher& hasher, uint64_t* reused, std::atomic<bool>* lost,
                     bool read, const v1::ListingDigests* held, const HeldDirOffers& dir_offers,
                     std::optional<v1::ListingDigests>* same, HeldDirsFound* dirs) {
    // The coordinator's offers and the proofs it wants (listing_digest.h).
    const uint64_t task = a_->task.id();
    const uint32_t attempt = a_->task.attempt();
    // Never read whole and consistent: no content to compare the point with.
    if (read && held != nullptr && held->content().empty()) held = nullptr;
    if (held == nullptr && dir_offers.empty()) return {};
    // Whether directory `d` is the same as the reference's (its offer).
    auto same_dir = [&](DirDigester::Dir& d, const v1::ListingDigests& offer) {
      if (!read) d.digests.clear_content();
      const v1::ListingDigests mine = HeldDirOffer(d, task, attempt);
      if (mine.listing() != offer.listing()) return false;
      return !read || (!offer.content().empty() && mine.content() == offer.content());
    };
    // Offered directories of a point offered whole too: compared only if
    // the point differs (most do not).
    std::vector<std::pair<DirDigester::Dir, const v1::ListingDigests*>> later;
    // The point's digests, and each directory's on the way (one pass: the
    // point's are its root directory's).
    ListingDigester digester([&](DirDigester::Dir&& d) {
      if (dir_offers.empty()) return;
      auto it = dir_offers.find(d.path);
      if (it == dir_offers.end()) return;
      if (held != nullptr) {
        later.emplace_back(std::move(d), it->second);
        return;
      }
      if (!same_dir(d, *it->second)) return;
      ForgetBeneath(d.path);
      dirs->emplace_back(d.path, HeldDirProof(d, point.time_ns, task, attempt));
    });
    uint64_t files = 0;  // counted in the attempt's progress if held (a listing)
    auto digested = [&](v1::Observation&& o) -> Outcome {
      if (read) {
        CountFile(o);
      } else if (o.type() == v1::ENTRY_TYPE_FILE) {
        ++files;
      }
      digester.Add(o);
      return {};
    };
    if (read) {
      remember_ = true;  // until ForgetPoint(), after the point is sent
      counted_ = true;   // its files are counted in the progress now
    }
    Outcome r = WalkPoint(dir, point, hasher, reused, lost, read, digested);
    if (r.kind != Outcome::kDone) return r;
    const v1::ListingDigests d = digester.Finish(read);
    if (held != nullptr) {
      const v1::ListingDigests offer = HeldOffer(d, task, attempt);
      if (offer.listing() == held->listing() && (!read || offer.content() == held->content())) {
        *same = HeldProof(d, task, attempt);
        if (!read) a_->progress.files.fetch_add(files, std::memory_order_relaxed);
        return {};
      }
    }
    for (auto& [dir, offer] : later) {
      if (same_dir(dir, *offer)) {
        dirs->emplace_back(dir.path, HeldDirProof(dir, point.time_ns, task, attempt));
      }
    }
    // The directories to send as held: in catalogue order, none beneath
    // another (a directory is reported after those beneath it).
    std::sort(dirs->begin(), dirs->end(), [](const auto& a, const auto& b) {
      return storage::ComparePathOrder(a.first, b.first) < 0;
    });
    HeldDirsFound outer;
    for (auto& d : *dirs) {
      if (!outer.empty() && Beneath(d.first, outer.back().first)) continue;
      outer.push_back(std::move(d));
    }
    dirs->swap(outer);
    return {};
  }

  // Whether relative path `p` is beneath directory `dir`.
  static bool Beneath(std::string_view p, std::string_view dir) {
    return p.size() > dir.size() && p.starts_with(dir) && p[dir.size()] == '/';
  }

  // The digests kept of the files beneath `dir` (found held: not read
  // again, not sent) are dropped, so that what is kept while a point is
  // compared follows what changed. They are the last kept (a directory's
  // entries are contiguous), but for the entry being added when the
  // digester left the directory.
  void ForgetBeneath(const std::string& dir) {
    std::optional<std::pair<std::string, InodeKey>> last;
    if (!remembered_order_.empty() && !Beneath(remembered_order_.back().first, dir)) {
      last = std::move(remembered_order_.back());
      remembered_order_.pop_back();
    }
    while (!remembered_order_.empty() && Beneath(remembered_order_.back().first, dir)) {
      remembered_.erase(remembered_order_.back().second);
      remembered_order_.pop_back();
    }
    if (last) remembered_order_.push_back(std::move(*last));
  }

  // The same for a point read through a store, walked once: every
  // observation is kept in `*kept` (at most kMaxKept) for the caller to
  // send if the point differs. One that grew past kMaxKept since it was
  // recorded and differs sets `*walk_again`: the caller walks (and reads)
  // it a second time to send it.
  Outcome SameAsHeldInStore(const contracts::DiscoveredPoint& point, storage::FileHasher& hasher,
                            std::atomic<bool>* lost, bool read, const v1::ListingDigests& held,
                            std::optional<v1::ListingDigests>* same,
                            std::vector<v1::Observation>* kept, bool* walk_again) {
    const uint64_t task = a_->task.id();
    const uint32_t attempt = a_->task.attempt();
    ListingDigester digester;
    uint64_t files = 0;  // counted in the attempt's progress if held (a listing)
    bool overflow = false;
    if (read) counted_ = true;  // its files are counted in the progress now
    auto keep = [&](v1::Observation&& o) -> Outcome {
      if (read) {
        CountFile(o);
      } else if (o.type() == v1::ENTRY_TYPE_FILE) {
        ++files;
      }
      digester.Add(o);
      if (!overflow && kept->size() < MaxKept()) {
        kept->push_back(std::move(o));
      } else if (!overflow) {
        overflow = true;
        std::vector<v1::Observation>().swap(*kept);
      }
      return {};
    };
    Outcome r = WalkStorePoint(point, hasher, lost, keep);
    if (r.kind != Outcome::kDone) return r;
    const v1::ListingDigests d = digester.Finish(read);
    const v1::ListingDigests offer = HeldOffer(d, task, attempt);
    if (offer.listing() == held.listing() && (!read || offer.content() == held.content())) {
      *same = HeldProof(d, task, attempt);
      if (!read) a_->progress.files.fetch_add(files, std::memory_order_relaxed);
      return {};
    }
    *walk_again = overflow;
    return {};
  }

  // The end of a point SameAsHeld read: the digests it kept of files that
  // are not hard-linked are dropped.
  void ForgetPoint() {
    remembered_.clear();
    remembered_order_.clear();
    remember_ = false;
    counted_ = false;
  }

  template <typename Emit>
  Outcome WalkPoint(const SetDir& dir, const contracts::DiscoveredPoint& point,
                    storage::FileHasher& hasher, uint64_t* reused, std::atomic<bool>* lost,
                    bool read, Emit& emit, const HeldDirsFound* held_dirs = nullptr) {
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
    // Directories unchanged since a check listed them (same ctime) are not
    // read again (storage/listing_cache.h).
    (*walker)->set_listing_cache(host_->listing_cache());
    // A hard-linked file met again under another name (rsnapshot's and
    // dated folders' unchanged files, one per point) is not stat'ed again
    // within kInodeStatFreshNs: its inode's size and mtime as stat'ed then.
    (*walker)->set_known_inode([this](dev_t dev, ino_t ino, storage::WalkEntry* e) {
      const KnownInode* k = FindLinked({dev, ino});
      if (k == nullptr || k->stat_at_ns == 0 || SteadyNs() - k->stat_at_ns > kInodeStatFreshNs) {
        return false;  // stat'ed again (and recorded again)
      }
      e->size = k->size;
      e->mtime_ns = k->mtime_ns;
      e->ctime_ns = k->ctime_ns;
      e->nlink = k->nlink;
      return true;
    });
    InodeStatsWalker caching{**walker, *this};
    Outcome walked = EmitWalk(
        caching, point, lost, read, emit,
        [&](const storage::WalkEntry& e, v1::Observation* o) {
          const LinkedRead* seen = nullptr;
          if (e.nlink > 1) {
            const KnownInode* k = FindLinked({e.dev, e.ino});
            seen = k != nullptr ? k->read.get() : nullptr;
          } else if (remember_) {
            auto it = remembered_.find({e.dev, e.ino});
            seen = it != remembered_.end() ? &it->second : nullptr;
          }
          if (seen != nullptr && seen->size == e.size && seen->mtime_ns == e.mtime_ns &&
              seen->ctime_ns == e.ctime_ns) {
            o->set_digest_algorithm(seen->algorithm);
            o->set_digest(seen->digest);
            o->set_previous_digest_algorithm(seen->previous_algorithm);
            o->set_previous_digest(seen->previous_digest);
            if (seen->sample.format() != 0) *o->mutable_sample() = seen->sample;
            if (e.nlink > 1) ++*reused;
            return true;
          }
          Pace(e.size);
          // (A directory listed from the worker's memory is opened now: gone,
          // or another directory under its name, its files vanished.)
          const int dfd = e.dir->fd();
          storage::FileReading r;
          if (dfd >= 0) {
            r = hasher.Read(dfd, e.name.c_str(), e.size);
          } else {
            r.error = errno;
            r.error_text = std::string("cannot open its directory: ") + std::strerror(r.error);
          }
          if (!r.ok && r.error == ENOENT) return false;  // vanished since the walk
          SetReading(r, o);
          const bool keep = e.nlink > 1 || (remember_ && remembered_.size() < kMaxRemembered);
          if (r.ok && keep && r.bytes == e.size) {
            LinkedRead read{e.size,
                            e.mtime_ns,
                            e.ctime_ns,
                            o->digest_algorithm(),
                            o->digest(),
                            o->previous_digest_algorithm(),
                            o->previous_digest(),
                            o->sample()};
            if (e.nlink > 1) {
              LinkedAt({e.dev, e.ino}).read = std::make_unique<LinkedRead>(std::move(read));
            } else if (remembered_.insert_or_assign({e.dev, e.ino}, std::move(read)).second) {
              remembered_order_.emplace_back(e.path, InodeKey{e.dev, e.ino});
            }
          }
          return true;
        },
        held_dirs);
    listings_reused_ += (*walker)->listings_reused();
    return walked;
  }

  // The same over the set's store: StoreWalker in the same order, each
  // file read through the store (a store has no hard links: nothing is
  // reused).
  template <typename Emit>
  Outcome WalkStorePoint(const contracts::DiscoveredPoint& point, storage::FileHasher& hasher,
                         std::atomic<bool>* lost, Emit& emit) {
    const StoreSetDir& dir = *store_;
    if (!point.name.empty()) {
      storage::StoreEntry st;
      if (Outcome r = CheckStorePointUnchanged(dir, point, true, &st); r.kind != Outcome::kDone) {
        return r;
      }
    }
    const std::string root =
        point.name.empty() ? dir.path : storage::JoinStorePath(dir.path, point.name);
    auto walker = storage::StoreWalker::Open(
        *dir.store, root, point.name.empty() ? dir.shown : dir.shown + "/" + point.name);
    if (!walker.ok()) return {Outcome::kError, std::string(walker.status().message()), 0};
    return EmitWalk(**walker, point, lost, metadata_only_.count(point.time_ns) == 0, emit,
                    [&](const storage::WalkEntry& e, v1::Observation* o) {
                      Pace(e.size);
                      storage::FileReading r =
                          ReadObject(hasher, storage::JoinStorePath(root, e.path),
                                     point.name.empty() ? e.path : point.name + "/" + e.path,
                                     e.size, e.etag, e.checksum_sha256);
                      if (!r.ok && r.error == ENOENT) return false;  // vanished since the walk
                      SetReading(r, o);
                      return true;
                    });
  }

  // Emits an observation for every entry `walker` (TreeWalker or
  // StoreWalker) yields of `point`; `read(e, &o)` fills in a regular
  // file's content (false: it vanished, no observation) when `read_files`,
  // else the files are listed without reading (not_read).
  template <typename Walker, typename Emit, typename Read>
  Outcome EmitWalk(Walker& walker, const contracts::DiscoveredPoint& point, std::atomic<bool>* lost,
                   bool read_files, Emit& emit, Read read,
                   const HeldDirsFound* held_dirs = nullptr) {
    const bool listed_only = !read_files;
    storage::WalkEntry e;
    // One message for every entry: one `emit` moves into its batch leaves
    // empty, one `emit` only reads (a point SameAsHeld walks) keeps its
    // buffers for the next.
    v1::Observation o;
    // The next held directory (SameAsHeld), and whether the walk is
    // beneath the one before it.
    size_t next_held = 0;
    bool in_held = false;
    while (walker.Next(&e)) {
      if (*lost) return {Outcome::kLost, "", 0};
      if (host_->stopped()) return {Outcome::kStopped, "", 0};
      if (held_dirs != nullptr) {
        if (in_held && Beneath(e.path, (*held_dirs)[next_held - 1].first)) continue;
        in_held = false;
        // Held directories with nothing beneath them any more are passed
        // (their entries are then missing, as the walk saw them).
        while (next_held < held_dirs->size() &&
               storage::ComparePathOrder((*held_dirs)[next_held].first, e.path) < 0 &&
               !Beneath(e.path, (*held_dirs)[next_held].first)) {
          ++next_held;
        }
        if (next_held < held_dirs->size() && Beneath(e.path, (*held_dirs)[next_held].first)) {
          // Where its entries would be: one marker, and nothing beneath it
          // read or sent.
          const auto& [path, proofs] = (*held_dirs)[next_held++];
          in_held = true;
          ++dirs_held_;
          o.Clear();
          o.set_path(path);
          o.set_restore_point_ns(point.time_ns);
          *o.mutable_held_dir() = proofs;
          if (Outcome r = emit(std::move(o)); r.kind != Outcome::kDone) return r;
          continue;
        }
      }
      o.Clear();
      if (DescribeEntry(e, point, &o)) {
        if (listed_only) {
          o.set_not_read(true);  // listed by the scheduler's choice, not read
        } else if (!read(e, &o)) {
          continue;
        }
      }
      if (Outcome r = emit(std::move(o)); r.kind != Outcome::kDone) return r;
    }
    return {};
  }

  // What a read gave: the size read and the digests, or unreadable with
  // the reason.
  static void SetReading(const storage::FileReading& r, v1::Observation* o) {
    if (r.ok) {
      o->set_size(r.bytes);
      SetDigests(r, o);
    } else {
      o->set_unreadable(true);
      o->set_error(r.error_text);
    }
  }

  // A file's digest in the set's algorithm, and in Task.rehash_from's when
  // the hasher has it; and what its content looked like (the hasher's
  // sample of the same read).
  static void SetDigests(const storage::FileReading& r, v1::Observation* o) {
    if (r.sample.sampled()) {
      o->mutable_sample()->set_format(static_cast<uint32_t>(r.sample.format));
      o->mutable_sample()->set_entropy(r.sample.entropy);
    }
    o->set_digest_algorithm(static_cast<uint32_t>(r.digest.algorithm()));
    o->set_digest(std::string(r.digest.view()));
    if (!r.also_digest.empty()) {
      o->set_previous_digest_algorithm(static_cast<uint32_t>(r.also_digest.algorithm()));
      o->set_previous_digest(std::string(r.also_digest.view()));
    }
  }

  TaskHost* host_;
  Attempt* a_;
  // Where the set is read: its directory on disk, or (a remote location)
  // its directory in the location's store. One of them is set by Run.
  std::optional<SetDir> local_;
  std::optional<StoreSetDir> store_;
  // A remote location: what its store said (AskStore, ReadObject), and
  // whether its bucket has Object Lock on (each object's retention asked).
  v1::StoreEvidence evidence_;
  bool lock_on_ = false;
  // The set's digest algorithm (its contentHash).
  storage::HashAlgorithm alg_ = storage::HashAlgorithm::kXxh3_128;
  // The read budget is the attempt's own: tasks of one location running at
  // once each get the location's full rate.
  std::unique_ptr<IoBudget> budget_;
  // Points of the task listed without reading their content.
  std::set<int64_t> metadata_only_;
  // What this task knows of a hard-linked regular file of the set (more
  // than one link), by (device, inode):
  //   - its stat, at stat_at_ns (SteadyNs; 0: not stat'ed), standing for
  //     its other names for kInodeStatFreshNs (TreeWalker::set_known_inode);
  //   - its content as read in this task, reused while its size, mtime and
  //     ctime match: rsnapshot's points and `cp -al` dated folders share
  //     unchanged files, each read once per task.
  struct KnownInode {
    std::pair<dev_t, ino_t> key;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    nlink_t nlink = 0;
    int64_t stat_at_ns = 0;
    std::unique_ptr<LinkedRead> read;
  };
  using InodeKey = std::pair<dev_t, ino_t>;
  // How long an inode's stat stands for its other names: a file changed in
  // place is seen by the walk at most this late (as any walk sees a file as
  // it was when it reached it).
  static constexpr int64_t kInodeStatFreshNs = 60'000'000'000;
  // CLOCK_MONOTONIC_COARSE: a few milliseconds of resolution are enough
  // for a minute's bound, and it is read per entry.
  static int64_t SteadyNs() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
  // The hard-linked file `key`, nullptr if not met yet in this task. The
  // points of a set list their shared files in the same order, so they are
  // kept in the order first met (linked_) and the one after the last found
  // is tried first: a look at the next slot rather than a hash lookup, the
  // table's one cache miss per entry gone.
  KnownInode* FindLinked(const InodeKey& key) {
    if (cursor_ < linked_.size()) {
      if (linked_[cursor_].key == key) return &linked_[cursor_];  // (its stat, then its read)
      if (cursor_ + 1 < linked_.size() && linked_[cursor_ + 1].key == key) {
        return &linked_[++cursor_];
      }
    }
    auto it = linked_index_.find(key);
    if (it == linked_index_.end()) return nullptr;
    cursor_ = it->second;
    return &linked_[cursor_];
  }
  // The hard-linked file `key`, added if not met yet (the reference is good
  // until the next call: linked_ may grow).
  KnownInode& LinkedAt(const InodeKey& key) {
    if (KnownInode* k = FindLinked(key); k != nullptr) return *k;
    linked_index_.emplace(key, linked_.size());
    cursor_ = linked_.size();
    KnownInode& k = linked_.emplace_back();
    k.key = key;
    return k;
  }
  std::vector<KnownInode> linked_;
  absl::flat_hash_map<InodeKey, size_t> linked_index_;
  size_t cursor_ = 0;  // the slot of linked_ last found or added
  // While a point offered as held is read (SameAsHeld) and, if it differs,
  // walked again to be sent: the digests of its files that are not
  // hard-linked (remember_), so that the second walk reads nothing again;
  // dropped once the point is done (ForgetPoint). At most kMaxRemembered of
  // them (about 250 bytes each with the table's slot and the digests' heap
  // strings: 64 MB); beyond, the second walk reads those files again.
  static constexpr size_t kMaxRemembered = 1 << 18;
  // Observations of a point read through a store kept while it is compared
  // with its held digests (SameAsHeldInStore; 300-400 bytes each with their
  // strings and sample: about 50 MB per task at most). Only points recorded
  // with at most half as many entries are compared.
  static constexpr size_t kMaxKept = 1 << 17;
  size_t MaxKept() const {
    const size_t test = host_->options().test_max_kept;
    return test != 0 ? test : kMaxKept;
  }
  absl::flat_hash_map<InodeKey, LinkedRead> remembered_;
  // remembered_'s keys in the order added, with their paths (ForgetBeneath).
  std::vector<std::pair<std::string, InodeKey>> remembered_order_;
  // Held directory markers sent by the task.
  uint64_t dirs_held_ = 0;
  // A TreeWalker that records in the run's linked_ each hard-linked regular
  // file it stat'ed.
  struct InodeStatsWalker {
    storage::TreeWalker& walker;
    CheckRun& run;
    bool Next(storage::WalkEntry* e) {
      if (!walker.Next(e)) return false;
      if (e->error == 0 && e->type == storage::EntryType::kFile && e->nlink > 1 &&
          !e->stat_pending && !e->from_known_inode) {
        KnownInode& k = run.LinkedAt({e->dev, e->ino});
        k.size = e->size;
        k.mtime_ns = e->mtime_ns;
        k.ctime_ns = e->ctime_ns;
        k.nlink = e->nlink;
        k.stat_at_ns = SteadyNs();
      }
      return true;
    }
  };
  bool remember_ = false;
  bool counted_ = false;  // the point's files are in the progress already
  // Directories whose listing came from the worker's ListingCache.
  uint64_t listings_reused_ = 0;
};

}  // namespace

Outcome RunCheck(TaskHost* host, Attempt* attempt) { return CheckRun(host, attempt).Run(); }

std::vector<std::string> SurveyLocation(storage::Store& store) {
  constexpr size_t kMaxDirs = 10'000;
  std::vector<std::string> out;
  // The directories directly in `dir`, sorted, hidden ones skipped; none
  // when it cannot be listed.
  auto list = [&store](const std::string& dir) {
    std::vector<std::string> names;
    storage::Status s = store.List(dir, [&names](storage::StoreEntry&& e) {
      if (e.type == storage::StoreEntryType::kDirectory && !e.name.empty() && e.name[0] != '.') {
        names.push_back(std::move(e.name));
      }
      return names.size() < kMaxDirs;  // a wider level is not read further
    });
    if (!s.ok()) names.clear();
    std::sort(names.begin(), names.end());
    return names;
  };
  for (const std::string& a : list("")) {
    for (const std::string& b : list(a)) {
      if (out.size() >= kMaxDirs) return out;
      out.push_back(a + "/" + b);
    }
  }
  return out;
}

std::vector<std::string> SurveyLocation(const std::string& root) {
  auto store = storage::LocalStore::Open(root);
  if (!store.ok()) return {};
  return SurveyLocation(**store);
}

}  // namespace vigil::worker
