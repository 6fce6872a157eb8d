#include "services/coordinator/points.h"

#include <algorithm>
#include <map>
#include <optional>

#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/plausibility.h"
#include "services/contracts/signals.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"
#include "storage/versions.h"

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
static_assert(static_cast<int>(contracts::PointVerdict::kContentNotJudged) ==
              v1::POINT_VERDICT_CONTENT_NOT_JUDGED);

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
  p.accepted_ns = r.accepted_ns();
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

StatusOr<contracts::RansomwareSpec> RansomwareSpecFor(storage::KvStore* kv,
                                                      const std::string& tenant, int64_t now_ns) {
  auto versions = LoadContracts(kv, tenant);
  if (!versions.ok()) return versions.status();
  const contracts::Contract* c = contracts::VersionInForce(*versions, now_ns);
  return c == nullptr ? contracts::RansomwareSpec{} : c->ransomware;
}

namespace {

// The newest point before `i` that is clean or accepted, if any; or whose
// content was not judged but that gave no signal (its names, deletions and
// notes were checked: a restic set, whose content is never sampled, is still
// compared point to point, docs/ransomware.md).
const v1::PointRecord* ReferenceOf(const std::vector<v1::PointRecord>& points, size_t i) {
  for (size_t j = i; j-- > 0;) {
    if (points[j].entries_freed_ns() != 0) continue;  // nothing left to compare with
    if (points[j].verdict() == v1::POINT_VERDICT_CLEAN ||
        points[j].verdict() == v1::POINT_VERDICT_CONTENT_NOT_JUDGED ||
        points[j].accepted_ns() != 0) {
      return &points[j];
    }
  }
  return nullptr;
}

// Whether `p`, as a reference, is content-not-judged and not accepted:
// the files a later point shares with it were not judged either.
bool NotJudgedReference(const v1::PointRecord& p) {
  return p.verdict() == v1::POINT_VERDICT_CONTENT_NOT_JUDGED && p.accepted_ns() == 0;
}

// The entry of a point compared with such a reference `p` (its count and
// examples are the reference's).
contracts::Signal InheritedNotJudged(const v1::PointRecord& p,
                                     const contracts::RansomwareSpec& spec) {
  contracts::Signal s{
      std::string(contracts::kSignalContentNotJudged), "", 0, spec.random_files_suspicious, {}};
  for (const v1::PointSignal& x : p.signals()) {
    if (x.kind() != contracts::kSignalContentNotJudged) continue;
    s.count = x.count();
    s.examples.assign(x.examples().begin(), x.examples().end());
  }
  s.message = "compared with point " + (p.name().empty() ? std::to_string(p.time_ns()) : p.name()) +
              ", whose content was not judged (" + GroupDigits(s.count) +
              " files without a content sample): the files unchanged since are not judged "
              "either, so encryption is not ruled out; renames, deletions and ransom notes "
              "were checked";
  return s;
}

}  // namespace

Status RecheckPlausibility(storage::Catalogue& cat, const std::string& tenant,
                           const std::string& backup_set, bool sync,
                           const contracts::RansomwareSpec& spec) {
  auto points = LoadPoints(cat.kv(), tenant, backup_set);
  if (!points.ok()) return points.status();
  storage::KvBatch b;
  // The points' tallies (contracts::PointTally): a scan against a point
  // with one reads only the paths changed since. Read under the set's
  // generation taken before any entry is read, and kept under it: an entry
  // rewritten meanwhile leaves them stale (storage::Versions::GetSummary).
  storage::Versions versions(cat.kv());
  auto generation = versions.Generation(tenant, backup_set);
  if (!generation.ok()) return generation.status();
  auto recorded = versions.Points(tenant, backup_set);
  if (!recorded.ok()) return recorded.status();
  std::map<int64_t, contracts::PointTally> counted;  // in this call (not written yet)
  auto tally_of = [&](int64_t t) -> StatusOr<std::optional<contracts::PointTally>> {
    if (auto it = counted.find(t); it != counted.end()) return it->second;
    if (!std::binary_search(recorded->begin(), recorded->end(), t)) return std::nullopt;
    auto blob = versions.GetSummary(tenant, backup_set, t);
    if (!blob.ok()) return blob.status();
    if (!*blob) return std::nullopt;
    return contracts::DecodePointTally(**blob);  // (one that does not decode: read whole)
  };
  auto keep = [&](int64_t t, contracts::PointTally tally) {
    if (!std::binary_search(recorded->begin(), recorded->end(), t)) return;
    versions.PutSummary(tenant, backup_set, t, *generation, contracts::EncodePointTally(tally), &b);
    counted[t] = std::move(tally);
  };
  for (size_t i = 0; i < points->size(); ++i) {
    v1::PointRecord& r = (*points)[i];
    // Entries freed (FreeGonePoints): judged while they were held; the
    // catalogue can no longer say more.
    if (r.entries_freed_ns() != 0) continue;
    // A clean verdict of the rules before kVerdictRules may rest on files
    // with no content sample: judged again, it may only become
    // content-not-judged (PointRecord.verdict_rules).
    const bool rejudge = spec.enabled && r.verdict() == v1::POINT_VERDICT_CLEAN &&
                         r.verdict_rules() < contracts::kVerdictRules;
    const bool judge = spec.enabled && (r.verdict() == v1::POINT_VERDICT_UNSPECIFIED || rejudge);
    if (r.plausibility_checked() && !judge) continue;
    // Ransomware signals against the newest earlier clean or accepted point
    // (computed before this one in this loop: time order).
    std::optional<int64_t> ref;
    const v1::PointRecord* reference = nullptr;  // (an element of *points before i)
    std::optional<contracts::SignalScan> scan;
    if (judge) {
      reference = ReferenceOf(*points, i);
      if (reference != nullptr) ref = reference->time_ns();
      std::optional<contracts::PointTally> ref_tally;
      if (ref) {
        auto t = tally_of(*ref);
        if (!t.ok()) return t.status();
        ref_tally = std::move(*t);
      }
      auto s = contracts::ScanSignals(cat, tenant, backup_set, ref, r.time_ns(), spec,
                                      ref_tally ? &*ref_tally : nullptr);
      if (!s.ok()) return s.status();
      scan = std::move(*s);
      if (scan->new_tally) keep(r.time_ns(), *scan->new_tally);
      if (ref && scan->reference_tally) keep(*ref, *scan->reference_tally);
      scan->reference_not_judged = reference != nullptr && NotJudgedReference(*reference);
    }
    // Plausibility and the change-rate sample, against the previous point:
    // the scan's own comparison when the previous point is the reference
    // (the usual case: one merge-join, not two).
    r.clear_implausible();
    r.clear_changed_files();
    r.clear_changed_bytes();
    uint64_t files = 0;
    size_t before = i;  // the previous point whose entries are held
    while (before > 0 && (*points)[before - 1].entries_freed_ns() != 0) --before;
    if (before > 0) {
      const int64_t prev = (*points)[before - 1].time_ns();
      std::optional<contracts::PointComparison> c;
      if (scan && ref == prev) {
        c = scan->versus_reference;
      } else if (auto prev_tally = tally_of(prev); !prev_tally.ok()) {
        return prev_tally.status();
      } else if (!scan) {
        // Not judged (verdicts off): the scan's comparison all the same (the
        // same join), which reads the change from the previous point's tally
        // and leaves this point's for the next.
        auto s = contracts::ScanSignals(cat, tenant, backup_set, prev, r.time_ns(), spec,
                                        *prev_tally ? &**prev_tally : nullptr);
        if (!s.ok()) return s.status();
        if (s->new_tally) keep(r.time_ns(), *s->new_tally);
        if (s->reference_tally) keep(prev, *s->reference_tally);
        c = std::move(s->versus_reference);
      } else {
        std::optional<contracts::PointSummary> summary;
        if (*prev_tally) {
          summary = contracts::PointSummary{prev, (*prev_tally)->files, (*prev_tally)->bytes,
                                            (*prev_tally)->zero_length_files};
        }
        auto fresh = contracts::ComparePoints(cat, tenant, backup_set, prev, r.time_ns(),
                                              summary ? &*summary : nullptr);
        if (!fresh.ok()) return fresh.status();
        c = std::move(*fresh);
      }
      for (const auto& f : contracts::CheckPlausibility(*c)) {
        r.add_implausible(std::string(contracts::FindingKindName(f.kind)) + ": " + f.message);
      }
      r.set_changed_files(c->content_changed + c->new_files);
      r.set_changed_bytes(c->changed_bytes);
      files = c->cur.files;
    }
    r.set_plausibility_checked(true);
    if (judge) {
      contracts::ChangeRate rate{r.changed_files(), r.changed_bytes(), files, {}};
      for (size_t j = 1; j < i; ++j) rate.history.push_back((*points)[j].changed_files());
      contracts::PointJudgement v;
      if (rejudge) {
        // Only whether its content was judged: its other signals were,
        // under the thresholds of the time (no alert for an old point).
        if (std::optional<contracts::Signal> s = contracts::ContentNotJudged(*scan, spec)) {
          v.verdict = contracts::PointVerdict::kContentNotJudged;
          v.signals.push_back(std::move(*s));
        }
      } else {
        v = contracts::Judge(*scan, rate, spec);
      }
      // Compared with a point whose content was not judged, the files
      // unchanged since were not judged either: not clean.
      if (v.verdict == contracts::PointVerdict::kClean && scan->reference_not_judged) {
        v.verdict = contracts::PointVerdict::kContentNotJudged;
        v.signals.push_back(InheritedNotJudged(*reference, spec));
      }
      r.set_verdict_rules(contracts::kVerdictRules);
      r.set_verdict(static_cast<v1::PointVerdict>(v.verdict));
      r.set_compared_with_ns(ref.value_or(0));
      r.clear_signals();
      for (contracts::Signal& sig : v.signals) {
        v1::PointSignal* p = r.add_signals();
        p->set_kind(std::move(sig.kind));
        p->set_message(std::move(sig.message));
        p->set_count(sig.count);
        p->set_threshold(sig.threshold);
        for (std::string& e : sig.examples) p->add_examples(std::move(e));
      }
    }
    b.Put(Space::kMeta, keys::Point(tenant, backup_set, r.time_ns()), r.SerializeAsString());
  }
  if (b.count() == 0) return absl::OkStatus();
  return cat.kv()->Write(b, {.sync = sync});
}

Status ResetVerdictsAfter(storage::Catalogue& cat, const std::string& tenant,
                          const std::string& backup_set, int64_t point_ns) {
  auto points = LoadPoints(cat.kv(), tenant, backup_set);
  if (!points.ok()) return points.status();
  storage::KvBatch b;
  for (v1::PointRecord& r : *points) {
    if (r.time_ns() <= point_ns || r.verdict() == v1::POINT_VERDICT_UNSPECIFIED) continue;
    if (r.entries_freed_ns() != 0) continue;  // could not be judged again
    r.set_verdict(v1::POINT_VERDICT_UNSPECIFIED);
    r.clear_signals();
    r.clear_compared_with_ns();
    b.Put(Space::kMeta, keys::Point(tenant, backup_set, r.time_ns()), r.SerializeAsString());
  }
  if (b.count() == 0) return absl::OkStatus();
  return cat.kv()->Write(b, {.sync = true});
}

namespace {
// Points freed by one call at most: a completion frees a few at a time (the
// first check after an upgrade may find hundreds due).
constexpr size_t kMaxFreedPerCall = 16;
}  // namespace

StatusOr<int> FreeGonePoints(storage::Catalogue& cat, const std::string& tenant,
                             const std::string& backup_set, int64_t now_ns, int64_t keep_ns) {
  if (keep_ns <= 0) return 0;
  auto points = LoadPoints(cat.kv(), tenant, backup_set);
  if (!points.ok()) return points.status();
  std::vector<v1::PointRecord*> due;
  for (v1::PointRecord& r : *points) {
    if (r.gone_ns() != 0 && r.entries_freed_ns() == 0 && r.plausibility_checked() &&
        now_ns - r.gone_ns() >= keep_ns) {
      due.push_back(&r);
    }
  }
  if (due.empty()) return 0;
  // A set whose last check listed no point (its directory unreachable,
  // emptied, a mount gone): everything looks gone; nothing is freed until
  // the set shows points again.
  if (std::none_of(points->begin(), points->end(),
                   [](const v1::PointRecord& r) { return r.gone_ns() == 0; })) {
    return 0;
  }
  if (due.size() > kMaxFreedPerCall) due.resize(kMaxFreedPerCall);  // the rest next time
  storage::Versions versions(cat.kv());
  auto recording = versions.Recording(tenant, backup_set);
  if (!recording.ok()) return recording.status();
  if (*recording) {
    return absl::FailedPreconditionError(
        "a merge of the set was interrupted and not redone yet (a point being recorded): "
        "nothing is freed until it is");
  }
  auto recorded = versions.Points(tenant, backup_set);
  if (!recorded.ok()) return recorded.status();
  int freed = 0;
  for (v1::PointRecord* r : due) {
    storage::KvBatch b;
    auto at = std::find(recorded->begin(), recorded->end(), r->time_ns());
    if (at != recorded->end()) {  // (a point of no entries was never recorded)
      if (recorded->size() <= 1) continue;
      if (Status s = cat.DeletePoint({tenant, backup_set, r->time_ns()}, &b); !s.ok()) return s;
    }
    r->set_entries_freed_ns(now_ns);
    r->clear_digests();
    b.Put(Space::kMeta, keys::Point(tenant, backup_set, r->time_ns()), r->SerializeAsString());
    if (Status s = cat.kv()->Write(b, {.sync = true}); !s.ok()) return s;
    if (at != recorded->end()) recorded->erase(at);
    ++freed;
  }
  return freed;
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
