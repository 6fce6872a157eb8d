// The text and JSON of a coordinator's status (status_view.h).
#include "services/cli/status_view.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/common/proto_names.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/calendar.h"

namespace vigil::cli {
namespace {

nlohmann::json CountsJson(const v1::DiffCounts& c) {
  return {{"unchanged", c.unchanged()}, {"modified", c.modified()}, {"updated", c.updated()},
          {"missing", c.missing()},     {"added", c.added()},       {"unreadable", c.unreadable()},
          {"rehashed", c.rehashed()}};
}

nlohmann::json TaskJson(const v1::Task& t) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : t.errors()) {
    errors.push_back(
        {{"attempt", e.attempt()}, {"worker", e.worker_id()}, {"message", e.message()}});
  }
  nlohmann::json j = {{"id", t.id()},
                      {"check_id", t.check_id()},
                      {"state", TaskStateName(t.state())},
                      {"attempt", t.attempt()},
                      {"worker", t.worker_id()},
                      {"entries", t.entries()},
                      {"points_held", t.points_held()},
                      {"entries_held", t.entries_held()},
                      {"dirs_held", t.dirs_held()},
                      {"entries_in_held_dirs", t.entries_in_held_dirs()},
                      {"dirs_shared", t.dirs_shared()},
                      {"counts", CountsJson(t.counts())},
                      {"errors", errors}};
  if (std::string d = DigestAlgorithmText(t); !d.empty()) j["digest_algorithm"] = d;
  if (!t.waiting().empty()) j["waiting"] = t.waiting();
  if (t.has_store_usage()) {
    const v1::StoreUsage& u = t.store_usage();
    j["store_usage"] = {
        {"requests", u.requests()}, {"bytes_read", u.bytes_read()}, {"retries", u.retries()}};
  }
  if (t.has_progress()) {
    const v1::TaskProgress& p = t.progress();
    j["progress"] = {{"files_done", p.files_done()},   {"bytes_done", p.bytes_done()},
                     {"files_total", p.files_total()}, {"bytes_total", p.bytes_total()},
                     {"started_ns", p.started_ns()},   {"updated_ns", p.updated_ns()}};
  }
  return j;
}

// "2026-11-22 19:47 CET" in the tenant's zone, as the verdicts' summaries
// write their times (minutes are enough for a status line).
std::string Minute(int64_t ns, const contracts::Calendar& cal) {
  return ns == 0 ? "-" : cal.Format(ns);
}

void PrintVerdicts(const v1::TenantStatus& t) {
  if (t.contract_version() == 0 && t.commitments_size() == 0) {
    std::printf("  no contract in force: no commitment is judged\n");
    for (const auto& s : t.scope()) std::printf("  %s\n", s.c_str());
    return;
  }
  const contracts::Calendar cal(t.tenant().timezone().empty() ? "UTC" : t.tenant().timezone());
  std::printf("  restore readiness (contract v%u):\n", t.contract_version());
  for (const auto& r : t.readiness()) {
    std::printf("    %-16s %s\n", r.asset().c_str(), r.readiness().c_str());
    for (const auto& why : r.reasons()) std::printf("      - %s\n", why.c_str());
    if (!r.site_loss().empty()) {
      std::printf("      after the loss of its primary site: %s\n", r.site_loss().c_str());
      for (const auto& why : r.site_loss_reasons()) std::printf("        - %s\n", why.c_str());
    }
    if (r.monitored_from_ns() != 0) {
      std::printf("      monitored since %s\n", Minute(r.monitored_from_ns(), cal).c_str());
    }
  }
  std::printf("  commitments (this month):\n");
  std::printf("    %-16s %-14s %-8s %-21s %-21s %s\n", "asset", "commitment", "verdict",
              "last check", "next check", "summary");
  // Failing first, then unknown, then passing; contract order within each.
  for (const char* want : {"fail", "unknown", "pass"}) {
    for (const auto& c : t.commitments()) {
      if (c.verdict() != want) continue;
      std::printf("    %-16s %-14s %-8s %-21s %-21s %s\n", c.asset().c_str(), c.kind().c_str(),
                  c.verdict().c_str(), Minute(c.last_check_ns(), cal).c_str(),
                  Minute(c.next_check_ns(), cal).c_str(), c.summary().c_str());
    }
  }
  for (const auto& s : t.scope()) std::printf("  scope: %s\n", s.c_str());
}

// Ransomware signals of a point; example paths are bytes: examples_base64
// always, examples (the UTF-8 ones) beside.
nlohmann::json SignalsJson(const google::protobuf::RepeatedPtrField<v1::PointSignal>& signals) {
  nlohmann::json out = nlohmann::json::array();
  for (const v1::PointSignal& s : signals) {
    nlohmann::json ex = nlohmann::json::array(), ex64 = nlohmann::json::array();
    for (const std::string& e : s.examples()) {
      if (IsValidUtf8(e)) ex.push_back(e);
      ex64.push_back(Base64Encode(e));
    }
    out.push_back({{"kind", s.kind()},
                   {"message", s.message()},
                   {"count", s.count()},
                   {"threshold", s.threshold()},
                   {"examples", ex},
                   {"examples_base64", ex64}});
  }
  return out;
}

// The ransomware lines of a backup set in `vigil status`: the newest
// present point's verdict when it is not clean (with its first signals),
// and the last clean point, in the tenant's zone.
void PrintCleanPoint(const v1::BackupSetStatus& b, const contracts::Calendar& cal) {
  const v1::PointRecord* newest = nullptr;
  for (const auto& p : b.points()) {
    if (p.gone_ns() == 0 && (newest == nullptr || p.time_ns() > newest->time_ns())) newest = &p;
  }
  if (newest == nullptr) return;
  auto label = [](const v1::PointRecord& p) {
    return p.name().empty() ? std::string("(unnamed)") : EscapeForTerminal(p.name());
  };
  constexpr int kSignalsShown = 3;
  if (newest->verdict() == v1::POINT_VERDICT_UNSPECIFIED && newest->accepted_ns() == 0) {
    std::printf("      newest point %s not yet examined for ransomware signals\n",
                label(*newest).c_str());
  } else if (newest->verdict() == v1::POINT_VERDICT_SUSPICIOUS ||
             newest->verdict() == v1::POINT_VERDICT_ENCRYPTED ||
             newest->verdict() == v1::POINT_VERDICT_CONTENT_NOT_JUDGED) {
    std::printf("      newest point %s: %s", label(*newest).c_str(),
                PointVerdictName(newest->verdict()));
    if (newest->accepted_ns() != 0) {
      std::printf(", accepted as clean by %s %s: %s",
                  EscapeForTerminal(newest->accepted_by()).c_str(),
                  Minute(newest->accepted_ns(), cal).c_str(),
                  EscapeForTerminal(newest->accepted_reason()).c_str());
    }
    std::printf("\n");
    for (int i = 0; i < newest->signals_size() && i < kSignalsShown; ++i) {
      std::printf("        %s: %s\n", newest->signals(i).kind().c_str(),
                  EscapeForTerminal(newest->signals(i).message()).c_str());
    }
    if (newest->signals_size() > kSignalsShown) {
      std::printf("        ... and %d more signals (vigil status --json lists them)\n",
                  newest->signals_size() - kSignalsShown);
    }
  }
  if (b.last_clean_ns() != 0 || !b.last_clean_name().empty()) {
    const std::string name = b.last_clean_name().empty() ? std::to_string(b.last_clean_ns())
                                                         : EscapeForTerminal(b.last_clean_name());
    std::printf("      last clean point: %s (taken %s)\n", name.c_str(),
                Minute(b.last_clean_ns(), cal).c_str());
  } else {
    std::printf("      no clean point\n");
  }
}

// Restore points: names are bytes, so name_base64 always, name when UTF-8.
nlohmann::json PointsJson(const google::protobuf::RepeatedPtrField<v1::PointRecord>& points) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : points) {
    nlohmann::json j = {{"time_ns", p.time_ns()},
                        {"name_base64", Base64Encode(p.name())},
                        {"first_seen_ns", p.first_seen_ns()},
                        {"gone_ns", p.gone_ns()},
                        {"files", p.files()},
                        {"bytes", p.bytes()},
                        {"damaged_ns", p.damaged_ns()},
                        {"damage", p.damage()},
                        {"implausible", p.implausible()},
                        {"plausibility_checked", p.plausibility_checked()},
                        {"last_checked_ns", p.last_checked_ns()},
                        {"last_verified_ns", p.last_verified_ns()},
                        {"verdict", PointVerdictName(p.verdict())},
                        {"signals", SignalsJson(p.signals())},
                        {"compared_with_ns", p.compared_with_ns()},
                        {"accepted_by", p.accepted_by()},
                        {"accepted_ns", p.accepted_ns()},
                        {"accepted_reason", p.accepted_reason()}};
    if (IsValidUtf8(p.name())) j["name"] = p.name();
    out.push_back(std::move(j));
  }
  return out;
}

// The first damaged entries (BackupSetStatus.damaged); paths are bytes, so
// path_base64 always, path when UTF-8 (likewise the point's name).
nlohmann::json DamagedJson(const v1::BackupSetStatus& b) {
  nlohmann::json out = nlohmann::json::array();
  for (const v1::DamagedEntry& d : b.damaged()) {
    nlohmann::json j = {
        {"point_ns", d.point_ns()}, {"path_base64", Base64Encode(d.path())}, {"state", d.state()}};
    if (IsValidUtf8(d.path())) j["path"] = d.path();
    if (IsValidUtf8(d.point_name())) j["point_name"] = d.point_name();
    out.push_back(std::move(j));
  }
  return out;
}

// Format verdicts of a bagit/sumfile/restic set's last check; targets are
// bytes, so target_base64 always, target when UTF-8.
nlohmann::json FormatVerdictsJson(const v1::FormatVerdicts& fv) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : fv.verdicts()) {
    nlohmann::json j = {
        {"format", v.format()},
        {"point_time_ns", v.point_time_ns()},
        {"target_base64", Base64Encode(v.target())},
        {"valid", v.valid()},
        {"error_count", v.error_count()},
        {"warning_count", v.warning_count()},
        {"errors", std::vector<std::string>(v.errors().begin(), v.errors().end())},
        {"warnings", std::vector<std::string>(v.warnings().begin(), v.warnings().end())},
        {"files_read", v.files_read()},
        {"bytes_read", v.bytes_read()}};
    if (IsValidUtf8(v.target())) j["target"] = v.target();
    if (v.format() == "restic") {
      j["snapshots"] = v.snapshots();
      j["packs_read"] = v.packs_read();
      j["packs_skipped"] = v.packs_skipped();
      j["packs_vanished"] = v.packs_vanished();
    }
    list.push_back(std::move(j));
  }
  return {{"task_id", fv.task_id()}, {"at", FormatTimeUtc(fv.at_ns())}, {"verdicts", list}};
}

nlohmann::json StatusDoc(const v1::GetStatusResponse& r) {
  nlohmann::json tenants = nlohmann::json::array();
  for (const auto& t : r.tenants()) {
    nlohmann::json sets = nlohmann::json::array();
    for (const auto& b : t.backup_sets()) {
      const auto& bs = b.backup_set();
      nlohmann::json j = {{"name", bs.name()},
                          {"asset", bs.asset()},
                          {"location", bs.location()},
                          {"path_base64", Base64Encode(bs.path())},
                          {"catalogue_entries", b.catalogue_entries()},
                          {"problems", b.problems()}};
      if (IsValidUtf8(bs.path())) j["path"] = bs.path();
      j["last_task"] = b.has_last_task() ? TaskJson(b.last_task()) : nlohmann::json(nullptr);
      j["points"] = PointsJson(b.points());
      j["damaged"] = DamagedJson(b);
      if (b.has_format_verdicts()) j["format_verdicts"] = FormatVerdictsJson(b.format_verdicts());
      j["last_clean_ns"] = b.last_clean_ns();
      j["last_clean_name_base64"] = Base64Encode(b.last_clean_name());
      if (IsValidUtf8(b.last_clean_name())) j["last_clean_name"] = b.last_clean_name();
      sets.push_back(std::move(j));
    }
    nlohmann::json readiness = nlohmann::json::array(), commitments = nlohmann::json::array();
    for (const auto& r : t.readiness()) {
      readiness.push_back(
          {{"asset", r.asset()},
           {"readiness", r.readiness()},
           {"reasons", std::vector<std::string>(r.reasons().begin(), r.reasons().end())},
           {"site_loss",
            {{"readiness", r.site_loss()},
             {"reasons", std::vector<std::string>(r.site_loss_reasons().begin(),
                                                  r.site_loss_reasons().end())}}},
           {"monitored_from_ns", r.monitored_from_ns()}});
    }
    for (const auto& c : t.commitments()) {
      nlohmann::json ev = nlohmann::json::array();
      for (const auto& e : c.evidence()) {
        ev.push_back({{"name", e.name()}, {"value", e.value()}, {"basis", e.basis()}});
      }
      commitments.push_back(
          {{"asset", c.asset()},
           {"kind", c.kind()},
           {"verdict", c.verdict()},
           {"summary", c.summary()},
           {"failing_since", c.failing_since_ns() ? FormatTimeUtc(c.failing_since_ns()) : ""},
           {"last_check", c.last_check_ns() ? FormatTimeUtc(c.last_check_ns()) : ""},
           {"next_check", c.next_check_ns() ? FormatTimeUtc(c.next_check_ns()) : ""},
           {"evidence", ev}});
    }
    tenants.push_back({{"name", t.tenant().name()},
                       {"display_name", t.tenant().display_name()},
                       {"timezone", t.tenant().timezone()},
                       {"contract_version", t.contract_version()},
                       {"readiness", readiness},
                       {"commitments", commitments},
                       {"scope", std::vector<std::string>(t.scope().begin(), t.scope().end())},
                       {"backup_sets", sets}});
  }
  return {{"tenants", tenants}};
}

}  // namespace

std::string ProgressText(const v1::TaskProgress& p) {
  std::string s = GroupDigits(p.files_done());
  if (p.files_total() > 0) s += " / " + GroupDigits(p.files_total());
  s += " files, " + HumanBytes(static_cast<double>(p.bytes_done()));
  if (p.bytes_total() > 0) s += " / " + HumanBytes(static_cast<double>(p.bytes_total()));
  const uint64_t done = p.bytes_total() > 0 ? p.bytes_done() : p.files_done();
  const uint64_t total = p.bytes_total() > 0 ? p.bytes_total() : p.files_total();
  if (total > 0) {
    s += " (" + std::to_string(std::min<uint64_t>(100, done * 100 / total)) + "%)";
  }
  return s;
}

std::string DamagedText(const v1::BackupSetStatus& b, const std::string& indent) {
  std::string s;
  for (const v1::DamagedEntry& d : b.damaged()) {
    s += indent + d.state() + std::string(d.state().size() < 10 ? 10 - d.state().size() : 0, ' ') +
         " " + EscapeForTerminal(d.path());
    if (!d.point_name().empty() && d.point_name() != d.path()) {
      s += " (restore point " + EscapeForTerminal(d.point_name()) + ")";
    }
    s += "\n";
  }
  if (b.problems() > static_cast<uint64_t>(b.damaged_size())) {
    s += indent + "... and " + GroupDigits(b.problems() - b.damaged_size()) +
         " more (vigil status --json lists the restore points' damage)\n";
  }
  return s;
}

std::string CountsText(const v1::DiffCounts& c) {
  std::string s;
  auto add = [&](const char* name, uint64_t n) {
    if (n == 0) return;
    s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  };
  add("added", c.added());
  add("unchanged", c.unchanged());
  add("updated", c.updated());
  add("modified", c.modified());
  add("missing", c.missing());
  add("unreadable", c.unreadable());
  return s.empty() ? "nothing" : s;
}

void PrintStatus(const v1::GetStatusResponse& r) {
  if (r.tenants_size() == 0) std::printf("no tenant yet (vigil apply -f FILE)\n");
  for (const auto& t : r.tenants()) {
    std::printf(
        "%s%s\n", t.tenant().name().c_str(),
        t.tenant().display_name().empty() ? "" : (" (" + t.tenant().display_name() + ")").c_str());
    PrintVerdicts(t);
    const contracts::Calendar cal(t.tenant().timezone().empty() ? "UTC" : t.tenant().timezone());
    std::printf("  backup sets:\n");
    for (const auto& b : t.backup_sets()) {
      const auto& bs = b.backup_set();
      std::printf("    %-24s asset %-14s %s:%s\n", bs.name().c_str(), bs.asset().c_str(),
                  bs.location().c_str(), EscapeForTerminal(bs.path()).c_str());
      std::printf(
          "      catalogue: %s %s, %s with problems\n", GroupDigits(b.catalogue_entries()).c_str(),
          b.catalogue_entries() == 1 ? "entry" : "entries", GroupDigits(b.problems()).c_str());
      std::fputs(DamagedText(b, "        ").c_str(), stdout);
      PrintCleanPoint(b, cal);
      if (!b.has_last_task()) {
        std::printf("      last check: never\n");
        continue;
      }
      const auto& lt = b.last_task();
      std::printf("      last check: task %llu %s (attempt %u)",
                  static_cast<unsigned long long>(lt.id()), TaskStateName(lt.state()),
                  lt.attempt());
      if (lt.state() == v1::TASK_STATE_DONE) {
        std::printf(" %s: %s", Minute(lt.finished_ns(), cal).c_str(),
                    CountsText(lt.counts()).c_str());
        if (std::string d = DigestAlgorithmText(lt); !d.empty()) std::printf("; %s", d.c_str());
        if (lt.points_held() > 0) {  // found the same as at the last check: not re-sent
          std::printf("; %u point(s) held (%s entries not sent again)", lt.points_held(),
                      GroupDigits(lt.entries_held()).c_str());
        }
        if (lt.dirs_held() > 0) {  // the same as the reference point's: not sent
          std::printf("; %u director%s held (%s entries not sent", lt.dirs_held(),
                      lt.dirs_held() == 1 ? "y" : "ies",
                      GroupDigits(lt.entries_in_held_dirs()).c_str());
          // Shared with the reference as the catalogue holds them: not read.
          if (lt.dirs_shared() > 0) std::printf(", %u shared unread", lt.dirs_shared());
          std::printf(")");
        }
        if (lt.has_store_usage()) {  // what it cost at the location (readBudget)
          const v1::StoreUsage& u = lt.store_usage();
          std::printf("; spent %s read, %s request(s)",
                      HumanBytes(static_cast<double>(u.bytes_read())).c_str(),
                      GroupDigits(u.requests()).c_str());
        }
      }
      if (lt.has_progress())
        std::printf(" on %s: %s", lt.worker_id().c_str(), ProgressText(lt.progress()).c_str());
      if (!lt.waiting().empty()) std::printf(", waiting: %s", lt.waiting().c_str());
      std::printf("\n");
      for (const auto& e : lt.errors()) {
        std::printf("        attempt %u (worker %s): %s\n", e.attempt(), e.worker_id().c_str(),
                    e.message().c_str());
      }
      for (const auto& v : b.format_verdicts().verdicts()) {
        std::string what =
            v.format() + (v.target().empty() ? "" : " " + EscapeForTerminal(v.target()));
        std::printf("      %s: %s", what.c_str(), v.valid() ? "valid" : "INVALID");
        if (v.error_count() + v.warning_count() > 0) {
          std::printf(" (%u errors, %u warnings)", v.error_count(), v.warning_count());
        }
        if (v.format() == "restic") {
          std::printf(", %llu snapshots, %llu packs read, %llu skipped as verified, %llu vanished",
                      static_cast<unsigned long long>(v.snapshots()),
                      static_cast<unsigned long long>(v.packs_read()),
                      static_cast<unsigned long long>(v.packs_skipped()),
                      static_cast<unsigned long long>(v.packs_vanished()));
        }
        std::printf("\n");
        for (const auto& e : v.errors()) std::printf("        error: %s\n", e.c_str());
      }
    }
  }
}

std::string StatusJson(const v1::GetStatusResponse& r) { return StatusDoc(r).dump(2); }

}  // namespace vigil::cli
