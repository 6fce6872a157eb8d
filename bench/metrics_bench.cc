// Cost of one /metrics refresh (coordinator/metrics.h) as the number of
// tenants grows: every tenant's contract is evaluated (GetStatus), so a
// refresh is not free, which is why it runs on its own thread every
// --metrics-refresh instead of on each scrape. Prints, per tenant count, the
// median wall time of a refresh and the size of the exposition.
//
//   vigil_metrics_bench [--tenants 10,100,1000] [--runs 5] [--dir DIR]
//
// Each tenant has one contract with two assets (one backup set each) and the
// rpo, retention and integrity commitments; the sets were never checked,
// so this measures the evaluation and rendering, not catalogue scans.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/metrics.h"

namespace {

using vigil::coordinator::Coordinator;

std::string Manifest(int i) {
  std::string t = "tenant-" + std::to_string(i);
  return "apiVersion: vigil/v1\nkind: Tenant\nname: " + t +
         "\ntimezone: Europe/Paris\n---\napiVersion: vigil/v1\nkind: Contract\ntenant: " + t +
         "\nassets:\n  - name: fs\n    backupSets:\n      - {name: fs-a, location: nas, path: " +
         t +
         "/fs}\n  - name: mail\n    backupSets:\n      - {name: mail-a, location: nas, path: " + t +
         "/mail}\ncommitments:\n  - rpo: 24h\n  - retention: {daily: 7, weekly: 4}\n"
         "  - integrity: {reverifyWithin: 30d}\n";
}

int Run(const std::string& dir, int tenants, int runs) {
  std::filesystem::remove_all(dir);
  vigil::coordinator::CoordinatorOptions o;
  o.data_dir = dir;
  auto c = Coordinator::Open(o);
  if (!c.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(c.status().message()).c_str());
    return 1;
  }
  vigil::v1::ApplyRequest loc;
  auto* f = loc.add_files();
  f->set_name("nas.yaml");
  f->set_text("apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: office\n");
  if (auto r = (*c)->Apply(loc); !r.ok()) {
    std::fprintf(stderr, "apply: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  for (int i = 0; i < tenants; i += 100) {
    vigil::v1::ApplyRequest req;
    for (int j = i; j < std::min(tenants, i + 100); ++j) {
      auto* m = req.add_files();
      m->set_name("t" + std::to_string(j) + ".yaml");
      m->set_text(Manifest(j));
    }
    if (auto r = (*c)->Apply(req); !r.ok()) {
      std::fprintf(stderr, "apply: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
  }
  vigil::coordinator::CoordinatorMetrics metrics(c->get(), {});
  std::vector<double> ms, cpu_ms;
  for (int r = 0; r < runs; ++r) {
    std::clock_t c0 = std::clock();
    auto t0 = std::chrono::steady_clock::now();
    if (auto s = metrics.Refresh(); !s.ok()) {
      std::fprintf(stderr, "refresh: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    cpu_ms.push_back(1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  std::string text = metrics.Exposition();
  size_t lines = std::count(text.begin(), text.end(), '\n');
  std::printf(
      "%6d tenants  refresh: median %7.1f ms wall (min %.1f, max %.1f), %7.1f ms CPU;  "
      "exposition %zu lines, %zu bytes\n",
      tenants, ms[ms.size() / 2], ms.front(), ms.back(), cpu_ms[cpu_ms.size() / 2], lines,
      text.size());
  c->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string counts = "10,100,1000";
  int runs = 5;
  const char* tmp = std::getenv("VIGIL_BENCH_TMP");
  std::string dir = std::string(tmp != nullptr ? tmp : "/var/tmp") + "/vigil-metrics-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tenants") == 0) {
      counts = argv[i + 1];
    } else if (std::strcmp(argv[i], "--runs") == 0) {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--dir") == 0) {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s [--tenants 10,100,1000] [--runs 5] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  std::stringstream ss(counts);
  std::string n;
  while (std::getline(ss, n, ',')) {
    if (int rc = Run(dir, std::atoi(n.c_str()), runs); rc != 0) return rc;
  }
  return 0;
}
