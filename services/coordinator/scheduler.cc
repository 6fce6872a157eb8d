// Coordinator::ScheduleDue: turns the contracts' cadences into queued tasks
// (services/contracts/schedule.h decides what is due and when it may start).
#include <map>
#include <set>

#include "services/contracts/evaluate.h"
#include "services/contracts/proto_bridge.h"
#include "services/contracts/schedule.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/drills.h"
#include "services/coordinator/keys.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

template <typename Msg>
Status ScanAll(storage::KvStore* kv, std::string_view prefix, std::vector<Msg>* out) {
  std::string p(prefix);
  auto it = kv->NewIterator(Space::kMeta, {.upper_bound = storage::PrefixSuccessor(p)});
  for (it->Seek(p); it->Valid(); it->Next()) {
    Msg m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a record under " + p + " does not decode");
    }
    out->push_back(std::move(m));
  }
  return it->status();
}

}  // namespace

StatusOr<std::vector<v1::Task>> Coordinator::ScheduleDue() {
  storage::KvStore* kv = cat_->kv();
  const int64_t now = clock_->NowNs();
  std::vector<v1::Tenant> tenants;
  std::vector<v1::Location> location_recs;
  if (Status s = ScanAll(kv, keys::kTenantPrefix, &tenants); !s.ok()) return s;
  if (Status s = ScanAll(kv, keys::kLocationPrefix, &location_recs); !s.ok()) return s;
  std::map<std::string, contracts::Location> locations;
  for (const auto& l : location_recs) locations[l.name()] = contracts::FromProto(l);

  // What ran (per tenant), and what is already waiting or running.
  std::map<std::string, contracts::CheckHistory> history;
  std::set<std::pair<std::string, std::string>> busy, drilling;
  for (const v1::Task& t : leases_->All()) {
    const std::string& tenant = t.backup_set().tenant();
    if (t.kind() == v1::TASK_KIND_DRILL) {
      if (t.state() == v1::TASK_STATE_QUEUED || t.state() == v1::TASK_STATE_LEASED) {
        drilling.insert({tenant, t.backup_set().name()});
      }
      if (t.state() != v1::TASK_STATE_DONE) continue;
      int64_t& last = history[tenant][{t.backup_set().name(), contracts::CheckKind::kRestoreDrill}];
      last = std::max(last, t.finished_ns());
      continue;
    }
    if (t.state() == v1::TASK_STATE_QUEUED || t.state() == v1::TASK_STATE_LEASED) {
      busy.insert({tenant, t.backup_set().name()});
    }
    if (t.state() != v1::TASK_STATE_DONE) continue;
    // A task is an inventory and a full read at once.
    for (auto kind : {contracts::CheckKind::kInventory, contracts::CheckKind::kIntegrity}) {
      int64_t& last = history[tenant][{t.backup_set().name(), kind}];
      last = std::max(last, t.finished_ns());
    }
  }

  std::vector<v1::Task> tasks;
  struct Drill {
    std::string tenant, set;
    uint32_t files = 0;
    uint64_t bytes = 0;
  };
  std::vector<Drill> drills;
  for (const v1::Tenant& tr : tenants) {
    auto versions = LoadContracts(kv, tr.name());
    if (!versions.ok()) return versions.status();
    const contracts::Contract* contract = contracts::VersionInForce(*versions, now);
    if (contract == nullptr) continue;
    contracts::Tenant tenant = contracts::FromProto(tr);
    for (const contracts::DueCheck& d :
         contracts::PlanChecks(tenant, *contract, locations, history[tr.name()], now)) {
      if (d.start_ns > now) continue;
      if (d.kind == contracts::CheckKind::kRestoreDrill) {  // queued after the checks
        if (!drilling.insert({tr.name(), d.backup_set}).second) continue;
        Drill dr{tr.name(), d.backup_set};
        DrillLimits(contract, d.asset, &dr.files, &dr.bytes);
        drills.push_back(std::move(dr));
        continue;
      }
      if (!busy.insert({tr.name(), d.backup_set}).second) continue;
      v1::BackupSet set;
      std::string v;
      Status s = kv->Get(Space::kMeta, keys::BackupSet(tr.name(), d.backup_set), &v);
      if (absl::IsNotFound(s)) continue;  // in the contract, not applied (cannot happen)
      if (!s.ok()) return s;
      if (!set.ParseFromString(v)) return absl::DataLossError("backup set record does not decode");
      v1::Task t;
      *t.mutable_backup_set() = std::move(set);
      t.set_tenant_timezone(tenant.timezone);
      t.set_rate_limit_bytes_per_s(d.rate_limit_bytes_per_s);
      tasks.push_back(std::move(t));
    }
  }
  std::vector<v1::Task> queued;
  if (!tasks.empty()) {
    auto check_id = leases_->NextId();
    if (!check_id.ok()) return check_id.status();
    for (auto& t : tasks) t.set_check_id(*check_id);
    auto q = leases_->Enqueue(std::move(tasks));
    if (!q.ok()) return q.status();
    queued = std::move(*q);
  }
  // Drills, each under its own check id, after the checks (a set never
  // checked has nothing to drill yet: the next round queues it).
  for (const Drill& d : drills) {
    auto t = QueueDrill(d.tenant, d.set, d.files, d.bytes);
    if (absl::IsFailedPrecondition(t.status()) || absl::IsNotFound(t.status())) continue;
    if (!t.ok()) return t.status();
    queued.push_back(std::move(*t));
  }
  return queued;
}

}  // namespace vigil::coordinator
