// Coordinator::ScheduleDue: turns the contracts' cadences into queued tasks
// (services/contracts/schedule.h decides what is due and when it may start).
#include <algorithm>
#include <map>
#include <set>

#include "services/contracts/evaluate.h"
#include "services/contracts/proto_bridge.h"
#include "services/contracts/schedule.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/drills.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

// Present points a check lists without reading (see ScheduleDue).
std::vector<int64_t> SkippedPoints(std::vector<const v1::PointRecord*> present, bool integrity,
                                   uint64_t budget, uint32_t sample, int64_t now) {
  std::vector<int64_t> skip;
  if (!integrity) {  // inventory only
    for (const auto* p : present) skip.push_back(p->time_ns());
    return skip;
  }
  if (present.empty() || (budget == 0 && sample == 0)) return skip;  // read everything
  if (sample > 0) {
    // A random order of the points (seeded by the time of the run), then
    // points until `sample` files are drawn.
    uint64_t seed = static_cast<uint64_t>(now) * 0x9e3779b97f4a7c15ULL;
    std::sort(present.begin(), present.end(), [seed](const auto* a, const auto* b) {
      auto h = [seed](int64_t t) {
        uint64_t x = static_cast<uint64_t>(t) ^ seed;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return x;
      };
      return h(a->time_ns()) < h(b->time_ns());
    });
  } else {
    // Verified longest ago first (never verified: first of all).
    std::stable_sort(present.begin(), present.end(), [](const auto* a, const auto* b) {
      return a->last_verified_ns() < b->last_verified_ns();
    });
  }
  uint64_t taken = 0;
  size_t i = 0;
  for (; i < present.size(); ++i) {
    if (i > 0 && taken >= (sample > 0 ? sample : budget)) break;  // at least one point
    taken += sample > 0 ? present[i]->files() : present[i]->bytes();
  }
  for (; i < present.size(); ++i) skip.push_back(present[i]->time_ns());
  std::sort(skip.begin(), skip.end());
  return skip;
}

}  // namespace

StatusOr<std::vector<v1::Task>> Coordinator::ScheduleDue() {
  storage::KvStore* kv = cat_->kv();
  const int64_t now = clock_->NowNs();
  auto tenants = LoadRecords<v1::Tenant>(kv, keys::kTenantPrefix, "tenant");
  if (!tenants.ok()) return tenants.status();
  auto loaded_locations = LoadLocations(kv);
  if (!loaded_locations.ok()) return loaded_locations.status();
  const std::map<std::string, contracts::Location>& locations = *loaded_locations;

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
    // A check task is an inventory, and an integrity run unless it was
    // queued for the inventory only.
    for (auto kind : {contracts::CheckKind::kInventory, contracts::CheckKind::kIntegrity}) {
      if (kind == contracts::CheckKind::kIntegrity && t.inventory_only()) continue;
      int64_t& last = history[tenant][{t.backup_set().name(), kind}];
      last = std::max(last, t.finished_ns());
    }
  }

  std::vector<v1::Task> tasks;
  struct Due {
    const std::string* tenant = nullptr;  // its zone
    uint64_t rate = 0;
    bool integrity = false;
    uint64_t budget = 0;
    uint32_t sample = 0;
  };
  std::map<std::pair<std::string, std::string>, Due> due_sets;
  std::map<std::string, std::string> tenant_zones;
  struct Drill {
    std::string tenant, set;
    uint32_t files = 0;
    uint64_t bytes = 0;
  };
  std::vector<Drill> drills;
  for (const v1::Tenant& tr : *tenants) {
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
      if (busy.count({tr.name(), d.backup_set}) != 0) continue;
      Due& due = due_sets[{tr.name(), d.backup_set}];
      due.tenant = &tenant_zones.emplace(tr.name(), tenant.timezone).first->second;
      due.rate = d.rate_limit_bytes_per_s;
      if (d.kind == contracts::CheckKind::kIntegrity) {
        due.integrity = true;
        due.budget = d.byte_budget;
        due.sample = d.sample;
      }
    }
  }
  // One task per set: an integrity run reads the points verified longest
  // ago up to its byte budget (or a random sample of points), and lists the
  // others without reading them; an inventory alone reads none of the known
  // points. New points are always read in full (their baseline).
  for (auto& [key, due] : due_sets) {
    v1::BackupSet set;
    std::string v;
    Status s = kv->Get(Space::kMeta, keys::BackupSet(key.first, key.second), &v);
    if (absl::IsNotFound(s)) continue;  // in the contract, not applied (cannot happen)
    if (!s.ok()) return s;
    if (!set.ParseFromString(v)) return absl::DataLossError("backup set record does not decode");
    auto points = LoadPoints(kv, key.first, key.second);
    if (!points.ok()) return points.status();
    v1::Task t;
    *t.mutable_backup_set() = std::move(set);
    t.set_tenant_timezone(*due.tenant);
    t.set_rate_limit_bytes_per_s(due.rate);
    std::vector<const v1::PointRecord*> present;
    for (const auto& p : *points) {
      if (p.gone_ns() == 0) present.push_back(&p);
    }
    std::vector<int64_t> skip = SkippedPoints(present, due.integrity, due.budget, due.sample, now);
    for (int64_t p : skip) t.add_metadata_only_points(p);
    t.set_inventory_only(!due.integrity);
    tasks.push_back(std::move(t));
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
