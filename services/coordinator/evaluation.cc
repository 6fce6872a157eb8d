#include "services/coordinator/evaluation.h"

#include <algorithm>
#include <map>
#include <optional>

#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/calendar.h"
#include "services/contracts/evaluate.h"
#include "services/contracts/proto_bridge.h"
#include "services/contracts/schedule.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/copies.h"
#include "services/coordinator/drills.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

StatusOr<TenantEvaluation> EvaluateTenant(storage::Catalogue& cat,
                                          const std::vector<v1::Task>& tasks,
                                          const v1::Tenant& tenant_rec,
                                          const contracts::Interval* period, int64_t now) {
  storage::KvStore* kv = cat.kv();
  TenantEvaluation out;
  auto versions = LoadContracts(kv, tenant_rec.name());
  if (!versions.ok()) return versions.status();
  out.versions = std::move(*versions);
  if (out.versions.empty()) return out;
  const contracts::Contract* contract = contracts::VersionInForce(out.versions, now);
  if (contract == nullptr) {
    out.not_yet =
        "contract v1 takes effect on " + FormatTimeUtc(out.versions.front().effective_from_ns);
    return out;
  }
  out.version_index = static_cast<size_t>(contract - out.versions.data());
  out.tenant = contracts::FromProto(tenant_rec);
  const contracts::Tenant& tenant = out.tenant;
  auto loaded_locations = LoadLocations(kv);
  if (!loaded_locations.ok()) return loaded_locations.status();
  out.locations = std::move(*loaded_locations);
  const std::map<std::string, contracts::Location>& locations = out.locations;

  // Checks done per backup set: a task is an inventory plus a full read.
  contracts::CheckHistory& history = out.history;
  contracts::TenantFacts& facts = out.facts;
  // Per checked backup set, the time of its newest present point (the
  // copies are compared on those).
  std::map<std::string, int64_t> newest_present;
  for (const contracts::Asset& asset : contract->assets) {
    std::vector<const contracts::Commitment*> cs = contract->CommitmentsFor(asset.name);
    const contracts::Commitment* integ =
        contracts::FindKind(cs, contracts::CommitmentKind::kIntegrity);
    const int64_t window = integ != nullptr ? integ->integrity.reverify_within_ns : 0;
    for (const contracts::BackupSet& set : asset.backup_sets) {
      contracts::BackupSetFacts& f = facts.sets[set.name];
      f.name = set.name;
      if (Status d = FillDrills(kv, tenant.name, &f, &history); !d.ok()) return d;
      int64_t last_integrity = 0;
      int64_t last_check = 0;
      int64_t last_said = 0;
      for (const v1::Task& t : tasks) {
        if (t.backup_set().tenant() != tenant.name || t.backup_set().name() != set.name ||
            t.state() != v1::TASK_STATE_DONE || t.finished_ns() == 0 ||
            t.kind() != v1::TASK_KIND_CHECK) {
          continue;
        }
        if (f.first_inventory_ns == 0 || t.finished_ns() < f.first_inventory_ns) {
          f.first_inventory_ns = t.finished_ns();
        }
        f.last_inventory_ns = std::max(f.last_inventory_ns, t.finished_ns());
        if (t.finished_ns() >= last_check) {  // what the newest check found at the directory
          last_check = t.finished_ns();
          f.no_backup = t.set_directory();
        }
        if (t.has_store_evidence() && t.finished_ns() >= last_said) {
          last_said = t.finished_ns();
          f.store_said = contracts::FromProto(t.store_evidence());
        }
        if (!t.inventory_only()) last_integrity = std::max(last_integrity, t.finished_ns());
      }
      if (f.last_inventory_ns == 0) continue;  // never checked: unknown
      history[{set.name, contracts::CheckKind::kInventory}] = f.last_inventory_ns;
      if (last_integrity != 0) {
        history[{set.name, contracts::CheckKind::kIntegrity}] = last_integrity;
      }
      auto loaded = LoadPoints(kv, tenant.name, set.name);
      if (!loaded.ok()) return loaded.status();
      std::vector<v1::PointRecord> points = std::move(*loaded);
      if (points.empty() && set.layout == contracts::Layout::kMirror) {
        // A mirror checked before restore points were recorded: one point
        // at time 0 (dated below by its newest entry). Other layouts list
        // their points: none recorded is no backup found.
        v1::PointRecord r;
        r.set_first_seen_ns(f.first_inventory_ns);
        points.push_back(r);
      }
      contracts::IntegrityFact& integrity = f.integrity;
      integrity.last_run_ns = last_integrity;
      int64_t oldest = 0;
      uint64_t set_bytes = 0;  // a full pass: every present point's entries
      for (const v1::PointRecord& r : points) {
        if (r.gone_ns() == 0) {
          auto [it, fresh] = newest_present.try_emplace(set.name, r.time_ns());
          if (!fresh) it->second = std::max(it->second, r.time_ns());
        }
        contracts::PointFact p = ToPointFact(r);
        // Entries of present points: coverage and current failures. A
        // mirror is dated by its last sync as far as evidence shows
        // (DateMirror).
        if (p.gone_ns == 0) {
          auto scan = cat.Scan({tenant.name, set.name, r.time_ns()});
          int64_t newest_mtime = 0;
          uint64_t files = 0, bytes = 0;
          for (; scan->Valid(); scan->Next()) {
            const storage::VerifyRecord& v = scan->verify();
            ++integrity.entries;
            ++files;
            bytes += scan->entry().size;
            set_bytes += scan->entry().size;
            newest_mtime = std::max(newest_mtime, scan->entry().mtime_ns);
            if (v.state != storage::EntryState::kOk) ++integrity.failures;
            int64_t verified = std::max(v.last_verified_ns, scan->range_verified_ns());
            if (window == 0 || verified >= now - window) ++integrity.verified_within;
            if (oldest == 0 || verified < oldest) oldest = verified;
          }
          if (!scan->status().ok()) return scan->status();
          if (r.time_ns() == 0) {
            if (Status d = DateMirror(cat, tenant.name, set, r, newest_mtime, &p); !d.ok())
              return d;
            p.files = files;
            p.bytes = bytes;
            if (integrity.failures > 0 && p.damaged_ns == 0) {
              p.damaged_ns = f.last_inventory_ns;
              p.damage =
                  GroupDigits(integrity.failures) + " entries modified, missing or unreadable";
            }
          }
        }
        f.points.push_back(std::move(p));
      }
      integrity.oldest_verified_ns = oldest;
      // The location's daily read budget against a full pass of the set
      // within reverifyWithin (sampled commitments do not promise one).
      if (auto loc = locations.find(set.location);
          integ != nullptr && integ->integrity.sample == 0 && loc != locations.end()) {
        contracts::ReadBudgetCoverage c =
            contracts::JudgeReadBudget(loc->second, set_bytes, window);
        if (!c.reachable) {
          integrity.read_budget = "readBudget of " + set.location + " makes it unreachable for " +
                                  set.name + ": " + c.text;
        }
      }
      // A sampled commitment: the entries re-read within the window were
      // drawn by restore point at random (ScheduleDue); faults among them.
      if (integ != nullptr && integ->integrity.sample > 0) {
        integrity.sampled = integrity.verified_within;
        integrity.sample_faults = integrity.failures;
      }
    }
  }

  // Copies: the newest present point of each further backup set of an
  // asset compared with the first set's (the primary), through the catalogue.
  for (const contracts::Asset& asset : contract->assets) {
    if (asset.backup_sets.size() < 2 ||
        contracts::FindKind(contract->CommitmentsFor(asset.name),
                            contracts::CommitmentKind::kCopies) == nullptr) {
      continue;
    }
    auto newest = [&](const std::string& set) -> std::optional<int64_t> {
      auto it = newest_present.find(set);
      if (it == newest_present.end()) return std::nullopt;
      return it->second;
    };
    const std::string& primary = asset.backup_sets.front().name;
    std::optional<int64_t> pa = newest(primary);
    if (!pa) continue;
    for (size_t i = 1; i < asset.backup_sets.size(); ++i) {
      const std::string& other = asset.backup_sets[i].name;
      std::optional<int64_t> pb = newest(other);
      if (!pb) continue;
      auto agreement = CompareCopies(cat, tenant.name, primary, *pa, other, *pb);
      if (!agreement.ok()) return agreement.status();
      facts.copies.push_back(std::move(*agreement));
    }
  }

  // Scope: directories found under the tenant's own area of a location
  // ("dupont-avocats/..." when its backup sets live there) that none of its
  // backup sets covers: backups kept outside the contract.
  {
    std::map<std::string, std::vector<std::string>> paths;  // location -> set paths
    for (const contracts::Asset& a : contract->assets) {
      for (const auto& s : a.backup_sets) paths[s.location].push_back(s.path);
    }
    for (const auto& [location, set_paths] : paths) {
      std::string v;
      Status s = kv->Get(Space::kMeta, keys::Survey(location), &v);
      if (absl::IsNotFound(s)) continue;
      if (!s.ok()) return s;
      v1::LocationSurvey survey;
      if (!survey.ParseFromString(v)) return absl::DataLossError("location survey does not decode");
      auto starts = [](const std::string& x, const std::string& prefix) {
        return x.size() > prefix.size() && x.compare(0, prefix.size(), prefix) == 0 &&
               x[prefix.size()] == '/';
      };
      for (const std::string& d : survey.dirs()) {
        std::string area = d.substr(0, d.find('/'));
        bool mine = false, covered = false;
        for (const std::string& p : set_paths) {
          mine |= p.substr(0, p.find('/')) == area;
          covered |= p == d || starts(p, d) || starts(d, p);
        }
        if (mine && !covered) facts.unscoped.push_back(location + ":" + d);
      }
    }
  }

  contracts::Calendar cal(tenant.timezone);
  contracts::Interval interval =
      period != nullptr ? *period : contracts::MonthOf(now, cal).interval;
  out.evaluation = contracts::Evaluate(tenant, *contract, locations, facts, interval, now);
  out.due = contracts::PlanChecks(tenant, *contract, locations, history, now);
  return out;
}

Status FillEvaluation(storage::Catalogue& cat, const std::vector<v1::Task>& tasks,
                      const v1::Tenant& tenant_rec, int64_t now, v1::TenantStatus* ts) {
  auto te = EvaluateTenant(cat, tasks, tenant_rec, nullptr, now);
  if (!te.ok()) return te.status();
  if (!te->not_yet.empty()) ts->add_scope(te->not_yet);
  const contracts::Contract* contract = te->contract();
  if (contract == nullptr) return absl::OkStatus();
  ts->set_contract_version(static_cast<uint32_t>(te->version_index + 1));
  const contracts::Evaluation& ev = te->evaluation;
  for (const auto& r : ev.readiness) {
    v1::AssetReadiness* p = ts->add_readiness();
    p->set_asset(r.asset);
    p->set_readiness(contracts::ReadinessName(r.readiness));
    for (const auto& why : r.reasons) p->add_reasons(why);
    p->set_site_loss(contracts::ReadinessName(r.site_loss));
    for (const auto& why : r.site_loss_reasons) p->add_site_loss_reasons(why);
    p->set_monitored_from_ns(r.monitored_from_ns);
    p->set_last_clean_set(r.last_clean_set);
    p->set_last_clean_ns(r.last_clean_ns);
    p->set_last_clean_name(r.last_clean_name);
  }
  for (const auto& v : ev.verdicts) {
    v1::CommitmentStatus* p = ts->add_commitments();
    p->set_asset(v.asset);
    p->set_kind(contracts::CommitmentKindName(v.kind));
    p->set_verdict(contracts::VerdictName(v.verdict));
    p->set_summary(v.summary);
    p->set_failing_since_ns(v.failing_since_ns);
    p->set_began_ns(v.began_ns);
    p->set_monitored_from_ns(v.monitored_from_ns);
    for (const auto& e : v.evidence) {
      v1::EvidenceItem* ei = p->add_evidence();
      ei->set_name(e.name);
      ei->set_value(e.value);
      ei->set_basis(e.basis);
    }
    int64_t last = 0, next = 0;
    for (const contracts::Asset& a : contract->assets) {
      if (a.name != v.asset) continue;
      for (const auto& s : a.backup_sets) {
        auto it = te->facts.sets.find(s.name);
        if (it != te->facts.sets.end()) last = std::max(last, it->second.last_inventory_ns);
      }
    }
    for (const auto& d : te->due) {
      if (d.asset == v.asset && (next == 0 || d.start_ns < next)) next = d.start_ns;
    }
    p->set_last_check_ns(last);
    p->set_next_check_ns(next);
  }
  for (const auto& s : ev.scope) ts->add_scope(s.subject + ": " + s.finding);
  for (const auto& o : ev.out_of_scope)
    ts->add_scope("out of scope: " + o.item + " (" + o.reason + ")");
  return absl::OkStatus();
}

}  // namespace vigil::coordinator
