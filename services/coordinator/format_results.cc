#include "services/coordinator/format_results.h"

#include <map>
#include <string>

#include "services/common/text.h"
#include "services/contracts/evaluate.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;

namespace {

bool IsFormatSet(const v1::BackupSet& set) {
  return set.format() == "bagit" || set.format() == "sumfile" || set.format() == "restic";
}

// Every pack record of a set: raw id -> record.
storage::StatusOr<std::map<std::string, v1::ResticPackRecord>> LoadPacks(storage::KvStore* kv,
                                                                         const v1::BackupSet& set) {
  const std::string prefix = keys::ResticPacks(set.tenant(), set.name());
  std::map<std::string, v1::ResticPackRecord> out;
  auto it = kv->NewIterator(Space::kMeta, {.upper_bound = storage::PrefixSuccessor(prefix)});
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    v1::ResticPackRecord r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("restic pack record of " + set.tenant() + "/" + set.name() +
                                 " does not decode");
    }
    out.emplace(std::string(it->key().substr(prefix.size())), std::move(r));
  }
  if (Status s = it->status(); !s.ok()) return s;
  return out;
}

// The re-verification window of the set's asset under the contract in force.
storage::StatusOr<int64_t> ReverifyWindow(storage::KvStore* kv, const v1::BackupSet& set,
                                          int64_t now) {
  auto versions = LoadContracts(kv, set.tenant());
  if (!versions.ok()) return versions.status();
  const contracts::Contract* c = contracts::VersionInForce(*versions, now);
  if (c == nullptr) return kDefaultPackReverifyNs;
  for (const contracts::Commitment* cm : c->CommitmentsFor(set.asset())) {
    if (cm->kind == contracts::CommitmentKind::kIntegrity && cm->integrity.reverify_within_ns > 0) {
      return cm->integrity.reverify_within_ns;
    }
  }
  return kDefaultPackReverifyNs;
}

}  // namespace

Status AddKnownPacks(storage::KvStore* kv, int64_t now_ns, v1::Task* task) {
  if (task->kind() != v1::TASK_KIND_CHECK || task->backup_set().format() != "restic") {
    return absl::OkStatus();
  }
  auto window = ReverifyWindow(kv, task->backup_set(), now_ns);
  if (!window.ok()) return window.status();
  auto packs = LoadPacks(kv, task->backup_set());
  if (!packs.ok()) return packs.status();
  task->clear_restic_known_packs();
  for (const auto& [id, r] : *packs) {
    if (r.verified_ns() < now_ns - *window) continue;  // due again
    v1::ResticPack* p = task->add_restic_known_packs();
    p->set_id(id);
    p->set_size(r.size());
  }
  return absl::OkStatus();
}

Status ValidateFormatResults(const v1::BackupSet& set, const v1::CompleteTaskRequest& req) {
  if (req.format_verdicts_size() == 0 && req.restic_packs_size() == 0) return absl::OkStatus();
  if (!IsFormatSet(set)) {
    return absl::InvalidArgumentError("format_verdicts: backup set '" + set.name() +
                                      "' is of format '" + set.format() +
                                      "', which has no format verdicts");
  }
  if (req.format_verdicts_size() > kMaxFormatVerdicts) {
    return absl::InvalidArgumentError("format_verdicts: more than " +
                                      std::to_string(kMaxFormatVerdicts));
  }
  for (const auto& v : req.format_verdicts()) {
    if (v.format() != set.format()) {
      return absl::InvalidArgumentError("format_verdicts: a '" + v.format() +
                                        "' verdict for a set of format '" + set.format() + "'");
    }
    if (!v.target().empty() && !storage::IsValidRelativePath(v.target()) &&
        !(v.target().back() == '/' &&
          storage::IsValidRelativePath(v.target().substr(0, v.target().size() - 1)))) {
      return absl::InvalidArgumentError("format_verdicts: target '" +
                                        EscapeForTerminal(v.target()) + "' is not a relative path");
    }
  }
  if (req.restic_packs_size() > 0 && set.format() != "restic") {
    return absl::InvalidArgumentError("restic_packs: backup set '" + set.name() +
                                      "' is not a restic repository");
  }
  if (req.restic_packs_size() > kMaxResticPacks) {
    return absl::InvalidArgumentError("restic_packs: more than " + std::to_string(kMaxResticPacks));
  }
  for (int i = 0; i < req.restic_packs_size(); ++i) {
    const auto& p = req.restic_packs(i);
    if (p.id().size() != 32) {
      return absl::InvalidArgumentError("restic_packs[" + std::to_string(i) + "].id: " +
                                        std::to_string(p.id().size()) + " bytes, not 32");
    }
    if (p.verified() && p.bad()) {
      return absl::InvalidArgumentError("restic_packs[" + std::to_string(i) +
                                        "]: both verified and bad");
    }
  }
  return absl::OkStatus();
}

Status ApplyFormatResults(storage::KvStore* kv, const v1::Task& task,
                          const v1::CompleteTaskRequest& req, int64_t now_ns,
                          storage::KvBatch* batch) {
  const v1::BackupSet& set = task.backup_set();
  if (!IsFormatSet(set) || req.format_verdicts_size() == 0) return absl::OkStatus();
  v1::FormatVerdicts rec;
  rec.set_task_id(task.id());
  rec.set_at_ns(now_ns);
  *rec.mutable_verdicts() = req.format_verdicts();

  if (set.format() == "restic") {
    auto known = LoadPacks(kv, set);
    if (!known.ok()) return known.status();
    const std::string prefix = keys::ResticPacks(set.tenant(), set.name());
    std::map<std::string, const v1::ResticPack*> present;
    for (const auto& p : req.restic_packs()) present[p.id()] = &p;
    uint64_t vanished = 0;
    for (const auto& [id, r] : *known) {
      if (present.count(id) == 0) {
        batch->Delete(Space::kMeta, prefix + id);
        ++vanished;
      }
    }
    for (const auto& [id, p] : present) {
      auto k = known->find(id);
      if (p->bad() || (k != known->end() && k->second.size() != p->size() && !p->verified())) {
        if (k != known->end()) batch->Delete(Space::kMeta, prefix + id);
        continue;
      }
      if (!p->verified()) continue;  // skipped as known: keeps its time
      v1::ResticPackRecord r;
      r.set_size(p->size());
      r.set_first_seen_ns(k != known->end() ? k->second.first_seen_ns() : now_ns);
      r.set_verified_ns(now_ns);
      batch->Put(Space::kMeta, prefix + id, r.SerializeAsString());
    }
    for (auto& v : *rec.mutable_verdicts()) v.set_packs_vanished(vanished);
  }

  // Invalid verdicts damage their points.
  auto points = LoadPoints(kv, set.tenant(), set.name());
  if (!points.ok()) return points.status();
  std::map<int64_t, v1::PointRecord*> by_time;
  for (auto& p : *points) by_time[p.time_ns()] = &p;
  std::map<int64_t, v1::PointRecord*> changed;
  auto damage = [&](v1::PointRecord* p, const v1::FormatVerdict& v) {
    if (p->gone_ns() != 0 || p->damaged_ns() != 0) return;
    p->set_damaged_ns(now_ns);
    std::string what =
        v.format() + (v.target().empty() ? std::string(" repository")
                                         : " '" + EscapeForTerminal(v.target()) + "'");
    what += " invalid: " + std::to_string(v.error_count()) + " error(s)";
    if (v.errors_size() > 0) what += ", first: " + v.errors(0);
    p->set_damage(what);
    changed[p->time_ns()] = p;
  };
  for (const auto& v : rec.verdicts()) {
    if (v.valid()) continue;
    if (set.format() == "restic" && v.per_snapshot()) {
      // Only the snapshots the errors make unrestorable; the first error
      // naming a snapshot says what.
      for (int64_t t : v.damaged_points()) {
        auto it = by_time.find(t);
        if (it == by_time.end()) continue;
        v1::FormatVerdict own = v;
        const std::string& name = it->second->name();
        for (const std::string& e : v.errors()) {
          if (!name.empty() && e.find(name) != std::string::npos) {
            own.clear_errors();
            own.add_errors(e);
            break;
          }
        }
        damage(it->second, own);
      }
    } else if (set.format() == "restic") {
      for (auto& [t, p] : by_time) damage(p, v);
    } else if (auto it = by_time.find(v.point_time_ns()); it != by_time.end()) {
      damage(it->second, v);
    }
  }
  for (const auto& [t, p] : changed) {
    batch->Put(Space::kMeta, keys::Point(set.tenant(), set.name(), t), p->SerializeAsString());
  }
  batch->Put(Space::kMeta, keys::FormatVerdicts(set.tenant(), set.name()), rec.SerializeAsString());
  return absl::OkStatus();
}

Status FillFormatVerdicts(storage::KvStore* kv, v1::BackupSetStatus* status) {
  const v1::BackupSet& set = status->backup_set();
  if (!IsFormatSet(set)) return absl::OkStatus();
  std::string value;
  Status s = kv->Get(Space::kMeta, keys::FormatVerdicts(set.tenant(), set.name()), &value);
  if (absl::IsNotFound(s)) return absl::OkStatus();
  if (!s.ok()) return s;
  if (!status->mutable_format_verdicts()->ParseFromString(value)) {
    return absl::DataLossError("format verdicts of " + set.tenant() + "/" + set.name() +
                               " do not decode");
  }
  return absl::OkStatus();
}

}  // namespace vigil::coordinator
