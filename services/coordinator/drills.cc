#include "services/coordinator/drills.h"

#include <cmath>
#include <limits>
#include <map>

#include "services/contracts/calendar.h"
#include "services/contracts/evaluate.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

StatusOr<std::vector<v1::DrillRecord>> LoadDrills(storage::KvStore* kv, const std::string& tenant,
                                                  const std::string& backup_set) {
  return LoadRecords<v1::DrillRecord>(kv, keys::DrillsOf(tenant, backup_set),
                                      "drill of " + tenant + "/" + backup_set);
}

contracts::DrillFact ToDrillFact(const v1::DrillRecord& r) {
  contracts::DrillFact d;
  d.at_ns = r.at_ns();
  d.point_time_ns = r.point_time_ns();
  d.files = r.files();
  d.bytes = r.bytes();
  d.seconds = r.seconds();
  d.mismatches = r.mismatches();
  d.point_bytes = r.point_bytes();
  d.error = r.error();
  d.skipped.assign(r.skipped().begin(), r.skipped().end());
  return d;
}

Status FillDrills(storage::KvStore* kv, const std::string& tenant, contracts::BackupSetFacts* facts,
                  contracts::CheckHistory* history) {
  auto records = LoadDrills(kv, tenant, facts->name);
  if (!records.ok()) return records.status();
  for (const v1::DrillRecord& r : *records) facts->drills.push_back(ToDrillFact(r));
  if (!records->empty()) {
    (*history)[{facts->name, contracts::CheckKind::kRestoreDrill}] = records->back().at_ns();
  }
  return absl::OkStatus();
}

void DrillLimits(const contracts::Contract* contract, const std::string& asset,
                 uint32_t* sample_files, uint64_t* sample_bytes) {
  *sample_files = kDefaultDrillFiles;
  *sample_bytes = 0;
  if (contract == nullptr) return;
  for (const contracts::Commitment* c : contract->CommitmentsFor(asset)) {
    if (c->kind != contracts::CommitmentKind::kRestoreDrill) continue;
    if (c->drill.sample_files != 0) *sample_files = c->drill.sample_files;
    *sample_bytes = c->drill.sample_bytes;
    return;
  }
}

StatusOr<v1::Task> PlanDrill(storage::Catalogue& cat, const v1::BackupSet& set,
                             const std::string& tenant_timezone, uint32_t sample_files,
                             uint64_t sample_bytes) {
  if (sample_files == 0) sample_files = kDefaultDrillFiles;
  // restic: the catalogue holds the snapshot file, which names the
  // snapshot; the worker samples its files from the trees.
  const bool restic = set.format() == "restic";
  const uint32_t restic_files = sample_files;
  const uint64_t restic_bytes = sample_bytes;
  if (restic) {
    sample_files = 1;
    sample_bytes = 0;
  }
  const std::string what = "backup set " + set.tenant() + "/" + set.name();
  auto points = LoadPoints(cat.kv(), set.tenant(), set.name());
  if (!points.ok()) return points.status();
  // The last clean point (contracts::CleanPointAt: good, and examined for
  // ransomware signals with nothing found, or accepted): a drill of a
  // damaged, implausible, suspicious or encrypted point would pass on data
  // nobody should restore. The newer points passed over are named, with why.
  // When no point is clean, the newest good point is drilled, and the record
  // says so (unless no point of the set was ever examined: points recorded
  // before signals existed are drilled as they were).
  int64_t point = 0;
  std::vector<std::string> skipped;
  if (!points->empty()) {
    const contracts::Calendar cal(tenant_timezone.empty() ? "UTC" : tenant_timezone);
    constexpr int64_t kNow = std::numeric_limits<int64_t>::max();  // as recorded now
    const v1::PointRecord* good = nullptr;                         // the newest good point
    const v1::PointRecord* clean = nullptr;                        // the last clean point
    size_t skipped_before_good = 0;                                // entries newer than `good`
    for (auto r = points->rbegin(); r != points->rend() && clean == nullptr; ++r) {
      const contracts::PointFact p = ToPointFact(*r);
      std::string why = contracts::WhyPointNotGood(p, kNow);
      if (why.empty()) {
        if (good == nullptr) {
          good = &*r;
          skipped_before_good = skipped.size();
        }
        if (contracts::CleanPointAt(p, kNow)) {
          clean = &*r;
          break;
        }
        why = p.verdict == contracts::PointVerdict::kContentNotJudged
                  ? "its content not judged for ransomware (files without a content sample)"
                  : "not yet examined for ransomware signals";
      } else if (why == "gone") {
        continue;
      }
      skipped.push_back((p.name.empty() ? std::string("(set root)") : p.name) + " (" +
                        cal.Format(p.time_ns) + "): " + why);
    }
    if (good == nullptr) {
      std::string list;
      for (const std::string& x : skipped) list += "; " + x;
      return absl::FailedPreconditionError(
          what + ": no good restore point to drill" +
          (skipped.empty() ? std::string(" (none is present)") : list));
    }
    if (clean == nullptr) {
      // Drill the newest good point; say so unless no point of the set was
      // ever examined (recorded before signals existed: drilled as before).
      bool examined = false;
      for (const v1::PointRecord& r : *points) {
        examined |= r.verdict() != v1::POINT_VERDICT_UNSPECIFIED || r.accepted_ns() != 0;
      }
      skipped.resize(skipped_before_good);
      if (examined) {
        skipped.push_back("no clean restore point: drilled the newest good one, " +
                          (good->name().empty() ? std::string("(set root)") : good->name()) + " (" +
                          cal.Format(good->time_ns()) + "), " +
                          (good->verdict() == v1::POINT_VERDICT_CONTENT_NOT_JUDGED
                               ? "its content not judged for ransomware"
                               : "not yet examined for ransomware signals"));
      }
    } else {
      good = clean;
    }
    point = good->time_ns();
  } else if (!IsMirrorLayout(set)) {
    return absl::FailedPreconditionError(what + ": no restore point recorded (run a check first)");
  }
  const storage::Scope scope{set.tenant(), set.name(), point};
  auto eligible = [](const storage::EntryRecord& e) {
    return e.type == storage::EntryType::kFile && !e.digest.empty();
  };
  // First pass: the point's size and how many files may be sampled.
  uint64_t point_bytes = 0, candidates = 0;
  {
    auto scan = cat.Scan(scope);
    for (; scan->Valid(); scan->Next()) {
      point_bytes += scan->entry().size;
      if (eligible(scan->entry())) ++candidates;
    }
    if (!scan->status().ok()) return scan->status();
  }
  if (candidates == 0) {
    return absl::FailedPreconditionError(
        what +
        ": no file with a digest in the catalogue for the restore point to drill (run a "
        "check first)");
  }
  // Second pass: every k-th candidate, so the sample covers the point.
  const uint64_t k = std::max<uint64_t>(1, candidates / sample_files);
  v1::Task t;
  t.set_kind(v1::TASK_KIND_DRILL);
  *t.mutable_backup_set() = set;
  t.set_tenant_timezone(tenant_timezone.empty() ? "UTC" : tenant_timezone);
  t.set_drill_point_ns(point);
  t.set_drill_point_bytes(point_bytes);
  for (std::string& x : skipped) t.add_drill_skipped(std::move(x));
  uint64_t index = 0, bytes = 0;
  auto scan = cat.Scan(scope);
  for (; scan->Valid() && static_cast<uint32_t>(t.drill_sample_size()) < sample_files;
       scan->Next()) {
    const storage::EntryRecord& e = scan->entry();
    if (!eligible(e)) continue;
    if (index++ % k != 0) continue;
    if (sample_bytes != 0 && bytes + e.size > sample_bytes) continue;
    bytes += e.size;
    v1::DrillSample* s = t.add_drill_sample();
    s->set_path(scan->path());
    s->set_size(e.size);
    s->set_digest_algorithm(static_cast<uint32_t>(e.digest.algorithm()));
    s->set_digest(std::string(e.digest.view()));
  }
  if (!scan->status().ok()) return scan->status();
  if (restic) {
    t.set_drill_sample_files(restic_files);
    t.set_drill_sample_bytes(restic_bytes);
  }
  if (t.drill_sample_size() == 0) {
    return absl::FailedPreconditionError(
        what + ": no sampled file fits the drill's byte limit of " + std::to_string(sample_bytes));
  }
  return t;
}

Status PutDrillRecord(const v1::Task& t, const v1::DrillResult& result,
                      const std::string& worker_id, int64_t now, storage::KvBatch* batch) {
  const std::string what = "task " + std::to_string(t.id()) + ": drill result";
  if (!std::isfinite(result.seconds()) || result.seconds() < 0) {
    return absl::InvalidArgumentError(what + ": field 'seconds' must be finite and >= 0");
  }
  // restic: the worker samples up to drill_sample_files from the snapshot.
  const bool restic = t.backup_set().format() == "restic";
  const uint64_t sampled =
      restic ? (t.drill_sample_files() == 0 ? kDefaultDrillFiles : t.drill_sample_files())
             : static_cast<uint64_t>(t.drill_sample_size());
  if (result.files() > sampled || result.mismatches() > sampled) {
    return absl::InvalidArgumentError(what + ": more files than the " + std::to_string(sampled) +
                                      " sampled");
  }
  v1::DrillRecord r;
  r.set_at_ns(now);
  r.set_point_time_ns(t.drill_point_ns());
  r.set_files(result.files());
  r.set_bytes(result.bytes());
  r.set_seconds(result.seconds());
  r.set_mismatches(result.mismatches());
  r.set_point_bytes(restic && result.point_bytes() > 0 ? result.point_bytes()
                                                       : t.drill_point_bytes());
  r.set_error(result.error());
  r.set_worker_id(worker_id);
  for (int i = 0; i < result.mismatch_paths_size() && i < kMaxMismatchPaths; ++i) {
    r.add_mismatch_paths(result.mismatch_paths(i));
  }
  *r.mutable_skipped() = t.drill_skipped();
  batch->Put(Space::kMeta, keys::Drill(t.backup_set().tenant(), t.backup_set().name(), now),
             r.SerializeAsString());
  return absl::OkStatus();
}

StatusOr<std::vector<v1::Task>> Coordinator::PlanDrills(const std::string& tenant,
                                                        const std::string& asset) {
  storage::KvStore* kv = cat_->kv();
  auto tr = TenantRecord(tenant);
  if (!tr.ok()) return tr.status();
  auto versions = LoadContracts(kv, tenant);
  if (!versions.ok()) return versions.status();
  const contracts::Contract* contract = contracts::VersionInForce(*versions, clock_->NowNs());
  // Each asset's first backup set: the contract's order, else by name.
  std::map<std::string, v1::BackupSet> first;  // asset -> set
  std::map<std::string, v1::BackupSet> by_name;
  Status scanned = ForEachRecord<v1::BackupSet>(kv, Space::kMeta, keys::BackupSetsOf(tenant),
                                                "backup set", [&](v1::BackupSet&& b) {
                                                  if (!asset.empty() && b.asset() != asset) return;
                                                  first.try_emplace(b.asset(), b);
                                                  by_name[b.name()] = std::move(b);
                                                });
  if (!scanned.ok()) return scanned;
  if (contract != nullptr) {
    for (const contracts::Asset& a : contract->assets) {
      if (a.backup_sets.empty()) continue;
      auto b = by_name.find(a.backup_sets.front().name);
      if (b != by_name.end() && b->second.asset() == a.name) first[a.name] = b->second;
    }
  }
  if (first.empty()) {
    if (!asset.empty()) {
      return absl::NotFoundError("tenant '" + tenant + "' has no asset '" + asset +
                                 "' with a backup set");
    }
    return absl::FailedPreconditionError("tenant '" + tenant + "' has no backup set");
  }
  std::vector<v1::Task> tasks;
  for (const auto& [name, set] : first) {
    uint32_t files = 0;
    uint64_t bytes = 0;
    DrillLimits(contract, name, &files, &bytes);
    auto t = PlanDrill(*cat_, set, tr->timezone(), files, bytes);
    if (!t.ok()) return t.status();
    tasks.push_back(std::move(*t));
  }
  return tasks;
}

StatusOr<v1::Task> Coordinator::QueueDrill(const std::string& tenant, const std::string& backup_set,
                                           uint32_t sample_files, uint64_t sample_bytes) {
  storage::KvStore* kv = cat_->kv();
  auto tr = TenantRecord(tenant);
  if (!tr.ok()) return tr.status();
  if (Status s = CheckName("drill", "backup_set", backup_set); !s.ok()) return s;
  std::string v;
  Status s = kv->Get(Space::kMeta, keys::BackupSet(tenant, backup_set), &v);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError("tenant '" + tenant + "' has no backup set '" + backup_set + "'");
  }
  if (!s.ok()) return s;
  v1::BackupSet set;
  if (!set.ParseFromString(v)) return absl::DataLossError("backup set record does not decode");
  auto t = PlanDrill(*cat_, set, tr->timezone(), sample_files, sample_bytes);
  if (!t.ok()) return t.status();
  auto check_id = leases_->NextId();
  if (!check_id.ok()) return check_id.status();
  t->set_check_id(*check_id);
  auto queued = leases_->Enqueue({std::move(*t)});
  if (!queued.ok()) return queued.status();
  return std::move(queued->front());
}

StatusOr<v1::CompleteTaskResponse> Coordinator::CompleteDrill(const std::string& worker_id,
                                                              const v1::CompleteTaskRequest& req) {
  if (Status s = leases_->CheckLease(worker_id, req.task_id(), req.attempt()); !s.ok()) return s;
  std::optional<v1::Task> t = leases_->Get(req.task_id());
  if (!t) return absl::NotFoundError("unknown task " + std::to_string(req.task_id()));
  // The record and the DONE state in one synced batch: a drill is recorded
  // exactly once. A drill that failed (drill.error) is a result too.
  storage::KvBatch batch;
  Status s = PutDrillRecord(*t, req.drill(), worker_id, clock_->NowNs(), &batch);
  if (!s.ok()) {
    auto f = leases_->Fail(worker_id, req.task_id(), req.attempt(), std::string(s.message()));
    if (!f.ok()) return f.status();
    return s;
  }
  // A drill streams nothing; drop strays.
  if (Status d = DropStaged(cat_->kv(), &batch, req.task_id()); !d.ok()) return d;
  {
    MutexLock lock(&pending_mu_);
    pending_drills_[req.task_id()] = req.drill();
  }
  // What the drill cost at the location: the store's counters, or (a
  // filesystem location) the bytes it restored.
  v1::StoreUsage usage = req.store_usage();
  if (!req.has_store_usage()) usage.set_bytes_read(req.drill().bytes());
  auto done = leases_->Complete(worker_id, req.task_id(), req.attempt(),
                                {v1::DiffCounts(), req.drill().files(), 0, "", usage}, &batch,
                                /*publish=*/false);
  {
    MutexLock lock(&pending_mu_);
    pending_drills_.erase(req.task_id());
  }
  if (!done.ok()) {
    leases_->Publish(req.task_id());
    return done.status();
  }
  // Its spend in the ledger before a lease at its location can see it done
  // (LeaseManager::Complete).
  ledger_.Add(*done);
  leases_->Publish(req.task_id());
  v1::CompleteTaskResponse resp;
  *resp.mutable_task() = std::move(*done);
  return resp;
}

}  // namespace vigil::coordinator
