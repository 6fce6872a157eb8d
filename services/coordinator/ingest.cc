#include "services/coordinator/ingest.h"

#include "services/coordinator/keys.h"
#include "storage/diff.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

Status ValidateBatch(const v1::ObservationBatch& batch) {
  if (batch.observations_size() > kMaxObservationsPerBatch) {
    return absl::InvalidArgumentError("batch " + std::to_string(batch.seq()) + " holds " +
                                      std::to_string(batch.observations_size()) +
                                      " observations (at most " +
                                      std::to_string(kMaxObservationsPerBatch) + ")");
  }
  if (batch.seq() == 0) return absl::InvalidArgumentError("batch seq must start at 1");
  for (const auto& o : batch.observations()) {
    if (!storage::IsValidRelativePath(o.path())) {
      return absl::InvalidArgumentError("observation path '" + o.path() +
                                        "' is not a valid relative path");
    }
    if (o.type() < v1::ENTRY_TYPE_FILE || o.type() > v1::ENTRY_TYPE_OTHER) {
      return absl::InvalidArgumentError("observation '" + o.path() + "': unknown entry type");
    }
    if (!o.digest().empty() || o.digest_algorithm() != 0) {
      if (o.digest_algorithm() > 255 ||
          !storage::IsKnownAlgorithm(static_cast<uint8_t>(o.digest_algorithm()))) {
        return absl::InvalidArgumentError("observation '" + o.path() +
                                          "': unknown digest algorithm");
      }
      auto alg = static_cast<storage::HashAlgorithm>(o.digest_algorithm());
      if (o.digest().size() != storage::DigestSize(alg)) {
        return absl::InvalidArgumentError("observation '" + o.path() + "': digest of " +
                                          std::to_string(o.digest().size()) + " bytes for " +
                                          std::string(storage::AlgorithmName(alg)));
      }
    }
  }
  return absl::OkStatus();
}

StatusOr<uint64_t> LastAcked(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
  std::string v;
  Status s = kv->Get(Space::kTasks, keys::Acked(task, attempt), &v);
  if (absl::IsNotFound(s)) return 0;
  if (!s.ok()) return s;
  return keys::ReadU64(v);
}

StatusOr<uint64_t> StageBatch(storage::KvStore* kv, const v1::ObservationBatch& batch) {
  auto last = LastAcked(kv, batch.task_id(), batch.attempt());
  if (!last.ok()) return last.status();
  if (batch.seq() <= *last) return *last;  // already durable: ack again, store nothing
  if (batch.seq() != *last + 1) {
    return absl::OutOfRangeError("batch seq " + std::to_string(batch.seq()) +
                                 " leaves a gap; last acknowledged seq is " +
                                 std::to_string(*last));
  }
  storage::KvBatch b;
  b.Put(Space::kTasks, keys::Staged(batch.task_id(), batch.attempt(), batch.seq()),
        batch.SerializeAsString());
  std::string v;
  keys::AppendU64(&v, batch.seq());
  b.Put(Space::kTasks, keys::Acked(batch.task_id(), batch.attempt()), v);
  if (Status s = kv->Write(b, {.sync = true}); !s.ok()) return s;
  return batch.seq();
}

namespace {

storage::Observation ToObservation(const v1::Observation& o) {
  storage::Observation r;
  r.path = o.path();
  r.type = static_cast<storage::EntryType>(o.type());
  r.size = o.size();
  r.mtime_ns = o.mtime_ns();
  if (!o.digest().empty()) {
    r.digest =
        storage::Digest(static_cast<storage::HashAlgorithm>(o.digest_algorithm()),
                        {reinterpret_cast<const uint8_t*>(o.digest().data()), o.digest().size()});
  }
  r.link_target = o.link_target();
  r.unreadable = o.unreadable();
  r.error = o.error();
  return r;
}

// Pulls the staged observations of one attempt in seq order.
class StagedSource {
 public:
  StagedSource(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
    std::string prefix = keys::StagedPrefix(task, attempt);
    it_ = kv->NewIterator(Space::kTasks,
                          {.upper_bound = storage::PrefixSuccessor(prefix), .bulk = true});
    it_->Seek(prefix);
  }
  bool Next(storage::Observation* out) {
    while (next_ >= batch_.observations_size()) {
      if (!status_.ok() || !it_->Valid()) {
        if (status_.ok()) status_ = it_->status();
        return false;
      }
      if (!batch_.ParseFromArray(it_->value().data(), static_cast<int>(it_->value().size()))) {
        status_ = absl::DataLossError("staged observation batch does not decode");
        return false;
      }
      next_ = 0;
      it_->Next();
    }
    *out = ToObservation(batch_.observations(next_++));
    ++count_;
    return true;
  }
  Status status() const { return status_; }
  uint64_t count() const { return count_; }

 private:
  std::unique_ptr<storage::KvIterator> it_;
  v1::ObservationBatch batch_;
  int next_ = 0;
  Status status_;
  uint64_t count_ = 0;
};

}  // namespace

StatusOr<MergeResult> MergeStaged(storage::Catalogue& cat, const v1::BackupSet& set, uint64_t task,
                                  uint32_t attempt, int64_t now_ns, const std::string& marker_key) {
  storage::Scope scope{set.tenant(), set.name(), 0};
  StagedSource source(cat.kv(), task, attempt);
  storage::Catalogue::Writer w(&cat, scope);
  storage::DiffOptions opts;
  opts.mutable_set = set.mutable_();
  storage::DiffCounts counts;

  auto verify_ok = [&](std::string_view path) {
    storage::VerifyRecord v;
    v.last_verified_ns = v.last_checked_ns = now_ns;
    return w.PutVerify(path, v);
  };
  auto problem = [&](std::string_view path, storage::EntryState state,
                     const storage::Observation* obs) {
    storage::VerifyRecord v;
    v.state = state;
    v.last_checked_ns = now_ns;
    if (obs != nullptr) {
      v.first_reading = obs->digest;
      v.observed_size = obs->size;
      v.detail = obs->error;
    }
    return w.PutVerify(path, v);
  };
  auto sink = [&](const storage::DiffEvent& ev) -> Status {
    switch (ev.kind) {
      case storage::DiffKind::kAdded:
        if (ev.observed->unreadable) return absl::OkStatus();  // nothing to record yet
        return w.PutEntry(ev.path, storage::RecordOf(*ev.observed, now_ns));
      case storage::DiffKind::kUnchanged:
        if (ev.observed->mtime_ns != ev.recorded->mtime_ns) {  // touched only
          storage::EntryRecord r = *ev.recorded;
          r.mtime_ns = ev.observed->mtime_ns;
          if (Status s = w.PutEntry(ev.path, r, ev.recorded); !s.ok()) return s;
        }
        return verify_ok(ev.path);
      case storage::DiffKind::kUpdated: {
        Status s = w.PutEntry(ev.path, storage::RecordOf(*ev.observed, ev.recorded->first_seen_ns),
                              ev.recorded);
        return s.ok() ? verify_ok(ev.path) : s;
      }
      case storage::DiffKind::kModified:
        return problem(ev.path, storage::EntryState::kModified, ev.observed);
      case storage::DiffKind::kMissing:
        return problem(ev.path, storage::EntryState::kMissing, nullptr);
      case storage::DiffKind::kUnreadable:
        return problem(ev.path, storage::EntryState::kUnreadable, ev.observed);
      case storage::DiffKind::kNotRead:
        return absl::OkStatus();
    }
    return absl::OkStatus();
  };
  Status s = storage::DiffRestorePoint(
      cat, scope, [&](storage::Observation* o) { return source.Next(o); }, opts, sink, &counts);
  if (s.ok()) s = source.status();
  if (!s.ok()) return s;
  MergeResult r;
  r.counts.set_unchanged(counts.unchanged);
  r.counts.set_modified(counts.modified);
  r.counts.set_updated(counts.updated);
  r.counts.set_missing(counts.missing);
  r.counts.set_added(counts.added);
  r.counts.set_unreadable(counts.unreadable);
  r.entries = source.count();
  v1::Task marker;
  *marker.mutable_counts() = r.counts;
  marker.set_entries(r.entries);
  w.PutMeta(marker_key, marker.SerializeAsString());  // atomic with the last batch
  if (Status c = w.Commit(/*sync=*/true); !c.ok()) return c;
  return r;
}

void DropStaged(storage::KvBatch* b, uint64_t task) {
  std::string sp = keys::StagedPrefixOfTask(task);
  b->DeleteRange(Space::kTasks, sp, storage::PrefixSuccessor(sp));
  std::string ap = "A";
  keys::AppendU64(&ap, task);
  b->DeleteRange(Space::kTasks, ap, storage::PrefixSuccessor(ap));
}

}  // namespace vigil::coordinator
