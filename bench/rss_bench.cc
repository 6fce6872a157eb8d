// vigil_rss_bench [--entries N] [--dir DIR]: peak resident memory of the
// integrity core with a large catalogue (target: <= 256 MiB at 5M entries).
//
//   phase 1 (child process): ingest N entries into one restore point of a
//            fresh catalogue through Catalogue::Writer, Commit(sync), close;
//   phase 2 (child process): reopen, DiffRestorePoint of an N-entry observed
//            stream (1 in 1000 modified) against it.
//
// Each phase runs in its own process so that its peak RSS (ru_maxrss from
// wait4) is its own; observations are generated on the fly so the stream
// itself costs no memory. Prints entries/s and peak RSS of each phase.
// Default N = 5,000,000, DIR = a fresh directory under $VIGIL_BENCH_TMP
// (default /var/tmp), removed at the end unless --dir is given.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bench/synth.h"
#include "storage/catalogue.h"
#include "storage/diff.h"

namespace vigil::bench {
namespace {

using storage::Catalogue;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double SelfMaxRssMiB() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

int Fail(const char* what, const storage::Status& s) {
  std::fprintf(stderr, "vigil_rss_bench: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Ingest(const std::string& dir, uint64_t n) {
  auto cat = Catalogue::Open(dir);
  if (!cat.ok()) return Fail("open", cat.status());
  double t0 = Now(), c0 = ProcessCpuSeconds();
  {
    Catalogue::Writer w(cat->get(), BenchScope());
    storage::EntryRecord r;
    char buf[64];
    for (uint64_t i = 0; i < n; ++i) {
      FillRecord(i, &r);
      if (auto s = w.PutEntry({buf, FormatPath(i, buf, sizeof buf)}, r); !s.ok()) {
        return Fail("PutEntry", s);
      }
    }
    if (auto s = w.Commit(true); !s.ok()) return Fail("Commit", s);
  }
  double t1 = Now();
  cat->reset();  // flushes the memtables
  double t2 = Now();
  std::printf(
      "ingest: %llu entries in %.2f s (%.0f entries/s; %.2f s more to close), cpu %.2f s, "
      "peak RSS %.1f MiB\n",
      static_cast<unsigned long long>(n), t1 - t0, static_cast<double>(n) / (t1 - t0), t2 - t1,
      ProcessCpuSeconds() - c0, SelfMaxRssMiB());
  return 0;
}

int Diff(const std::string& dir, uint64_t n) {
  auto cat = Catalogue::Open(dir);
  if (!cat.ok()) return Fail("open", cat.status());
  double t0 = Now(), c0 = ProcessCpuSeconds();
  uint64_t i = 0;
  char buf[64];
  storage::ObservationSource source = [&](storage::Observation* o) {
    if (i >= n) return false;
    o->path.assign(buf, FormatPath(i, buf, sizeof buf));
    FillObservation(i, 1000, o);
    ++i;
    return true;
  };
  storage::DiffCounts counts;
  auto s = storage::DiffRestorePoint(
      **cat, BenchScope(), source, {}, [](const storage::DiffEvent&) { return storage::Status(); },
      &counts);
  if (!s.ok()) return Fail("diff", s);
  double t1 = Now();
  std::printf(
      "diff:   %llu entries in %.2f s (%.0f entries/s), cpu %.2f s, %llu unchanged, "
      "%llu modified, peak RSS %.1f MiB\n",
      static_cast<unsigned long long>(n), t1 - t0, static_cast<double>(n) / (t1 - t0),
      ProcessCpuSeconds() - c0, static_cast<unsigned long long>(counts.unchanged),
      static_cast<unsigned long long>(counts.modified), SelfMaxRssMiB());
  if (counts.unchanged + counts.modified != n || counts.modified != n / 1000) return 1;
  return 0;
}

// Runs fn in a child process; returns its exit status and peak RSS (MiB).
template <typename Fn>
int RunChild(Fn fn, double* max_rss_mib) {
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) {
    int rc = fn();
    std::fflush(stdout);
    std::_Exit(rc);
  }
  int status = 0;
  struct rusage ru;
  if (::wait4(pid, &status, 0, &ru) < 0) {
    std::perror("wait4");
    return 1;
  }
  *max_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int Main(int argc, char** argv) {
  uint64_t n = 5'000'000;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--entries" && i + 1 < argc) {
      n = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: vigil_rss_bench [--entries N] [--dir DIR]\n");
      return 2;
    }
  }
  std::unique_ptr<TempDir> tmp;
  if (dir.empty()) {
    tmp = std::make_unique<TempDir>("rss");
    dir = tmp->path();
  }
  double rss_ingest = 0, rss_diff = 0;
  if (int rc = RunChild([&] { return Ingest(dir, n); }, &rss_ingest); rc != 0) return rc;
  if (int rc = RunChild([&] { return Diff(dir, n); }, &rss_diff); rc != 0) return rc;
  double peak = rss_ingest > rss_diff ? rss_ingest : rss_diff;
  std::printf("peak RSS (wait4 ru_maxrss): ingest %.1f MiB, diff %.1f MiB; %s the 256 MiB target\n",
              rss_ingest, rss_diff, peak <= 256.0 ? "within" : "ABOVE");
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Main(argc, argv); }
