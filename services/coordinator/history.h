// Numeric history of a tenant's commitments for the dashboard's tenant page
// (docs/operations.md): RPO age and integrity coverage as functions of
// time over a window, computed on the coordinator from what it stores, not
// sampled by a clock.
//
// RPO AGE (kind "rpo", one series per asset with an rpo commitment): at
// instant t, t minus the time of the asset's newest good restore point at t,
// over all its backup sets, with the rule the RPO verdict applies
// (contracts::GoodPointAt: point time <= t, not gone, not found damaged by
// t, plausible). Before any good point, t minus the origin: when monitoring
// began (the first check the tenant's check log records for the asset's
// sets, or the contract version's effective date if later), as the verdict
// counts it. A mirror (a backup set without dated restore points) counts as
// one point dated by its last sync as far as the evidence shows (its sync
// marker, or a lower bound: points.h DateMirror), as the verdict does: its
// earlier states are not recorded. Between two events (a point taken, gone
// or damaged) the age grows linearly, so the series is exact with one
// sample per event: at an event where the age jumps, two samples share the
// instant (the age just before, then after). Draw it by joining the
// samples with straight lines.
//
// COVERAGE (kind "integrity", one series per asset with an integrity
// commitment): at instant t, the entries read by the checks of the asset's
// backup sets that finished within the window (t - reverify_within, t],
// over the entries the latest check of each set listed before t, each set
// capped at its entries. Reconstructed from the tenant's check log
// (check_results.h: entries, counts.not_read, inventory_only per finished
// check), because the catalogue keeps only each entry's last re-read: an
// entry read twice within the window counts twice, so the series is an upper
// bound of the coverage the verdict measures now (every entry's own last
// re-read). A step function: it changes only when a check finishes or
// leaves the window; two samples share each such instant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "services/contracts/evaluate.h"
#include "storage/status.h"

namespace vigil::storage {
class Catalogue;
}  // namespace vigil::storage

namespace vigil::coordinator {

struct SeriesPoint {
  int64_t t_ns = 0;
  double value = 0;  // rpo: age in ns; integrity: coverage, 0..1
};

struct HistorySeries {
  std::string asset;
  std::string kind;    // "rpo" | "integrity"
  std::string metric;  // "rpo_age" (value in ns) | "coverage" (a ratio 0..1)
  // The contract's limit drawn as a horizontal line: the RPO (ns), or 1.0
  // for a coverage commitment (every entry re-read). None for a sampled
  // integrity commitment (its verdict rests on the sample, not coverage).
  bool has_limit = false;
  double limit = 0;
  std::vector<SeriesPoint> points;  // ascending t_ns; at most the cap
  size_t samples = 0;               // before downsampling
  std::string definition;           // what the value means, for the page
  std::string note;                 // what the series leaves out ("" = nothing)
};

// The RPO age of the points `points` (any order) over [from, to], origin
// as above (used before the first good point; the series starts at
// max(from, origin)). Empty if to < that start.
std::vector<SeriesPoint> RpoAgeSeries(const std::vector<contracts::PointFact>& points,
                                      int64_t origin, int64_t from, int64_t to);

// One finished check of one backup set, from the check log.
struct CheckSample {
  std::string backup_set;
  int64_t at_ns = 0;     // finished
  uint64_t entries = 0;  // listed
  uint64_t read = 0;     // of which read (entries - not_read; 0 if inventory only)
};

// The coverage as above over [max(from, first check), to], with `window_ns`
// the commitment's reverify_within (> 0). Empty without a check by `to`.
std::vector<SeriesPoint> CoverageSeries(const std::vector<CheckSample>& checks, int64_t window_ns,
                                        int64_t from, int64_t to);

// At most `max` (>= 4) samples of `points` in order: the first, the last,
// and the smallest and largest value of each of (max - 2) / 2 runs of
// consecutive samples, so peaks and troughs survive.
std::vector<SeriesPoint> Downsample(const std::vector<SeriesPoint>& points, size_t max);

// The series of the tenant's contract in force at `now_ns` over
// [from_ns, now_ns], in the contract's asset order (rpo, then integrity),
// each downsampled to at most `max_points`. Empty if no contract is in
// force. Reads the contract, the restore-point records, the check log and,
// for a mirror, its catalogue entries (mtimes) and sync marker.
storage::StatusOr<std::vector<HistorySeries>> TenantHistory(storage::Catalogue& cat,
                                                            const std::string& tenant,
                                                            int64_t from_ns, int64_t now_ns,
                                                            size_t max_points = 500);

}  // namespace vigil::coordinator
