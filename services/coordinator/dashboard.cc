#include "services/coordinator/dashboard.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "services/common/proto_names.h"
#include "services/contracts/calendar.h"

// The page's files (services/coordinator/dashboard/), built in by CMake.
namespace vigil::embedded {
extern const char kDashboardHtml[];
extern const std::size_t kDashboardHtmlSize;
extern const char kDashboardCss[];
extern const std::size_t kDashboardCssSize;
extern const char kDashboardJs[];
extern const std::size_t kDashboardJsSize;
}  // namespace vigil::embedded

namespace vigil::coordinator {
namespace {

// The contract's commitment kinds, in the order columns are shown.
const char* const kKinds[] = {"rpo", "retention", "copies", "integrity", "restore_drill"};

int Rank(const nlohmann::json& row) {
  bool fail = row["readiness"] == "not ready" || !row["failed"].empty() || !row["flagged"].empty(),
       overdue = false, unknown = row["readiness"] != "ready";
  for (const auto& [kind, cell] : row["cells"].items()) {
    fail = fail || cell["verdict"] == "fail";
    overdue = overdue || cell["overdue"].get<bool>();
    unknown = unknown || cell["verdict"] != "pass";
  }
  return fail ? 0 : overdue ? 1 : unknown ? 2 : 3;
}

// A leased task's progress (dashboard.h), or null when it has none.
nlohmann::json ProgressJson(const v1::Task& t) {
  if (t.state() != v1::TASK_STATE_LEASED || !t.has_progress()) return nullptr;
  const v1::TaskProgress& p = t.progress();
  // Average rates over the time the figures moved (unknown start: 0).
  const double seconds = p.started_ns() > 0 && p.updated_ns() > p.started_ns()
                             ? static_cast<double>(p.updated_ns() - p.started_ns()) / 1e9
                             : 0;
  nlohmann::json percent = nullptr;  // unknown total: an indeterminate bar
  if (p.bytes_total() > 0) {
    percent = std::min(
        100.0, 100.0 * static_cast<double>(p.bytes_done()) / static_cast<double>(p.bytes_total()));
  } else if (p.files_total() > 0) {
    percent = std::min(
        100.0, 100.0 * static_cast<double>(p.files_done()) / static_cast<double>(p.files_total()));
  }
  return {{"files_done", p.files_done()},
          {"bytes_done", p.bytes_done()},
          {"files_total", p.files_total()},
          {"bytes_total", p.bytes_total()},
          {"percent", std::move(percent)},
          {"files_per_s", seconds > 0 ? static_cast<double>(p.files_done()) / seconds : 0.0},
          {"bytes_per_s", seconds > 0 ? static_cast<double>(p.bytes_done()) / seconds : 0.0},
          {"started_ns", p.started_ns()},
          {"updated_ns", p.updated_ns()}};
}

nlohmann::json TaskJson(const v1::Task& t) {
  return {{"id", t.id()},
          {"check_id", t.check_id()},
          {"tenant", t.backup_set().tenant()},
          {"backup_set", t.backup_set().name()},
          {"kind", t.kind() == v1::TASK_KIND_DRILL ? "drill" : "check"},
          {"state", TaskStateName(t.state())},
          {"worker", t.worker_id()},
          {"attempt", t.attempt()},
          {"lease_expires_ns", t.lease_expires_ns()},
          {"waiting", t.waiting()},
          {"progress", ProgressJson(t)}};
}

// The latest task of each (tenant, backup set, kind) when it failed (every
// attempt did): what an operator must see until a later run succeeds.
std::vector<const v1::Task*> LatestFailed(const std::vector<v1::Task>& tasks,
                                          std::string_view tenant = "") {
  std::map<std::tuple<std::string, std::string, int>, const v1::Task*> latest;
  for (const v1::Task& t : tasks) {
    if (!tenant.empty() && t.backup_set().tenant() != tenant) continue;
    const v1::Task*& l = latest[{t.backup_set().tenant(), t.backup_set().name(), t.kind()}];
    if (l == nullptr || t.id() > l->id()) l = &t;
  }
  std::vector<const v1::Task*> out;
  for (const auto& [key, t] : latest) {
    if (t->state() == v1::TASK_STATE_FAILED) out.push_back(t);
  }
  return out;
}

// A failed task (dashboard.h): its last error as the reason, every error.
nlohmann::json FailedJson(const v1::Task& t) {
  nlohmann::json j = TaskJson(t);
  nlohmann::json errors = nlohmann::json::array();
  for (const v1::TaskError& e : t.errors()) {
    errors.push_back({{"attempt", e.attempt()},
                      {"worker", e.worker_id()},
                      {"at_ns", e.at_ns()},
                      {"message", e.message()}});
  }
  j["asset"] = t.backup_set().asset();
  j["finished_ns"] = t.finished_ns();
  j["reason"] = t.errors().empty() ? "no error recorded" : t.errors().rbegin()->message();
  j["errors"] = std::move(errors);
  return j;
}

// How far ahead of now a page shows times (next checks, lease ends).
constexpr int64_t kZoneAheadNs = int64_t{400} * 24 * 3600 * 1000000000;

// A tenant's zone for the page (dashboard.h): its offsets over the window.
nlohmann::json ZoneJson(const std::string& tz, int64_t from_ns, int64_t to_ns) {
  contracts::Calendar cal(tz.empty() ? "UTC" : tz);
  nlohmann::json spans = nlohmann::json::array();
  for (const auto& s : cal.Spans(from_ns, to_ns))
    spans.push_back({s.begin_ns, s.offset_s, s.abbrev});
  return {{"name", cal.ok() ? cal.name() : "UTC"}, {"spans", std::move(spans)}};
}

void SortById(nlohmann::json& tasks) {
  std::sort(tasks.begin(), tasks.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["id"].get<uint64_t>() < b["id"].get<uint64_t>();
  });
}

bool InProgress(const v1::Task& t) {
  return t.state() == v1::TASK_STATE_QUEUED || t.state() == v1::TASK_STATE_LEASED;
}

nlohmann::json EvidenceJson(const google::protobuf::RepeatedPtrField<v1::EvidenceItem>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : items) {
    out.push_back({{"name", e.name()}, {"value", e.value()}, {"basis", e.basis()}});
  }
  return out;
}

std::string Dump(const nlohmann::json& j) {
  // Invalid UTF-8 in a name (not expected: contracts are validated) is
  // replaced rather than failing the whole page.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The tenant page's numeric history (history.h), values as they are.
nlohmann::json SeriesJson(const std::vector<HistorySeries>& series) {
  nlohmann::json out = nlohmann::json::array();
  for (const HistorySeries& h : series) {
    nlohmann::json points = nlohmann::json::array();
    for (const SeriesPoint& p : h.points) points.push_back({p.t_ns, p.value});
    out.push_back({{"asset", h.asset},
                   {"kind", h.kind},
                   {"metric", h.metric},
                   {"unit", h.metric == "coverage" ? "ratio" : "ns"},
                   {"limit", h.has_limit ? nlohmann::json(h.limit) : nlohmann::json(nullptr)},
                   {"points", std::move(points)},
                   {"samples", h.samples},
                   {"definition", h.definition},
                   {"note", h.note}});
  }
  return out;
}

// What became of the alert `alert_id` (dashboard.h), from its deliveries.
nlohmann::json AlertStateJson(const std::string& alert_id,
                              const std::vector<const v1::Delivery*>& deliveries) {
  nlohmann::json out = nlohmann::json::array();
  int sent = 0, pending = 0, given_up = 0;
  std::string last_error;
  for (const v1::Delivery* d : deliveries) {
    std::string state = d->delivered_ns() != 0 ? "sent"
                        : d->failed_ns() != 0  ? "given up"
                                               : "pending";
    (state == "sent" ? sent : state == "pending" ? pending : given_up)++;
    if (state == "given up") last_error = d->last_error();
    out.push_back({{"channel", d->channel()},
                   {"contact", d->contact()},
                   {"state", state},
                   {"attempts", d->attempts()},
                   {"sent_ns", d->delivered_ns()},
                   {"next_attempt_ns", state == "pending" ? d->next_attempt_ns() : 0},
                   {"failed_ns", d->failed_ns()},
                   {"last_error", d->last_error()}});
  }
  std::string state, reason;
  if (deliveries.empty()) {
    // Routing wrote no delivery, in the batch that wrote the transition.
    state = "not sent";
    reason = "no alert channel serves it";
  } else if (pending > 0) {
    state = "pending";
  } else if (given_up == 0) {
    state = "sent";
  } else if (sent == 0) {
    state = "not sent";
    reason = "given up: " + last_error;
  } else {
    state = "partly sent";
    reason = "given up on " + std::to_string(given_up) + " of " +
             std::to_string(deliveries.size()) + " deliveries: " + last_error;
  }
  return {{"id", alert_id}, {"state", state}, {"reason", reason}, {"deliveries", std::move(out)}};
}

// A restore point's name: as UTF-8 (invalid bytes replaced when dumped).
// The exact bytes are in `vigil status --json` (name_base64).
nlohmann::json SignalsJson(const google::protobuf::RepeatedPtrField<v1::PointSignal>& signals) {
  nlohmann::json out = nlohmann::json::array();
  for (const v1::PointSignal& sig : signals) {
    nlohmann::json examples = nlohmann::json::array();
    for (const std::string& e : sig.examples()) examples.push_back(e);
    out.push_back({{"kind", sig.kind()},
                   {"message", sig.message()},
                   {"count", sig.count()},
                   {"threshold", sig.threshold()},
                   {"examples", std::move(examples)}});
  }
  return out;
}

// The flagged points of a tenant (dashboard.h, "signals"): present, verdict
// suspicious or encrypted, not accepted; by set, then time.
nlohmann::json FlaggedJson(const v1::TenantStatus& ts) {
  nlohmann::json out = nlohmann::json::array();
  for (const v1::BackupSetStatus& b : ts.backup_sets()) {
    for (const v1::PointRecord& p : b.points()) {
      if (p.gone_ns() != 0 || p.accepted_ns() != 0) continue;
      if (p.verdict() != v1::POINT_VERDICT_SUSPICIOUS &&
          p.verdict() != v1::POINT_VERDICT_ENCRYPTED) {
        continue;
      }
      out.push_back({{"tenant", ts.tenant().name()},
                     {"asset", b.backup_set().asset()},
                     {"backup_set", b.backup_set().name()},
                     {"point_name", p.name()},
                     {"point_ns", p.time_ns()},
                     {"verdict", PointVerdictName(p.verdict())},
                     {"signals", SignalsJson(p.signals())},
                     {"compared_with_ns", p.compared_with_ns()},
                     {"last_clean_ns", b.last_clean_ns()},
                     {"last_clean_name", b.last_clean_name()}});
    }
  }
  return out;
}

// Each backup set's last clean point and its newest present point's verdict
// (dashboard.h, "clean_points").
nlohmann::json CleanPointJson(const v1::BackupSetStatus& b) {
  const v1::PointRecord* newest = nullptr;
  for (const v1::PointRecord& p : b.points()) {
    if (p.gone_ns() == 0 && (newest == nullptr || p.time_ns() > newest->time_ns())) newest = &p;
  }
  return {{"backup_set", b.backup_set().name()},
          {"asset", b.backup_set().asset()},
          {"last_clean_ns", b.last_clean_ns()},
          {"last_clean_name", b.last_clean_name()},
          {"has_clean", b.last_clean_ns() != 0 || !b.last_clean_name().empty()},
          {"newest_verdict",
           newest == nullptr
               ? nlohmann::json(nullptr)
               : nlohmann::json(newest->accepted_ns() != 0 ? "accepted"
                                                           : PointVerdictName(newest->verdict()))}};
}

}  // namespace

std::string TenantJson(const v1::GetStatusResponse& status, std::string_view tenant, int64_t now_ns,
                       int64_t from_ns, const std::vector<v1::Transition>& transitions,
                       const std::vector<v1::Task>& tasks, const std::vector<HistorySeries>& series,
                       const std::vector<v1::Delivery>& deliveries) {
  const v1::TenantStatus* ts = nullptr;
  for (const v1::TenantStatus& t : status.tenants()) {
    if (t.tenant().name() == tenant) ts = &t;
  }
  if (ts == nullptr) return "";
  nlohmann::json readiness = nlohmann::json::array();
  for (const auto& r : ts->readiness()) {
    nlohmann::json reasons = nlohmann::json::array();
    for (const auto& why : r.reasons()) reasons.push_back(why);
    nlohmann::json site_loss_reasons = nlohmann::json::array();
    for (const auto& why : r.site_loss_reasons()) site_loss_reasons.push_back(why);
    readiness.push_back(
        {{"asset", r.asset()},
         {"readiness", r.readiness()},
         {"reasons", std::move(reasons)},
         {"site_loss", {{"readiness", r.site_loss()}, {"reasons", std::move(site_loss_reasons)}}},
         {"monitored_from_ns", r.monitored_from_ns()}});
  }
  nlohmann::json commitments = nlohmann::json::array();
  for (const auto& c : ts->commitments()) {
    commitments.push_back({{"asset", c.asset()},
                           {"kind", c.kind()},
                           {"verdict", c.verdict()},
                           {"summary", c.summary()},
                           {"failing_since_ns", c.failing_since_ns()},
                           {"began_ns", c.began_ns()},
                           {"monitored_from_ns", c.monitored_from_ns()},
                           {"last_check_ns", c.last_check_ns()},
                           {"next_check_ns", c.next_check_ns()},
                           {"overdue", c.next_check_ns() > 0 && c.next_check_ns() < now_ns},
                           {"evidence", EvidenceJson(c.evidence())}});
  }
  std::map<std::string, std::vector<const v1::Delivery*>> by_alert;
  for (const v1::Delivery& d : deliveries) {
    if (d.alert().tenant() == tenant) by_alert[d.alert().id()].push_back(&d);
  }
  nlohmann::json history = nlohmann::json::array();
  for (const v1::Transition& t : transitions) {
    if (t.tenant() != tenant) continue;
    auto found = by_alert.find(t.alert_id());
    history.push_back(
        {{"asset", t.asset()},
         {"kind", t.kind()},
         {"from", t.from()},
         {"to", t.to()},
         {"at_ns", t.at_ns()},
         {"summary", t.summary()},
         {"alerted", !t.alert_id().empty()},
         {"alert", t.alert_id().empty()
                       ? nlohmann::json(nullptr)
                       : AlertStateJson(t.alert_id(), found != by_alert.end()
                                                          ? found->second
                                                          : std::vector<const v1::Delivery*>{})}});
  }
  nlohmann::json running = nlohmann::json::array();
  for (const v1::Task& t : tasks) {
    if (InProgress(t) && t.backup_set().tenant() == tenant) running.push_back(TaskJson(t));
  }
  SortById(running);
  nlohmann::json failed = nlohmann::json::array();
  for (const v1::Task* t : LatestFailed(tasks, tenant)) failed.push_back(FailedJson(*t));
  SortById(failed);
  nlohmann::json clean_points = nlohmann::json::array();
  for (const v1::BackupSetStatus& b : ts->backup_sets()) clean_points.push_back(CleanPointJson(b));
  return Dump({{"generated_ns", now_ns},
               {"signals", FlaggedJson(*ts)},
               {"clean_points", std::move(clean_points)},
               {"tenant", ts->tenant().name()},
               {"zone", ZoneJson(ts->tenant().timezone(), from_ns, now_ns + kZoneAheadNs)},
               {"failed", std::move(failed)},
               {"display_name", ts->tenant().display_name().empty() ? ts->tenant().name()
                                                                    : ts->tenant().display_name()},
               {"readiness", std::move(readiness)},
               {"commitments", std::move(commitments)},
               {"history", std::move(history)},
               {"from_ns", from_ns},
               {"tasks", std::move(running)},
               {"series", SeriesJson(series)}});
}

std::string WorkersJson(const std::vector<v1::WorkerRecord>& workers,
                        const std::vector<v1::Task>& tasks, int64_t now_ns) {
  std::map<std::string, nlohmann::json> by_id;
  for (const v1::WorkerRecord& w : workers) {
    nlohmann::json locations = nlohmann::json::array();
    for (const auto& l : w.locations()) locations.push_back(l);
    by_id[w.id()] = {{"id", w.id()},
                     {"site", w.site()},
                     {"locations", std::move(locations)},
                     {"capacity", w.capacity()},
                     {"registered_ns", w.registered_ns()},
                     {"leases", nlohmann::json::array()}};
  }
  for (const v1::Task& t : tasks) {
    if (t.state() != v1::TASK_STATE_LEASED || t.worker_id().empty()) continue;
    auto it = by_id.find(t.worker_id());
    if (it == by_id.end()) {
      it = by_id
               .emplace(t.worker_id(),
                        nlohmann::json{{"id", t.worker_id()}, {"leases", nlohmann::json::array()}})
               .first;
    }
    it->second["leases"].push_back(TaskJson(t));
  }
  nlohmann::json list = nlohmann::json::array();
  for (auto& [id, w] : by_id) {
    SortById(w["leases"]);
    list.push_back(std::move(w));
  }
  return Dump({{"generated_ns", now_ns}, {"workers", std::move(list)}});
}

std::string DashboardJson(const v1::GetStatusResponse& status, int64_t now_ns,
                          const std::vector<v1::Task>& tasks) {
  std::vector<nlohmann::json> rows;
  std::map<std::string, int> counts = {{"pass", 0}, {"fail", 0}, {"unknown", 0}};
  std::map<std::string, bool> kinds_present;
  // The failed tasks, by (tenant, asset) for the rows.
  const std::vector<const v1::Task*> failed_tasks = LatestFailed(tasks);
  std::map<std::pair<std::string, std::string>, nlohmann::json> failed_of;
  nlohmann::json failed = nlohmann::json::array();
  for (const v1::Task* t : failed_tasks) {
    nlohmann::json j = FailedJson(*t);
    auto& list = failed_of[{t->backup_set().tenant(), t->backup_set().asset()}];
    if (list.is_null()) list = nlohmann::json::array();
    list.push_back({{"id", t->id()},
                    {"backup_set", t->backup_set().name()},
                    {"kind", j["kind"]},
                    {"finished_ns", t->finished_ns()},
                    {"reason", j["reason"]}});
    failed.push_back(std::move(j));
  }
  SortById(failed);
  nlohmann::json zones = nlohmann::json::object();
  nlohmann::json signals = nlohmann::json::array();
  for (const v1::TenantStatus& ts : status.tenants()) {
    nlohmann::json flagged = FlaggedJson(ts);
    for (const auto& f : flagged) signals.push_back(f);
    zones[ts.tenant().name()] =
        ZoneJson(ts.tenant().timezone(), now_ns - kZoneAheadNs, now_ns + kZoneAheadNs);
    auto attach_failed = [&](nlohmann::json& j, const std::string& asset) {
      auto f = failed_of.find({ts.tenant().name(), asset});
      j["failed"] = f == failed_of.end() ? nlohmann::json::array() : f->second;
    };
    // Assets in the order the status lists them (readiness first, then any
    // asset only the commitments name).
    std::map<std::string, nlohmann::json> by_asset;
    std::vector<std::string> order;
    auto row = [&](const std::string& asset) -> nlohmann::json& {
      auto it = by_asset.find(asset);
      if (it != by_asset.end()) return it->second;
      order.push_back(asset);
      nlohmann::json r = {{"tenant", ts.tenant().name()},
                          {"asset", asset},
                          {"readiness", "unknown"},
                          {"reasons", nlohmann::json::array()},
                          {"cells", nlohmann::json::object()}};
      return by_asset.emplace(asset, std::move(r)).first->second;
    };
    for (const auto& r : ts.readiness()) {
      nlohmann::json& j = row(r.asset());
      j["readiness"] = r.readiness();
      for (const auto& why : r.reasons()) j["reasons"].push_back(why);
      j["site_loss"] = r.site_loss();
      j["monitored_from_ns"] = r.monitored_from_ns();
    }
    for (const auto& c : ts.commitments()) {
      nlohmann::json& j = row(c.asset());
      kinds_present[c.kind()] = true;
      const std::string verdict = counts.count(c.verdict()) ? c.verdict() : "unknown";
      ++counts[verdict];
      j["cells"][c.kind()] = {{"verdict", verdict},
                              {"summary", c.summary()},
                              {"overdue", c.next_check_ns() > 0 && c.next_check_ns() < now_ns},
                              {"failing_since_ns", c.failing_since_ns()},
                              {"began_ns", c.began_ns()},
                              {"monitored_from_ns", c.monitored_from_ns()},
                              {"next_check_ns", c.next_check_ns()}};
    }
    for (const auto& asset : order) {
      nlohmann::json& j = by_asset[asset];
      attach_failed(j, asset);
      j["clean_points"] = nlohmann::json::array();
      for (const v1::BackupSetStatus& b : ts.backup_sets()) {
        if (b.backup_set().asset() == asset) j["clean_points"].push_back(CleanPointJson(b));
      }
      j["flagged"] = nlohmann::json::array();
      for (const auto& f : flagged) {
        if (f["asset"] == asset) {
          j["flagged"].push_back({{"backup_set", f["backup_set"]},
                                  {"point_name", f["point_name"]},
                                  {"point_ns", f["point_ns"]},
                                  {"verdict", f["verdict"]}});
        }
      }
      j["rank"] = Rank(j);
      rows.push_back(std::move(j));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::make_tuple(a["rank"].get<int>(), a["tenant"].get<std::string>(),
                           a["asset"].get<std::string>()) <
           std::make_tuple(b["rank"].get<int>(), b["tenant"].get<std::string>(),
                           b["asset"].get<std::string>());
  });
  nlohmann::json kinds = nlohmann::json::array();
  for (const char* k : kKinds) {
    if (kinds_present.erase(k) > 0) kinds.push_back(k);
  }
  for (const auto& [k, present] : kinds_present) kinds.push_back(k);  // future kinds, last
  nlohmann::json running = nlohmann::json::array();
  for (const v1::Task& t : tasks) {
    if (InProgress(t)) running.push_back(TaskJson(t));
  }
  SortById(running);
  nlohmann::json out = {
      {"generated_ns", now_ns},        {"kinds", std::move(kinds)},   {"counts", counts},
      {"rows", std::move(rows)},       {"tasks", std::move(running)}, {"failed", std::move(failed)},
      {"signals", std::move(signals)}, {"zones", std::move(zones)}};
  return Dump(out);
}

std::string_view DashboardHtml() {
  return {embedded::kDashboardHtml, embedded::kDashboardHtmlSize};
}
std::string_view DashboardCss() { return {embedded::kDashboardCss, embedded::kDashboardCssSize}; }
std::string_view DashboardJs() { return {embedded::kDashboardJs, embedded::kDashboardJsSize}; }

}  // namespace vigil::coordinator
