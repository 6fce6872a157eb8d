#include "services/coordinator/report.h"

#include <algorithm>
#include <map>
#include <optional>

#include "services/common/text.h"
#include "services/contracts/evaluate.h"
#include "services/contracts/proto_bridge.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/evaluation.h"
#include "services/proofs/check_log.h"
#include "storage/hex.h"

namespace vigil::coordinator {

using nlohmann::json;
using storage::Status;
using storage::StatusOr;

namespace {

json TimeOrNull(const contracts::Calendar& cal, int64_t t) {
  return t == 0 ? json(nullptr) : json(cal.Rfc3339(t));
}

json Declared(bool v) { return {{"value", v}, {"basis", "declared"}}; }

json MessagesJson(const std::vector<Message>& ms, const contracts::Calendar& cal) {
  json out = json::array();
  for (const Message& m : ms) out.push_back(MessageJson(m, cal));
  return out;
}

}  // namespace

json MessageJson(const Message& m, const contracts::Calendar& cal) {
  if (m.empty()) return nullptr;
  // A message holding one without a structured form has none either: the
  // reader shows the English sentence rather than half a message.
  for (const MessageArg& a : m.args) {
    if (a.kind != MessageArg::Kind::kList && a.kind != MessageArg::Kind::kMessage) continue;
    if (a.kind == MessageArg::Kind::kMessage && a.items.empty()) return nullptr;
    for (const Message& item : a.items) {
      if (MessageJson(item, cal).is_null()) return nullptr;
    }
  }
  json args = json::array();
  for (const MessageArg& a : m.args) {
    json value;
    switch (a.kind) {
      case MessageArg::Kind::kCount:
      case MessageArg::Kind::kBytes:
      case MessageArg::Kind::kRate:
        value = a.count;
        break;
      case MessageArg::Kind::kDuration:
        // Whole seconds, but tenths below ten seconds ("0.4 s").
        value = a.ns < 10'000'000'000 ? json(static_cast<double>(a.ns / 100'000'000) / 10.0)
                                      : json(static_cast<uint64_t>(a.ns / 1'000'000'000));
        break;
      case MessageArg::Kind::kTime:
      case MessageArg::Kind::kDate:
        value = cal.Rfc3339(a.ns);
        break;
      case MessageArg::Kind::kPercent:
        value = a.fraction;
        break;
      case MessageArg::Kind::kText:
        value = a.text;
        break;
      case MessageArg::Kind::kList:
        value = MessagesJson(a.items, cal);
        break;
      case MessageArg::Kind::kMessage:
        value = a.items.empty() ? json(nullptr) : MessageJson(a.items[0], cal);
        break;
    }
    args.push_back({{NameOf(kMessageArgKeys, a.kind, "text"), std::move(value)}});
  }
  return {{"id", m.id}, {"args", std::move(args)}};
}

Message CommitmentTermsMessage(const contracts::Commitment& c) {
  using contracts::CommitmentKind;
  switch (c.kind) {
    case CommitmentKind::kRpo:
      return Msg("terms.rpo", {msg::Duration(c.rpo.max_age_ns)});
    case CommitmentKind::kRetention: {
      std::vector<Message> parts;
      auto add = [&](int n, const char* id) {
        if (n > 0) parts.push_back(Msg(id, {msg::Count(static_cast<uint64_t>(n))}));
      };
      add(c.retention.daily, "terms.daily");
      add(c.retention.weekly, "terms.weekly");
      add(c.retention.monthly, "terms.monthly");
      add(c.retention.yearly, "terms.yearly");
      return Msg("terms.retention", {msg::List(std::move(parts))});
    }
    case CommitmentKind::kCopies:
      return Msg("terms.copies", {msg::Count(static_cast<uint64_t>(c.copies.min)),
                                  msg::Count(static_cast<uint64_t>(c.copies.offsite))});
    case CommitmentKind::kIntegrity:
      if (c.integrity.sample > 0) {
        return Msg("terms.integrity_sample",
                   {msg::Duration(c.integrity.reverify_within_ns), msg::Count(c.integrity.sample)});
      }
      if (c.integrity.budget_bytes > 0) {
        return Msg("terms.integrity_budget", {msg::Duration(c.integrity.reverify_within_ns),
                                              msg::Bytes(c.integrity.budget_bytes)});
      }
      return Msg("integrity.pass", {msg::Duration(c.integrity.reverify_within_ns)});
    case CommitmentKind::kRestoreDrill:
      if (c.drill.rto_ns > 0) {
        return Msg("terms.drill_rto",
                   {msg::Duration(c.drill.every_ns), msg::Duration(c.drill.rto_ns)});
      }
      return Msg("terms.drill", {msg::Duration(c.drill.every_ns)});
  }
  return {};
}

std::string CommitmentTerms(const contracts::Commitment& c) {
  using contracts::CommitmentKind;
  switch (c.kind) {
    case CommitmentKind::kRpo:
      return "newest good restore point younger than " + HumanDuration(c.rpo.max_age_ns);
    case CommitmentKind::kRetention: {
      std::vector<std::string> parts;
      auto add = [&](int n, const char* unit) {
        if (n > 0) parts.push_back(std::to_string(n) + " " + unit);
      };
      add(c.retention.daily, "daily");
      add(c.retention.weekly, "weekly");
      add(c.retention.monthly, "monthly");
      add(c.retention.yearly, "yearly");
      std::string s = "keep restore points:";
      for (size_t i = 0; i < parts.size(); ++i) s += (i == 0 ? " " : ", ") + parts[i];
      return s;
    }
    case CommitmentKind::kCopies:
      return "at least " + std::to_string(c.copies.min) + " current copies, of which " +
             std::to_string(c.copies.offsite) + " offsite";
    case CommitmentKind::kIntegrity: {
      std::string s = "every entry re-read within " + HumanDuration(c.integrity.reverify_within_ns);
      if (c.integrity.sample > 0) {
        s += " (a random sample of " + GroupDigits(c.integrity.sample) + " entries per run)";
      } else if (c.integrity.budget_bytes > 0) {
        s += " (at most " + HumanBytes(static_cast<double>(c.integrity.budget_bytes)) +
             " read per run)";
      }
      return s;
    }
    case CommitmentKind::kRestoreDrill: {
      std::string s = "a restore drill every " + HumanDuration(c.drill.every_ns);
      if (c.drill.rto_ns > 0)
        s += "; projected full restore within " + HumanDuration(c.drill.rto_ns);
      return s;
    }
  }
  return "";
}

StatusOr<contracts::Period> ReportPeriod(const std::string& text, const contracts::Calendar& cal,
                                         int64_t now) {
  if (text.empty()) {
    contracts::Period current = contracts::MonthOf(now, cal);
    return contracts::MonthOf(current.interval.start_ns - 1, cal);
  }
  std::string error;
  std::optional<contracts::Period> p = contracts::ParsePeriod(text, cal, &error);
  if (!p) return absl::InvalidArgumentError("period '" + text + "': " + error);
  return *p;
}

json EvaluationReportParts(const contracts::Contract& contract, const contracts::TenantFacts& facts,
                           const contracts::Evaluation& ev, const contracts::Calendar& cal,
                           const contracts::Interval& period, int64_t until) {
  std::map<std::string, std::string> asset_of;  // backup set -> asset
  for (const contracts::Asset& a : contract.assets) {
    for (const auto& s : a.backup_sets) asset_of[s.name] = a.name;
  }
  json terms = json::array();
  for (const contracts::Asset& a : contract.assets) {
    for (const contracts::Commitment* c : contract.CommitmentsFor(a.name)) {
      terms.push_back({{"asset", a.name},
                       {"kind", contracts::CommitmentKindName(c->kind)},
                       {"terms", CommitmentTerms(*c)},
                       {"terms_message", MessageJson(CommitmentTermsMessage(*c), cal)}});
    }
  }
  json readiness = json::array();
  for (const auto& a : ev.readiness) {
    // The asset's last clean point (contracts::LastCleanPoint across its
    // sets), null when it has none.
    json last_clean = nullptr;
    if (a.last_clean_ns != 0) {
      const std::string point = a.last_clean_set + "/" + a.last_clean_name;
      last_clean = {{"backup_set", a.last_clean_set},
                    {"name", a.last_clean_name},
                    {"time", cal.Rfc3339(a.last_clean_ns)},
                    {"time_ns", a.last_clean_ns},
                    {"summary",
                     "last clean point: " + point + " (taken " + cal.Format(a.last_clean_ns) + ")"},
                    {"message", MessageJson(Msg("ready.last_clean",
                                                {msg::Text(point), msg::Time(a.last_clean_ns)}),
                                            cal)}};
    }
    readiness.push_back({{"asset", a.asset},
                         {"last_clean_point", std::move(last_clean)},
                         {"readiness", contracts::ReadinessName(a.readiness)},
                         {"reasons", a.reasons},
                         {"reason_messages", MessagesJson(a.reason_messages, cal)},
                         {"site_loss",
                          {{"readiness", contracts::ReadinessName(a.site_loss)},
                           {"reasons", a.site_loss_reasons},
                           {"reason_messages", MessagesJson(a.site_loss_reason_messages, cal)}}},
                         {"monitored_from", TimeOrNull(cal, a.monitored_from_ns)}});
  }

  json commitments = json::array();
  json incidents = json::array();
  for (const auto& v : ev.verdicts) {
    json evidence = json::array();
    for (const auto& e : v.evidence) {
      evidence.push_back({{"name", e.name},
                          {"value", e.value},
                          {"message", MessageJson(e.message, cal)},
                          {"basis", e.basis}});
    }
    commitments.push_back({{"asset", v.asset},
                           {"kind", contracts::CommitmentKindName(v.kind)},
                           {"verdict", contracts::VerdictName(v.verdict)},
                           {"summary", v.summary},
                           {"message", MessageJson(v.summary_message, cal)},
                           {"failing_since", TimeOrNull(cal, v.failing_since_ns)},
                           {"began", TimeOrNull(cal, v.began_ns)},
                           {"monitored_from", TimeOrNull(cal, v.monitored_from_ns)},
                           {"evidence", evidence}});
    if (v.verdict == contracts::Verdict::kFail) {
      const int64_t detected = v.failing_since_ns != 0 ? v.failing_since_ns : until;
      incidents.push_back({{"asset", v.asset},
                           {"kind", contracts::CommitmentKindName(v.kind)},
                           {"began_at", cal.Rfc3339(v.began_ns != 0 ? v.began_ns : detected)},
                           {"detected_at", cal.Rfc3339(detected)},
                           {"resolved_at", nullptr},
                           {"summary", v.summary},
                           {"message", MessageJson(v.summary_message, cal)}});
    }
  }

  // Damaged and implausible restore points found during the period.
  for (const auto& [set_name, set_facts] : facts.sets) {
    const std::string& asset = asset_of[set_name];
    for (const contracts::PointFact& p : set_facts.points) {
      const bool gone_by_then = p.gone_ns != 0 && p.gone_ns <= until;
      if (p.damaged_ns != 0 && period.Contains(p.damaged_ns) && p.damaged_ns <= until) {
        incidents.push_back(
            {{"asset", asset},
             {"kind", "integrity"},
             {"began_at", cal.Rfc3339(p.damaged_ns)},
             {"detected_at", cal.Rfc3339(p.damaged_ns)},
             {"resolved_at", gone_by_then ? json(cal.Rfc3339(p.gone_ns)) : json(nullptr)},
             {"summary", set_name + ", restore point " + p.name + ": " + p.damage +
                             (gone_by_then ? " (the point was since removed)" : "")},
             {"message", MessageJson(Msg(gone_by_then ? "incident.point_removed" : "incident.point",
                                         {msg::Text(set_name), msg::Text(p.name),
                                          msg::Nested(contracts::DamageMessage(p.damage))}),
                                     cal)}});
      }
      if (!p.implausible.empty() && period.Contains(p.first_seen_ns) && p.first_seen_ns <= until) {
        std::string what;
        std::vector<Message> findings;
        for (const auto& f : p.implausible) {
          what += (what.empty() ? "" : "; ") + f;
          findings.push_back(Msg("ev.text", {msg::Text(f)}));
        }
        incidents.push_back(
            {{"asset", asset},
             {"kind", "plausibility"},
             // The emptied or encrypted backup was taken then.
             {"began_at", cal.Rfc3339(std::min(p.time_ns, p.first_seen_ns))},
             {"detected_at", cal.Rfc3339(p.first_seen_ns)},
             {"resolved_at", nullptr},
             {"summary", set_name + ", restore point " + p.name + ": " + what},
             {"message", MessageJson(Msg("incident.point", {msg::Text(set_name), msg::Text(p.name),
                                                            msg::List(std::move(findings))}),
                                     cal)}});
      }
    }
  }

  // Points of the period found suspicious or encrypted by their ransomware
  // signals (docs/ransomware.md), detected when first seen; one an operator
  // accepted since is resolved then.
  for (const auto& [set_name, set_facts] : facts.sets) {
    const std::string& asset = asset_of[set_name];
    for (const contracts::PointFact& p : set_facts.points) {
      if (p.verdict != contracts::PointVerdict::kSuspicious &&
          p.verdict != contracts::PointVerdict::kEncrypted) {
        continue;
      }
      if (!period.Contains(p.first_seen_ns) || p.first_seen_ns > until) continue;
      const std::string verdict =
          p.verdict == contracts::PointVerdict::kEncrypted ? "encrypted" : "suspicious";
      std::string what;
      std::vector<Message> signals;
      for (const auto& f : p.signals) {
        what += (what.empty() ? "" : "; ") + f;
        signals.push_back(Msg("ev.text", {msg::Text(f)}));
      }
      Message why = signals.empty() ? Msg("point." + verdict)
                                    : Msg("point." + verdict + "_why", {msg::List(signals)});
      json sig = json::array();
      for (const auto& f : p.signals) sig.push_back(f);
      Message m = Msg("incident.point",
                      {msg::Text(set_name), msg::Text(p.name), msg::Nested(std::move(why))});
      std::string summary = set_name + ", restore point " + p.name + ": " + verdict +
                            (what.empty() ? "" : ": " + what);
      if (p.accepted) {
        summary += " (accepted as clean by " + p.accepted_by + ": " + p.accepted_reason + ")";
        m = Msg("incident.accepted", {msg::Nested(std::move(m)), msg::Text(p.accepted_by),
                                      msg::Text(p.accepted_reason)});
      }
      incidents.push_back(
          {{"asset", asset},
           {"kind", "ransomware"},
           {"began_at", cal.Rfc3339(std::min(p.time_ns, p.first_seen_ns))},
           {"detected_at", cal.Rfc3339(p.first_seen_ns)},
           // Resolved when an operator declared the point clean.
           {"resolved_at", p.accepted && p.accepted_ns != 0 && p.accepted_ns <= until
                               ? json(cal.Rfc3339(p.accepted_ns))
                               : json(nullptr)},
           {"summary", std::move(summary)},
           {"signals", std::move(sig)},
           {"message", MessageJson(m, cal)}});
    }
  }

  json oos = json::array();
  for (const auto& o : ev.out_of_scope) oos.push_back({{"item", o.item}, {"reason", o.reason}});
  json findings = json::array();
  for (const auto& f : ev.scope) {
    findings.push_back({{"subject", f.subject},
                        {"finding", f.finding},
                        {"message", MessageJson(f.finding_message, cal)}});
  }
  return {{"terms", std::move(terms)},
          {"readiness", std::move(readiness)},
          {"commitments", std::move(commitments)},
          {"incidents", std::move(incidents)},
          {"out_of_scope", std::move(oos)},
          {"scope_findings", std::move(findings)}};
}

StatusOr<json> BuildReport(storage::Catalogue& cat, const std::vector<v1::Task>& all_tasks,
                           const v1::Tenant& tenant_rec, const contracts::Period& period,
                           int64_t now, const ReportOptions& options, ReportFacts* facts_out) {
  if (facts_out != nullptr) *facts_out = ReportFacts{};
  const int64_t until = std::min(period.interval.end_ns, now);
  if (until <= period.interval.start_ns) {
    return absl::FailedPreconditionError("period " + period.label + " has not started yet");
  }
  // What was known at `until`: tasks finished later are not evidence yet.
  std::vector<v1::Task> tasks;
  for (const v1::Task& t : all_tasks) {
    if (t.backup_set().tenant() == tenant_rec.name() && t.finished_ns() <= until) {
      tasks.push_back(t);
    }
  }
  auto te = EvaluateTenant(cat, tasks, tenant_rec, &period.interval, until);
  if (!te.ok()) return te.status();
  const contracts::Contract* contract = te->contract();
  if (contract == nullptr) {
    return absl::FailedPreconditionError("tenant '" + tenant_rec.name() +
                                         "' has no contract in force at the end of " +
                                         period.label);
  }
  auto versions = LoadContractVersions(cat.kv(), tenant_rec.name());
  if (!versions.ok()) return versions.status();
  if (te->version_index >= versions->size()) {
    return absl::DataLossError("contract versions of '" + tenant_rec.name() + "' changed");
  }
  const v1::ContractVersion& cv = (*versions)[te->version_index];
  const contracts::Tenant& tenant = te->tenant;
  contracts::Calendar cal(tenant.timezone);
  const contracts::Evaluation& ev = te->evaluation;

  json r;
  r["format"] = "vigil.report/1";
  r["tenant"] = {{"name", tenant.name},
                 {"display_name", tenant.display_name.empty() ? tenant.name : tenant.display_name},
                 {"time_zone", tenant.timezone},
                 {"language", tenant.language.empty() ? "en" : tenant.language}};
  if (!options.msp_name.empty()) r["msp"] = {{"name", options.msp_name}};
  r["period"] = {{"label", period.label},
                 {"start", cal.Rfc3339(period.interval.start_ns)},
                 {"end", cal.Rfc3339(period.interval.end_ns)},
                 {"evaluated_until", cal.Rfc3339(until)}};
  r["generated_at"] = cal.Rfc3339(now);

  json parts = EvaluationReportParts(*contract, te->facts, ev, cal, period.interval, until);

  // Contract summary.
  std::map<std::string, std::string> asset_of;  // backup set -> asset
  json assets = json::array();
  for (const contracts::Asset& a : contract->assets) {
    json sets = json::array();
    for (const auto& s : a.backup_sets) {
      sets.push_back(s.name);
      asset_of[s.name] = a.name;
    }
    assets.push_back({{"name", a.name}, {"description", a.description}, {"backup_sets", sets}});
  }
  r["contract"] = {{"version", cv.version()},
                   {"sha256", storage::HexEncode(cv.sha256())},
                   {"effective_from", cal.Rfc3339(cv.effective_from_ns())},
                   {"assets", assets},
                   {"commitments", std::move(parts["terms"])}};

  r["readiness"] = std::move(parts["readiness"]);
  r["commitments"] = std::move(parts["commitments"]);
  json incidents = std::move(parts["incidents"]);

  // Check results of the period, from the tenant's check log.
  uint64_t run = 0, failed = 0, drills = 0, entries_verified = 0, bytes_verified = 0;
  bool bytes_known = true;                     // every check of the period recorded its bytes
  std::map<std::string, size_t> open_failure;  // backup set -> index in incidents
  Status scanned = check_log::Scan(
      *cat.kv(), tenant_rec.name(), [&](const check_log::LogRecord& rec, const check_log::Hash&) {
        if (rec.at_ns > until) return false;
        json p = json::parse(rec.payload, nullptr, /*allow_exceptions=*/false);
        if (!p.is_object()) return true;
        const std::string set = p.value("backup_set", "");
        const bool ok = p.value("state", "") == "done";
        if (rec.at_ns >= period.interval.start_ns) {
          ++run;
          if (p.value("type", "") == "drill") ++drills;
          // Failed, or found entries modified, missing or unreadable (or a
          // drill's mismatches).
          bool problems = false;
          if (p.contains("counts") && p["counts"].is_object()) {
            const json& c = p["counts"];
            problems = c.value("modified", uint64_t{0}) + c.value("missing", uint64_t{0}) +
                           c.value("unreadable", uint64_t{0}) >
                       0;
          }
          if (p.contains("drill") && p["drill"].is_object()) {
            problems |= p["drill"].value("mismatches", uint64_t{0}) > 0 ||
                        !p["drill"].value("error", std::string()).empty();
          }
          if (!ok || problems) ++failed;
          if (ok && p.contains("counts") && p["counts"].is_object()) {
            uint64_t entries = p.value("entries", uint64_t{0});
            uint64_t not_read = p["counts"].value("not_read", uint64_t{0});
            entries_verified += entries > not_read ? entries - not_read : 0;
            if (p.value("type", "") == "check") {
              if (p.contains("bytes_read")) {
                bytes_verified += p.value("bytes_read", uint64_t{0});
              } else {
                bytes_known = false;  // logged before bytes were recorded
              }
            }
          }
        }
        auto it = open_failure.find(set);
        if (!ok && it == open_failure.end() && rec.at_ns >= period.interval.start_ns) {
          std::string last_error;
          if (p.contains("errors") && p["errors"].is_array() && !p["errors"].empty()) {
            last_error = p["errors"].back().value("message", "");
          }
          incidents.push_back({{"asset", asset_of[set]},
                               {"kind", "check"},
                               {"began_at", cal.Rfc3339(rec.at_ns)},
                               {"detected_at", cal.Rfc3339(rec.at_ns)},
                               {"resolved_at", nullptr},
                               {"summary", "check of " + set + " failed: " + last_error},
                               {"message", MessageJson(Msg("incident.check_failed",
                                                           {msg::Text(set), msg::Text(last_error)}),
                                                       cal)}});
          open_failure[set] = incidents.size() - 1;
        } else if (ok && it != open_failure.end()) {
          incidents[it->second]["resolved_at"] = cal.Rfc3339(rec.at_ns);
          open_failure.erase(it);
        }
        return true;
      });
  if (!scanned.ok()) return scanned;
  std::stable_sort(incidents.begin(), incidents.end(), [](const json& a, const json& b) {
    auto key = [](const json& j) {
      return j["detected_at"].is_string() ? j["detected_at"].get<std::string>() : std::string();
    };
    return key(a) < key(b);
  });
  r["incidents"] = incidents;

  json sets = json::array();
  for (const contracts::Asset& a : contract->assets) {
    for (const contracts::BackupSet& s : a.backup_sets) {
      auto loc = te->locations.find(s.location);
      const contracts::BackupSetFacts* f = nullptr;
      if (auto it = te->facts.sets.find(s.name); it != te->facts.sets.end()) f = &it->second;
      uint64_t points = 0, files = 0, bytes = 0;
      int64_t newest = -1;
      json freshness = nullptr;  // a mirror's: when it was last synced, as far as evidence shows
      if (f != nullptr) {
        for (const contracts::PointFact& p : f->points) {
          if (p.first_seen_ns > until || (p.gone_ns != 0 && p.gone_ns <= until)) continue;
          ++points;
          if (p.time_ns > newest) {
            newest = p.time_ns;
            files = p.files;
            bytes = p.bytes;
          }
          if (!p.time_basis.empty()) {
            freshness = {{"synced_at", TimeOrNull(cal, p.time_ns)},
                         {"proof", p.time_is_lower_bound ? "lower bound" : "sync marker"},
                         {"basis", p.time_basis}};
          }
        }
      }
      const int64_t first = f != nullptr ? f->first_inventory_ns : 0;
      if (facts_out != nullptr && first != 0 && first <= until) {
        const int64_t from = std::max(first, contract->effective_from_ns);
        if (from <= until &&
            (facts_out->monitored_from_ns == 0 || from < facts_out->monitored_from_ns)) {
          facts_out->monitored_from_ns = from;
        }
      }
      sets.push_back(
          {{"name", s.name},
           {"asset", a.name},
           {"location", s.location},
           {"layout", contracts::LayoutName(s.layout)},
           {"offsite", Declared(loc != te->locations.end() && loc->second.offsite)},
           {"immutable", Declared(loc != te->locations.end() && loc->second.immutable)},
           {"restore_points", points},
           {"files", files},
           {"bytes", bytes},
           {"monitored_from",
            TimeOrNull(cal, first == 0 ? 0 : std::max(first, contract->effective_from_ns))},
           {"freshness", freshness},
           {"last_inventory", TimeOrNull(cal, f != nullptr ? f->last_inventory_ns : 0)},
           {"last_verified", TimeOrNull(cal, f != nullptr ? f->integrity.last_run_ns : 0)},
           {"merkle", nullptr}});
    }
  }
  r["backup_sets"] = sets;

  r["out_of_scope"] = std::move(parts["out_of_scope"]);
  r["scope_findings"] = std::move(parts["scope_findings"]);
  r["checks"] = {{"run", run},
                 {"failed", failed},
                 {"drills", drills},
                 {"entries_verified", entries_verified},
                 {"bytes_verified", bytes_known ? json(bytes_verified) : json(nullptr)}};
  return r;
}

}  // namespace vigil::coordinator
