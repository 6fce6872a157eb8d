#include "services/cli/admin_commands.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "services/cli/apply_yaml.h"
#include "services/cli/client.h"
#include "services/cli/exit_codes.h"
#include "services/common/proto_names.h"
#include "services/common/text.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/tenant.grpc.pb.h"

namespace vigil::cli {
namespace {

nlohmann::json CountsJson(const v1::DiffCounts& c) {
  return {{"unchanged", c.unchanged()}, {"modified", c.modified()}, {"updated", c.updated()},
          {"missing", c.missing()},     {"added", c.added()},       {"unreadable", c.unreadable()}};
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
                      {"counts", CountsJson(t.counts())},
                      {"errors", errors}};
  if (t.has_progress()) {
    const v1::TaskProgress& p = t.progress();
    j["progress"] = {{"files_done", p.files_done()},   {"bytes_done", p.bytes_done()},
                     {"files_total", p.files_total()}, {"bytes_total", p.bytes_total()},
                     {"started_ns", p.started_ns()},   {"updated_ns", p.updated_ns()}};
  }
  return j;
}

// A leased task's progress: "1,234 / 5,000 files, 1.2 MiB / 3.4 MiB (35%)",
// the totals and percentage only when known (vigil.v1.TaskProgress).
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

// "2026-11-22 18:47 UTC" (minutes are enough for a status line).
std::string Minute(int64_t ns) {
  if (ns == 0) return "-";
  std::string s = FormatTimeUtc(ns);  // 2026-11-22T18:47:45.123456789Z
  return s.substr(0, 10) + " " + s.substr(11, 5) + " UTC";
}

void PrintVerdicts(const v1::TenantStatus& t) {
  if (t.contract_version() == 0 && t.commitments_size() == 0) {
    std::printf("  no contract in force: no commitment is judged\n");
    for (const auto& s : t.scope()) std::printf("  %s\n", s.c_str());
    return;
  }
  std::printf("  restore readiness (contract v%u):\n", t.contract_version());
  for (const auto& r : t.readiness()) {
    std::printf("    %-16s %s\n", r.asset().c_str(), r.readiness().c_str());
    for (const auto& why : r.reasons()) std::printf("      - %s\n", why.c_str());
  }
  std::printf("  commitments (this month):\n");
  std::printf("    %-16s %-14s %-8s %-20s %-20s %s\n", "asset", "commitment", "verdict",
              "last check", "next check", "summary");
  // Failing first, then unknown, then passing; contract order within each.
  for (const char* want : {"fail", "unknown", "pass"}) {
    for (const auto& c : t.commitments()) {
      if (c.verdict() != want) continue;
      std::printf("    %-16s %-14s %-8s %-20s %-20s %s\n", c.asset().c_str(), c.kind().c_str(),
                  c.verdict().c_str(), Minute(c.last_check_ns()).c_str(),
                  Minute(c.next_check_ns()).c_str(), c.summary().c_str());
    }
  }
  for (const auto& s : t.scope()) std::printf("  scope: %s\n", s.c_str());
}

void PrintHuman(const v1::GetStatusResponse& r) {
  if (r.tenants_size() == 0) std::printf("no tenant yet (vigil apply -f FILE)\n");
  for (const auto& t : r.tenants()) {
    std::printf(
        "%s%s\n", t.tenant().name().c_str(),
        t.tenant().display_name().empty() ? "" : (" (" + t.tenant().display_name() + ")").c_str());
    PrintVerdicts(t);
    std::printf("  backup sets:\n");
    for (const auto& b : t.backup_sets()) {
      const auto& bs = b.backup_set();
      std::printf("    %-24s asset %-14s %s:%s\n", bs.name().c_str(), bs.asset().c_str(),
                  bs.location().c_str(), EscapeForTerminal(bs.path()).c_str());
      std::printf(
          "      catalogue: %s %s, %s with problems\n", GroupDigits(b.catalogue_entries()).c_str(),
          b.catalogue_entries() == 1 ? "entry" : "entries", GroupDigits(b.problems()).c_str());
      if (!b.has_last_task()) {
        std::printf("      last check: never\n");
        continue;
      }
      const auto& lt = b.last_task();
      std::printf("      last check: task %llu %s (attempt %u)",
                  static_cast<unsigned long long>(lt.id()), TaskStateName(lt.state()),
                  lt.attempt());
      if (lt.state() == v1::TASK_STATE_DONE) {
        std::printf(" %s: %s", FormatTimeUtc(lt.finished_ns()).c_str(),
                    CountsText(lt.counts()).c_str());
      }
      if (lt.has_progress())
        std::printf(" on %s: %s", lt.worker_id().c_str(), ProgressText(lt.progress()).c_str());
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
                        {"last_verified_ns", p.last_verified_ns()}};
    if (IsValidUtf8(p.name())) j["name"] = p.name();
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

nlohmann::json StatusJson(const v1::GetStatusResponse& r) {
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
      if (b.has_format_verdicts()) j["format_verdicts"] = FormatVerdictsJson(b.format_verdicts());
      sets.push_back(std::move(j));
    }
    nlohmann::json readiness = nlohmann::json::array(), commitments = nlohmann::json::array();
    for (const auto& r : t.readiness()) {
      readiness.push_back(
          {{"asset", r.asset()},
           {"readiness", r.readiness()},
           {"reasons", std::vector<std::string>(r.reasons().begin(), r.reasons().end())}});
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

int RunApply(const ApplyArgs& args) {
  v1::ApplyRequest req;
  std::vector<contracts::SourceFile> files;
  for (const auto& f : args.files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "vigil apply: cannot read '%s'\n", f.c_str());
      return kExitUsage;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    files.push_back({f, ss.str()});
  }
  // One file set: a contract may use a location of another file, and a name
  // declared twice across files is found. Checked here first (every error at
  // once, without a round trip), then sent as files: the coordinator parses
  // them again against what it already has and stores the contracts.
  v1::ApplyRequest parsed;
  if (auto s = ParseApplyFiles(files, &parsed); !s.ok()) {
    std::fprintf(stderr, "vigil apply: %s\nnothing applied\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  for (const auto& f : files) {
    v1::ManifestFile* m = req.add_files();
    m->set_name(f.name);
    m->set_text(f.text);
  }
  req.set_dry_run(args.dry_run);
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::ApplyResponse resp;
  if (int rc = c.Call(&AdminStub::Apply, req, &resp); rc != kExitOk) {
    std::fprintf(stderr, "nothing applied\n");
    return rc;
  }
  for (const auto& line : resp.changes()) std::printf("%s\n", line.c_str());
  std::printf("%s %d location(s), %d tenant(s), %d backup set(s): %u change(s)%s\n",
              args.dry_run ? "would apply" : "applied", parsed.locations_size(),
              parsed.tenants_size(), parsed.backup_sets_size(), resp.changed(),
              args.dry_run ? " (dry run: nothing changed)" : "");
  return kExitOk;
}

int RunCheckRun(const CheckRunArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::RunCheckRequest req;
  req.set_tenant(args.tenant);
  req.set_asset(args.asset);
  req.set_drill(args.drill);
  v1::RunCheckResponse resp;
  if (int rc = c.Call(&AdminStub::RunCheck, req, &resp); rc != kExitOk) return rc;
  std::printf("%s %llu queued: %d task(s)\n", args.drill ? "drill" : "check",
              static_cast<unsigned long long>(resp.check_id()), resp.task_ids_size());
  std::fflush(stdout);
  if (!args.wait) return kExitOk;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.timeout_s);
  std::string last_line;
  while (true) {
    v1::GetStatusRequest sreq;
    sreq.set_tenant(args.tenant);
    sreq.set_check_id(resp.check_id());
    sreq.set_tasks_only(true);  // the verdicts are asked for once, at the end
    v1::GetStatusResponse sresp;
    grpc::Status s = c.Invoke(&AdminStub::GetStatus, sreq, &sresp);
    if (s.ok()) {
      int done = 0, failed = 0, leased = 0;
      uint64_t problems = 0;
      v1::TaskProgress progress;  // of the leased tasks, summed
      bool all_totals = true;
      for (const auto& t : sresp.check_tasks()) {
        if (t.state() == v1::TASK_STATE_DONE) ++done;
        if (t.state() == v1::TASK_STATE_FAILED) ++failed;
        if (t.state() == v1::TASK_STATE_LEASED) {
          ++leased;
          const v1::TaskProgress& p = t.progress();
          progress.set_files_done(progress.files_done() + p.files_done());
          progress.set_bytes_done(progress.bytes_done() + p.bytes_done());
          progress.set_files_total(progress.files_total() + p.files_total());
          progress.set_bytes_total(progress.bytes_total() + p.bytes_total());
          all_totals = all_totals && p.files_total() > 0;
        }
        problems += t.counts().modified() + t.counts().missing() + t.counts().unreadable();
      }
      if (!all_totals) {  // a sum with an unknown part is no total
        progress.clear_files_total();
        progress.clear_bytes_total();
      }
      std::string line = std::to_string(done) + "/" + std::to_string(sresp.check_tasks_size()) +
                         " done, " + std::to_string(leased) + " leased, " + std::to_string(failed) +
                         " failed";
      if (leased > 0) line += " (leased: " + ProgressText(progress) + ")";
      if (line != last_line) {
        std::printf("  %s\n", line.c_str());
        std::fflush(stdout);
        last_line = line;
      }
      if (sresp.check_finished()) {
        for (const auto& t : sresp.check_tasks()) {
          std::printf("  task %llu %s/%s: %s, %s\n", static_cast<unsigned long long>(t.id()),
                      t.backup_set().tenant().c_str(), t.backup_set().name().c_str(),
                      TaskStateName(t.state()), CountsText(t.counts()).c_str());
          for (const auto& e : t.errors()) {
            std::printf("    attempt %u (worker %s): %s\n", e.attempt(), e.worker_id().c_str(),
                        e.message().c_str());
          }
        }
        if (args.drill) {  // the drills' verdicts, from the stored results
          v1::GetStatusRequest vreq;
          vreq.set_tenant(args.tenant);
          if (int rc = c.Call(&AdminStub::GetStatus, vreq, &sresp); rc != kExitOk) return rc;
          for (const auto& ts : sresp.tenants()) {
            for (const auto& cs : ts.commitments()) {
              if (cs.kind() != "restore_drill") continue;
              std::printf("  restore_drill %s: %s, %s\n", cs.asset().c_str(), cs.verdict().c_str(),
                          cs.summary().c_str());
              if (cs.verdict() == "fail") ++problems;
            }
          }
        }
        return failed > 0 || problems > 0 ? kExitProblems : kExitOk;
      }
    } else if (s.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return c.Fail(s);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "vigil check run: gave up waiting after %d s\n", args.timeout_s);
      return kExitProblems;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int RunAdminBackup(const AdminBackupArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::BackupRequest req;
  req.set_directory(args.directory);
  v1::BackupResponse resp;
  if (int rc = c.Call(&AdminStub::Backup, req, &resp); rc != kExitOk) return rc;
  std::printf("database copied to %s (on the coordinator's machine)\n", args.directory.c_str());
  return kExitOk;
}

namespace {

std::string TokenState(const v1::TokenRecord& r) {
  if (r.revoked_ns() != 0) return "revoked " + FormatTimeUtc(r.revoked_ns()).substr(0, 10);
  if (r.used_ns() != 0) return "used by " + r.used_by();
  if (r.expires_ns() != 0) {
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (now >= r.expires_ns()) return "expired";
    return "valid until " + FormatTimeUtc(r.expires_ns()).substr(0, 10);
  }
  return "valid";
}

void PrintIssued(const v1::IssueTokenResponse& r) {
  const auto& rec = r.record();
  std::fprintf(stderr, "issued %s token %s%s%s%s%s\n", TokenKindName(rec.kind()), rec.id().c_str(),
               rec.tenant().empty() ? "" : (" for tenant " + rec.tenant()).c_str(),
               rec.site().empty() ? "" : (" for site " + rec.site()).c_str(),
               rec.replaces().empty() ? "" : (", replacing " + rec.replaces()).c_str(),
               rec.expires_ns() ? (", expires " + FormatTimeUtc(rec.expires_ns())).c_str() : "");
  std::fprintf(stderr, "the token is shown once (only its SHA-256 is kept):\n");
  std::printf("%s\n", r.token().c_str());
}

}  // namespace

int RunToken(const TokenArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  if (args.action == "issue") {
    v1::IssueTokenRequest req;
    std::optional<v1::TokenKind> kind = TokenKindFromName(args.kind);
    if (!kind) {
      std::fprintf(stderr, "vigil token issue: --kind must be admin, tenant or enrol\n");
      return kExitUsage;
    }
    req.set_kind(*kind);
    req.set_tenant(args.tenant);
    req.set_site(args.site);
    req.set_name(args.name);
    if (!args.expires_in.empty()) {
      std::string err;
      auto d = ParseDuration(args.expires_in, &err);
      if (!d) {
        std::fprintf(stderr, "vigil token issue: --expires-in '%s': %s\n", args.expires_in.c_str(),
                     err.c_str());
        return kExitUsage;
      }
      req.set_expires_in_ns(*d);
    }
    v1::IssueTokenResponse resp;
    if (int rc = c.Call(&AdminStub::IssueToken, req, &resp); rc != kExitOk) return rc;
    PrintIssued(resp);
    return kExitOk;
  }
  if (args.action == "rotate") {
    v1::RotateTokenRequest req;
    req.set_id(args.id);
    v1::IssueTokenResponse resp;
    if (int rc = c.Call(&AdminStub::RotateToken, req, &resp); rc != kExitOk) return rc;
    PrintIssued(resp);
    return kExitOk;
  }
  if (args.action == "revoke") {
    v1::RevokeTokenRequest req;
    req.set_id(args.id);
    v1::RevokeTokenResponse resp;
    if (int rc = c.Call(&AdminStub::RevokeToken, req, &resp); rc != kExitOk) return rc;
    std::printf("token %s revoked\n", args.id.c_str());
    return kExitOk;
  }
  v1::ListTokensResponse resp;
  if (int rc = c.Call(&AdminStub::ListTokens, v1::ListTokensRequest(), &resp); rc != kExitOk) {
    return rc;
  }
  if (args.json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : resp.tokens()) {
      a.push_back({{"id", r.id()},
                   {"kind", TokenKindName(r.kind())},
                   {"tenant", r.tenant()},
                   {"site", r.site()},
                   {"name", r.name()},
                   {"created", FormatTimeUtc(r.created_ns())},
                   {"expires", r.expires_ns() ? FormatTimeUtc(r.expires_ns()) : ""},
                   {"revoked", r.revoked_ns() ? FormatTimeUtc(r.revoked_ns()) : ""},
                   {"used_by", r.used_by()},
                   {"replaces", r.replaces()},
                   {"state", TokenState(r)}});
    }
    std::printf("%s\n", nlohmann::json{{"tokens", a}}.dump(2).c_str());
    return kExitOk;
  }
  if (resp.tokens_size() == 0) std::printf("no token issued (the bootstrap admin token aside)\n");
  for (const auto& r : resp.tokens()) {
    // The tenant column: a tenant token's tenant, an enrol token's site.
    const std::string scope = !r.tenant().empty() ? r.tenant()
                              : !r.site().empty() ? "site " + r.site()
                                                  : "-";
    std::printf("%s  %-6s %-20s %-24s created %s  %s\n", r.id().c_str(), TokenKindName(r.kind()),
                scope.c_str(), r.name().empty() ? "-" : r.name().c_str(),
                FormatTimeUtc(r.created_ns()).substr(0, 10).c_str(), TokenState(r).c_str());
  }
  return kExitOk;
}

int RunPortalStatus(const PortalArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::TenantStatus t;
  if (int rc = c.Call(&PortalStub::GetMyStatus, v1::GetMyStatusRequest(), &t); rc != kExitOk) {
    return rc;
  }
  v1::GetStatusResponse r;
  *r.add_tenants() = t;
  if (args.json) {
    std::printf("%s\n", StatusJson(r).dump(2).c_str());
  } else {
    PrintHuman(r);
  }
  return kExitOk;
}

int RunStatus(const StatusArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::GetStatusRequest req;
  req.set_tenant(args.tenant);
  v1::GetStatusResponse resp;
  if (int rc = c.Call(&AdminStub::GetStatus, req, &resp); rc != kExitOk) return rc;
  if (args.json) {
    std::printf("%s\n", StatusJson(resp).dump(2).c_str());
  } else {
    PrintHuman(resp);
  }
  return kExitOk;
}

}  // namespace vigil::cli
