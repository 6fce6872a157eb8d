#include "services/coordinator/ingest.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
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

namespace {

// The ack record of an attempt: last acknowledged seq, and the restore point
// of its last observation (nullopt before the first one).
struct AckState {
  uint64_t seq = 0;
  std::optional<int64_t> last_point;
};

StatusOr<AckState> LoadAck(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
  std::string v;
  Status s = kv->Get(Space::kTasks, keys::Acked(task, attempt), &v);
  AckState a;
  if (absl::IsNotFound(s)) return a;
  if (!s.ok()) return s;
  a.seq = keys::ReadU64(v);
  if (v.size() >= 16) a.last_point = static_cast<int64_t>(keys::ReadU64(v.substr(8)));
  return a;
}

std::string PointText(int64_t ns) { return std::to_string(ns); }

Status CheckListing(const google::protobuf::RepeatedPtrField<v1::RestorePointSeen>& points) {
  for (int i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!p.name().empty() && !storage::IsValidRelativePath(p.name())) {
      return absl::InvalidArgumentError("field 'points': name '" + p.name() + "' of point " +
                                        PointText(p.time_ns()) + " is not a valid relative path");
    }
    if (i > 0 && p.time_ns() <= points[i - 1].time_ns()) {
      return absl::InvalidArgumentError("field 'points': times must be unique and ascending, got " +
                                        PointText(points[i - 1].time_ns()) + " then " +
                                        PointText(p.time_ns()));
    }
  }
  return absl::OkStatus();
}

std::vector<v1::RestorePointSeen> DefaultListing(const v1::BackupSet& set) {
  std::vector<v1::RestorePointSeen> l;
  if (IsMirrorLayout(set)) {
    l.emplace_back();
    l.back().set_time_source("none");
  }
  return l;
}

}  // namespace

bool IsMirrorLayout(const v1::BackupSet& set) {
  return set.layout().empty() || set.layout() == "mirror";
}

StatusOr<std::vector<v1::RestorePointSeen>> ListedPoints(storage::KvStore* kv,
                                                         const v1::BackupSet& set, uint64_t task,
                                                         uint32_t attempt) {
  std::string v;
  Status s = kv->Get(Space::kTasks, keys::Staged(task, attempt, 1), &v);
  if (absl::IsNotFound(s)) return DefaultListing(set);
  if (!s.ok()) return s;
  // Only field 5 (points) is decoded: the observations, read at every batch
  // of the attempt, are skipped on the wire.
  std::vector<v1::RestorePointSeen> points;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(v.data()),
                                            static_cast<int>(v.size()));
  using google::protobuf::internal::WireFormatLite;
  while (uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == 5 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string bytes;
      if (!WireFormatLite::ReadBytes(&in, &bytes) ||
          !points.emplace_back().ParseFromString(bytes)) {
        return absl::DataLossError("staged observation batch does not decode");
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return absl::DataLossError("staged observation batch does not decode");
    }
  }
  if (!in.ConsumedEntireMessage()) {
    return absl::DataLossError("staged observation batch does not decode");
  }
  if (points.empty()) return DefaultListing(set);
  return points;
}

namespace {

// The restore-point rules for one batch that is the next of its attempt,
// given the attempt's listing and the point of its last observation;
// advances `last`.
Status CheckBatchPoints(const std::vector<v1::RestorePointSeen>& listing,
                        std::optional<int64_t>* last, const v1::ObservationBatch& batch) {
  for (const auto& o : batch.observations()) {
    const int64_t rp = o.restore_point_ns();
    if (*last && rp < **last) {
      return absl::InvalidArgumentError("observation '" + o.path() +
                                        "': field 'restore_point_ns' " + PointText(rp) +
                                        " comes after restore point " + PointText(**last) +
                                        " (points must come in ascending time)");
    }
    if (!*last || rp != **last) {
      auto it = std::lower_bound(
          listing.begin(), listing.end(), rp,
          [](const v1::RestorePointSeen& p, int64_t t) { return p.time_ns() < t; });
      bool listed = it != listing.end() && it->time_ns() == rp;
      if (!listed) {
        return absl::InvalidArgumentError("observation '" + o.path() +
                                          "': field 'restore_point_ns' " + PointText(rp) +
                                          " is not among the listed restore points");
      }
    }
    *last = rp;
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<uint64_t> LastAcked(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
  auto a = LoadAck(kv, task, attempt);
  if (!a.ok()) return a.status();
  return a->seq;
}

StageResult StageBatches(storage::KvStore* kv, const v1::BackupSet& set,
                         const std::vector<const v1::ObservationBatch*>& batches) {
  StageResult r;
  if (batches.empty()) return r;
  const uint64_t task = batches[0]->task_id();
  const uint32_t attempt = batches[0]->attempt();
  auto loaded = LoadAck(kv, task, attempt);
  if (!loaded.ok()) {
    r.status = loaded.status();
    return r;
  }
  AckState ack = *loaded;
  r.acked = ack.seq;
  r.acked_before = ack.seq;
  // The attempt's listing: from its batch 1 (staged, or in this group).
  std::optional<std::vector<v1::RestorePointSeen>> listing;
  storage::KvBatch b;
  for (const v1::ObservationBatch* batch : batches) {
    if (Status s = ValidateBatch(*batch); !s.ok()) {
      r.status = s;
      break;
    }
    if (batch->seq() <= ack.seq) continue;  // a resend: durable already, acknowledged again
    if (batch->seq() != ack.seq + 1) {
      r.status = absl::OutOfRangeError("batch seq " + std::to_string(batch->seq()) +
                                       " leaves a gap; last acknowledged seq is " +
                                       std::to_string(ack.seq));
      break;
    }
    if (batch->seq() == 1) {
      if (Status s = CheckListing(batch->points()); !s.ok()) {
        r.status = s;
        break;
      }
      listing.emplace(batch->points().begin(), batch->points().end());
      if (listing->empty()) listing = DefaultListing(set);
    } else {
      if (batch->points_size() > 0) {
        r.status =
            absl::InvalidArgumentError("batch " + std::to_string(batch->seq()) +
                                       ": field 'points' is only allowed in the batch with seq 1");
        break;
      }
      if (!listing) {
        auto l = ListedPoints(kv, set, task, attempt);
        if (!l.ok()) {
          r.status = l.status();
          break;
        }
        listing = std::move(*l);
      }
    }
    std::optional<int64_t> last_point = ack.last_point;
    if (Status s = CheckBatchPoints(*listing, &last_point, *batch); !s.ok()) {
      r.status = s;
      break;
    }
    b.Put(Space::kTasks, keys::Staged(task, attempt, batch->seq()), batch->SerializeAsString());
    ack.seq = batch->seq();
    ack.last_point = last_point;
  }
  if (b.count() == 0) return r;
  std::string v;
  keys::AppendU64(&v, ack.seq);
  if (ack.last_point) keys::AppendU64(&v, static_cast<uint64_t>(*ack.last_point));
  b.Put(Space::kTasks, keys::Acked(task, attempt), v);
  if (Status s = kv->Write(b, {.sync = true}); !s.ok()) {
    r.status = s;  // nothing of this group is acknowledged
    return r;
  }
  r.acked = ack.seq;
  return r;
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
  r.not_read = o.not_read() && o.type() == v1::ENTRY_TYPE_FILE;
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
  // The next observation without taking it; nullptr at the end or on error.
  const v1::Observation* Peek() {
    while (next_ >= batch_.observations_size()) {
      if (!status_.ok() || !it_->Valid()) {
        if (status_.ok()) status_ = it_->status();
        return nullptr;
      }
      if (!batch_.ParseFromArray(it_->value().data(), static_cast<int>(it_->value().size()))) {
        status_ = absl::DataLossError("staged observation batch does not decode");
        return nullptr;
      }
      next_ = 0;
      it_->Next();
    }
    return &batch_.observations(next_);
  }
  // Takes the observation Peek() returned. REQUIRES: Peek() != nullptr.
  void Take(storage::Observation* out) {
    *out = ToObservation(batch_.observations(next_++));
    ++count_;
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

// What one point's diff found.
struct PointTally {
  uint64_t files = 0, bytes = 0;
  uint64_t not_read = 0;  // files listed without reading their content
  uint64_t modified = 0, missing = 0, unreadable = 0;
  std::vector<std::string> examples;  // first damaged paths
  uint64_t damaged() const { return modified + missing + unreadable; }
  void Damage(uint64_t* kind, std::string_view path) {
    ++*kind;
    if (examples.size() < 5) examples.emplace_back(path);
  }
};

// Printable path for a proto `string` (must be UTF-8): bytes that are not
// printable ASCII become \xNN.
std::string Printable(std::string_view p) {
  std::string out;
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : p) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// "3 entries modified: a/b.pdf, c.txt, d" or "4 entries (3 modified, 1
// missing): ...".
std::string DamageText(const PointTally& t) {
  std::vector<std::string> kinds;
  if (t.modified > 0) kinds.push_back(std::to_string(t.modified) + " modified");
  if (t.missing > 0) kinds.push_back(std::to_string(t.missing) + " missing");
  if (t.unreadable > 0) kinds.push_back(std::to_string(t.unreadable) + " unreadable");
  const uint64_t n = t.damaged();
  std::string s = std::to_string(n) + (n == 1 ? " entry " : " entries ");
  if (kinds.size() == 1) {
    s += kinds[0].substr(kinds[0].find(' ') + 1);
  } else {
    s += "(";
    for (size_t i = 0; i < kinds.size(); ++i) s += (i > 0 ? ", " : "") + kinds[i];
    s += ")";
  }
  s += ": ";
  for (size_t i = 0; i < t.examples.size(); ++i) {
    s += (i > 0 ? ", " : "") + Printable(t.examples[i]);
  }
  if (n > t.examples.size()) s += ", ...";
  return s;
}

}  // namespace

StatusOr<MergeResult> MergeStaged(storage::Catalogue& cat, const v1::BackupSet& set, uint64_t task,
                                  uint32_t attempt, int64_t now_ns, const std::string& marker_key,
                                  storage::KvBatch* last_batch) {
  auto listing = ListedPoints(cat.kv(), set, task, attempt);
  if (!listing.ok()) return listing.status();
  // The set's point records (one per point ever listed: few).
  std::map<int64_t, v1::PointRecord> records;
  {
    auto loaded = LoadPoints(cat.kv(), set.tenant(), set.name());
    if (!loaded.ok()) return loaded.status();
    for (auto& r : *loaded) records[r.time_ns()] = std::move(r);
  }

  StagedSource source(cat.kv(), task, attempt);
  storage::DiffOptions opts;
  opts.mutable_set = set.mutable_();
  storage::DiffCounts counts;
  std::unique_ptr<storage::Catalogue::Writer> w;
  PointTally* tally = nullptr;

  auto verify_ok = [&](std::string_view path) {
    storage::VerifyRecord v;
    v.last_verified_ns = v.last_checked_ns = now_ns;
    return w->PutVerify(path, v);
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
    return w->PutVerify(path, v);
  };
  auto sink = [&](const storage::DiffEvent& ev) -> Status {
    switch (ev.kind) {
      case storage::DiffKind::kAdded:
        // Nothing to record yet: unreadable, or listed without its content
        // (recorded when its point is read).
        if (ev.observed->unreadable || ev.observed->not_read) return absl::OkStatus();
        return w->PutEntry(ev.path, storage::RecordOf(*ev.observed, now_ns));
      case storage::DiffKind::kUnchanged:
        if (ev.observed->mtime_ns != ev.recorded->mtime_ns) {  // touched only
          storage::EntryRecord r = *ev.recorded;
          r.mtime_ns = ev.observed->mtime_ns;
          if (Status s = w->PutEntry(ev.path, r, ev.recorded); !s.ok()) return s;
        }
        return verify_ok(ev.path);
      case storage::DiffKind::kUpdated: {
        Status s = w->PutEntry(ev.path, storage::RecordOf(*ev.observed, ev.recorded->first_seen_ns),
                               ev.recorded);
        return s.ok() ? verify_ok(ev.path) : s;
      }
      case storage::DiffKind::kModified:
        tally->Damage(&tally->modified, ev.path);
        return problem(ev.path, storage::EntryState::kModified, ev.observed);
      case storage::DiffKind::kMissing:
        tally->Damage(&tally->missing, ev.path);
        return problem(ev.path, storage::EntryState::kMissing, nullptr);
      case storage::DiffKind::kUnreadable:
        tally->Damage(&tally->unreadable, ev.path);
        return problem(ev.path, storage::EntryState::kUnreadable, ev.observed);
      case storage::DiffKind::kNotRead:
        return absl::OkStatus();
    }
    return absl::OkStatus();
  };

  std::map<int64_t, bool> listed;
  uint64_t bytes_read = 0;
  for (const auto& point : *listing) {
    const int64_t t = point.time_ns();
    listed[t] = true;
    if (w != nullptr) {
      if (Status s = w->Flush(); !s.ok()) return s;  // the last batch is synced below
    }
    storage::Scope scope{set.tenant(), set.name(), t};
    w = std::make_unique<storage::Catalogue::Writer>(&cat, scope);
    PointTally point_tally;
    tally = &point_tally;
    Status order;
    auto next = [&](storage::Observation* o) -> bool {
      const v1::Observation* p = source.Peek();
      if (p == nullptr) return false;
      if (p->restore_point_ns() != t) {
        if (p->restore_point_ns() < t) {
          order = absl::InvalidArgumentError(
              "observation '" + p->path() + "': field 'restore_point_ns' " +
              std::to_string(p->restore_point_ns()) + " is out of order or not listed");
        }
        return false;
      }
      if (p->type() == v1::ENTRY_TYPE_FILE) {
        ++point_tally.files;
        point_tally.bytes += p->size();
        if (p->not_read()) ++point_tally.not_read;
        if (!p->not_read() && !p->digest().empty()) bytes_read += p->size();
      }
      source.Take(o);
      return true;
    };
    Status s = storage::DiffRestorePoint(cat, scope, next, opts, sink, &counts);
    if (s.ok()) s = order;
    if (s.ok()) s = source.status();
    if (!s.ok()) return s;

    auto [rec, is_new] = records.try_emplace(t);
    v1::PointRecord& r = rec->second;
    if (is_new) {
      r.set_time_ns(t);
      r.set_first_seen_ns(now_ns);
      r.set_plausibility_checked(false);
    }
    r.set_name(point.name());
    r.set_gone_ns(0);
    r.set_files(point_tally.files);
    r.set_bytes(point_tally.bytes);
    r.set_last_checked_ns(now_ns);
    if (point_tally.not_read == 0) r.set_last_verified_ns(now_ns);
    if (point_tally.damaged() > 0 && r.damaged_ns() == 0) {
      r.set_damaged_ns(now_ns);
      r.set_damage(DamageText(point_tally));
    }
  }
  tally = nullptr;
  if (const v1::Observation* p = source.Peek(); p != nullptr) {
    return absl::InvalidArgumentError("observation '" + p->path() + "': field 'restore_point_ns' " +
                                      std::to_string(p->restore_point_ns()) +
                                      " is out of order or not listed");
  }
  if (!source.status().ok()) return source.status();
  if (w == nullptr) {  // nothing listed: the last batch holds only meta keys
    w = std::make_unique<storage::Catalogue::Writer>(&cat,
                                                     storage::Scope{set.tenant(), set.name(), 0});
  }
  for (auto& [t, r] : records) {
    if (listed.count(t) == 0) {
      if (r.gone_ns() != 0) continue;  // unchanged
      r.set_gone_ns(now_ns);
    }
    w->PutMeta(keys::Point(set.tenant(), set.name(), t), r.SerializeAsString());
  }

  MergeResult r;
  r.counts.set_unchanged(counts.unchanged);
  r.counts.set_modified(counts.modified);
  r.counts.set_updated(counts.updated);
  r.counts.set_missing(counts.missing);
  r.counts.set_added(counts.added);
  r.counts.set_unreadable(counts.unreadable);
  r.counts.set_not_read(counts.not_read);
  r.entries = source.count();
  r.bytes_read = bytes_read;
  v1::Task marker;
  *marker.mutable_counts() = r.counts;
  marker.set_entries(r.entries);
  marker.set_bytes_read(r.bytes_read);
  if (last_batch != nullptr) {
    *last_batch = w->TakeBatch();  // written with the DONE record
    return r;
  }
  w->PutMeta(marker_key, marker.SerializeAsString());  // atomic with the last batch
  if (Status c = w->Commit(/*sync=*/true); !c.ok()) return c;
  return r;
}

namespace {

Status DeletePrefix(storage::KvStore* kv, Space space, const std::string& prefix,
                    storage::KvBatch* b) {
  auto it = kv->NewIterator(space, {.upper_bound = storage::PrefixSuccessor(prefix)});
  for (it->Seek(prefix); it->Valid(); it->Next()) b->Delete(space, it->key());
  return it->status();
}

}  // namespace

Status DropStaged(storage::KvStore* kv, storage::KvBatch* b, uint64_t task) {
  if (Status s = DeletePrefix(kv, Space::kTasks, keys::StagedPrefixOfTask(task), b); !s.ok()) {
    return s;
  }
  std::string ap = "A";
  keys::AppendU64(&ap, task);
  if (Status s = DeletePrefix(kv, Space::kTasks, ap, b); !s.ok()) return s;
  const std::string marker = keys::Merged(task, 0);
  return DeletePrefix(kv, Space::kMeta, marker.substr(0, marker.size() - 4), b);
}

}  // namespace vigil::coordinator
