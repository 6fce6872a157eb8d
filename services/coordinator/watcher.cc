#include "services/coordinator/watcher.h"

#include <cstdio>
#include <map>

#include "services/common/proto_names.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/calendar.h"
#include "services/contracts/evaluate.h"
#include "services/contracts/parse.h"
#include "services/contracts/schedule.h"
#include "services/coordinator/alerts.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/evaluation.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/coordinator/records.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

bool Bad(const std::string& state) { return state == "fail" || state == "silent"; }

// How long a verdict may stay unknown before it counts as silence: the
// period the commitment promises something over.
int64_t CadenceOf(const contracts::Contract& c, const std::string& asset, const std::string& kind) {
  for (const contracts::Commitment* m : c.CommitmentsFor(asset)) {
    if (kind != contracts::CommitmentKindName(m->kind)) continue;
    switch (m->kind) {
      case contracts::CommitmentKind::kRpo:
        return m->rpo.max_age_ns;
      case contracts::CommitmentKind::kIntegrity:
        return m->integrity.reverify_within_ns;
      case contracts::CommitmentKind::kRestoreDrill:
        return m->drill.every_ns;
      case contracts::CommitmentKind::kRetention:
      case contracts::CommitmentKind::kCopies:
        return contracts::kDayNs;  // judged on each day's points
    }
  }
  return 0;
}

// A flagged restore point as the watcher saw it: its alert (id, from and
// tenant_display left to fill) and its subject's kind.
struct PointSeen {
  std::string subject;
  v1::Alert alert;
};

// Every present restore point of `tenants`' backup sets whose verdict is
// suspicious or encrypted and that no operator accepted, as an alert: kind
// "ransomware", event and `to` the verdict word, the signals and the set's
// last clean point at `now`. Times in the tenant's zone.
Status FlaggedPoints(storage::Catalogue& cat, const std::vector<v1::Tenant>& tenants, int64_t now,
                     std::vector<PointSeen>* out) {
  storage::KvStore* kv = cat.kv();
  for (const v1::Tenant& t : tenants) {
    const contracts::Calendar cal(t.timezone().empty() ? "UTC" : t.timezone());
    std::vector<v1::BackupSet> sets;
    Status s =
        ForEachRecord<v1::BackupSet>(kv, Space::kMeta, keys::BackupSetsOf(t.name()), "backup set",
                                     [&](v1::BackupSet&& b) { sets.push_back(std::move(b)); });
    if (!s.ok()) return s;
    for (const v1::BackupSet& set : sets) {
      auto points = LoadPoints(kv, t.name(), set.name());
      if (!points.ok()) return points.status();
      std::vector<contracts::PointFact> facts;
      for (const v1::PointRecord& p : *points) facts.push_back(ToPointFact(p));
      const contracts::PointFact* clean = contracts::LastCleanPoint(facts, now);
      for (const v1::PointRecord& p : *points) {
        if (p.gone_ns() != 0 || p.accepted_ns() != 0) continue;
        if (p.verdict() != v1::POINT_VERDICT_SUSPICIOUS &&
            p.verdict() != v1::POINT_VERDICT_ENCRYPTED) {
          continue;
        }
        PointSeen f;
        f.subject = RansomwareSubject(p.time_ns());
        v1::Alert& a = f.alert;
        const std::string word = PointVerdictName(p.verdict());
        a.set_tenant(t.name());
        a.set_asset(set.asset());
        a.set_kind("ransomware");
        a.set_event(word);
        a.set_to(word);
        a.set_at_ns(now);
        v1::PointAlert* pa = a.mutable_point();
        pa->set_backup_set(set.name());
        pa->set_point_ns(p.time_ns());
        pa->set_point_name(p.name());
        pa->set_verdict(word);
        *pa->mutable_signals() = p.signals();
        pa->set_compared_with_ns(p.compared_with_ns());
        // A mirror's one point (time 0) is dated by its syncs, not here.
        std::string summary = "backup set " + set.name() + ": " +
                              (p.time_ns() == 0 ? std::string("the mirror")
                                                : "restore point " + EscapeForTerminal(p.name()) +
                                                      " (taken " + cal.Format(p.time_ns()) + ")") +
                              " is " + word;
        for (int i = 0; i < p.signals_size(); ++i) {
          summary += (i == 0 ? ": " : "; ") + p.signals(i).message();
        }
        if (clean != nullptr) {
          pa->set_last_clean_ns(clean->time_ns);
          pa->set_last_clean_name(clean->name);
          summary += "; last clean point: " + EscapeForTerminal(clean->name) + " (taken " +
                     cal.Format(clean->time_ns) + ")";
        } else {
          summary += "; no clean point";
        }
        a.set_summary(summary);
        out->push_back(std::move(f));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string RansomwareSubject(int64_t point_ns) { return "ransomware@" + std::to_string(point_ns); }

bool PointAlertDue(const std::string& alerted, const std::string& verdict) {
  if (alerted.empty()) return true;
  return alerted == "suspicious" && verdict == "encrypted";
}

Step Advance(const v1::VerdictRecord* prev, const Observation& obs, int64_t now,
             const WatcherOptions& options) {
  Step st;
  v1::VerdictRecord& r = st.record;
  if (prev != nullptr) r = *prev;
  r.set_tenant(obs.tenant);
  r.set_asset(obs.asset);
  r.set_kind(obs.kind);
  if (prev == nullptr || prev->verdict() != obs.verdict) {
    r.set_verdict(obs.verdict);
    r.set_verdict_since_ns(now);
  }
  std::string state = obs.verdict;
  if (state != "fail" && (obs.overdue || (state == "unknown" && obs.cadence_ns > 0 &&
                                          now - r.verdict_since_ns() > obs.cadence_ns))) {
    state = "silent";
  }
  const std::string from = prev != nullptr ? prev->state() : "";
  std::string event;
  if (prev == nullptr || from != state) {
    r.set_state(state);
    r.set_since_ns(now);
    st.has_transition = true;
    if (Bad(state)) {
      event = state;
    } else if (state == "pass" && r.incident()) {
      event = "recovery";
    }
  } else if (Bad(state) && r.incident() && options.renotify_every_ns > 0 &&
             now - r.last_alert_ns() >= options.renotify_every_ns) {
    event = "reminder";
  }
  if (!event.empty()) {
    r.set_last_alert_ns(now);
    r.set_incident(event != "recovery");
  }
  // The summary only counts as a change with something else (ages in it
  // move every pass).
  st.changed = prev == nullptr || prev->state() != r.state() || prev->verdict() != r.verdict() ||
               prev->last_alert_ns() != r.last_alert_ns() || prev->incident() != r.incident();
  r.set_summary(obs.summary);
  if (st.has_transition) {
    v1::Transition& t = st.transition;
    t.set_tenant(obs.tenant);
    t.set_asset(obs.asset);
    t.set_kind(obs.kind);
    t.set_from(from);
    t.set_to(state);
    t.set_at_ns(now);
    t.set_summary(obs.summary);
    for (const auto& e : obs.evidence) *t.add_evidence() = e;
  }
  if (!event.empty()) {
    st.has_alert = true;
    v1::Alert& a = st.alert;
    a.set_tenant(obs.tenant);
    a.set_asset(obs.asset);
    a.set_kind(obs.kind);
    a.set_event(event);
    a.set_from(event == "reminder" ? state : from);
    a.set_to(state);
    a.set_at_ns(now);
    a.set_summary(obs.summary);
    for (const auto& e : obs.evidence) *a.add_evidence() = e;
  }
  return st;
}

StatusOr<std::vector<v1::Alert>> Watcher::RunOnce() {
  storage::KvStore* kv = c_->catalogue().kv();
  const int64_t now = clock_->NowNs();
  std::vector<Observation> seen;

  // Tenants with a contract in force: the status evaluation, as is.
  std::vector<v1::Tenant> tenants;
  Status s = ForEachRecord<v1::Tenant>(kv, Space::kMeta, keys::kTenantPrefix, "tenant",
                                       [&](v1::Tenant&& t) { tenants.push_back(std::move(t)); });
  if (!s.ok()) return s;
  std::map<std::string, const v1::Tenant*> tenant_by_name;
  for (const auto& t : tenants) tenant_by_name[t.name()] = &t;
  std::vector<v1::Task> tasks = c_->leases().All();
  for (const v1::Tenant& t : tenants) {
    v1::TenantStatus ts;
    if (s = FillEvaluation(c_->catalogue(), tasks, t, now, &ts); !s.ok()) return s;
    if (ts.commitments_size() == 0) continue;
    auto versions = LoadContracts(kv, t.name());
    if (!versions.ok()) return versions.status();
    const contracts::Contract* contract = contracts::VersionInForce(*versions, now);
    for (const v1::CommitmentStatus& cs : ts.commitments()) {
      Observation o;
      o.tenant = t.name();
      o.asset = cs.asset();
      o.kind = cs.kind();
      o.verdict = cs.verdict();
      o.cadence_ns = contract != nullptr ? CadenceOf(*contract, cs.asset(), cs.kind()) : 0;
      // Overdue: the last inventory is older than its cadence plus the
      // grace (a never-checked set stays unknown: silent past the cadence).
      const int64_t every = contract != nullptr
                                ? contracts::Cadence(contracts::CheckKind::kInventory,
                                                     contract->CommitmentsFor(cs.asset()))
                                : 0;
      o.overdue = cs.last_check_ns() != 0 && every > 0 &&
                  now - cs.last_check_ns() > every + options_.overdue_grace_ns;
      o.summary = cs.summary();
      if (o.overdue && o.verdict != "fail") {
        // In the tenant's zone, as the verdicts' own times (the dashboard
        // shows this summary beside them).
        o.summary = "check overdue: last run " +
                    contracts::Calendar(t.timezone()).Format(cs.last_check_ns()) + ", due every " +
                    contracts::FormatDuration(every) + "; " + o.summary;
      } else if (o.verdict == "unknown" && o.cadence_ns > 0) {
        o.summary += " (no verdict yet; silent after " + contracts::FormatDuration(o.cadence_ns) +
                     " without one)";
      }
      o.evidence.assign(cs.evidence().begin(), cs.evidence().end());
      seen.push_back(std::move(o));
    }
  }

  // Ransomware: the restore points whose verdict is suspicious or encrypted
  // (and not accepted), each alerted once (RansomwareSubject).
  std::vector<PointSeen> flagged;
  if (s = FlaggedPoints(c_->catalogue(), tenants, now, &flagged); !s.ok()) return s;

  // Workers, per location: silent when no worker serving the location has
  // been heard from. Workers register anew (a new id) at each start, so a
  // restarted worker leaves a dead id behind: watching ids would alert on
  // every restart, forever; a location is what a check needs.
  if (options_.worker_quiet_ns > 0) {
    auto workers = LoadRecords<v1::WorkerRecord>(kv, keys::kWorkerPrefix, "worker");
    if (!workers.ok()) return workers.status();
    auto locations = LoadLocations(kv);
    if (!locations.ok()) return locations.status();
    std::map<std::string, int64_t> last_seen = c_->WorkersLastSeen();
    struct Served {
      int64_t last = 0;
      std::string last_worker;
    };
    std::map<std::string, Served> served;  // location -> newest worker call
    for (const v1::WorkerRecord& w : *workers) {
      auto it = last_seen.find(w.id());
      // Not seen since this process started: timed from the start.
      int64_t last =
          it != last_seen.end() ? it->second : std::max(c_->opened_ns(), w.registered_ns());
      for (const std::string& l : w.locations()) {
        Served& sv = served[l];
        if (last > sv.last) sv = {last, w.id()};
      }
    }
    for (const auto& [location, sv] : served) {
      auto loc = locations->find(location);
      if (loc == locations->end()) continue;  // not (or no longer) declared
      Observation o;
      o.asset = location;
      o.kind = "worker";
      o.verdict = "pass";
      o.overdue = now - sv.last > options_.worker_quiet_ns;
      o.summary = "location " + location + " (site " + loc->second.site +
                  "): " + (o.overdue ? "no worker heard from since " : "last worker call ") +
                  FormatTimeUtc(sv.last) + " (" + sv.last_worker + ")";
      seen.push_back(std::move(o));
    }
  }

  // Decide, then write everything in one synced batch.
  std::map<std::string, v1::VerdictRecord> prev;
  auto loaded = LoadVerdicts(kv);
  if (!loaded.ok()) return loaded.status();
  for (auto& r : *loaded) prev[keys::Verdict(r.tenant(), r.asset(), r.kind())] = std::move(r);
  std::vector<v1::AlertChannel> channels;
  bool channels_loaded = false;
  storage::KvBatch batch;
  std::vector<v1::Alert> raised;
  // Gives `a` an id, routes it into the outbox (in `batch`) and returns its
  // id.
  auto raise = [&](v1::Alert& a) -> StatusOr<std::string> {
    auto id = RandomHex(16);
    if (!id.ok()) return id.status();
    a.set_id(*id);
    auto tt = tenant_by_name.find(a.tenant());
    const v1::Tenant* tenant = tt != tenant_by_name.end() ? tt->second : nullptr;
    if (tenant != nullptr) a.set_tenant_display(tenant->display_name());
    if (!channels_loaded) {
      auto c = LoadAlertChannels(kv);
      if (!c.ok()) return c.status();
      channels = std::move(*c);
      channels_loaded = true;
    }
    std::vector<v1::Delivery> ds = Route(a, channels, tenant, now);
    for (const v1::Delivery& d : ds)
      batch.Put(Space::kMeta, DeliveryKey(d, false), d.SerializeAsString());
    if (ds.empty()) {
      std::fprintf(stderr, "vigil coordinator: alert %s (%s %s %s): no alert channel serves it\n",
                   a.id().c_str(), a.tenant().c_str(), a.asset().c_str(), a.event().c_str());
    }
    raised.push_back(a);
    return id;
  };
  for (const Observation& o : seen) {
    std::string key = keys::Verdict(o.tenant, o.asset, o.kind);
    auto it = prev.find(key);
    Step st = Advance(it != prev.end() ? &it->second : nullptr, o, now, options_);
    if (st.has_alert) {
      auto id = raise(st.alert);
      if (!id.ok()) return id.status();
      if (st.has_transition) st.transition.set_alert_id(*id);
    }
    if (st.has_transition) {
      batch.Put(Space::kMeta, keys::Transition(o.tenant, now, o.asset, o.kind),
                st.transition.SerializeAsString());
    }
    if (st.changed) batch.Put(Space::kMeta, key, st.record.SerializeAsString());
  }
  for (PointSeen& f : flagged) {
    const std::string key =
        keys::Verdict(f.alert.tenant(), f.alert.point().backup_set(), f.subject);
    auto it = prev.find(key);
    const std::string was = it != prev.end() ? it->second.state() : "";
    if (!PointAlertDue(was, f.alert.to())) continue;
    f.alert.set_from(was);
    if (auto id = raise(f.alert); !id.ok()) return id.status();
    v1::VerdictRecord r;
    r.set_tenant(f.alert.tenant());
    r.set_asset(f.alert.point().backup_set());
    r.set_kind(f.subject);
    r.set_state(f.alert.to());
    r.set_since_ns(now);
    r.set_verdict(f.alert.to());
    r.set_verdict_since_ns(now);
    r.set_last_alert_ns(now);
    r.set_summary(f.alert.summary());
    batch.Put(Space::kMeta, key, r.SerializeAsString());
  }
  if (batch.count() > 0) {
    if (s = kv->Write(batch, {.sync = true}); !s.ok()) return s;
  }
  return raised;
}

}  // namespace vigil::coordinator
