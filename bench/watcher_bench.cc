// Cost of one verdict-watcher pass (services/coordinator/watcher.h): the
// watcher re-runs the status evaluation of every tenant each --watch-every,
// and that evaluation scans the catalogue entries of every present restore
// point (coverage, failures). This measures a pass over T tenants of N
// entries each, so that --watch-every can be chosen against the catalogue's
// size. Run by hand (docs/BENCHMARKS.md):
//
//   build/bench/vigil_watcher_bench [ENTRIES_PER_TENANT=200000] [TENANTS=1] [PASSES=5]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/watcher.h"
#include "storage/hash.h"

namespace {

using vigil::coordinator::Coordinator;

int Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "watcher_bench: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  return 1;
}

std::string Manifest(const std::string& tenant) {
  return "apiVersion: vigil/v1\nkind: Tenant\nname: " + tenant +
         "\ntimezone: UTC\n---\napiVersion: vigil/v1\nkind: Contract\ntenant: " + tenant +
         "\neffectiveFrom: 2020-01-01\nassets:\n  - name: fs\n    backupSets:\n"
         "      - {name: fs-nas, location: nas, path: " +
         tenant + "/fs}\ncommitments:\n  - rpo: 24h\n  - integrity: {reverifyWithin: 30d}\n";
}

}  // namespace

int main(int argc, char** argv) {
  const long entries = argc > 1 ? std::atol(argv[1]) : 200000;
  const int tenants = argc > 2 ? std::atoi(argv[2]) : 1;
  const int passes = argc > 3 ? std::atoi(argv[3]) : 5;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("vigil-watcher-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  vigil::coordinator::CoordinatorOptions o;
  o.data_dir = dir.string();
  o.enrol_token_sha256 = vigil::coordinator::TokenHash("bench-enrol");  // workers enrol
  auto c = Coordinator::Open(o);
  if (!c.ok()) return Fail("open", c.status());
  vigil::v1::ApplyRequest req;
  auto* f = req.add_files();
  f->set_name("bench.yaml");
  std::string text = "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: office\n";
  for (int t = 0; t < tenants; ++t) text += "---\n" + Manifest("t" + std::to_string(t));
  f->set_text(text);
  if (auto r = (*c)->Apply(req); !r.ok()) return Fail("apply", r.status());
  vigil::v1::RegisterRequest reg;
  reg.set_site("office");
  reg.add_locations("nas");
  auto w = (*c)->Register("bench-enrol", reg);
  if (!w.ok()) return Fail("register", w.status());

  // One full check per tenant through the worker calls (a mirror).
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (int t = 0; t < tenants; ++t) {
    vigil::v1::RunCheckRequest rc;
    rc.set_tenant("t" + std::to_string(t));
    if (auto r = (*c)->RunCheck(rc); !r.ok()) return Fail("check", r.status());
    auto leased = (*c)->LeaseTask(w->worker_id());
    if (!leased.ok() || !leased->has_task()) return Fail("lease", leased.status());
    const vigil::v1::Task& task = leased->task();
    uint64_t seq = 0;
    for (long i = 0; i < entries;) {
      vigil::v1::ObservationBatch b;
      b.set_task_id(task.id());
      b.set_attempt(task.attempt());
      b.set_seq(++seq);
      for (int k = 0; k < 2000 && i < entries; ++k, ++i) {
        auto* ob = b.add_observations();
        char path[64];
        std::snprintf(path, sizeof path, "d%04ld/f%08ld", i / 1000, i);
        ob->set_path(path);
        ob->set_type(vigil::v1::ENTRY_TYPE_FILE);
        ob->set_size(4096);
        ob->set_mtime_ns(now - 3'600'000'000'000);
        vigil::storage::Digest d =
            vigil::storage::HashBytes(vigil::storage::HashAlgorithm::kXxh3_128, path);
        ob->set_digest_algorithm(static_cast<uint32_t>(d.algorithm()));
        ob->set_digest(std::string(d.view()));
      }
      if (auto a = (*c)->Observe(w->worker_id(), b); !a.ok()) return Fail("observe", a.status());
    }
    vigil::v1::CompleteTaskRequest done;
    done.set_task_id(task.id());
    done.set_attempt(task.attempt());
    done.set_final_seq(seq);
    if (auto r = (*c)->CompleteTask(w->worker_id(), done); !r.ok())
      return Fail("complete", r.status());
  }

  vigil::coordinator::RealClock clock;
  vigil::coordinator::Watcher watcher(c->get(), &clock, {});
  std::vector<double> ms;
  for (int p = 0; p < passes; ++p) {
    auto start = std::chrono::steady_clock::now();
    auto raised = watcher.RunOnce();
    if (!raised.ok()) return Fail("pass", raised.status());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2];
  std::printf("tenants=%d entries/tenant=%ld passes=%d\n", tenants, entries, passes);
  std::printf("pass ms:");
  for (double m : ms) std::printf(" %.1f", m);
  std::printf("\nmedian %.1f ms, %.0f entries/s judged\n", median,
              static_cast<double>(entries) * tenants / (median / 1000.0));
  c->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
