// The coordinator's Prometheus metrics (docs/operations.md lists every
// name and label). Most figures are recomputed from the coordinator's own
// records (tasks, statuses, RocksDB estimates), so they survive a restart;
// evaluating every tenant's verdicts is costly, so Refresh() runs as a
// periodic job (jobs.h, every `refresh_ms`) and a scrape serves the cached
// text (never a database read on a scrape, never one on a gRPC thread).
//
// Thread safety: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/coordinator/coordinator.h"
#include "storage/status.h"

namespace vigil::coordinator {

struct MetricsOptions {
  // Shown as vigil_build_info{version="..."}.
  std::string version = "dev";
  // Refresh period, ms (the node's metrics job). Default 15 s (Prometheus'
  // usual scrape interval).
  int64_t refresh_ms = 15'000;
};

class CoordinatorMetrics {
 public:
  // `c` is not owned and must outlive this object. Nothing is computed
  // before the first Refresh().
  CoordinatorMetrics(Coordinator* c, MetricsOptions options);
  CoordinatorMetrics(const CoordinatorMetrics&) = delete;
  CoordinatorMetrics& operator=(const CoordinatorMetrics&) = delete;

  // Recomputes the exposition (reads the database). On error the previous
  // exposition is kept and last_refresh() reports the error.
  storage::Status Refresh();
  // The last exposition computed ("" before the first refresh).
  std::string Exposition() const;
  // The outcome of the last refresh (Unavailable before the first one).
  storage::Status last_refresh() const;
  // Every tenant's status as of the last successful refresh (nullptr
  // before it): what the dashboard shows, at no extra cost.
  std::shared_ptr<const v1::GetStatusResponse> last_status() const;

 private:
  Coordinator* c_;
  MetricsOptions options_;
  mutable Mutex mu_;
  std::string text_ GUARDED_BY(mu_);
  std::shared_ptr<const v1::GetStatusResponse> last_status_ GUARDED_BY(mu_);
  storage::Status status_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> prev_bytes_ GUARDED_BY(refresh_mu_);
  int64_t prev_ns_ GUARDED_BY(refresh_mu_) = 0;
  Mutex refresh_mu_;  // one refresh at a time
};

}  // namespace vigil::coordinator
