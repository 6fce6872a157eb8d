#include "services/contracts/plausibility.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "base/name_table.h"
#include "services/common/text.h"
#include "storage/entry.h"

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

void Count(PointSummary* s, const storage::EntryRecord& e) {
  ++s->files;
  s->bytes += e.size;
  if (e.size == 0) ++s->zero_length_files;
}

bool ContentDiffers(const storage::EntryRecord& a, const storage::EntryRecord& b) {
  if (a.size != b.size) return true;
  if (a.digest.empty() || b.digest.empty() || a.digest.algorithm() != b.digest.algorithm()) {
    return false;
  }
  return !(a.digest == b.digest);
}

// Advances `s` to the next regular file (or the end).
void SkipNonFiles(storage::Catalogue::Scanner* s) {
  while (s->Valid() && !IsFile(s->entry())) s->Next();
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

storage::StatusOr<PointComparison> ComparePoints(storage::Catalogue& cat, const std::string& tenant,
                                                 const std::string& backup_set,
                                                 int64_t prev_point_ns, int64_t cur_point_ns) {
  PointComparison c;
  c.prev.time_ns = prev_point_ns;
  c.cur.time_ns = cur_point_ns;
  std::unique_ptr<storage::Catalogue::Scanner> p =
      cat.Scan(storage::Scope{tenant, backup_set, prev_point_ns});
  std::unique_ptr<storage::Catalogue::Scanner> q =
      cat.Scan(storage::Scope{tenant, backup_set, cur_point_ns});
  SkipNonFiles(p.get());
  SkipNonFiles(q.get());
  while (p->Valid() || q->Valid()) {
    const int order = !p->Valid()   ? 1
                      : !q->Valid() ? -1
                                    : CompareBytes(p->encoded_path(), q->encoded_path());
    if (order < 0) {  // only in prev
      Count(&c.prev, p->entry());
      p->Next();
      SkipNonFiles(p.get());
    } else if (order > 0) {  // only in cur
      Count(&c.cur, q->entry());
      if (q->entry().size == 0) ++c.new_zero_length;
      q->Next();
      SkipNonFiles(q.get());
    } else {
      const storage::EntryRecord& a = p->entry();
      const storage::EntryRecord& b = q->entry();
      Count(&c.prev, a);
      Count(&c.cur, b);
      ++c.common_files;
      if (ContentDiffers(a, b)) ++c.content_changed;
      if (a.size > 0 && b.size == 0) ++c.became_zero_length;
      p->Next();
      q->Next();
      SkipNonFiles(p.get());
      SkipNonFiles(q.get());
    }
  }
  if (!p->status().ok()) return p->status();
  if (!q->status().ok()) return q->status();
  return c;
}

}  // namespace vigil::contracts
