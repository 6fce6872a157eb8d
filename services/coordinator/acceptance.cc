// An operator's acceptance of a restore point as clean after a ransomware
// signal (admin.proto AcceptPoint, `vigil point accept`): who, when and why
// go into the point's record; the later points' verdicts are reset so that
// their signals are computed again against it (docs/ransomware.md).
//
// Used by the Admin service (server.cc). Thread-safe: runs under the set's
// merge lock (and Apply's lock shared), so no merge of the set interleaves.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "services/common/proto_names.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/coordinator/records.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

// "a, b, c" of at most `max` names, then "and N more"; "none" if empty.
std::string NameList(const std::vector<std::string>& names, size_t max = 10) {
  if (names.empty()) return "none";
  std::string s;
  for (size_t i = 0; i < names.size() && i < max; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > max) s += " and " + std::to_string(names.size() - max) + " more";
  return s;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// How a point is named in messages: its name, or its time for an unnamed one.
std::string PointLabel(const v1::PointRecord& p) {
  return p.name().empty() ? std::to_string(p.time_ns()) : EscapeForTerminal(p.name());
}

}  // namespace

StatusOr<v1::AcceptPointResponse> Coordinator::AcceptPoint(const v1::AcceptPointRequest& req,
                                                           const std::string& by) {
  if (req.reason().find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError(
        "accept point: 'reason' is required (why the point is clean, kept with it)");
  }
  if (req.point().empty()) {
    return absl::InvalidArgumentError("accept point: 'point' is required (its name or time)");
  }
  if (Status s = CheckName("accept point", "backup_set", req.backup_set()); !s.ok()) return s;
  auto tenant = TenantRecord(req.tenant());
  if (!tenant.ok()) {
    if (!absl::IsNotFound(tenant.status())) return tenant.status();
    std::vector<std::string> names;
    Status s = ForEachRecord<v1::Tenant>(cat_->kv(), Space::kMeta, keys::kTenantPrefix, "tenant",
                                         [&](v1::Tenant&& t) { names.push_back(t.name()); });
    if (!s.ok()) return s;
    return absl::NotFoundError("unknown tenant '" + req.tenant() +
                               "' (tenants: " + NameList(names) + ")");
  }
  v1::BackupSet set;
  Status s = ReadRecord(cat_->kv(), Space::kMeta, keys::BackupSet(req.tenant(), req.backup_set()),
                        "backup set", &set);
  if (absl::IsNotFound(s)) {
    std::vector<std::string> names;
    s = ForEachRecord<v1::BackupSet>(cat_->kv(), Space::kMeta, keys::BackupSetsOf(req.tenant()),
                                     "backup set",
                                     [&](v1::BackupSet&& b) { names.push_back(b.name()); });
    if (!s.ok()) return s;
    return absl::NotFoundError("tenant '" + req.tenant() + "' has no backup set '" +
                               req.backup_set() + "' (its backup sets: " + NameList(names) + ")");
  }
  if (!s.ok()) return s;

  ReaderMutexLock apply_lock(&apply_mu_);
  MutexLock set_lock(&SetLock(req.tenant(), req.backup_set()));
  auto points = LoadPoints(cat_->kv(), req.tenant(), req.backup_set());
  if (!points.ok()) return points.status();
  // By name first (newest of that name), then by time.
  const v1::PointRecord* found = nullptr;
  for (const v1::PointRecord& p : *points) {
    if (!p.name().empty() && p.name() == req.point()) found = &p;
  }
  if (found == nullptr && AllDigits(req.point())) {
    const int64_t t = std::stoll(req.point());
    for (const v1::PointRecord& p : *points) {
      if (p.time_ns() == t) found = &p;
    }
  }
  if (found == nullptr) {
    std::vector<std::string> names;  // newest first
    for (auto it = points->rbegin(); it != points->rend(); ++it) names.push_back(PointLabel(*it));
    return absl::NotFoundError(
        "backup set " + req.tenant() + "/" + req.backup_set() + " has no restore point '" +
        EscapeForTerminal(req.point()) +
        "' (by name or time ns; its points, newest first: " + NameList(names) + ")");
  }
  v1::AcceptPointResponse resp;
  v1::PointRecord r = *found;
  const std::string where = req.tenant() + "/" + req.backup_set() + " point " + PointLabel(r);
  if (r.accepted_ns() != 0 || r.verdict() == v1::POINT_VERDICT_CLEAN) {
    resp.set_already_clean(true);
    *resp.mutable_point() = std::move(r);
    return resp;
  }
  if (r.verdict() == v1::POINT_VERDICT_UNSPECIFIED) {
    return absl::FailedPreconditionError(
        "accept point: " + where +
        " has not been examined for ransomware signals yet (its verdict is computed once its "
        "check is merged); nothing accepted");
  }
  if (r.entries_freed_ns() != 0) {
    return absl::FailedPreconditionError(
        "accept point: " + where + " is gone since " + FormatTimeUtc(r.gone_ns()) +
        " and its catalogue entries were freed on " + FormatTimeUtc(r.entries_freed_ns()) +
        " (--free-gone-points-after): later points cannot be compared with it; nothing "
        "accepted");
  }
  // Later verdicts first: a crash between the two writes leaves them to be
  // computed again against the same point as before, which is harmless.
  auto later = std::count_if(points->begin(), points->end(), [&](const v1::PointRecord& p) {
    return p.time_ns() > r.time_ns() && p.verdict() != v1::POINT_VERDICT_UNSPECIFIED &&
           p.entries_freed_ns() == 0;
  });
  if (s = ResetVerdictsAfter(*cat_, req.tenant(), req.backup_set(), r.time_ns()); !s.ok()) {
    return s;
  }
  const int64_t now = clock_->NowNs();
  r.set_accepted_by(by);
  r.set_accepted_ns(now);
  r.set_accepted_reason(req.reason());
  storage::KvBatch b;
  b.Put(Space::kMeta, keys::Point(req.tenant(), req.backup_set(), r.time_ns()),
        r.SerializeAsString());
  if (s = cat_->kv()->Write(b, {.sync = true}); !s.ok()) return s;
  // The later points judged again at once, against the accepted point (a
  // crash before this write leaves them to the set's next check).
  auto spec = RansomwareSpecFor(cat_->kv(), req.tenant(), now);
  if (!spec.ok()) return spec.status();
  if (s = RecheckPlausibility(*cat_, req.tenant(), req.backup_set(), /*sync=*/true, *spec);
      !s.ok()) {
    return s;
  }
  std::fprintf(stderr,
               "vigil coordinator: audit: %s (taken %s, verdict %s) accepted as clean by %s: %s; "
               "%ld later point(s) examined again against it\n",
               where.c_str(), FormatTimeUtc(r.time_ns()).c_str(), PointVerdictName(r.verdict()),
               EscapeForTerminal(by).c_str(), EscapeForTerminal(req.reason()).c_str(),
               static_cast<long>(later));
  resp.set_reset(static_cast<uint32_t>(later));
  *resp.mutable_point() = std::move(r);
  return resp;
}

}  // namespace vigil::coordinator
