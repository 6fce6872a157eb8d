// vigil_catalogue_growth: issue 17's synthetic catalogue-level benchmark.
// A backup set of N files kept as P daily restore points, each point the
// previous one with CHURN % of its files replaced; no file is read, only the
// catalogue is written and queried, through the public Catalogue API only
// (storage/catalogue.h, storage/merkle.h) as the coordinator's merge uses it,
// so the same program measures any layout behind that API.
//
//   1. point 1: N entries (bench/synth.h's tree, catalogue path order)
//      through one Writer, Commit(true): "ingest of new entries" (entries/s,
//      wall and process CPU);
//   2. points 2..P: the previous point with CHURN % of the files replaced
//      (new digest, size and mtime; chosen by a per-day hash of the index),
//      written as today's merge writes a new restore point: a fresh Writer
//      on the point's scope, PutEntry for every entry in path order,
//      Commit(true). Median, last and total per point;
//   3. close (memtables flushed), size of the database directory (every
//      file, and the SST files alone), reopen, size again;
//   4. diff of points P-1 and P: two Scans merge-joined in path order
//      (ComparePathOrder); changed/added/removed must equal the churn
//      injected on day P, or the program exits 3;
//   5. list point P (a Scan decoding every entry), CountEntries, and its
//      Merkle root (CatalogueRoot), which must equal the root computed from
//      the generator (exit 3 otherwise);
//   6. close, size again; a markdown table and one CSV line of everything,
//      with /proc/loadavg at start and end.
//
// With --keep-points K (rotation, as a set keeping K dailies): after point
// d is written, point d-K is deleted (Catalogue::DeletePoint, what the
// coordinator's FreeGonePoints calls), timed; the catalogue's size then
// follows K points, not P.
//
// Entry records: unchanged files keep their record from point to point
// (first_seen_ns = when their content first appeared); with
// --first-seen-per-point every record of a point carries the point's time,
// as today's merge writes a new point (every entry "added" with the check's
// time).
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench/synth.h"
#include "storage/catalogue.h"
#include "storage/content_sample.h"
#include "storage/merkle.h"
#include "storage/versions.h"

namespace vigil::bench {
namespace {

using storage::Catalogue;
using storage::EntryRecord;
using storage::Scope;
using storage::Status;

constexpr int64_t kDayNs = 86'400'000'000'000;
constexpr const char* kTenant = "growth-tenant";
constexpr const char* kSet = "growth-set";

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string LoadAvg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double MaxRssMiB() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

struct Options {
  uint64_t files = 1'000'000;
  int points = 34;
  double churn = 1.0;
  std::string dir;
  bool keep = false;
  bool first_seen_per_point = false;
  int keep_points = 0;  // 0: no rotation
};

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: vigil_catalogue_growth [--files N] [--points P] [--churn PCT] [--dir DIR]\n"
               "                              [--keep] [--first-seen-per-point] [--keep-points K]\n"
               "  --files N     files of the set [1000000] (at most 10000000)\n"
               "  --points P    daily restore points [34] (at least 2)\n"
               "  --churn PCT   %% of the files replaced each day [1.0]\n"
               "  --dir DIR     catalogue directory, must not exist\n"
               "                [$VIGIL_BENCH_TMP or /var/tmp]/vigil-growth-synth;\n"
               "                removed at the end unless --keep\n"
               "  --keep        keep the catalogue\n"
               "  --first-seen-per-point  every record of a point carries the point's time\n"
               "  --keep-points K  rotation: delete point d-K once point d is written\n"
               "                as first_seen_ns, as today's merge writes a new point\n"
               "                (default: unchanged files keep their record)\n"
               "Exit status: 0 ok, 1 catalogue error, 2 usage, 3 a result did not match the\n"
               "generated data.\n");
}

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "vigil_catalogue_growth: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

// The time of restore point d (1-based): one a day.
int64_t PointTime(int d) { return kBaseTimeNs + static_cast<int64_t>(d - 1) * kDayNs; }

Scope PointScope(int d) { return {kTenant, kSet, PointTime(d)}; }

// Whether file i is replaced on day d (d >= 2): a per-day hash of the index
// below `threshold` parts per million.
bool Replaced(uint64_t i, int d, uint64_t threshold) {
  return Mix(i ^ (static_cast<uint64_t>(d) << 40) ^ 0x5EEDC0DE00000000ull) % 1'000'000 < threshold;
}

// The record of file i whose content was last replaced on day `version`
// (0: the original), in point d.
void RecordOf(uint64_t i, int version, int d, bool first_seen_per_point, EntryRecord* r) {
  if (version == 0) {
    FillRecord(i, r);
    r->first_seen_ns = PointTime(1);
  } else {
    const uint64_t v = static_cast<uint64_t>(version);
    r->type = storage::EntryType::kFile;
    r->size = SizeOf(i ^ (v << 48));
    // Written during the day before the point.
    r->mtime_ns = PointTime(version) - kDayNs / 2 + static_cast<int64_t>(i % 1'000'000) * 1000;
    r->digest = DigestOf(i, v);
    r->first_seen_ns = PointTime(version);
  }
  // As a worker's read records it (storage/content_sample.h).
  r->sample.format = storage::FileFormat::kUnknown;
  r->sample.entropy = static_cast<uint8_t>(120 + Mix(i + static_cast<uint64_t>(version)) % 9);
  if (first_seen_per_point) r->first_seen_ns = PointTime(d);
}

struct DirSize {
  uint64_t total = 0, sst = 0, wal = 0;
  uint64_t files = 0;
};

// Sum of the sizes of the regular files under `dir` (du -sb, less the
// directories themselves), and of the SST and WAL files alone.
DirSize DiskSize(const std::string& dir) {
  DirSize d;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    d.total += size;
    ++d.files;
    const std::string ext = it->path().extension().string();
    if (ext == ".sst") d.sst += size;
    if (ext == ".log") d.wal += size;
  }
  return d;
}

struct Timing {
  double wall = 0, cpu = 0;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct DiffResult {
  uint64_t same = 0, changed = 0, added = 0, removed = 0;
};

// Diff of two restore points as the code does it today: both scanned in
// path order and merge-joined.
Status DiffPoints(Catalogue& cat, const Scope& old_scope, const Scope& new_scope, DiffResult* r) {
  auto a = cat.Scan(old_scope);
  auto b = cat.Scan(new_scope);
  std::string pa, pb;
  if (a->Valid()) pa = a->path();
  if (b->Valid()) pb = b->path();
  while (a->Valid() || b->Valid()) {
    const int c = !a->Valid() ? 1 : !b->Valid() ? -1 : storage::ComparePathOrder(pa, pb);
    const bool step_a = c <= 0, step_b = c >= 0;
    if (c < 0) {
      ++r->removed;
    } else if (c > 0) {
      ++r->added;
    } else if (storage::SameContent(a->entry(), b->entry())) {
      ++r->same;
    } else {
      ++r->changed;
    }
    if (step_a) {
      a->Next();
      if (a->Valid()) pa = a->path();
    }
    if (step_b) {
      b->Next();
      if (b->Valid()) pb = b->path();
    }
  }
  if (Status s = a->status(); !s.ok()) return s;
  return b->status();
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      Usage(stdout);
      return 0;
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--first-seen-per-point") {
      o.first_seen_per_point = true;
    } else if (a == "--files" && (v = value()) != nullptr) {
      o.files = std::strtoull(v, nullptr, 10);
    } else if (a == "--points" && (v = value()) != nullptr) {
      o.points = std::atoi(v);
    } else if (a == "--churn" && (v = value()) != nullptr) {
      o.churn = std::strtod(v, nullptr);
    } else if (a == "--keep-points" && (v = value()) != nullptr) {
      o.keep_points = std::atoi(v);
    } else if (a == "--dir" && (v = value()) != nullptr) {
      o.dir = v;
    } else {
      Usage(stderr);
      return 2;
    }
  }
  if (o.files < 1 || o.files > 10'000'000 || o.points < 2 || o.points > 10'000 ||
      o.keep_points < 0 || o.keep_points == 1 || !(o.churn >= 0 && o.churn <= 100)) {
    Usage(stderr);
    return 2;
  }
  if (o.dir.empty()) {
    const char* base = std::getenv("VIGIL_BENCH_TMP");
    o.dir = std::string(base != nullptr ? base : "/var/tmp") + "/vigil-growth-synth";
  }
  if (std::filesystem::exists(o.dir)) {
    std::fprintf(stderr, "vigil_catalogue_growth: %s exists: remove it or give another --dir\n",
                 o.dir.c_str());
    return 2;
  }
  const uint64_t n = o.files;
  const int p = o.points;
  const uint64_t threshold = static_cast<uint64_t>(std::llround(o.churn * 10'000));
  const std::string load_start = LoadAvg();
  std::printf("vigil_catalogue_growth: %llu files x %d points, churn %.3g %%/day, dir %s%s\n",
              static_cast<unsigned long long>(n), p, o.churn, o.dir.c_str(),
              o.first_seen_per_point ? ", first_seen per point" : "");
  std::printf("load at start: %s\n", load_start.c_str());

  // The generator alone (paths and records, no catalogue): what the timed
  // loops below spend outside the catalogue.
  Timing gen;
  {
    EntryRecord r;
    char buf[64];
    volatile uint64_t sink = 0;
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    for (uint64_t i = 0; i < n; ++i) {
      sink = sink + FormatPath(i, buf, sizeof buf);
      RecordOf(i, 0, 1, o.first_seen_per_point, &r);
      sink = sink + r.size;
    }
    gen = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  std::printf("generator alone: %llu entries in %.3f s wall, %.3f s cpu\n",
              static_cast<unsigned long long>(n), gen.wall, gen.cpu);

  auto cat = Catalogue::Open(o.dir);
  if (!cat.ok()) return Fail("open", cat.status());

  // version[i]: the day file i's content was last replaced (0: original).
  std::vector<uint16_t> version(n, 0);
  std::vector<uint64_t> churned(static_cast<size_t>(p) + 1, 0);
  std::vector<Timing> point_time(static_cast<size_t>(p) + 1);
  std::vector<Timing> delete_time;  // --keep-points
  const double ingest_t0 = Now(), ingest_c0 = ProcessCpuSeconds();
  for (int d = 1; d <= p; ++d) {
    EntryRecord r;
    char buf[64];
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    {
      Catalogue::Writer w(cat->get(), PointScope(d));
      for (uint64_t i = 0; i < n; ++i) {
        if (d > 1 && Replaced(i, d, threshold)) {
          version[i] = static_cast<uint16_t>(d);
          ++churned[d];
        }
        RecordOf(i, version[i], d, o.first_seen_per_point, &r);
        if (Status s = w.PutEntry({buf, FormatPath(i, buf, sizeof buf)}, r); !s.ok()) {
          return Fail("PutEntry", s);
        }
      }
      if (Status s = w.Commit(true); !s.ok()) return Fail("Commit", s);
    }
    point_time[d] = {Now() - t0, ProcessCpuSeconds() - c0};
    if (o.keep_points > 0 && d > o.keep_points) {
      const double r0 = Now(), rc0 = ProcessCpuSeconds();
      if (Status s = cat->get()->DeletePoint(PointScope(d - o.keep_points)); !s.ok()) {
        return Fail("DeletePoint", s);
      }
      delete_time.push_back({Now() - r0, ProcessCpuSeconds() - rc0});
    }
    const Timing& t = point_time[d];
    std::printf(
        "point %2d: %llu entries (%llu replaced) in %.3f s wall (%.0f/s), %.3f s cpu "
        "(%.0f/s), load %s\n",
        d, static_cast<unsigned long long>(n), static_cast<unsigned long long>(churned[d]), t.wall,
        static_cast<double>(n) / t.wall, t.cpu, static_cast<double>(n) / t.cpu, LoadAvg().c_str());
    std::fflush(stdout);
  }
  const Timing ingest_all{Now() - ingest_t0, ProcessCpuSeconds() - ingest_c0};

  Timing close_time;
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    cat->reset();  // flushes the memtables
    close_time = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  const DirSize after_close = DiskSize(o.dir);
  Timing open_time;
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    cat = Catalogue::Open(o.dir);
    if (!cat.ok()) return Fail("reopen", cat.status());
    open_time = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  const DirSize after_reopen = DiskSize(o.dir);
  Catalogue& c = **cat;

  int rc = 0;
  // Diff of the last two points.
  DiffResult diff;
  Timing diff_time;
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    if (Status s = DiffPoints(c, PointScope(p - 1), PointScope(p), &diff); !s.ok()) {
      return Fail("diff", s);
    }
    diff_time = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  std::printf(
      "diff of points %d and %d: %llu changed, %llu added, %llu removed, %llu same in "
      "%.3f s wall, %.3f s cpu\n",
      p - 1, p, static_cast<unsigned long long>(diff.changed),
      static_cast<unsigned long long>(diff.added), static_cast<unsigned long long>(diff.removed),
      static_cast<unsigned long long>(diff.same), diff_time.wall, diff_time.cpu);
  if (diff.changed != churned[p] || diff.added != 0 || diff.removed != 0 ||
      diff.same + diff.changed != n) {
    std::fprintf(stderr,
                 "vigil_catalogue_growth: MISMATCH: diff found %llu changed, %llu added, %llu "
                 "removed; %llu replaced on day %d\n",
                 static_cast<unsigned long long>(diff.changed),
                 static_cast<unsigned long long>(diff.added),
                 static_cast<unsigned long long>(diff.removed),
                 static_cast<unsigned long long>(churned[p]), p);
    rc = 3;
  }

  // The same diff through format 2's time indexes (storage/versions.h):
  // only the versions born or ended between the two points are read.
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    uint64_t changed = 0, other = 0;
    Status s = storage::Versions(c.kv()).Diff(
        PointScope(p - 1).tenant, PointScope(p - 1).backup_set, PointScope(p - 1).restore_point,
        PointScope(p).restore_point,
        [&](std::string_view, const storage::EntryRecord* a, const storage::EntryRecord* b) {
          if (a != nullptr && b != nullptr) {
            ++changed;
          } else {
            ++other;
          }
          return absl::OkStatus();
        });
    if (!s.ok()) return Fail("versions diff", s);
    const double wall = Now() - t0, cpu = ProcessCpuSeconds() - c0;
    std::printf(
        "diff of points %d and %d by the version indexes: %llu changed, %llu added or "
        "removed in %.3f s wall, %.3f s cpu\n",
        p - 1, p, static_cast<unsigned long long>(changed), static_cast<unsigned long long>(other),
        wall, cpu);
    if (changed != churned[p] || other != 0) {
      std::fprintf(stderr, "vigil_catalogue_growth: MISMATCH: the index diff found %llu changed\n",
                   static_cast<unsigned long long>(changed));
      rc = 3;
    }
  }

  // List the last point: every entry decoded.
  uint64_t listed = 0, listed_bytes = 0;
  Timing list_time;
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    auto scan = c.Scan(PointScope(p));
    for (; scan->Valid(); scan->Next()) {
      ++listed;
      listed_bytes += scan->entry().size;
    }
    if (Status s = scan->status(); !s.ok()) return Fail("scan", s);
    list_time = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  Timing count_time;
  uint64_t counted = 0;
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    auto count = c.CountEntries(PointScope(p));
    if (!count.ok()) return Fail("CountEntries", count.status());
    counted = *count;
    count_time = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  std::printf(
      "list point %d: %llu entries in %.3f s wall, %.3f s cpu; CountEntries %llu in "
      "%.3f s wall\n",
      p, static_cast<unsigned long long>(listed), list_time.wall, list_time.cpu,
      static_cast<unsigned long long>(counted), count_time.wall);

  // The Merkle root of the last point, and the root of the same entries
  // computed from the generator.
  Timing root_time;
  storage::TreeHead head;
  {
    const double t0 = Now(), c0 = ProcessCpuSeconds();
    auto h = storage::CatalogueRoot(c, PointScope(p));
    if (!h.ok()) return Fail("CatalogueRoot", h.status());
    head = *h;
    root_time = {Now() - t0, ProcessCpuSeconds() - c0};
  }
  storage::MerkleBuilder expected;
  uint64_t expected_bytes = 0;
  {
    EntryRecord r;
    char buf[64];
    for (uint64_t i = 0; i < n; ++i) {
      RecordOf(i, version[i], p, o.first_seen_per_point, &r);
      expected.Add(storage::BoundEntryLeaf(kTenant, kSet, {buf, FormatPath(i, buf, sizeof buf)},
                                           r.size, r.digest));
      expected_bytes += r.size;
    }
  }
  const bool root_ok = head.tree_size == n && head.root == expected.Root();
  std::printf(
      "merkle root of point %d: %s (%llu leaves) in %.3f s wall, %.3f s cpu; %s the "
      "generator's\n",
      p, storage::MerkleHex(head.root).c_str(), static_cast<unsigned long long>(head.tree_size),
      root_time.wall, root_time.cpu, root_ok ? "equals" : "DIFFERS FROM");
  if (!root_ok || listed != n || counted != n || listed_bytes != expected_bytes) {
    std::fprintf(stderr,
                 "vigil_catalogue_growth: MISMATCH: root %s, listed %llu (%llu bytes), counted "
                 "%llu, expected %llu entries (%llu bytes)\n",
                 root_ok ? "ok" : "differs", static_cast<unsigned long long>(listed),
                 static_cast<unsigned long long>(listed_bytes),
                 static_cast<unsigned long long>(counted), static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(expected_bytes));
    rc = 3;
  }

  cat->reset();
  const DirSize at_end = DiskSize(o.dir);
  const std::string load_end = LoadAvg();

  // Summary.
  // Entries the points held at the end (with --keep-points, the kept ones).
  const double logical =
      static_cast<double>(n) * (o.keep_points > 0 ? std::min(p, o.keep_points) : p);
  std::vector<double> walls, cpus;
  for (int d = 2; d <= p; ++d) {
    walls.push_back(point_time[d].wall);
    cpus.push_back(point_time[d].cpu);
  }
  const double med_wall = Median(walls), med_cpu = Median(cpus);
  const Timing& first = point_time[1];
  const Timing& last = point_time[p];
  uint64_t churn_total = 0;
  for (int d = 2; d <= p; ++d) churn_total += churned[d];
  const double nn = static_cast<double>(n);
  const double mib = 1024.0 * 1024.0;

  std::printf("\n| measure | value |\n|---|---|\n");
  std::printf("| files x points (logical entries) | %llu x %d (%.0f) |\n",
              static_cast<unsigned long long>(n), p, logical);
  std::printf("| churn | %.3g %%/day: %llu replacements over %d days (%llu on day %d) |\n", o.churn,
              static_cast<unsigned long long>(churn_total), p - 1,
              static_cast<unsigned long long>(churned[p]), p);
  std::printf("| records | %s |\n", o.first_seen_per_point
                                        ? "first_seen = the point's time (as today's merge)"
                                        : "unchanged files keep their record");
  std::printf("| load (1/5/15 min) start / end | %s / %s |\n", load_start.c_str(),
              load_end.c_str());
  std::printf("| generator alone, %llu entries | %.3f s wall, %.3f s cpu |\n",
              static_cast<unsigned long long>(n), gen.wall, gen.cpu);
  std::printf(
      "| ingest point 1 (new entries) | %.3f s wall = %.0f entries/s; %.3f s cpu = "
      "%.0f entries/s per core |\n",
      first.wall, nn / first.wall, first.cpu, nn / first.cpu);
  std::printf(
      "| ingest of a new point, median of points 2..%d | %.3f s wall (%.0f/s), "
      "%.3f s cpu (%.0f/s) |\n",
      p, med_wall, nn / med_wall, med_cpu, nn / med_cpu);
  std::printf("| ingest of the last point (%d) | %.3f s wall (%.0f/s), %.3f s cpu (%.0f/s) |\n", p,
              last.wall, nn / last.wall, last.cpu, nn / last.cpu);
  std::printf("| ingest of all %d points | %.1f s wall, %.1f s cpu |\n", p, ingest_all.wall,
              ingest_all.cpu);
  std::printf("| close (memtables flushed) / reopen | %.3f s / %.3f s wall |\n", close_time.wall,
              open_time.wall);
  std::printf(
      "| catalogue after close: all files / SST / WAL | %llu B (%.1f MiB) / %llu B / "
      "%llu B, %llu files |\n",
      static_cast<unsigned long long>(after_close.total), after_close.total / mib,
      static_cast<unsigned long long>(after_close.sst),
      static_cast<unsigned long long>(after_close.wal),
      static_cast<unsigned long long>(after_close.files));
  std::printf("| catalogue after reopen: all files / SST | %llu B (%.1f MiB) / %llu B |\n",
              static_cast<unsigned long long>(after_reopen.total), after_reopen.total / mib,
              static_cast<unsigned long long>(after_reopen.sst));
  std::printf(
      "| catalogue at the end (after the queries, closed): all files / SST | %llu B "
      "(%.1f MiB) / %llu B |\n",
      static_cast<unsigned long long>(at_end.total), at_end.total / mib,
      static_cast<unsigned long long>(at_end.sst));
  std::printf("| bytes per logical entry (after close): all files / SST | %.1f / %.1f |\n",
              after_close.total / logical, after_close.sst / logical);
  std::printf(
      "| diff of points %d and %d (2 scans merge-joined) | %.3f s wall, %.3f s cpu; "
      "%llu changed, %llu added, %llu removed (%s) |\n",
      p - 1, p, diff_time.wall, diff_time.cpu, static_cast<unsigned long long>(diff.changed),
      static_cast<unsigned long long>(diff.added), static_cast<unsigned long long>(diff.removed),
      rc == 0 ? "= churn injected" : "MISMATCH");
  std::printf("| list point %d (Scan, every entry) / CountEntries | %.3f s / %.3f s wall |\n", p,
              list_time.wall, count_time.wall);
  std::printf("| Merkle root of point %d (CatalogueRoot) | %.3f s wall, %.3f s cpu; %s (%s) |\n", p,
              root_time.wall, root_time.cpu, storage::MerkleHex(head.root).c_str(),
              root_ok ? "= generator's" : "MISMATCH");
  double del_med_wall = 0, del_med_cpu = 0;
  if (!delete_time.empty()) {
    std::vector<double> dw, dc;
    for (const Timing& t : delete_time) {
      dw.push_back(t.wall);
      dc.push_back(t.cpu);
    }
    del_med_wall = Median(dw);
    del_med_cpu = Median(dc);
    std::printf(
        "| rotation: %d points kept, %zu deleted (DeletePoint) | median %.3f s wall, %.3f s "
        "cpu per deletion |\n",
        o.keep_points, delete_time.size(), del_med_wall, del_med_cpu);
  }
  std::printf("| peak RSS | %.1f MiB |\n", MaxRssMiB());

  std::printf(
      "\ncsv-header,files,points,churn_pct,first_seen_per_point,load_start,load_end,"
      "gen_wall_s,p1_wall_s,p1_cpu_s,p1_entries_per_s_wall,p1_entries_per_s_cpu,"
      "point_median_wall_s,point_median_cpu_s,last_point_wall_s,last_point_cpu_s,"
      "all_points_wall_s,all_points_cpu_s,close_wall_s,bytes_after_close,sst_after_close,"
      "bytes_after_reopen,sst_after_reopen,bytes_at_end,sst_at_end,bytes_per_logical_entry,"
      "diff_wall_s,diff_cpu_s,diff_changed,churn_injected,list_wall_s,count_wall_s,root_wall_s,"
      "root_cpu_s,root,ok,keep_points,points_deleted,delete_median_wall_s,"
      "delete_median_cpu_s\n");
  std::printf(
      "csv,%llu,%d,%g,%d,%s,%s,%.3f,%.3f,%.3f,%.0f,%.0f,%.3f,%.3f,%.3f,%.3f,%.1f,%.1f,"
      "%.3f,%llu,%llu,%llu,%llu,%llu,%llu,%.2f,%.3f,%.3f,%llu,%llu,%.3f,%.3f,%.3f,%.3f,"
      "%s,%d,%d,%zu,%.4f,%.4f\n",
      static_cast<unsigned long long>(n), p, o.churn, o.first_seen_per_point ? 1 : 0,
      load_start.c_str(), load_end.c_str(), gen.wall, first.wall, first.cpu, nn / first.wall,
      nn / first.cpu, med_wall, med_cpu, last.wall, last.cpu, ingest_all.wall, ingest_all.cpu,
      close_time.wall, static_cast<unsigned long long>(after_close.total),
      static_cast<unsigned long long>(after_close.sst),
      static_cast<unsigned long long>(after_reopen.total),
      static_cast<unsigned long long>(after_reopen.sst),
      static_cast<unsigned long long>(at_end.total), static_cast<unsigned long long>(at_end.sst),
      after_close.total / logical, diff_time.wall, diff_time.cpu,
      static_cast<unsigned long long>(diff.changed), static_cast<unsigned long long>(churned[p]),
      list_time.wall, count_time.wall, root_time.wall, root_time.cpu,
      storage::MerkleHex(head.root).c_str(), rc == 0 ? 1 : 0, o.keep_points, delete_time.size(),
      del_med_wall, del_med_cpu);

  if (!o.keep) {
    std::error_code ec;
    std::filesystem::remove_all(o.dir, ec);
    if (ec)
      std::fprintf(stderr, "vigil_catalogue_growth: remove %s: %s\n", o.dir.c_str(),
                   ec.message().c_str());
  }
  return rc;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Main(argc, argv); }
