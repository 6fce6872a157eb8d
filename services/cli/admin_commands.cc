#include "services/cli/admin_commands.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "services/cli/apply_yaml.h"
#include "services/cli/client.h"
#include "services/cli/exit_codes.h"
#include "services/cli/status_view.h"
#include "services/common/proto_names.h"
#include "services/common/text.h"
#include "services/common/time.h"

namespace vigil::cli {

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
  for (const auto& w : resp.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::printf("%s %d location(s), %d tenant(s), %d backup set(s): %u change(s)%s\n",
              args.dry_run ? "would apply" : "applied", parsed.locations_size(),
              parsed.tenants_size(), parsed.backup_sets_size(), resp.changed(),
              args.dry_run ? " (dry run: nothing changed)" : "");
  return kExitOk;
}

namespace {

// How long `check run --wait` lets a location stay without a worker before
// it stops (kExitNoWorker): a worker started just before the check has
// that long to register.
constexpr std::chrono::seconds kNoWorkerGrace{15};

}  // namespace

int RunCheckRun(const CheckRunArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::RunCheckRequest req;
  req.set_tenant(args.tenant);
  req.set_asset(args.asset);
  req.set_drill(args.drill);
  req.set_force(args.force);
  v1::RunCheckResponse resp;
  if (int rc = c.Call(&AdminStub::RunCheck, req, &resp); rc != kExitOk) return rc;
  std::printf("%s %llu queued: %d task(s)\n", args.drill ? "drill" : "check",
              static_cast<unsigned long long>(resp.check_id()), resp.task_ids_size());
  for (const auto& f : resp.forced()) {
    std::fprintf(stderr, "warning: %s; reading it anyway (--force)\n", f.c_str());
  }
  for (const auto& u : resp.unserved()) std::fprintf(stderr, "warning: %s\n", u.c_str());
  std::fflush(stdout);
  if (!args.wait) return kExitOk;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.timeout_s);
  std::string last_line;
  // Since when every unfinished task of the check waits for a location no
  // worker serves (Task.waiting); max() while one does not.
  constexpr auto kNotStuck = std::chrono::steady_clock::time_point::max();
  auto stuck_since = kNotStuck;
  std::chrono::milliseconds poll(20);
  const auto started = std::chrono::steady_clock::now();
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
      // Only tasks no worker can lease are left: waiting for --timeout would
      // change nothing. A worker being started gets kNoWorkerGrace to
      // register first.
      int waiting = 0;
      for (const auto& t : sresp.check_tasks()) waiting += t.waiting().empty() ? 0 : 1;
      const bool stuck = !sresp.check_finished() && waiting > 0 &&
                         done + failed + waiting == sresp.check_tasks_size();
      if (!stuck) {
        stuck_since = kNotStuck;
      } else if (stuck_since == kNotStuck) {
        stuck_since = std::chrono::steady_clock::now();
        std::fprintf(stderr,
                     "vigil check run: only tasks no worker can take now are left; stopping "
                     "in %d s unless a worker for them registers\n",
                     static_cast<int>(kNoWorkerGrace.count()));
      }
      if (stuck && std::chrono::steady_clock::now() - stuck_since >= kNoWorkerGrace) {
        for (const auto& t : sresp.check_tasks()) {
          if (t.waiting().empty()) continue;
          std::fprintf(stderr, "vigil check run: task %llu %s/%s is waiting: %s\n",
                       static_cast<unsigned long long>(t.id()), t.backup_set().tenant().c_str(),
                       t.backup_set().name().c_str(), t.waiting().c_str());
        }
        std::fprintf(stderr,
                     "vigil check run: not waiting for tasks no worker can take; they stay queued "
                     "and run once a worker serves their location (vigil worker --site SITE "
                     "--location LOCATION=PATH) or, for those its readBudget defers, once the "
                     "location's last 24 h of reads leave room\n");
        return kExitNoWorker;
      }
      if (sresp.check_finished()) {
        for (const auto& t : sresp.check_tasks()) {
          std::printf("  task %llu %s/%s: %s, %s\n", static_cast<unsigned long long>(t.id()),
                      t.backup_set().tenant().c_str(), t.backup_set().name().c_str(),
                      TaskStateName(t.state()), CountsText(t.counts()).c_str());
          if (std::string d = DigestAlgorithmText(t); !d.empty()) {
            std::printf("    %s\n", d.c_str());
          }
          for (const auto& e : t.errors()) {
            std::printf("    attempt %u (worker %s): %s\n", e.attempt(), e.worker_id().c_str(),
                        e.message().c_str());
          }
        }
        // The damaged entries of the sets with problems, and the drills'
        // verdicts: from the stored results, one status call.
        std::set<std::pair<std::string, std::string>> damaged_sets;
        for (const auto& t : sresp.check_tasks()) {
          const v1::DiffCounts& n = t.counts();
          if (n.modified() + n.missing() + n.unreadable() > 0) {
            damaged_sets.emplace(t.backup_set().tenant(), t.backup_set().name());
          }
        }
        if (!damaged_sets.empty() || args.drill) {
          v1::GetStatusRequest vreq;
          vreq.set_tenant(args.tenant);
          if (int rc = c.Call(&AdminStub::GetStatus, vreq, &sresp); rc != kExitOk) return rc;
        }
        for (const auto& ts : sresp.tenants()) {
          for (const auto& b : ts.backup_sets()) {
            if (damaged_sets.count({b.backup_set().tenant(), b.backup_set().name()}) == 0) continue;
            std::printf("  %s/%s: %s damaged\n", b.backup_set().tenant().c_str(),
                        b.backup_set().name().c_str(), GroupDigits(b.problems()).c_str());
            std::fputs(DamagedText(b, "    ").c_str(), stdout);
          }
        }
        if (args.drill) {
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
    // Often at first (from 20 ms, at most 100 ms apart for 10 s), then
    // every 200 ms: a short check is reported as soon as it is done (each
    // poll asks for the check's tasks only).
    std::this_thread::sleep_for(poll);
    const bool early = std::chrono::steady_clock::now() - started < std::chrono::seconds(10);
    poll = std::min(poll * 3 / 2, std::chrono::milliseconds(early ? 100 : 200));
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
    if (NowNs() >= r.expires_ns()) return "expired";
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
  if (resp.tokens_size() == 0) {
    std::printf("no token issued (the bootstrap admin token aside)\n");
    return kExitOk;
  }
  constexpr const char* kRow = "%-16s  %-6s %-20s %-24s %-10s  %s\n";
  std::printf(kRow, "ID", "KIND", "TENANT/SITE", "NAME", "CREATED", "STATE");
  for (const auto& r : resp.tokens()) {
    // The tenant column: a tenant token's tenant, an enrol token's site.
    const std::string scope = !r.tenant().empty() ? r.tenant()
                              : !r.site().empty() ? "site " + r.site()
                                                  : "-";
    std::printf(kRow, r.id().c_str(), TokenKindName(r.kind()), scope.c_str(),
                r.name().empty() ? "-" : r.name().c_str(),
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
    std::printf("%s\n", StatusJson(r).c_str());
  } else {
    PrintStatus(r);
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
    std::printf("%s\n", StatusJson(resp).c_str());
  } else {
    PrintStatus(resp);
  }
  return kExitOk;
}

int RunPointAccept(const PointAcceptArgs& args) {
  if (args.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    std::fprintf(stderr,
                 "vigil point accept: --reason is required (why the point is clean; it is kept "
                 "with the point and shown by vigil status)\n");
    return kExitUsage;
  }
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::AcceptPointRequest req;
  req.set_tenant(args.tenant);
  req.set_backup_set(args.backup_set);
  req.set_point(args.point);
  req.set_reason(args.reason);
  v1::AcceptPointResponse resp;
  if (int rc = c.Call(&AdminStub::AcceptPoint, req, &resp); rc != kExitOk) {
    std::fprintf(stderr, "nothing accepted\n");
    return rc;
  }
  const v1::PointRecord& p = resp.point();
  const std::string name = EscapeForTerminal(p.name().empty() ? args.point : p.name());
  if (resp.already_clean()) {
    if (p.accepted_ns() != 0) {
      std::printf("%s/%s point %s was already accepted as clean by %s (%s): nothing changed\n",
                  args.tenant.c_str(), args.backup_set.c_str(), name.c_str(),
                  EscapeForTerminal(p.accepted_by()).c_str(),
                  EscapeForTerminal(p.accepted_reason()).c_str());
    } else {
      std::printf("%s/%s point %s is clean already (examined, no signal): nothing changed\n",
                  args.tenant.c_str(), args.backup_set.c_str(), name.c_str());
    }
    return kExitOk;
  }
  std::printf("%s/%s point %s (%s) accepted as clean by %s at %s\n", args.tenant.c_str(),
              args.backup_set.c_str(), name.c_str(), PointVerdictName(p.verdict()),
              EscapeForTerminal(p.accepted_by()).c_str(), FormatTimeUtc(p.accepted_ns()).c_str());
  if (resp.reset() > 0) {
    std::printf("%u later point(s) examined again against it\n", resp.reset());
  }
  return kExitOk;
}

}  // namespace vigil::cli
