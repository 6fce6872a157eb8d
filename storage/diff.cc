#include "storage/diff.h"

#include <iterator>

#include "base/name_table.h"

namespace vigil::storage {

namespace {
constexpr NameRow<DiffKind> kDiffKindNames[] = {
    {DiffKind::kUnchanged, "unchanged"}, {DiffKind::kModified, "modified"},
    {DiffKind::kUpdated, "updated"},     {DiffKind::kMissing, "missing"},
    {DiffKind::kAdded, "added"},         {DiffKind::kUnreadable, "unreadable"},
    {DiffKind::kNotRead, "not_read"}};
static_assert(CoversEnum(kDiffKindNames));
}  // namespace

std::string_view DiffKindName(DiffKind k) { return NameOf(kDiffKindNames, k, "unknown"); }

EntryRecord RecordOf(const Observation& o, int64_t first_seen_ns) {
  EntryRecord r;
  r.type = o.type;
  r.size = o.size;
  r.mtime_ns = o.mtime_ns;
  r.digest = o.digest;
  r.first_seen_ns = first_seen_ns;
  r.link_target = o.link_target;
  if (o.type == EntryType::kFile && !o.digest.empty()) r.sample = o.sample;
  return r;
}

DiffKind Classify(const EntryRecord& rec, const Observation& obs, const DiffOptions& options) {
  if (obs.unreadable) return DiffKind::kUnreadable;
  // The observed digest in the record's algorithm, if any.
  const Digest* seen = &obs.digest;
  if (obs.type == EntryType::kFile && !obs.not_read && rec.type == obs.type &&
      !rec.digest.empty() && rec.digest.algorithm() != obs.digest.algorithm()) {
    seen = !obs.previous_digest.empty() && obs.previous_digest.algorithm() == rec.digest.algorithm()
               ? &obs.previous_digest
               : nullptr;
  }
  if (seen == nullptr && rec.size == obs.size && rec.mtime_ns == obs.mtime_ns) {
    return DiffKind::kNotRead;  // not comparable: judged by its metadata
  }
  if (seen == nullptr) {  // other metadata, no comparable digest
    return options.mutable_set && obs.mtime_ns != rec.mtime_ns ? DiffKind::kUpdated
                                                               : DiffKind::kModified;
  }
  if (obs.not_read && obs.type == EntryType::kFile) {
    // Metadata only: an entry whose size or mtime moved cannot be judged
    // an update without reading it; in a point listed this way (immutable
    // points the scheduler did not pick for reading) it is a modification.
    return rec.type == obs.type && rec.size == obs.size && rec.mtime_ns == obs.mtime_ns
               ? DiffKind::kNotRead
               : DiffKind::kModified;
  }
  bool same_content;
  if (rec.type != obs.type) {
    same_content = false;
  } else if (obs.type == EntryType::kSymlink) {
    same_content = rec.link_target == obs.link_target;
  } else if (obs.type == EntryType::kOther) {
    same_content = true;
  } else {
    same_content = rec.size == obs.size && rec.digest == *seen;
  }
  if (same_content) return DiffKind::kUnchanged;
  if (options.mutable_set && obs.mtime_ns != rec.mtime_ns) return DiffKind::kUpdated;
  return DiffKind::kModified;
}

void DiffCounts::Add(DiffKind k) {
  // The counter of each kind, in DiffKind's order (as kDiffKindNames).
  static constexpr uint64_t DiffCounts::*kCounter[] = {
      &DiffCounts::unchanged, &DiffCounts::modified,   &DiffCounts::updated, &DiffCounts::missing,
      &DiffCounts::added,     &DiffCounts::unreadable, &DiffCounts::not_read};
  static_assert(std::size(kCounter) == std::size(kDiffKindNames));
  ++(this->*kCounter[static_cast<size_t>(k)]);
}

Status DiffRestorePoint(Catalogue& cat, const Scope& scope, const ObservationSource& source,
                        const DiffOptions& options,
                        const std::function<Status(const DiffEvent&)>& sink, DiffCounts* counts) {
  auto scan = cat.Scan(scope);
  Observation obs, prev_obs;
  bool have_obs = source(&obs);
  bool first = true;
  std::string rec_path;
  while (true) {
    if (have_obs && !first && ComparePathOrder(prev_obs.path, obs.path) >= 0) {
      return absl::InvalidArgumentError("observations out of order: '" + obs.path + "' after '" +
                                        prev_obs.path + "'");
    }
    bool have_rec = scan->Valid();
    if (!have_rec && !scan->status().ok()) return scan->status();
    if (!have_rec && !have_obs) break;
    int c;
    if (!have_rec) {
      c = 1;  // only observations left: added
    } else if (!have_obs) {
      c = -1;  // only records left: missing
    } else {
      rec_path = scan->path();
      c = ComparePathOrder(rec_path, obs.path);
    }
    if (c < 0 && !have_obs) rec_path = scan->path();
    DiffEvent ev;
    if (c < 0) {
      ev = {DiffKind::kMissing, rec_path, &scan->entry(), nullptr};
    } else if (c > 0) {
      ev = {DiffKind::kAdded, obs.path, nullptr, &obs};
    } else {
      ev = {Classify(scan->entry(), obs, options), obs.path, &scan->entry(), &obs};
    }
    if (counts != nullptr) counts->Add(ev.kind);
    if (Status s = sink(ev); !s.ok()) return s;
    if (c <= 0) scan->Next();
    if (c >= 0) {
      std::swap(prev_obs, obs);
      first = false;
      have_obs = source(&obs);
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil::storage
