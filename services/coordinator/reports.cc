// Coordinator methods of reports, proofs and offboarding (admin.proto):
// translation between requests and report.h / proofs.h.
#include <nlohmann/json.hpp>

#include "services/contracts/calendar.h"
#include "services/coordinator/alerts.h"
#include "services/coordinator/check_results.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/proofs.h"
#include "services/coordinator/records.h"
#include "services/coordinator/report.h"
#include "services/proofs/check_log.h"
#include "services/proofs/proof_verify.h"
#include "storage/entry.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using nlohmann::json;
using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

v1::ProofFile ToProto(const IssuedProof& p) {
  v1::ProofFile f;
  f.set_seq(p.seq);
  f.set_period(p.period);
  f.set_statement(p.statement);
  f.set_signature(p.signature);
  f.set_issued_ns(p.issued_ns);
  return f;
}

}  // namespace

StatusOr<v1::Tenant> Coordinator::TenantRecord(const std::string& name) {
  if (Status s = CheckName("request", "tenant", name); !s.ok()) return s;
  v1::Tenant t;
  Status s = ReadRecord(cat_->kv(), Space::kMeta, keys::Tenant(name), "tenant", &t);
  if (absl::IsNotFound(s)) return absl::NotFoundError("unknown tenant '" + name + "'");
  if (!s.ok()) return s;
  return t;
}

StatusOr<v1::ProofFile> Coordinator::MakeReport(const v1::MakeReportRequest& req) {
  auto tenant = TenantRecord(req.tenant());
  if (!tenant.ok()) return tenant.status();
  if (!keys_) {
    return absl::FailedPreconditionError(
        "the coordinator has no signing key: make one with `vigil keys init --dir DIR` and start "
        "the coordinator with --keys DIR");
  }
  const int64_t now = clock_->NowNs();
  contracts::Calendar cal(tenant->timezone().empty() ? "UTC" : tenant->timezone());
  auto period = ReportPeriod(req.period(), cal, now);
  if (!period.ok()) return period.status();
  ReportFacts facts;
  auto report = BuildReport(*cat_, leases_->All(), *tenant, *period, now,
                            ReportOptions{options_.msp_name}, &facts);
  if (!report.ok()) return report.status();
  if (facts.monitored_from_ns == 0 && !req.allow_unmonitored()) {
    // A signed statement that every commitment was "not monitored" proves
    // nothing and would sit in the tenant's chain of proofs forever.
    return absl::FailedPreconditionError(
        "no proof issued: no backup set of tenant '" + tenant->name() +
        "' had been inventoried by the end of period " + period->label +
        " (nothing was monitored). Run a check first (vigil check run " + tenant->name() +
        " --wait), report on a period after monitoring began (--period), or pass "
        "--allow-unmonitored to sign a statement that nothing was monitored");
  }
  auto proof = IssueProof(*cat_, *keys_, tenant->name(), std::move(*report), now);
  if (!proof.ok()) return proof.status();
  return ToProto(*proof);
}

StatusOr<v1::ListProofsResponse> Coordinator::ListTenantProofs(const std::string& tenant) {
  if (auto t = TenantRecord(tenant); !t.ok()) return t.status();
  auto proofs = ListProofs(*cat_->kv(), tenant, false);
  if (!proofs.ok()) return proofs.status();
  v1::ListProofsResponse resp;
  for (const IssuedProof& p : *proofs) {
    v1::ProofSummary* s = resp.add_proofs();
    s->set_seq(p.seq);
    s->set_period(p.period);
    s->set_issued_ns(p.issued_ns);
  }
  return resp;
}

StatusOr<v1::ProofFile> Coordinator::GetProof(const std::string& tenant, uint64_t seq,
                                              const std::string& period) {
  if (auto t = TenantRecord(tenant); !t.ok()) return t.status();
  if (seq == 0 && !period.empty()) {
    auto proofs = ListProofs(*cat_->kv(), tenant, false);
    if (!proofs.ok()) return proofs.status();
    for (const IssuedProof& p : *proofs) {
      if (p.period == period) seq = p.seq;  // the latest of that period
    }
    if (seq == 0) {
      return absl::NotFoundError("tenant '" + tenant + "' has no proof for period " + period);
    }
  }
  auto p = LoadProof(*cat_->kv(), tenant, seq);
  if (!p.ok()) return p.status();
  return ToProto(*p);
}

StatusOr<v1::GetInclusionProofResponse> Coordinator::GetInclusionProof(
    const v1::GetInclusionProofRequest& req) {
  if (auto t = TenantRecord(req.tenant()); !t.ok()) return t.status();
  if (Status s = CheckName("inclusion proof", "backup_set", req.backup_set()); !s.ok()) return s;
  auto doc =
      IssueInclusionProof(*cat_->kv(), req.tenant(), req.backup_set(), req.path(), req.seq());
  if (!doc.ok()) return doc.status();
  v1::GetInclusionProofResponse resp;
  resp.set_inclusion_json(storage::SerializeInclusionProof(*doc));
  return resp;
}

StatusOr<v1::OffboardTenantResponse> Coordinator::OffboardTenant(
    const v1::OffboardTenantRequest& req) {
  if (!keys_) {
    return absl::FailedPreconditionError(
        "the coordinator has no signing key (--keys DIR): the erasure record must be signed");
  }
  WriterMutexLock lock(&apply_mu_);  // no Apply and no merge meanwhile
  storage::KvStore* kv = cat_->kv();
  auto tenant = TenantRecord(req.tenant());
  if (!tenant.ok()) return tenant.status();
  const std::string& name = tenant->name();
  for (const v1::Task& t : leases_->All()) {
    if (t.backup_set().tenant() == name &&
        (t.state() == v1::TASK_STATE_QUEUED || t.state() == v1::TASK_STATE_LEASED)) {
      return absl::FailedPreconditionError("task " + std::to_string(t.id()) + " of tenant '" +
                                           name + "' is still queued or running");
    }
  }
  // The export must hold the latest proof: nothing issued since is lost.
  std::string latest_sha;
  uint64_t proof_count = 0;  // seqs run 1..latest
  if (auto latest = LoadProof(*kv, name, 0); latest.ok()) {
    latest_sha = proofs::StatementSha256Hex(latest->statement);
    proof_count = latest->seq;
  } else if (!absl::IsNotFound(latest.status())) {
    return latest.status();
  }
  if (req.latest_proof_sha256() != latest_sha) {
    return absl::FailedPreconditionError(
        latest_sha.empty() ? "tenant '" + name + "' has no proof, but the export names one"
                           : "the export does not hold the latest proof of '" + name +
                                 "' (SHA-256 " + latest_sha + "): export again");
  }
  auto sets = LoadRecords<v1::BackupSet>(kv, keys::BackupSetsOf(name), "backup set");
  if (!sets.ok()) return sets.status();

  // 1. Catalogue entries, their verification records and hash-index keys,
  // set by set (unsynced batches; idempotent if interrupted and redone).
  uint64_t entries = 0;
  for (const v1::BackupSet& set : *sets) {
    auto erased = cat_->EraseBackupSet(name, set.name());
    if (!erased.ok()) return erased.status();
    entries += *erased;
  }

  // 2. The tenant's task records (their error messages may name paths) and
  // what their attempts left staged, through the lease manager.
  storage::KvBatch staged;
  for (const v1::Task& t : leases_->All()) {
    if (t.backup_set().tenant() != name) continue;
    if (Status s = DropStaged(kv, &staged, t.id()); !s.ok()) return s;
  }
  auto tasks = leases_->EraseTenant(name, &staged);
  if (!tasks.ok()) return tasks.status();

  // 3. Everything else in one synced batch, with the signed erasure record.
  storage::KvBatch batch;
  auto range = [&](Space space, const std::string& prefix) {
    batch.DeleteRange(space, prefix, storage::PrefixSuccessor(prefix));
  };
  for (const v1::BackupSet& set : *sets) {
    range(Space::kMeta, keys::PointsOf(name, set.name()));
    range(Space::kMeta, keys::DrillsOf(name, set.name()));
  }
  range(Space::kMeta, keys::BackupSetsOf(name));
  // Format results and the verdict watcher's state of the tenant.
  range(Space::kMeta, keys::FormatVerdictsOf(name));
  range(Space::kMeta, keys::ResticPacksOf(name));
  range(Space::kMeta, keys::CatalogueHashesOf(name));
  range(Space::kMeta, keys::HeldDirsOf(name));
  range(Space::kMeta, keys::VerdictsOf(name));
  range(Space::kMeta, keys::TransitionsOf(name));
  range(Space::kMeta, keys::ContractVersionsOf(name));
  batch.Delete(Space::kMeta, keys::Tenant(name));
  uint64_t tokens = 0;
  Status st = ForEachRecord<v1::TokenRecord>(kv, Space::kMeta, keys::kTokenPrefix, "token",
                                             [&](v1::TokenRecord&& t) {
                                               if (t.tenant() != name) return;
                                               batch.Delete(Space::kMeta, keys::Token(t.id()));
                                               ++tokens;
                                             });
  if (!st.ok()) return st;
  // Alerts about the tenant, pending or delivered.
  uint64_t alerts = 0;
  for (bool sent : {false, true}) {
    st = ForEachRecord<v1::Delivery>(kv, Space::kMeta,
                                     sent ? keys::kSentPrefix : keys::kOutboxPrefix,
                                     "alert delivery", [&](v1::Delivery&& d) {
                                       if (d.alert().tenant() != name) return;
                                       batch.Delete(Space::kMeta, DeliveryKey(d, sent));
                                       ++alerts;
                                     });
    if (!st.ok()) return st;
  }
  auto head = check_log::Head(*kv, name);
  if (!head.ok()) return head.status();
  const std::string log_key = check_log::LogKey(name, 0);
  range(Space::kResults, log_key.substr(0, log_key.size() - 8));  // every seq of the tenant
  batch.Delete(Space::kResults, check_log::HeadKey(name));
  EraseProofs(name, &batch);

  const int64_t now = clock_->NowNs();
  json record = {{"format", "vigil.erasure/1"},
                 {"tenant", name},
                 {"erased_at", contracts::Calendar("UTC").Rfc3339(now)},
                 {"erased_ns", now},
                 {"key_id", keys_->current().key_id},
                 {"latest_proof_sha256", latest_sha.empty() ? json(nullptr) : json(latest_sha)},
                 {"check_log_head", {{"seq", head->seq}, {"hash", check_log::HashHex(head->hash)}}},
                 {"erased",
                  {{"catalogue_entries", entries},
                   {"backup_sets", sets->size()},
                   {"tasks", *tasks},
                   {"alert_deliveries", alerts},
                   {"check_log_records", head->seq},
                   {"proofs", proof_count},
                   {"tokens", tokens}}},
                 {"kept",
                  "this erasure record only (tenant name, counts, hashes); no file name, "
                  "digest or check result remains"}};
  std::string statement = DumpJson(record);
  auto sig = keys_->Sign(statement);
  if (!sig.ok()) return sig.status();
  std::string erasure_key = "erasure/";
  storage::AppendString(&erasure_key, name);
  batch.Put(Space::kResults, erasure_key, statement);
  Status written = kv->Write(batch, {.sync = true});
  staged_heads_.Forget(name);  // its log is gone (or the write failed)
  if (!written.ok()) return written;
  v1::OffboardTenantResponse resp;
  resp.set_statement(statement);
  resp.set_signature(proofs::SignatureJson(*sig));
  return resp;
}

}  // namespace vigil::coordinator
