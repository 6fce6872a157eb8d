#include "services/coordinator/coordinator.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/calendar.h"
#include "services/contracts/location_address.h"
#include "services/contracts/model.h"
#include "services/contracts/parse.h"
#include "services/contracts/proto_bridge.h"
#include "services/contracts/schedule.h"
#include "services/coordinator/check_log_writer.h"
#include "services/coordinator/check_results.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/evaluation.h"
#include "services/coordinator/format_results.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/coordinator/records.h"
#include "storage/entry.h"
#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

Status CheckName(std::string_view what, std::string_view field, std::string_view value) {
  if (contracts::IsValidName(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(what) + ": field '" + std::string(field) +
                                    "' must be a name (" + contracts::kNameRule + "), got '" +
                                    EscapeForTerminal(value.substr(0, 200)) + "'");
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError("cannot open /dev/urandom");
  ssize_t n = read(fd, raw.data(), raw.size());
  close(fd);
  if (n != static_cast<ssize_t>(raw.size())) return absl::InternalError("short read of urandom");
  return storage::HexEncode({reinterpret_cast<const char*>(raw.data()), raw.size()});
}

namespace {

template <typename Msg>
StatusOr<bool> GetMsg(storage::KvStore* kv, Space space, const std::string& key, Msg* m) {
  std::string v;
  Status s = kv->Get(space, key, &v);
  if (absl::IsNotFound(s)) return false;
  if (!s.ok()) return s;
  if (!m->ParseFromString(v)) return absl::DataLossError("record does not decode");
  return true;
}

}  // namespace

std::string TokenHash(std::string_view token) {
  return std::string(storage::HashBytes(storage::HashAlgorithm::kSha256, token).view());
}

StatusOr<std::unique_ptr<Coordinator>> Coordinator::Open(const CoordinatorOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("no data directory given");
  std::unique_ptr<Coordinator> c(new Coordinator());
  c->options_ = options;
  c->clock_ = options.clock != nullptr ? options.clock : &c->real_clock_;
  c->opened_ns_ = c->clock_->NowNs();
  storage::RocksKvOptions kv_options;
  kv_options.log = [](const std::string& line) {
    std::fprintf(stderr, "vigil coordinator: %s\n", line.c_str());
  };
  auto cat = storage::Catalogue::Open(options.data_dir, kv_options);
  if (!cat.ok()) return cat.status();
  c->cat_ = std::move(*cat);
  c->leases_ = std::make_unique<LeaseManager>(c->cat_->kv(), c->clock_, options.lease);
  if (Status s = c->leases_->Load(); !s.ok()) return s;
  c->ledger_.Rebuild(c->leases_->All());
  if (!options.keys_dir.empty()) {
    auto ring = signing::KeyRing::Open(options.keys_dir);
    if (!ring.ok()) return ring.status();
    c->keys_ = std::move(*ring);
  }
  c->leases_->SetFinishHook(
      [raw = c.get()](const v1::Task& t, storage::KvBatch* b) { return raw->LogTaskResult(t, b); });
  // After a failed write the lease manager reads its tasks back: the check
  // log records staged for the lost groups were never written.
  c->leases_->SetReloadHook([raw = c.get()] { raw->staged_heads_.ForgetAll(); });
  return c;
}

Status Coordinator::LogTaskResult(const v1::Task& t, storage::KvBatch* batch) {
  std::optional<v1::DrillResult> drill;
  if (t.kind() == v1::TASK_KIND_DRILL) {
    MutexLock lock(&pending_mu_);
    auto it = pending_drills_.find(t.id());
    if (it != pending_drills_.end()) drill = it->second;
  }
  std::string payload = DumpJson(CheckResultJson(t, drill ? &*drill : nullptr));
  int64_t at = t.finished_ns() != 0 ? t.finished_ns() : clock_->NowNs();
  return staged_heads_.Stage(*cat_->kv(), t.backup_set().tenant(), payload, at, batch).status();
}

Status Coordinator::CheckAdminToken(std::string_view bearer_token) {
  return AdminIdentity(bearer_token).status();
}

StatusOr<std::string> Coordinator::AdminIdentity(std::string_view bearer_token) {
  if (options_.admin_token_sha256.empty()) return std::string("admin");
  if (bearer_token.empty()) {
    return absl::UnauthenticatedError("admin call without 'authorization: Bearer' token");
  }
  if (ConstantTimeEqual(TokenHash(bearer_token), options_.admin_token_sha256)) {
    return std::string("admin");
  }
  // An issued admin token (vigil token issue --kind admin)?
  bool other_kind = false;
  auto t = ValidToken(bearer_token, v1::TOKEN_KIND_ADMIN, &other_kind);
  if (!t.ok()) {
    return absl::IsUnauthenticated(t.status()) && !other_kind
               ? absl::UnauthenticatedError("wrong admin token")
               : t.status();
  }
  return t->name().empty() ? std::string("admin") : t->name();
}

namespace {

// Task.waiting's text for a queued task at `location`.
std::string NoWorkerText(const std::string& location, const std::string& site) {
  return "no worker serves " + location + " (site " + site + ")";
}

// What to do about it (ApplyResponse.warnings, RunCheckResponse.unserved).
std::string StartWorkerHint(const std::string& location, const std::string& site,
                            const std::string& kind = "") {
  // A remote location is served without a root: its address is in the
  // contract, its credentials in the worker's --secrets.
  const bool remote = kind == "s3" || kind == "sftp";
  return "start one with: vigil worker --site " + site + " --location " + location +
         (remote ? " --secrets DIR (DIR/" + location + (kind == "s3" ? ".s3" : ".ssh") +
                       "; docs/contracts.md)"
                 : "=PATH (docs/first-day.md, section 5)");
}

}  // namespace

StatusOr<v1::ApplyResponse> Coordinator::Apply(const v1::ApplyRequest& in) {
  WriterMutexLock lock(&apply_mu_);
  storage::KvStore* kv = cat_->kv();
  // Manifests are parsed here too (the CLI's check is a courtesy): the
  // coordinator knows what was applied before, and stores the contracts.
  v1::ApplyRequest req = in;
  req.clear_files();
  std::vector<PendingContract> contracts;
  if (in.files_size() > 0) {
    if (Status s = ParseManifests(kv, in, &req, &contracts); !s.ok()) return s;
  }
  std::map<std::string, bool> locations, tenants;  // names known after this request
  for (const auto& l : req.locations()) {
    std::string what = "Location '" + l.name() + "'";
    if (Status s = CheckName(what, "name", l.name()); !s.ok()) return s;
    if (Status s = CheckName(what, "site", l.site()); !s.ok()) return s;
    // A remote location's address, checked as the YAML parser checks it.
    if (std::string problem =
            contracts::LocationAddressProblem(contracts::FromProto(l), l.has_s3(), l.has_sftp());
        !problem.empty()) {
      return absl::InvalidArgumentError(what + ": " + problem);
    }
    locations[l.name()] = true;
  }
  for (const auto& t : req.tenants()) {
    if (Status s = CheckName("Tenant '" + t.name() + "'", "name", t.name()); !s.ok()) return s;
    tenants[t.name()] = true;
  }
  auto exists = [&](std::map<std::string, bool>& known, const std::string& key,
                    const std::string& name) -> StatusOr<bool> {
    if (known.count(name) != 0) return true;
    std::string v;
    Status s = kv->Get(Space::kMeta, key, &v);
    if (absl::IsNotFound(s)) return false;
    if (!s.ok()) return s;
    known[name] = true;
    return true;
  };
  for (const auto& b : req.backup_sets()) {
    std::string what = "backup set '" + b.tenant() + "/" + b.name() + "'";
    if (Status s = CheckName(what, "tenant", b.tenant()); !s.ok()) return s;
    if (Status s = CheckName(what, "asset", b.asset()); !s.ok()) return s;
    if (Status s = CheckName(what, "name", b.name()); !s.ok()) return s;
    if (Status s = CheckName(what, "location", b.location()); !s.ok()) return s;
    if (!storage::IsValidRelativePath(b.path())) {
      return absl::InvalidArgumentError(what +
                                        ": field 'path' must be relative to the location's "
                                        "root, with no '..', '.' or empty component, got '" +
                                        b.path() + "'");
    }
    if (!b.format().empty() && b.format() != "dir" && b.format() != "bagit" &&
        b.format() != "sumfile" && b.format() != "restic") {
      return absl::InvalidArgumentError(what + ": unknown format '" + b.format() +
                                        "' (dir, bagit, sumfile, restic)");
    }
    if (!contracts::LayoutFromName(b.layout())) {
      return absl::InvalidArgumentError(what + ": unknown layout '" + b.layout() + "'");
    }
    auto t = exists(tenants, keys::Tenant(b.tenant()), b.tenant());
    if (!t.ok()) return t.status();
    if (!*t) return absl::InvalidArgumentError(what + ": unknown tenant '" + b.tenant() + "'");
    auto l = exists(locations, keys::Location(b.location()), b.location());
    if (!l.ok()) return l.status();
    if (!*l) return absl::InvalidArgumentError(what + ": unknown location '" + b.location() + "'");
  }

  storage::KvBatch batch;
  v1::ApplyResponse resp;
  auto put = [&](const std::string& key, const google::protobuf::Message& m,
                 const std::string& what) -> Status {
    std::string now = m.SerializeAsString(), old;
    Status s = kv->Get(Space::kMeta, key, &old);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    if (s.ok() && old == now) return absl::OkStatus();
    resp.add_changes((s.ok() ? "~ " : "+ ") + what);
    batch.Put(Space::kMeta, key, now);
    return absl::OkStatus();
  };
  for (const auto& l : req.locations()) {
    // A remote location's change shows its address ("+ location vault
    // (s3://acme-offsite at https://...)"); a filesystem one's line is as it was.
    const std::string address = contracts::LocationAddressText(contracts::FromProto(l));
    const std::string what = "location " + l.name() + (address.empty() ? "" : " (" + address + ")");
    if (Status s = put(keys::Location(l.name()), l, what); !s.ok()) return s;
  }
  for (const auto& t : req.tenants()) {
    if (Status s = put(keys::Tenant(t.name()), t, "tenant " + t.name()); !s.ok()) return s;
  }
  for (const auto& c : req.alert_channels()) {
    std::string what = "AlertChannel '" + c.name() + "'";
    if (Status s = CheckName(what, "name", c.name()); !s.ok()) return s;
    if (c.webhook_url().empty() == (c.email_to_size() == 0)) {
      return absl::InvalidArgumentError(what + ": exactly one of webhook_url and email_to");
    }
    // Secrets are file names in --secrets, tenants keys: names, like the
    // YAML parser's.
    if (!c.webhook_url().empty() || !c.secret().empty()) {
      if (Status s = CheckName(what, "secret", c.secret()); !s.ok()) return s;
    }
    if (!c.smtp_user().empty() || !c.password_secret().empty()) {
      if (Status s = CheckName(what, "password_secret", c.password_secret()); !s.ok()) return s;
    }
    for (const auto& t : c.tenants()) {
      if (Status s = CheckName(what, "tenants", t); !s.ok()) return s;
    }
    if (Status s = put(keys::AlertChannel(c.name()), c, "alert channel " + c.name()); !s.ok()) {
      return s;
    }
  }
  for (const auto& b : req.backup_sets()) {
    v1::BackupSet n = b;
    if (n.format().empty()) n.set_format("dir");
    if (Status s = put(keys::BackupSet(b.tenant(), b.name()), n,
                       "backup set " + b.tenant() + "/" + b.name());
        !s.ok()) {
      return s;
    }
  }
  // Contracts: a new version when the canonical text differs from the
  // latest one (re-applying the same file is a no-op).
  const int64_t now = clock_->NowNs();
  for (const PendingContract& pc : contracts) {
    auto versions = LoadContractVersions(kv, pc.tenant);
    if (!versions.ok()) return versions.status();
    const v1::ContractVersion* latest = versions->empty() ? nullptr : &versions->back();
    if (latest != nullptr && latest->canonical_yaml() == pc.canonical_yaml) continue;
    v1::ContractVersion v;
    v.set_version(latest == nullptr ? 1 : latest->version() + 1);
    v.set_effective_from_ns(pc.effective_from_ns != 0 ? pc.effective_from_ns : now);
    if (latest != nullptr && v.effective_from_ns() < latest->effective_from_ns()) {
      return absl::InvalidArgumentError(
          pc.file + ": Contract(" + pc.tenant +
          ").effectiveFrom: " + FormatTimeUtc(v.effective_from_ns()) + " precedes version " +
          std::to_string(latest->version()) + "'s (" + FormatTimeUtc(latest->effective_from_ns()) +
          "); a contract version cannot take effect before the one it replaces");
    }
    v.set_applied_ns(now);
    v.set_sha256(
        std::string(storage::HashBytes(storage::HashAlgorithm::kSha256, pc.canonical_yaml).view()));
    v.set_canonical_yaml(pc.canonical_yaml);
    v.set_source_file(pc.file);
    batch.Put(Space::kMeta, keys::ContractVersion(pc.tenant, v.version()), v.SerializeAsString());
    resp.add_changes("+ contract " + pc.tenant + " v" + std::to_string(v.version()) +
                     " (effective " + FormatTimeUtc(v.effective_from_ns()) + ")");
  }
  resp.set_changed(static_cast<uint32_t>(resp.changes_size()));
  // Locations the request's backup sets use that no worker serves: not an
  // error (the worker may be started next), but their checks would wait.
  std::map<std::string, std::string> sites;  // the request's declarations win
  std::map<std::string, std::string> kinds;
  for (const auto& l : req.locations()) {
    sites[l.name()] = l.site();
    kinds[l.name()] = l.kind();
  }
  std::set<std::string> used;
  for (const auto& b : req.backup_sets()) used.insert(b.location());
  if (!used.empty()) {
    auto live = LiveLocations(sites);
    if (!live.ok()) return live.status();
    for (const std::string& name : used) {
      if (live->count(name) != 0) continue;
      std::string site, kind;
      if (auto it = sites.find(name); it != sites.end()) {
        site = it->second;
        kind = kinds[name];
      } else {
        v1::Location l;
        auto found = GetMsg(kv, Space::kMeta, keys::Location(name), &l);
        if (!found.ok()) return found.status();
        site = l.site();
        kind = l.kind();
      }
      resp.add_warnings("location " + name + " (site " + site +
                        "): no worker serves it; its checks wait until one does: " +
                        StartWorkerHint(name, site, kind));
    }
  }
  if (Status s = ReadBudgetWarnings(contracts, req, &resp); !s.ok()) return s;
  if (in.dry_run()) return resp;
  if (batch.count() > 0) {
    if (Status s = kv->Write(batch, {.sync = true}); !s.ok()) return s;
    // A location declared for another site, a budget changed: a held
    // LeaseTask may now find a task (lease_waiters.h).
    leases_->Wake();
  }
  return resp;
}

Status Coordinator::ReadBudgetWarnings(const std::vector<PendingContract>& pending,
                                       const v1::ApplyRequest& req, v1::ApplyResponse* resp) {
  if (pending.empty()) return absl::OkStatus();
  auto stored = LoadLocations(cat_->kv());
  if (!stored.ok()) return stored.status();
  std::map<std::string, contracts::Location> locations = std::move(*stored);
  for (const auto& l : req.locations()) locations[l.name()] = contracts::FromProto(l);
  for (const PendingContract& pc : pending) {
    for (const contracts::Asset& a : pc.model.assets) {
      const contracts::Commitment* integ = contracts::FindKind(
          pc.model.CommitmentsFor(a.name), contracts::CommitmentKind::kIntegrity);
      if (integ == nullptr || integ->integrity.sample > 0) continue;  // no full pass promised
      for (const contracts::BackupSet& b : a.backup_sets) {
        auto loc = locations.find(b.location);
        if (loc == locations.end()) continue;
        // The set's size: its present points at its last check.
        auto points = LoadPoints(cat_->kv(), pc.tenant, b.name);
        if (!points.ok()) return points.status();
        std::optional<uint64_t> bytes;
        for (const auto& p : *points) {
          if (p.gone_ns() == 0) bytes = bytes.value_or(0) + p.bytes();
        }
        contracts::ReadBudgetCoverage c =
            contracts::JudgeReadBudget(loc->second, bytes, integ->integrity.reverify_within_ns);
        if (!c.applies || (c.size_known && c.reachable)) continue;
        const std::string set = "backup set " + pc.tenant + "/" + b.name + " at " + b.location;
        if (!c.size_known) {
          resp->add_warnings(set + " (readBudget " +
                             HumanBytes(static_cast<double>(loc->second.read_bytes_per_day)) +
                             "/day): " + c.text + "; whether reverifyWithin " +
                             contracts::FormatDuration(integ->integrity.reverify_within_ns) +
                             " fits the budget is judged then (vigil status)");
        } else {
          resp->add_warnings(set + ": " + c.text +
                             " (integrity cannot be met; vigil status says so)");
        }
      }
    }
  }
  return absl::OkStatus();
}

StatusOr<v1::RunCheckResponse> Coordinator::RunCheck(const v1::RunCheckRequest& req) {
  if (Status s = CheckName("check run", "tenant", req.tenant()); !s.ok()) return s;
  if (!req.asset().empty()) {
    if (Status s = CheckName("check run", "asset", req.asset()); !s.ok()) return s;
  }
  v1::Tenant tenant;
  auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Tenant(req.tenant()), &tenant);
  if (!found.ok()) return found.status();
  if (!*found) return absl::NotFoundError("unknown tenant '" + req.tenant() + "'");
  std::vector<v1::Task> tasks;
  if (req.drill()) {
    auto drills = PlanDrills(req.tenant(), req.asset());
    if (!drills.ok()) return drills.status();
    tasks = std::move(*drills);
  }
  Status s = req.drill() ? absl::OkStatus()
                         : ForEachRecord<v1::BackupSet>(
                               cat_->kv(), Space::kMeta, keys::BackupSetsOf(req.tenant()),
                               "backup set", [&](v1::BackupSet&& b) {
                                 if (!req.asset().empty() && b.asset() != req.asset()) {
                                   return;
                                 }
                                 v1::Task t;
                                 *t.mutable_backup_set() = std::move(b);
                                 tasks.push_back(std::move(t));
                               });
  if (!s.ok()) return s;
  if (tasks.empty()) {
    if (!req.asset().empty()) {
      return absl::NotFoundError("tenant '" + req.tenant() + "' has no asset '" + req.asset() +
                                 "' with a backup set");
    }
    return absl::FailedPreconditionError("tenant '" + req.tenant() + "' has no backup set");
  }
  // A maintenance window is when the location must not be read (its
  // backups are being written, a RAID scrub): the scheduler never starts a
  // check then, and a manual one needs --force.
  auto locations = LoadLocations(cat_->kv());
  if (!locations.ok()) return locations.status();
  const int64_t now = clock_->NowNs();
  std::set<std::string> used;
  for (const auto& t : tasks) used.insert(t.backup_set().location());
  std::vector<std::string> in_window;
  for (const std::string& name : used) {
    auto loc = locations->find(name);
    if (loc == locations->end() || !contracts::InMaintenance(loc->second, now)) continue;
    contracts::Calendar cal(loc->second.timezone);
    const std::string& tz = loc->second.timezone;
    in_window.push_back("location " + name + " is inside a maintenance window until " +
                        cal.Format(contracts::NextReadable(loc->second, now)) +
                        (tz == "UTC" ? "" : " (" + tz + ")"));
  }
  v1::RunCheckResponse resp;
  if (!in_window.empty() && !req.force()) {
    std::string msg;
    for (const auto& w : in_window) msg += (msg.empty() ? "" : "; ") + w;
    return absl::FailedPreconditionError(
        msg +
        ": a check now would read storage that is being written or maintained; run it "
        "after the window, or pass --force to read it anyway");
  }
  for (auto& w : in_window) resp.add_forced(std::move(w));
  auto check_id = leases_->NextId();
  if (!check_id.ok()) return check_id.status();
  for (auto& t : tasks) t.set_check_id(*check_id);
  // Dated point names without an offset are read in the tenant's zone.
  const std::string tz = tenant.timezone().empty() ? "UTC" : tenant.timezone();
  for (auto& t : tasks) t.set_tenant_timezone(tz);  // drills: the same
  auto queued = leases_->Enqueue(std::move(tasks));
  if (!queued.ok()) return queued.status();
  resp.set_check_id(*check_id);
  for (const auto& t : *queued) resp.add_task_ids(t.id());
  auto live = LiveLocations();
  if (!live.ok()) return live.status();
  for (const std::string& name : used) {
    if (live->count(name) != 0) continue;
    auto loc = locations->find(name);
    const std::string site = loc != locations->end() ? loc->second.site : "";
    const std::string kind = loc != locations->end() ? loc->second.kind : "";
    resp.add_unserved(
        "location " + name + " (site " + site +
        "): no worker serves it, its tasks stay queued: " + StartWorkerHint(name, site, kind));
  }
  return resp;
}

StatusOr<v1::GetStatusResponse> Coordinator::GetStatus(const v1::GetStatusRequest& req) {
  storage::KvStore* kv = cat_->kv();
  std::vector<v1::Tenant> tenants;
  if (!req.tenant().empty()) {
    if (Status s = CheckName("status", "tenant", req.tenant()); !s.ok()) return s;
    v1::Tenant t;
    auto found = GetMsg(kv, Space::kMeta, keys::Tenant(req.tenant()), &t);
    if (!found.ok()) return found.status();
    if (!*found) return absl::NotFoundError("unknown tenant '" + req.tenant() + "'");
    tenants.push_back(std::move(t));
  } else {
    Status s = ForEachRecord<v1::Tenant>(kv, Space::kMeta, keys::kTenantPrefix, "tenant",
                                         [&](v1::Tenant&& t) { tenants.push_back(std::move(t)); });
    if (!s.ok()) return s;
  }
  // Latest task per (tenant, backup set), and the tasks of the asked check.
  std::map<std::pair<std::string, std::string>, v1::Task> last;
  // And the newest DONE check that says what its store said.
  std::map<std::pair<std::string, std::string>, v1::StoreEvidence> said;
  v1::GetStatusResponse resp;
  bool finished = true;
  std::vector<v1::Task> all_tasks = TasksWithWaiting();
  for (auto& t : all_tasks) {
    if (t.kind() == v1::TASK_KIND_CHECK) {
      last[{t.backup_set().tenant(), t.backup_set().name()}] = t;  // ids increase
      if (t.state() == v1::TASK_STATE_DONE && t.has_store_evidence()) {
        said[{t.backup_set().tenant(), t.backup_set().name()}] = t.store_evidence();
      }
    }
    if (req.check_id() != 0 && t.check_id() == req.check_id()) {
      if (t.state() != v1::TASK_STATE_DONE && t.state() != v1::TASK_STATE_FAILED) finished = false;
      *resp.add_check_tasks() = t;
    }
  }
  if (req.check_id() != 0) resp.set_check_finished(finished && resp.check_tasks_size() > 0);
  if (req.check_id() != 0 && req.tasks_only()) return resp;
  for (auto& t : tenants) {
    v1::TenantStatus* ts = resp.add_tenants();
    std::string name = t.name();
    *ts->mutable_tenant() = std::move(t);
    std::vector<v1::BackupSet> sets;
    Status s =
        ForEachRecord<v1::BackupSet>(kv, Space::kMeta, keys::BackupSetsOf(name), "backup set",
                                     [&](v1::BackupSet&& b) { sets.push_back(std::move(b)); });
    if (!s.ok()) return s;
    for (auto& b : sets) {
      v1::BackupSetStatus* bs = ts->add_backup_sets();
      auto it = last.find({b.tenant(), b.name()});
      if (it != last.end()) *bs->mutable_last_task() = it->second;
      if (auto e = said.find({b.tenant(), b.name()}); e != said.end()) {
        *bs->mutable_store_evidence() = e->second;
      }
      *bs->mutable_backup_set() = std::move(b);
      if (Status p = FillPoints(*this, bs); !p.ok()) return p;
      // The last clean point now (contracts::LastCleanPoint).
      {
        std::vector<contracts::PointFact> facts;
        for (const auto& p : bs->points()) facts.push_back(ToPointFact(p));
        if (const contracts::PointFact* clean = contracts::LastCleanPoint(facts, clock_->NowNs())) {
          bs->set_last_clean_ns(clean->time_ns);
          bs->set_last_clean_name(clean->name);
        }
      }
      if (Status p = FillFormatVerdicts(kv, bs); !p.ok()) return p;
      // Entries of the points present (a mirror, or a set checked before
      // points were recorded: the point at time 0).
      // The first kDamagedListed problems are named (BackupSetStatus.damaged).
      constexpr int kDamagedListed = 10;
      std::vector<std::pair<int64_t, std::string>> present;
      for (const auto& p : bs->points()) {
        if (p.gone_ns() == 0) present.emplace_back(p.time_ns(), p.name());
      }
      if (bs->points_size() == 0) present.emplace_back(0, "");
      uint64_t entries = 0, problems = 0;
      for (const auto& [rp, point_name] : present) {
        auto scan = cat_->Scan({bs->backup_set().tenant(), bs->backup_set().name(), rp});
        for (; scan->Valid(); scan->Next()) {
          ++entries;
          const storage::EntryState state = scan->verify().state;
          if (state == storage::EntryState::kOk) continue;
          if (++problems <= kDamagedListed) {
            v1::DamagedEntry* d = bs->add_damaged();
            d->set_point_ns(rp);
            d->set_point_name(point_name);
            d->set_path(scan->path());
            d->set_state(std::string(storage::EntryStateName(state)));
          }
        }
        if (!scan->status().ok()) return scan->status();
      }
      bs->set_catalogue_entries(entries);
      bs->set_problems(problems);
    }
    if (Status e = FillEvaluation(*cat_, all_tasks, ts->tenant(), clock_->NowNs(), ts); !e.ok()) {
      return e;
    }
  }
  return resp;
}

Status Coordinator::Backup(const v1::BackupRequest& req) {
  const std::string& dir = req.directory();
  if (dir.empty() || dir.front() != '/') {
    return absl::InvalidArgumentError("backup directory must be an absolute path, got '" + dir +
                                      "'");
  }
  if (access(dir.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError("backup directory '" + dir + "' already exists");
  }
  return storage::CheckpointRocksKv(cat_->kv(), dir);
}

namespace {

Status CheckWorkerRequest(const v1::RegisterRequest& req) {
  if (Status s = CheckName("worker", "site", req.site()); !s.ok()) return s;
  if (req.locations_size() == 0) {
    return absl::InvalidArgumentError("worker: field 'locations' names no location");
  }
  for (const auto& l : req.locations()) {
    if (Status s = CheckName("worker", "locations", l); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Where an enrolment credential comes from (worker.proto).
constexpr std::string_view kWhereTokensComeFrom =
    "a worker enrols with --token-file naming one of: the one-time token a fresh coordinator "
    "writes to DATA/enrol.token, one from `vigil token issue --kind enrol [--site SITE]`, or the "
    "coordinator's --worker-token-file";

}  // namespace

Status Coordinator::CheckClaims(const v1::RegisterRequest& req, v1::RegisterResponse* resp) {
  for (const auto& name : req.locations()) {
    v1::Location l;
    auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Location(name), &l);
    if (!found.ok()) return found.status();
    if (!*found) {
      resp->add_warnings("location " + name +
                         " is not declared (vigil apply a Location with site: " + req.site() +
                         "): not served until it is");
      continue;
    }
    if (l.site() != req.site()) {
      return absl::PermissionDeniedError("location '" + name + "' is declared for site '" +
                                         l.site() + "', not '" + req.site() +
                                         "': a worker serves only the locations of its own site");
    }
  }
  return absl::OkStatus();
}

StatusOr<std::set<std::string>> Coordinator::ServedLocations(
    const v1::WorkerRecord& w, std::map<std::string, v1::ReadBudget>* budgets) {
  std::set<std::string> served;
  for (const auto& name : w.locations()) {
    v1::Location l;
    auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Location(name), &l);
    if (!found.ok()) return found.status();
    if (!*found || l.site() != w.site()) continue;
    served.insert(name);
    if (budgets != nullptr && l.has_read_budget()) (*budgets)[name] = l.read_budget();
  }
  return served;
}

StatusOr<v1::RegisterResponse> Coordinator::Register(std::string_view enrol_token,
                                                     const v1::RegisterRequest& req) {
  // Always a credential: the coordinator's fixed enrolment token
  // (--worker-token-file), or a one-time token (DATA/enrol.token, `vigil
  // token issue --kind enrol`), used up here.
  if (enrol_token.empty()) {
    return absl::UnauthenticatedError("Register without enrolment token: " +
                                      std::string(kWhereTokensComeFrom));
  }
  std::optional<v1::TokenRecord> one_time;
  bool fixed_ok = !options_.enrol_token_sha256.empty() &&
                  ConstantTimeEqual(TokenHash(enrol_token), options_.enrol_token_sha256);
  if (!fixed_ok && !options_.admin_token_sha256.empty() &&
      ConstantTimeEqual(TokenHash(enrol_token), options_.admin_token_sha256)) {
    return absl::UnauthenticatedError(
        "enrolment refused: expected an enrol token, got the coordinator's admin token (" +
        std::string(kWhereTokensComeFrom) + ")");
  }
  if (!fixed_ok) {
    auto t = ValidToken(enrol_token, v1::TOKEN_KIND_ENROL);
    if (!t.ok()) {
      if (!absl::IsUnauthenticated(t.status())) return t.status();
      // The token's own reason ("enrolment token ID was already used",
      // "... expired"): only a caller holding the whole token gets past
      // the hash check to learn it, and a restarted worker's operator
      // needs it to see that a new token is due.
      return absl::UnauthenticatedError("enrolment refused: " + std::string(t.status().message()) +
                                        " (" + std::string(kWhereTokensComeFrom) + ")");
    }
    one_time = std::move(*t);
  }
  if (Status s = CheckWorkerRequest(req); !s.ok()) return s;
  if (one_time && !one_time->site().empty() && one_time->site() != req.site()) {
    return absl::PermissionDeniedError("enrolment refused: token " + one_time->id() +
                                       " was issued for site '" + one_time->site() + "', not '" +
                                       req.site() + "'");
  }
  v1::RegisterResponse resp;
  if (Status s = CheckClaims(req, &resp); !s.ok()) return s;
  auto id = leases_->NextId();
  if (!id.ok()) return id.status();
  auto credential = RandomHex(32);
  if (!credential.ok()) return credential.status();
  v1::WorkerRecord w;
  w.set_id("w" + std::to_string(*id));
  w.set_site(req.site());
  *w.mutable_locations() = req.locations();
  w.set_capacity(req.capacity() == 0 ? 1 : req.capacity());
  w.set_credential_sha256(TokenHash(*credential));
  w.set_registered_ns(clock_->NowNs());
  w.set_enrolled_with(one_time ? one_time->id() : "worker-token-file");
  storage::KvBatch b;
  b.Put(Space::kMeta, keys::Worker(w.id()), w.SerializeAsString());
  if (one_time) {
    MutexLock lock(&tokens_mu_);
    // Re-read under the lock: two workers racing for one token.
    auto again = ValidToken(enrol_token, v1::TOKEN_KIND_ENROL);
    if (!again.ok()) return absl::UnauthenticatedError("enrolment token already used");
    one_time->set_used_ns(clock_->NowNs());
    one_time->set_used_by(w.id());
    b.Put(Space::kMeta, keys::Token(one_time->id()), one_time->SerializeAsString());
    if (Status s = cat_->kv()->Write(b, {.sync = true}); !s.ok()) return s;
  } else if (Status s = cat_->kv()->Write(b, {.sync = true}); !s.ok()) {
    return s;
  }
  resp.set_worker_id(w.id());
  resp.set_credential(*credential);
  resp.set_lease_ttl_ms(static_cast<uint32_t>(options_.lease.ttl_ns / 1'000'000));
  return resp;
}

StatusOr<v1::RegisterResponse> Coordinator::Resume(const std::string& worker_id,
                                                   const v1::RegisterRequest& req) {
  if (Status s = CheckWorkerRequest(req); !s.ok()) return s;
  auto w = LoadWorker(worker_id);
  if (!w.ok()) return w.status();
  if (req.site() != w->site()) {
    return absl::PermissionDeniedError(
        "worker " + worker_id + " enrolled for site '" + w->site() + "', not '" + req.site() +
        "': a worker's site is fixed at enrolment; enrol again as a new worker of site '" +
        req.site() + "' (a fresh state directory and an enrolment token)");
  }
  v1::RegisterResponse resp;
  if (Status s = CheckClaims(req, &resp); !s.ok()) return s;
  *w->mutable_locations() = req.locations();
  w->set_capacity(req.capacity() == 0 ? 1 : req.capacity());
  w->set_resumed_ns(clock_->NowNs());
  storage::KvBatch b;
  b.Put(Space::kMeta, keys::Worker(w->id()), w->SerializeAsString());
  if (Status s = cat_->kv()->Write(b, {.sync = true}); !s.ok()) return s;
  // The worker restarted: the tasks it had leased are not running any
  // more. Handing them back now spares waiting for their leases to expire.
  for (const v1::Task& t : leases_->All()) {
    if (t.state() != v1::TASK_STATE_LEASED || t.worker_id() != worker_id) continue;
    Status s = leases_->Release(worker_id, t.id(), t.attempt());
    // Lost a race with the task's expiry or completion: nothing to hand back.
    if (!s.ok() && !absl::IsFailedPrecondition(s) && !absl::IsNotFound(s)) return s;
  }
  Seen(worker_id);
  resp.set_worker_id(worker_id);
  resp.set_lease_ttl_ms(static_cast<uint32_t>(options_.lease.ttl_ns / 1'000'000));
  return resp;
}

StatusOr<v1::WorkerRecord> Coordinator::LoadWorker(const std::string& id) {
  v1::WorkerRecord w;
  auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Worker(id), &w);
  if (!found.ok()) return found.status();
  if (!*found) return absl::UnauthenticatedError("unknown worker '" + id + "'");
  return w;
}

Status Coordinator::AuthenticateWorker(const std::string& worker_id, std::string_view credential) {
  if (worker_id.empty() || credential.empty()) {
    return absl::UnauthenticatedError("worker call without worker id or credential");
  }
  auto w = LoadWorker(worker_id);
  if (!w.ok()) return w.status();
  if (!ConstantTimeEqual(TokenHash(credential), w->credential_sha256())) {
    return absl::UnauthenticatedError("wrong credential for worker '" + worker_id + "'");
  }
  return absl::OkStatus();
}

void Coordinator::Seen(const std::string& worker_id) {
  int64_t now = clock_->NowNs();
  MutexLock lock(&seen_mu_);
  seen_[worker_id] = now;
}

std::map<std::string, int64_t> Coordinator::WorkersLastSeen() {
  MutexLock lock(&seen_mu_);
  return seen_;
}

StatusOr<std::vector<v1::WorkerRecord>> Coordinator::Workers() {
  return LoadRecords<v1::WorkerRecord>(cat_->kv(), keys::kWorkerPrefix, "worker");
}

StatusOr<std::set<std::string>> Coordinator::LiveLocations(
    const std::map<std::string, std::string>& sites) {
  auto workers = Workers();
  if (!workers.ok()) return workers.status();
  const std::map<std::string, int64_t> seen = WorkersLastSeen();
  const int64_t now = clock_->NowNs();
  std::set<std::string> live;
  for (const v1::WorkerRecord& w : *workers) {
    auto it = seen.find(w.id());
    const int64_t last =
        it != seen.end() ? it->second : std::max({opened_ns_, w.registered_ns(), w.resumed_ns()});
    if (now - last > kWorkerLiveTtls * options_.lease.ttl_ns) continue;
    for (const std::string& name : w.locations()) {
      if (auto s = sites.find(name); s != sites.end()) {
        if (s->second == w.site()) live.insert(name);
        continue;
      }
      v1::Location l;
      auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Location(name), &l);
      if (!found.ok()) return found.status();
      if (*found && l.site() == w.site()) live.insert(name);
    }
  }
  return live;
}

std::vector<v1::Task> Coordinator::TasksWithWaiting() {
  std::vector<v1::Task> tasks = leases_->All();
  auto live = LiveLocations();
  if (!live.ok()) return tasks;
  std::map<std::string, v1::Location> declared;                // read once per location
  std::map<std::string, std::vector<const v1::Task*>> leased;  // by location
  for (const v1::Task& t : tasks) {
    if (t.state() == v1::TASK_STATE_LEASED) leased[t.backup_set().location()].push_back(&t);
  }
  const int64_t now = clock_->NowNs();
  for (v1::Task& t : tasks) {
    const std::string& name = t.backup_set().location();
    if (t.state() != v1::TASK_STATE_QUEUED) continue;
    auto it = declared.find(name);
    if (it == declared.end()) {
      v1::Location l;
      auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Location(name), &l);
      if (!found.ok()) continue;
      it = declared.emplace(name, std::move(l)).first;
    }
    if (live->count(name) == 0) {
      t.set_waiting(NoWorkerText(name, it->second.site()));
    } else if (it->second.has_read_budget()) {
      // Deferred by the location's read budget: why, and until when.
      ReadLedger::Decision d = ledger_.Decide(t, it->second.read_budget(), leased[name], now);
      if (!d.admit) t.set_waiting(d.why);
    }
  }
  return tasks;
}

Status Coordinator::CheckReadable() {
  std::string v;
  return cat_->kv()->Get(Space::kMeta, "format_version", &v);
}

Status Coordinator::WriteHealth() { return cat_->kv()->WriteHealth(); }

StatusOr<v1::LeaseTaskResponse> Coordinator::LeaseTask(const std::string& worker_id,
                                                       std::set<std::string>* served) {
  auto w = LoadWorker(worker_id);
  if (!w.ok()) return w.status();
  Seen(worker_id);
  // Judged now, not at registration: a location re-declared for another
  // site stops being served at once.
  std::map<std::string, v1::ReadBudget> budgets;
  auto locations = ServedLocations(*w, &budgets);
  if (!locations.ok()) return locations.status();
  if (served != nullptr) *served = *locations;
  // A location's daily read budget (read_ledger.h): its oldest queued task
  // waits while the last 24 h of spend leaves no room for it.
  const int64_t now = clock_->NowNs();
  auto gate = [&](const v1::Task& t, const std::vector<const v1::Task*>& leased_here) {
    auto b = budgets.find(t.backup_set().location());
    return b == budgets.end() || ledger_.Decide(t, b->second, leased_here, now).admit;
  };
  auto t =
      leases_->Lease(worker_id, *locations,
                     budgets.empty() ? LeaseManager::LeaseGate() : LeaseManager::LeaseGate(gate));
  if (!t.ok()) return t.status();
  v1::LeaseTaskResponse resp;
  if (t->has_value()) {
    SetExpectedProgress(**t);
    *resp.mutable_task() = std::move(**t);
    // restic: the packs not to read again (format_results.h; not stored).
    Status s = AddKnownPacks(cat_->kv(), clock_->NowNs(), resp.mutable_task());
    if (!s.ok()) return s;
    // A catalogue recorded with another algorithm than contentHash (ingest.h).
    if (s = AddRehash(cat_->kv(), resp.mutable_task()); !s.ok()) return s;
    // Points recorded consistent, with their listing digests (ingest.h).
    if (s = AddHeldPoints(cat_->kv(), resp.mutable_task()); !s.ok()) return s;
    // The set's location as declared now (a remote location's address; its
    // credentials are only ever in the worker's --secrets): checks and
    // drills alike, on this copy only.
    v1::Task* task = resp.mutable_task();
    auto found = GetMsg(cat_->kv(), Space::kMeta, keys::Location(task->backup_set().location()),
                        task->mutable_location());
    if (!found.ok()) return found.status();
    if (!*found) task->clear_location();
  }
  return resp;
}

void Coordinator::SetTaskQueuedHook(std::function<void(const std::string& location)> hook) {
  leases_->SetQueuedHook(std::move(hook));
}

void Coordinator::SetExpectedProgress(const v1::Task& t) {
  uint64_t files = 0, bytes = 0;
  if (t.kind() == v1::TASK_KIND_DRILL) {
    files = static_cast<uint64_t>(t.drill_sample_size());
    for (const auto& f : t.drill_sample()) bytes += f.size();
  } else if (t.backup_set().format() != "restic") {
    // restic: the work is reading packs, which the point records do not
    // measure; its total stays unknown.
    auto points = LoadPoints(cat_->kv(), t.backup_set().tenant(), t.backup_set().name());
    if (!points.ok()) return;  // progress only: shown without a total
    std::set<int64_t> listed_only(t.metadata_only_points().begin(), t.metadata_only_points().end());
    for (const auto& p : *points) {
      if (p.gone_ns() != 0) continue;
      files += p.files();
      if (listed_only.count(p.time_ns()) == 0) bytes += p.bytes();
    }
  }
  if (files > 0 || bytes > 0) leases_->SetExpected(t.id(), t.attempt(), files, bytes);
}

StatusOr<v1::HeartbeatResponse> Coordinator::Heartbeat(const std::string& worker_id,
                                                       const v1::HeartbeatRequest& req) {
  Seen(worker_id);
  auto e = leases_->Heartbeat(worker_id, req.task_id(), req.attempt(), req.files_done(),
                              req.bytes_done());
  if (!e.ok()) return e.status();
  v1::HeartbeatResponse resp;
  resp.set_lease_expires_ns(*e);
  return resp;
}

StatusOr<uint64_t> Coordinator::Observe(const std::string& worker_id,
                                        const v1::ObservationBatch& batch) {
  ObserveResult r = ObserveBatches(worker_id, {&batch});
  if (!r.status.ok()) return r.status;
  return r.acked;
}

Coordinator::ObserveResult Coordinator::ObserveBatches(
    const std::string& worker_id, const std::vector<const v1::ObservationBatch*>& batches) {
  ObserveResult r;
  // Runs of batches of one attempt (a stream normally carries one attempt).
  for (size_t i = 0; i < batches.size();) {
    const uint64_t task = batches[i]->task_id();
    const uint32_t attempt = batches[i]->attempt();
    size_t j = i;
    while (j < batches.size() && batches[j]->task_id() == task &&
           batches[j]->attempt() == attempt) {
      ++j;
    }
    if (Status s = leases_->CheckLease(worker_id, task, attempt); !s.ok()) {
      r.status = s;
      return r;
    }
    std::optional<v1::Task> t = leases_->Get(task);
    if (!t) {
      r.status = absl::NotFoundError("unknown task " + std::to_string(task));
      return r;
    }
    StageResult staged = StageBatches(
        cat_->kv(), t->backup_set(),
        std::vector<const v1::ObservationBatch*>(batches.begin() + i, batches.begin() + j));
    r.acked = staged.acked;
    // For /metrics: batches acknowledged before (resent) are not counted;
    // nor in the task's progress (TaskProgress units: regular files).
    // A held marker stands for its point's files as last sent
    // (StageResult::held_files, held_bytes: verified bytes when read whole).
    uint64_t bytes = staged.held_bytes;
    uint64_t files = staged.held_files, file_bytes = staged.held_bytes;
    for (size_t k = i; k < j; ++k) {
      if (batches[k]->seq() <= staged.acked_before || batches[k]->seq() > staged.acked) continue;
      for (const auto& o : batches[k]->observations()) {
        if (!o.digest().empty()) bytes += o.size();
        if (o.type() == v1::ENTRY_TYPE_FILE) {
          ++files;
          if (!o.digest().empty()) file_bytes += o.size();
        }
      }
    }
    if (bytes > 0) {
      MutexLock lock(&bytes_mu_);
      verified_bytes_[t->backup_set().location()] += bytes;
    }
    if (files > 0 || file_bytes > 0) leases_->AddObserved(task, attempt, files, file_bytes);
    if (!staged.status.ok()) {
      r.status = staged.status;
      return r;
    }
    i = j;
  }
  return r;
}

std::map<std::string, uint64_t> Coordinator::VerifiedBytesByLocation() {
  MutexLock lock(&bytes_mu_);
  return verified_bytes_;
}

StatusOr<v1::CompleteTaskResponse> Coordinator::CompleteTask(const std::string& worker_id,
                                                             const v1::CompleteTaskRequest& req) {
  v1::CompleteTaskResponse resp;
  if (!req.error().empty()) {
    auto t = leases_->Fail(worker_id, req.task_id(), req.attempt(), req.error());
    if (!t.ok()) return t.status();
    *resp.mutable_task() = std::move(*t);
    return resp;
  }
  // A repeated completion is answered with the DONE task, once that is
  // durable (whether or not readers see it yet).
  auto current = leases_->GetDurable(req.task_id());
  if (!current.ok()) return current.status();
  std::optional<v1::Task> t = std::move(*current);
  if (t && t->state() == v1::TASK_STATE_DONE && t->attempt() == req.attempt()) {
    *resp.mutable_task() = std::move(*t);
    return resp;
  }
  if (t && t->kind() == v1::TASK_KIND_DRILL) return CompleteDrill(worker_id, req);
  if (Status s = leases_->CheckLease(worker_id, req.task_id(), req.attempt()); !s.ok()) return s;
  // The location's survey (directory names two levels down), kept for the
  // scope check and committed with the task's completion; checked before
  // anything is merged.
  std::optional<v1::LocationSurvey> survey;
  if (req.location_dirs_size() > 0) {
    if (req.location_dirs_size() > 10'000) {
      return absl::InvalidArgumentError("location_dirs: more than 10,000 directories");
    }
    survey.emplace();
    survey->set_at_ns(clock_->NowNs());
    for (const auto& d : req.location_dirs()) {
      size_t slash = d.find('/');
      if (!storage::IsValidRelativePath(d) || slash == std::string::npos ||
          d.find('/', slash + 1) != std::string::npos) {
        return absl::InvalidArgumentError("location_dirs: '" + EscapeForTerminal(d) +
                                          "' is not a relative path of two components");
      }
      survey->add_dirs(d);
    }
    std::sort(survey->mutable_dirs()->begin(), survey->mutable_dirs()->end());
  }
  if (Status s = ValidateFormatResults(t->backup_set(), req); !s.ok()) return s;
  if (const std::string& d = req.set_directory();
      !d.empty() && d != "does not exist" && d != "empty" && d != "holds no restore point") {
    return absl::InvalidArgumentError("set_directory: '" + EscapeForTerminal(d) +
                                      "' is not \"does not exist\", \"empty\" or \"holds no "
                                      "restore point\"");
  }
  if (req.store_evidence().disagreeing_size() > 20) {
    return absl::InvalidArgumentError("store_evidence: more than 20 disagreeing objects named");
  }
  ReaderMutexLock apply_lock(&apply_mu_);
  MutexLock set_lock(&SetLock(t->backup_set().tenant(), t->backup_set().name()));
  // A completion of this attempt that ran while this one waited for the
  // set's lock has merged and dropped the staged batches: answer with its
  // result rather than merge nothing.
  {
    auto again = leases_->GetDurable(req.task_id());
    if (!again.ok()) return again.status();
    if (*again && (*again)->state() == v1::TASK_STATE_DONE &&
        (*again)->attempt() == req.attempt()) {
      *resp.mutable_task() = std::move(**again);
      return resp;
    }
    if (Status s = leases_->CheckLease(worker_id, req.task_id(), req.attempt()); !s.ok()) return s;
  }
  auto last = LastAcked(cat_->kv(), req.task_id(), req.attempt());
  if (!last.ok()) return last.status();
  if (*last != req.final_seq()) {
    return absl::FailedPreconditionError(
        "task " + std::to_string(req.task_id()) + ": final_seq " + std::to_string(req.final_seq()) +
        " but the last acknowledged batch is " + std::to_string(*last));
  }
  // A merge that completed before a crash is not redone: its entries would
  // be counted again as unchanged instead of added.
  const std::string marker_key = keys::Merged(req.task_id(), req.attempt());
  v1::Task marker;
  auto done_before = GetMsg(cat_->kv(), Space::kMeta, marker_key, &marker);
  if (!done_before.ok()) return done_before.status();
  StatusOr<MergeResult> merged = MergeResult{.counts = marker.counts(),
                                             .entries = marker.entries(),
                                             .bytes_read = marker.bytes_read(),
                                             .points_held = marker.points_held(),
                                             .entries_held = marker.entries_held(),
                                             .dirs_held = marker.dirs_held(),
                                             .entries_in_held_dirs = marker.entries_in_held_dirs(),
                                             .dirs_shared = marker.dirs_shared()};
  // The merge's last batch goes into `done_batch`, written atomically (and
  // synced) with the DONE record below: one write ends the task.
  storage::KvBatch done_batch;
  if (!*done_before) {
    merged = MergeStaged(*cat_, t->backup_set(), req.task_id(), req.attempt(), clock_->NowNs(),
                         marker_key, &done_batch);
  }
  if (!merged.ok()) {
    if (absl::IsInvalidArgument(merged.status())) {  // the worker's data, not our disk
      auto f = leases_->Fail(worker_id, req.task_id(), req.attempt(),
                             std::string(merged.status().message()));
      if (!f.ok()) return f.status();
    }
    return merged.status();
  }
  if (survey) {
    done_batch.Put(Space::kMeta, keys::Survey(t->backup_set().location()),
                   survey->SerializeAsString());
  }
  // Staged batches, acks and the merge markers of every attempt (an older
  // attempt may have merged and then lost its lease).
  if (Status s = DropStaged(cat_->kv(), &done_batch, req.task_id()); !s.ok()) return s;
  const uint64_t merge_writes = merged->writes;
  // DONE is durable when Complete returns, but readers (status, the
  // dashboard, `check run --wait`) see it only once the writes below are
  // durable too: a finished check shows its catalogue, points, plausibility
  // and format verdicts at once (lease_manager.h, "Readers see only what
  // is durable").
  // What the check cost at the location (read_ledger.h): the store's
  // counters, or (a filesystem location reports none) the bytes it read and
  // hashed, with no requests.
  v1::StoreUsage usage = req.store_usage();
  if (!req.has_store_usage()) usage.set_bytes_read(merged->bytes_read);
  auto done = leases_->Complete(
      worker_id, req.task_id(), req.attempt(),
      {merged->counts, merged->entries, merged->bytes_read, req.set_directory(), usage,
       req.has_store_evidence() ? std::optional<v1::StoreEvidence>(req.store_evidence())
                                : std::nullopt,
       merged->points_held, merged->entries_held, merged->dirs_held, merged->entries_in_held_dirs,
       merged->dirs_shared},
      &done_batch,
      /*publish=*/false);
  struct PublishAtExit {
    LeaseManager* leases;
    uint64_t task;
    ~PublishAtExit() { leases->Publish(task); }
  } publish{leases_.get(), req.task_id()};
  if (!done.ok()) return done.status();
  ledger_.Add(*done);
  TestCrashPoint("merge", merge_writes + 1);  // the DONE group is written
  // New points' plausibility and verdicts, once their entries are written (redone at the
  // set's next completion if the coordinator dies before this write is
  // durable: points.h). Still under the set's lock.
  // With their ransomware verdicts, under the contract's thresholds.
  auto ransomware = RansomwareSpecFor(cat_->kv(), t->backup_set().tenant(), clock_->NowNs());
  if (!ransomware.ok()) return ransomware.status();
  if (Status s = RecheckPlausibility(*cat_, t->backup_set().tenant(), t->backup_set().name(),
                                     /*sync=*/false, *ransomware);
      !s.ok()) {
    return s;
  }
  // Format verdicts and restic packs (format_results.h), once the point
  // records they mark are written: their own synced write after DONE, which
  // makes the plausibility write durable too. A crash in between loses
  // them; the set's next check recomputes them (packs not recorded are read
  // again).
  {
    storage::KvBatch formats;
    if (Status s = ApplyFormatResults(cat_->kv(), *t, req, clock_->NowNs(), &formats); !s.ok()) {
      return s;
    }
    Status s =
        formats.count() > 0 ? cat_->kv()->Write(formats, {.sync = true}) : cat_->kv()->Sync();
    if (!s.ok()) return s;
  }
  // Points gone long enough: their entries freed (points.h). The task is
  // done whatever happens here (shown DONE first); a failure is retried at
  // the next check.
  leases_->Publish(req.task_id());
  if (options_.free_gone_points_after_ns > 0) {
    const std::string& tenant = t->backup_set().tenant();
    const std::string& set = t->backup_set().name();
    auto freed =
        FreeGonePoints(*cat_, tenant, set, clock_->NowNs(), options_.free_gone_points_after_ns);
    if (!freed.ok()) {
      std::fprintf(stderr,
                   "vigil coordinator: %s/%s: cannot free the entries of points gone for %s: "
                   "%s (tried again at the set's next check)\n",
                   tenant.c_str(), set.c_str(),
                   HumanDuration(options_.free_gone_points_after_ns).c_str(),
                   std::string(freed.status().message()).c_str());
    } else if (*freed > 0) {
      std::fprintf(stderr,
                   "vigil coordinator: %s/%s: freed the catalogue entries of %d restore point(s) "
                   "gone for more than %s (their records stay)\n",
                   tenant.c_str(), set.c_str(), *freed,
                   HumanDuration(options_.free_gone_points_after_ns).c_str());
    }
  }
  *resp.mutable_task() = std::move(*done);
  return resp;
}

Mutex& Coordinator::SetLock(const std::string& tenant, const std::string& set) {
  MutexLock lock(&set_mu_);
  auto& m = set_locks_[tenant + "/" + set];
  if (m == nullptr) m = std::make_unique<Mutex>();
  return *m;
}

Status Coordinator::ReleaseTask(const std::string& worker_id, const v1::ReleaseTaskRequest& req) {
  return leases_->Release(worker_id, req.task_id(), req.attempt());
}

Status Coordinator::ExpireLeases() { return leases_->ExpireLeases().status(); }

}  // namespace vigil::coordinator
