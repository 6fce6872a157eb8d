#include "services/coordinator/points.h"

#include "services/common/time.h"
#include "services/contracts/plausibility.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

static_assert(static_cast<int>(contracts::PointVerdict::kNotComputed) ==
              v1::POINT_VERDICT_UNSPECIFIED);
static_assert(static_cast<int>(contracts::PointVerdict::kClean) == v1::POINT_VERDICT_CLEAN);
static_assert(static_cast<int>(contracts::PointVerdict::kSuspicious) ==
              v1::POINT_VERDICT_SUSPICIOUS);
static_assert(static_cast<int>(contracts::PointVerdict::kEncrypted) == v1::POINT_VERDICT_ENCRYPTED);

contracts::PointFact ToPointFact(const v1::PointRecord& r) {
  contracts::PointFact p;
  p.time_ns = r.time_ns();
  p.name = r.name();
  p.first_seen_ns = r.first_seen_ns();
  p.gone_ns = r.gone_ns();
  p.files = r.files();
  p.bytes = r.bytes();
  p.damaged_ns = r.damaged_ns();
  p.damage = r.damage();
  p.implausible.assign(r.implausible().begin(), r.implausible().end());
  p.verdict = static_cast<contracts::PointVerdict>(r.verdict());
  for (const v1::PointSignal& s : r.signals()) p.signals.push_back(s.kind() + ": " + s.message());
  p.accepted = r.accepted_ns() != 0;
  p.accepted_by = r.accepted_by();
  p.accepted_reason = r.accepted_reason();
  return p;
}

Status DateMirror(storage::Catalogue& cat, const std::string& tenant,
                  const contracts::BackupSet& set, const v1::PointRecord& r, int64_t newest_mtime,
                  contracts::PointFact* p) {
  std::string missing_marker;
  if (!set.sync_marker.empty()) {
    storage::EntryRecord e;
    storage::VerifyRecord v;
    Status s = cat.GetEntry({tenant, set.name, 0}, set.sync_marker, &e, &v);
    if (s.ok()) {
      p->time_ns = e.mtime_ns;
      p->time_is_lower_bound = false;
      p->time_basis = "mtime of the sync marker " + set.sync_marker;
      return absl::OkStatus();
    }
    if (!absl::IsNotFound(s)) return s;
    missing_marker = "the sync marker " + set.sync_marker + " is not in the mirror; ";
  }
  p->time_is_lower_bound = true;
  if (r.change_after_ns() > newest_mtime) {
    p->time_ns = r.change_after_ns();
    p->time_basis = missing_marker + "content seen changed between the checks of " +
                    FormatTimeUtc(r.change_after_ns()) + " and " +
                    FormatTimeUtc(r.change_seen_ns());
  } else {
    p->time_ns = newest_mtime;
    p->time_basis = missing_marker + (newest_mtime == 0 ? "no file dates it"
                                                        : "newest file's mtime (a lower bound)");
  }
  if (set.sync_marker.empty()) p->time_basis += "; no sync marker declared";
  return absl::OkStatus();
}

StatusOr<std::vector<v1::PointRecord>> LoadPoints(storage::KvStore* kv, const std::string& tenant,
                                                  const std::string& backup_set) {
  return LoadRecords<v1::PointRecord>(kv, keys::PointsOf(tenant, backup_set),
                                      "restore point of " + tenant + "/" + backup_set);
}

Status RecheckPlausibility(storage::Catalogue& cat, const std::string& tenant,
                           const std::string& backup_set, bool sync) {
  auto points = LoadPoints(cat.kv(), tenant, backup_set);
  if (!points.ok()) return points.status();
  storage::KvBatch b;
  for (size_t i = 0; i < points->size(); ++i) {
    v1::PointRecord& r = (*points)[i];
    if (r.plausibility_checked()) continue;
    r.clear_implausible();
    if (i > 0) {
      auto c = contracts::ComparePoints(cat, tenant, backup_set, (*points)[i - 1].time_ns(),
                                        r.time_ns());
      if (!c.ok()) return c.status();
      for (const auto& f : contracts::CheckPlausibility(*c)) {
        r.add_implausible(std::string(contracts::FindingKindName(f.kind)) + ": " + f.message);
      }
    }
    r.set_plausibility_checked(true);
    b.Put(Space::kMeta, keys::Point(tenant, backup_set, r.time_ns()), r.SerializeAsString());
  }
  if (b.count() == 0) return absl::OkStatus();
  return cat.kv()->Write(b, {.sync = sync});
}

// PLACEHOLDER (h19-visible): a minimal definition so that AcceptPoint
// builds; the signals helper (h19-signals) owns the real one. To be
// reconciled at merge: keep theirs, drop this.
Status ResetVerdictsAfter(storage::Catalogue& cat, const std::string& tenant,
                          const std::string& backup_set, int64_t point_ns) {
  auto points = LoadPoints(cat.kv(), tenant, backup_set);
  if (!points.ok()) return points.status();
  storage::KvBatch b;
  for (v1::PointRecord& r : *points) {
    if (r.time_ns() <= point_ns || r.verdict() == v1::POINT_VERDICT_UNSPECIFIED) continue;
    r.set_verdict(v1::POINT_VERDICT_UNSPECIFIED);
    b.Put(Space::kMeta, keys::Point(tenant, backup_set, r.time_ns()), r.SerializeAsString());
  }
  if (b.count() == 0) return absl::OkStatus();
  return cat.kv()->Write(b, {.sync = true});
}

StatusOr<std::vector<v1::PointRecord>> Coordinator::Points(const std::string& tenant,
                                                           const std::string& backup_set) {
  return LoadPoints(cat_->kv(), tenant, backup_set);
}

Status FillPoints(Coordinator& c, v1::BackupSetStatus* status) {
  auto points = c.Points(status->backup_set().tenant(), status->backup_set().name());
  if (!points.ok()) return points.status();
  status->clear_points();
  for (auto& p : *points) *status->add_points() = std::move(p);
  return absl::OkStatus();
}

}  // namespace vigil::coordinator
