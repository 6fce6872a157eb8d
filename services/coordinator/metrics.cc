#include "services/coordinator/metrics.h"

#include <chrono>
#include <cstdio>
#include <set>

#include "services/common/metrics.h"
#include "services/common/proto_names.h"
#include "storage/rocks_kv.h"

namespace vigil::coordinator {
namespace {

using metrics::Labels;
using metrics::Type;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "at risk" -> "at_risk": label values stay one word, like the verdicts.
std::string Underscored(std::string s) {
  for (char& c : s) {
    if (c == ' ') c = '_';
  }
  return s;
}

// Collects the first error of a sequence of registry calls.
class Builder {
 public:
  void Describe(const char* name, Type type, const char* help) {
    Keep(r_.Describe(name, type, help));
  }
  void Set(const char* name, const Labels& labels, double v) { Keep(r_.Set(name, labels, v)); }
  void Add(const char* name, const Labels& labels, double v) { Keep(r_.Add(name, labels, v)); }
  storage::StatusOr<std::string> Render() {
    if (!status_.ok()) return status_;
    return r_.Render();
  }

 private:
  void Keep(absl::Status s) {
    if (status_.ok() && !s.ok()) status_ = std::move(s);
  }
  metrics::Registry r_;
  absl::Status status_;
};

}  // namespace

CoordinatorMetrics::CoordinatorMetrics(Coordinator* c, MetricsOptions options)
    : c_(c),
      options_(std::move(options)),
      status_(absl::UnavailableError("metrics not computed yet")) {}

std::string CoordinatorMetrics::Exposition() const {
  MutexLock lock(&mu_);
  return text_;
}

storage::Status CoordinatorMetrics::last_refresh() const {
  MutexLock lock(&mu_);
  return status_;
}

std::shared_ptr<const v1::GetStatusResponse> CoordinatorMetrics::last_status() const {
  MutexLock lock(&mu_);
  return last_status_;
}

storage::Status CoordinatorMetrics::Refresh() {
  MutexLock refresh_lock(&refresh_mu_);
  const int64_t started = SteadyNs();
  Builder b;

  b.Describe("vigil_build_info", Type::kGauge, "Vigil build; the value is always 1.");
  b.Set("vigil_build_info", {{"version", options_.version}}, 1);

  // --- Tasks: queue depth, finished check runs, findings, expiries -------
  b.Describe("vigil_tasks", Type::kGauge,
             "Tasks held by the coordinator, by state (queued = queue depth) and kind.");
  b.Describe("vigil_check_runs_total", Type::kCounter,
             "Check runs (vigil check run, the scheduler, drills) whose tasks all finished.");
  b.Describe("vigil_check_runs_failed_total", Type::kCounter,
             "Finished check runs with a failed task or an integrity finding (modified, missing "
             "or unreadable entries).");
  b.Describe("vigil_verified_entries_total", Type::kCounter,
             "Entries observed by completed check tasks.");
  b.Describe("vigil_findings_total", Type::kCounter,
             "Differences found by completed check tasks, by kind.");
  b.Describe("vigil_lease_expiries_total", Type::kCounter,
             "Leases taken back because their worker went quiet.");
  for (const char* state : {"queued", "leased", "done", "failed"}) {
    for (const char* kind : {"check", "drill"})
      b.Set("vigil_tasks", {{"state", state}, {"kind", kind}}, 0);
  }
  for (const char* f : {"modified", "missing", "unreadable", "added", "updated"}) {
    b.Set("vigil_findings_total", {{"finding", f}}, 0);
  }
  b.Set("vigil_lease_expiries_total", {}, 0);
  b.Set("vigil_verified_entries_total", {}, 0);
  struct Run {
    bool finished = true;
    bool failed = false;
  };
  std::map<uint64_t, Run> runs;
  for (const v1::Task& t : c_->leases().All()) {
    const std::string kind = t.kind() == v1::TASK_KIND_DRILL ? "drill" : "check";
    b.Add("vigil_tasks", {{"state", TaskStateName(t.state())}, {"kind", kind}}, 1);
    for (const auto& e : t.errors()) {
      if (e.message().rfind("lease expired", 0) == 0) b.Add("vigil_lease_expiries_total", {}, 1);
    }
    Run& run = runs[t.check_id()];
    if (t.state() != v1::TASK_STATE_DONE && t.state() != v1::TASK_STATE_FAILED) {
      run.finished = false;
    }
    if (t.state() == v1::TASK_STATE_FAILED) run.failed = true;
    if (t.state() != v1::TASK_STATE_DONE || t.kind() != v1::TASK_KIND_CHECK) continue;
    const v1::DiffCounts& n = t.counts();
    if (n.modified() + n.missing() + n.unreadable() > 0) run.failed = true;
    b.Add("vigil_verified_entries_total", {}, static_cast<double>(t.entries()));
    b.Add("vigil_findings_total", {{"finding", "modified"}}, static_cast<double>(n.modified()));
    b.Add("vigil_findings_total", {{"finding", "missing"}}, static_cast<double>(n.missing()));
    b.Add("vigil_findings_total", {{"finding", "unreadable"}}, static_cast<double>(n.unreadable()));
    b.Add("vigil_findings_total", {{"finding", "added"}}, static_cast<double>(n.added()));
    b.Add("vigil_findings_total", {{"finding", "updated"}}, static_cast<double>(n.updated()));
  }
  b.Set("vigil_check_runs_total", {}, 0);
  b.Set("vigil_check_runs_failed_total", {}, 0);
  for (const auto& [id, run] : runs) {
    if (!run.finished) continue;
    b.Add("vigil_check_runs_total", {}, 1);
    if (run.failed) b.Add("vigil_check_runs_failed_total", {}, 1);
  }

  // --- Bytes read per location, and the rate since the last refresh ------
  b.Describe("vigil_verified_bytes_total", Type::kCounter,
             "Bytes of content workers read and hashed, by location, since the coordinator "
             "started (from the observation batches it staged).");
  b.Describe("vigil_location_read_bytes_per_second", Type::kGauge,
             "Read rate of each location over the last refresh period (bytes/s).");
  std::map<std::string, uint64_t> bytes = c_->VerifiedBytesByLocation();
  const double elapsed_s = prev_ns_ == 0 ? 0 : static_cast<double>(started - prev_ns_) / 1e9;
  for (const auto& [location, n] : bytes) {
    b.Set("vigil_verified_bytes_total", {{"location", location}}, static_cast<double>(n));
    auto prev = prev_bytes_.find(location);
    uint64_t before = prev == prev_bytes_.end() ? 0 : prev->second;
    double rate = elapsed_s > 0 ? static_cast<double>(n - before) / elapsed_s : 0;
    b.Set("vigil_location_read_bytes_per_second", {{"location", location}}, rate);
  }

  // --- Verdicts and readiness (the costly part: every tenant evaluated) --
  b.Describe("vigil_commitment_verdict", Type::kGauge,
             "Verdict of each commitment this period: 1 for its state (pass, fail, unknown), 0 "
             "for the others.");
  b.Describe("vigil_restore_readiness", Type::kGauge,
             "Restore readiness of each asset: 1 for its state (ready, at_risk, not_ready), 0 "
             "for the others.");
  b.Describe("vigil_catalogue_entries", Type::kGauge,
             "Catalogue entries of the restore points present, by tenant.");
  auto status = c_->GetStatus(v1::GetStatusRequest());
  if (!status.ok()) {
    MutexLock lock(&mu_);
    status_ = status.status();
    return status_;
  }
  for (const v1::TenantStatus& ts : status->tenants()) {
    const std::string& tenant = ts.tenant().name();
    for (const auto& cs : ts.commitments()) {
      for (const char* v : {"pass", "fail", "unknown"}) {
        b.Set("vigil_commitment_verdict",
              {{"tenant", tenant}, {"asset", cs.asset()}, {"kind", cs.kind()}, {"verdict", v}},
              cs.verdict() == v ? 1 : 0);
      }
    }
    for (const auto& r : ts.readiness()) {
      for (const char* v : {"ready", "at_risk", "not_ready"}) {
        b.Set("vigil_restore_readiness", {{"tenant", tenant}, {"asset", r.asset()}, {"state", v}},
              Underscored(r.readiness()) == v ? 1 : 0);
      }
    }
    uint64_t entries = 0;
    for (const auto& bs : ts.backup_sets()) entries += bs.catalogue_entries();
    b.Set("vigil_catalogue_entries", {{"tenant", tenant}}, static_cast<double>(entries));
  }

  // --- RocksDB's own estimates, per keyspace -----------------------------
  b.Describe("vigil_database_keys", Type::kGauge,
             "RocksDB's estimate of the keys in each keyspace (column family).");
  b.Describe("vigil_database_live_data_bytes", Type::kGauge,
             "RocksDB's estimate of the live data in each keyspace's SST files (bytes).");
  for (int i = 0; i < storage::kNumSpaces; ++i) {
    auto space = static_cast<storage::Space>(i);
    auto e = storage::EstimateRocksKv(c_->catalogue().kv(), space);
    if (!e.ok()) break;  // not a RocksDB store (tests on another KvStore)
    Labels l = {{"space", std::string(storage::SpaceName(space))}};
    b.Set("vigil_database_keys", l, static_cast<double>(e->keys));
    b.Set("vigil_database_live_data_bytes", l, static_cast<double>(e->live_data_bytes));
  }

  b.Describe("vigil_database_writes_failing", Type::kGauge,
             "1 while the database refuses writes (e.g. its disk is full; /readyz says why), "
             "0 otherwise.");
  b.Set("vigil_database_writes_failing", {}, c_->catalogue().kv()->WriteHealth().ok() ? 0 : 1);

  b.Describe("vigil_metrics_refresh_duration_seconds", Type::kGauge,
             "Time the last refresh of these metrics took.");
  b.Describe("vigil_metrics_refresh_timestamp_seconds", Type::kGauge,
             "When these metrics were last computed (Unix time).");
  b.Set("vigil_metrics_refresh_duration_seconds", {},
        static_cast<double>(SteadyNs() - started) / 1e9);
  b.Set("vigil_metrics_refresh_timestamp_seconds", {},
        static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()) /
            1000.0);

  auto text = b.Render();
  MutexLock lock(&mu_);
  if (!text.ok()) {
    status_ = text.status();
    return status_;
  }
  prev_bytes_ = std::move(bytes);
  prev_ns_ = started;
  text_ = std::move(*text);
  last_status_ = std::make_shared<const v1::GetStatusResponse>(std::move(*status));
  status_ = absl::OkStatus();
  return status_;
}

}  // namespace vigil::coordinator
