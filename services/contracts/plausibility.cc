#include "services/contracts/plausibility.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "base/name_table.h"
#include "services/common/text.h"
#include "storage/entry.h"
#include "storage/versions.h"

namespace vigil::contracts {
namespace {

// Fraction lost from `prev` to `cur`, 0 when nothing was lost.
double DropFraction(uint64_t prev, uint64_t cur) {
  if (prev == 0 || cur >= prev) return 0;
  return static_cast<double>(prev - cur) / static_cast<double>(prev);
}

// Signed percentage change, rounded: "-91%", "+3%".
std::string PercentChange(uint64_t prev, uint64_t cur) {
  const double pct =
      (static_cast<double>(cur) - static_cast<double>(prev)) / static_cast<double>(prev) * 100.0;
  const long rounded = std::lround(pct);
  return (rounded > 0 ? "+" : "") + std::to_string(rounded) + "%";
}

// Memcmp order on unsigned bytes (= catalogue key order of encoded paths).
int CompareBytes(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

bool IsFile(const storage::EntryRecord& e) { return e.type == storage::EntryType::kFile; }

// Advances `s` to the next regular file (or the end).
void SkipNonFiles(storage::Catalogue::Scanner* s) {
  while (s->Valid() && !IsFile(s->entry())) s->Next();
}

void Count(PointSummary* s, const storage::EntryRecord& e) {
  ++s->files;
  s->bytes += e.size;
  if (e.size == 0) ++s->zero_length_files;
}

constexpr NameRow<FindingKind> kFindingKindNames[] = {{FindingKind::kBytesDrop, "bytes-drop"},
                                                      {FindingKind::kFilesDrop, "files-drop"},
                                                      {FindingKind::kZeroLength, "zero-length"},
                                                      {FindingKind::kMassChange, "mass-change"}};
static_assert(CoversEnum(kFindingKindNames));

}  // namespace

const char* FindingKindName(FindingKind k) { return NameOf(kFindingKindNames, k, "unknown"); }

std::vector<PlausibilityFinding> CheckPlausibility(const PointComparison& c,
                                                   const PlausibilityOptions& o) {
  std::vector<PlausibilityFinding> out;
  if (DropFraction(c.prev.bytes, c.cur.bytes) > o.max_bytes_drop) {
    out.push_back({FindingKind::kBytesDrop,
                   "size fell from " + HumanBytes(static_cast<double>(c.prev.bytes)) + " to " +
                       HumanBytes(static_cast<double>(c.cur.bytes)) + " (" +
                       PercentChange(c.prev.bytes, c.cur.bytes) + ")"});
  }
  if (DropFraction(c.prev.files, c.cur.files) > o.max_files_drop) {
    out.push_back({FindingKind::kFilesDrop, "file count fell from " + GroupDigits(c.prev.files) +
                                                " to " + GroupDigits(c.cur.files) + " (" +
                                                PercentChange(c.prev.files, c.cur.files) + ")"});
  }
  const uint64_t zero = c.became_zero_length + c.new_zero_length;
  // "above 1% of files": zero / cur.files > 1/100, in integers.
  if (zero > o.max_new_zero_length && zero * 100 > c.cur.files) {
    out.push_back({FindingKind::kZeroLength,
                   GroupDigits(zero) + " files are newly empty (" +
                       GroupDigits(c.became_zero_length) +
                       " were not empty in the previous point, " + GroupDigits(c.new_zero_length) +
                       " new empty files) out of " + GroupDigits(c.cur.files)});
  }
  if (c.common_files >= 20) {
    const double changed =
        static_cast<double>(c.content_changed) / static_cast<double>(c.common_files);
    if (changed > o.max_changed_fraction) {
      out.push_back(
          {FindingKind::kMassChange, std::to_string(std::lround(changed * 100)) +
                                         "% of the files present in both points changed content (" +
                                         GroupDigits(c.content_changed) + " of " +
                                         GroupDigits(c.common_files) + ")"});
    }
  }
  return out;
}

bool ContentDiffers(const storage::EntryRecord& a, const storage::EntryRecord& b) {
  if (a.size != b.size) return true;
  if (a.digest.empty() || b.digest.empty() || a.digest.algorithm() != b.digest.algorithm()) {
    return false;
  }
  return !(a.digest == b.digest);
}

FileJoin::FileJoin(storage::Catalogue& cat, const std::string& tenant,
                   const std::string& backup_set, std::optional<int64_t> old_point_ns,
                   int64_t new_point_ns)
    : q_(cat.Scan(storage::Scope{tenant, backup_set, new_point_ns})) {
  if (old_point_ns) {
    p_ = cat.Scan(storage::Scope{tenant, backup_set, *old_point_ns});
    SkipNonFiles(p_.get());
  }
  SkipNonFiles(q_.get());
  Settle();
}

void FileJoin::Settle() {
  const bool pv = p_ != nullptr && p_->Valid();
  const bool qv = q_->Valid();
  const int order = !pv ? 1 : !qv ? -1 : CompareBytes(p_->encoded_path(), q_->encoded_path());
  old_ = pv && order <= 0 ? &p_->entry() : nullptr;
  new_ = qv && order >= 0 ? &q_->entry() : nullptr;
}

void FileJoin::Next() {
  if (old_ != nullptr) {
    p_->Next();
    SkipNonFiles(p_.get());
  }
  if (new_ != nullptr) {
    q_->Next();
    SkipNonFiles(q_.get());
  }
  Settle();
}

std::string FileJoin::path() const { return new_ != nullptr ? q_->path() : p_->path(); }

storage::Status FileJoin::status() const {
  if (p_ != nullptr && !p_->status().ok()) return p_->status();
  return q_->status();
}

void AddToComparison(const storage::EntryRecord* prev, const storage::EntryRecord* cur,
                     PointComparison* c) {
  if (prev != nullptr) Count(&c->prev, *prev);
  if (cur != nullptr) Count(&c->cur, *cur);
  if (prev == nullptr) {  // only in cur
    ++c->new_files;
    c->changed_bytes += cur->size;
    if (cur->size == 0) ++c->new_zero_length;
  } else if (cur != nullptr) {
    ++c->common_files;
    if (ContentDiffers(*prev, *cur)) {
      ++c->content_changed;
      c->changed_bytes += cur->size;
    }
    if (prev->size > 0 && cur->size == 0) ++c->became_zero_length;
  }
}

const storage::EntryRecord* FileOrNull(const storage::EntryRecord* e) {
  return e != nullptr && IsFile(*e) ? e : nullptr;
}

storage::StatusOr<bool> ChangesReadable(storage::Catalogue& cat, const std::string& tenant,
                                        const std::string& backup_set, int64_t a, int64_t b) {
  auto points = storage::Versions(cat.kv()).Points(tenant, backup_set);
  if (!points.ok()) return points.status();
  auto recorded = [&](int64_t t) { return std::binary_search(points->begin(), points->end(), t); };
  return a < b && recorded(a) && recorded(b);
}

PointComparison UnchangedComparison(const PointSummary& prev, int64_t prev_point_ns,
                                    int64_t cur_point_ns) {
  PointComparison c;
  c.prev = c.cur = prev;
  c.prev.time_ns = prev_point_ns;
  c.cur.time_ns = cur_point_ns;
  c.common_files = prev.files;
  return c;
}

bool TakeBackUnchanged(const storage::EntryRecord& old, PointComparison* c) {
  const bool zero = old.size == 0;
  if (c->prev.files == 0 || c->cur.files == 0 || c->common_files == 0 || c->prev.bytes < old.size ||
      c->cur.bytes < old.size ||
      (zero && (c->prev.zero_length_files == 0 || c->cur.zero_length_files == 0))) {
    return false;
  }
  for (PointSummary* p : {&c->prev, &c->cur}) {
    --p->files;
    p->bytes -= old.size;
    if (zero) --p->zero_length_files;
  }
  --c->common_files;
  return true;
}

namespace {

// ComparePoints from the previous point's summary; nullopt when it does not
// add up with the changes (or a point is not recorded).
storage::StatusOr<std::optional<PointComparison>> CompareChanges(
    storage::Catalogue& cat, const std::string& tenant, const std::string& backup_set,
    int64_t prev_point_ns, int64_t cur_point_ns, const PointSummary& summary) {
  auto readable = ChangesReadable(cat, tenant, backup_set, prev_point_ns, cur_point_ns);
  if (!readable.ok()) return readable.status();
  if (!*readable) return std::optional<PointComparison>();
  PointComparison c = UnchangedComparison(summary, prev_point_ns, cur_point_ns);
  bool adds_up = true;
  storage::Status s = storage::Versions(cat.kv()).Diff(
      tenant, backup_set, prev_point_ns, cur_point_ns,
      [&](std::string_view path, const storage::EntryRecord* a,
          const storage::EntryRecord* b) -> storage::Status {
        const storage::EntryRecord* old = FileOrNull(a);
        const storage::EntryRecord* neu = FileOrNull(b);
        if (old == nullptr && neu == nullptr) return absl::OkStatus();
        if (old != nullptr && !TakeBackUnchanged(*old, &c)) {
          adds_up = false;
          return absl::AbortedError("the summary does not hold " + std::string(path));
        }
        AddToComparison(old, neu, &c);
        return absl::OkStatus();
      },
      /*every_version=*/true, kMaxChangedPaths);
  // More change than it is worth holding: read whole, in bounded memory.
  if (!adds_up || absl::IsResourceExhausted(s)) return std::optional<PointComparison>();
  if (!s.ok()) return s;
  return std::optional<PointComparison>(c);
}

}  // namespace

storage::StatusOr<PointComparison> ComparePoints(storage::Catalogue& cat, const std::string& tenant,
                                                 const std::string& backup_set,
                                                 int64_t prev_point_ns, int64_t cur_point_ns,
                                                 const PointSummary* prev_summary) {
  if (prev_summary != nullptr) {
    auto changes =
        CompareChanges(cat, tenant, backup_set, prev_point_ns, cur_point_ns, *prev_summary);
    if (!changes.ok()) return changes.status();
    if (*changes) return **changes;
  }
  PointComparison c;
  c.prev.time_ns = prev_point_ns;
  c.cur.time_ns = cur_point_ns;
  FileJoin j(cat, tenant, backup_set, prev_point_ns, cur_point_ns);
  for (; j.Valid(); j.Next()) AddToComparison(j.old_entry(), j.new_entry(), &c);
  if (storage::Status s = j.status(); !s.ok()) return s;
  return c;
}

}  // namespace vigil::contracts
