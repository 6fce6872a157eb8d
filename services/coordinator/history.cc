#include "services/coordinator/history.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "services/common/text.h"
#include "services/coordinator/contract_store.h"
#include "services/coordinator/points.h"
#include "services/proofs/check_log.h"
#include "storage/catalogue.h"

namespace vigil::coordinator {

using storage::Status;
using storage::StatusOr;

namespace {

// Appends (t, v) unless it repeats the last sample exactly.
void Push(std::vector<SeriesPoint>& out, int64_t t, double v) {
  if (!out.empty() && out.back().t_ns == t && out.back().value == v) return;
  out.push_back({t, v});
}

}  // namespace

std::vector<SeriesPoint> RpoAgeSeries(const std::vector<contracts::PointFact>& points,
                                      int64_t origin, int64_t from, int64_t to) {
  const int64_t start = std::max(from, origin);
  std::vector<SeriesPoint> out;
  if (to < start) return out;
  // The newest good point changes only at these instants.
  std::vector<int64_t> cuts = {start, to};
  for (const auto& p : points) {
    for (int64_t t : {p.time_ns, p.gone_ns, p.damaged_ns}) {
      if (t > start && t < to) cuts.push_back(t);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  auto base_at = [&](int64_t t) {
    int64_t base = origin;
    bool found = false;
    for (const auto& p : points) {
      if (contracts::GoodPointAt(p, t) && (!found || p.time_ns > base)) {
        base = p.time_ns;
        found = true;
      }
    }
    return base;
  };
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const int64_t base = base_at(cuts[i]);
    Push(out, cuts[i], static_cast<double>(cuts[i] - base));
    Push(out, cuts[i + 1], static_cast<double>(cuts[i + 1] - base));
  }
  if (cuts.size() == 1) Push(out, start, static_cast<double>(start - base_at(start)));
  return out;
}

std::vector<SeriesPoint> CoverageSeries(const std::vector<CheckSample>& checks, int64_t window_ns,
                                        int64_t from, int64_t to) {
  std::vector<SeriesPoint> out;
  int64_t first = 0;
  bool any = false;
  for (const auto& c : checks) {
    if (c.at_ns <= to && (!any || c.at_ns < first)) first = c.at_ns, any = true;
  }
  if (!any) return out;
  const int64_t start = std::max(from, first);
  // Coverage at t: the checks finished in (t - window, t]. Constant between
  // the instants a check finishes or leaves the window.
  auto value = [&](int64_t t) -> double {
    std::map<std::string, std::pair<int64_t, uint64_t>> listed;  // set -> (at, entries)
    std::map<std::string, uint64_t> read;
    for (const auto& c : checks) {
      if (c.at_ns > t) continue;
      auto [it, fresh] = listed.try_emplace(c.backup_set, c.at_ns, c.entries);
      if (!fresh && c.at_ns >= it->second.first) it->second = {c.at_ns, c.entries};
      if (c.at_ns > t - window_ns) read[c.backup_set] += c.read;
    }
    uint64_t entries = 0, covered = 0;
    for (const auto& [set, l] : listed) {
      entries += l.second;
      covered += std::min(read[set], l.second);
    }
    return entries == 0 ? 0.0 : static_cast<double>(covered) / static_cast<double>(entries);
  };
  std::vector<int64_t> cuts = {start, to};
  for (const auto& c : checks) {
    for (int64_t t : {c.at_ns, c.at_ns + window_ns}) {
      if (t > start && t <= to) cuts.push_back(t);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (const int64_t t : cuts) {
    const double v = value(t);
    // A step: the previous level up to t, then the new one (the end of the
    // series is always drawn).
    if (!out.empty() && (v != out.back().value || t == to)) Push(out, t, out.back().value);
    Push(out, t, v);
  }
  return out;
}

std::vector<SeriesPoint> Downsample(const std::vector<SeriesPoint>& points, size_t max) {
  max = std::max<size_t>(max, 4);
  if (points.size() <= max) return points;
  std::vector<SeriesPoint> out = {points.front()};
  const size_t inner = points.size() - 2, runs = (max - 2) / 2;
  for (size_t r = 0; r < runs; ++r) {
    const size_t b = 1 + inner * r / runs, e = 1 + inner * (r + 1) / runs;
    if (b >= e) continue;
    size_t lo = b, hi = b;
    for (size_t i = b; i < e; ++i) {
      if (points[i].value < points[lo].value) lo = i;
      if (points[i].value > points[hi].value) hi = i;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
  }
  out.push_back(points.back());
  return out;
}

namespace {

// The finished checks of the tenant's log, by backup set (drills and failed
// tasks left out).
Status LoadChecks(storage::KvStore& kv, const std::string& tenant,
                  std::map<std::string, std::vector<CheckSample>>* out) {
  Status parse;
  Status s =
      check_log::Scan(kv, tenant, [&](const check_log::LogRecord& r, const check_log::Hash&) {
        nlohmann::json j = nlohmann::json::parse(r.payload, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object()) {
          parse = absl::DataLossError("check log record " + std::to_string(r.seq) + " of " +
                                      tenant + " is not JSON");
          return false;
        }
        if (j.value("type", "") != "check" || j.value("state", "") != "done") return true;
        CheckSample c;
        c.backup_set = j.value("backup_set", "");
        c.at_ns = j.value("finished_ns", r.at_ns);
        c.entries = j.value("entries", uint64_t{0});
        uint64_t not_read = 0;
        if (auto it = j.find("counts"); it != j.end() && it->is_object()) {
          not_read = it->value("not_read", uint64_t{0});
        }
        c.read = j.value("inventory_only", false) ? 0 : c.entries - std::min(not_read, c.entries);
        (*out)[c.backup_set].push_back(std::move(c));
        return true;
      });
  return s.ok() ? parse : s;
}

}  // namespace

StatusOr<std::vector<HistorySeries>> TenantHistory(storage::Catalogue& cat,
                                                   const std::string& tenant, int64_t from_ns,
                                                   int64_t now_ns, size_t max_points) {
  std::vector<HistorySeries> out;
  auto versions = LoadContracts(cat.kv(), tenant);
  if (!versions.ok()) return versions.status();
  const contracts::Contract* contract = contracts::VersionInForce(*versions, now_ns);
  if (contract == nullptr) return out;
  std::map<std::string, std::vector<CheckSample>> checks;
  if (Status s = LoadChecks(*cat.kv(), tenant, &checks); !s.ok()) return s;

  for (const contracts::Asset& asset : contract->assets) {
    std::vector<const contracts::Commitment*> cs = contract->CommitmentsFor(asset.name);
    const contracts::Commitment* rpo = contracts::FindKind(cs, contracts::CommitmentKind::kRpo);
    const contracts::Commitment* integ =
        contracts::FindKind(cs, contracts::CommitmentKind::kIntegrity);
    if (rpo == nullptr && integ == nullptr) continue;
    int64_t first_check = 0;
    std::vector<CheckSample> asset_checks;
    for (const auto& set : asset.backup_sets) {
      auto it = checks.find(set.name);
      if (it == checks.end()) continue;
      for (const CheckSample& c : it->second) {
        if (first_check == 0 || c.at_ns < first_check) first_check = c.at_ns;
        asset_checks.push_back(c);
      }
    }

    if (rpo != nullptr) {
      HistorySeries h;
      h.asset = asset.name;
      h.kind = "rpo";
      h.metric = "rpo_age";
      h.has_limit = true;
      h.limit = static_cast<double>(rpo->rpo.max_age_ns);
      h.definition =
          "age of the newest good restore point (its time, over every backup set of the asset; "
          "before any, since monitoring began), at each instant; line: the RPO of " +
          HumanDuration(rpo->rpo.max_age_ns);
      std::vector<contracts::PointFact> facts;
      std::vector<std::string> mirrors;
      for (const auto& set : asset.backup_sets) {
        if (checks.count(set.name) == 0) continue;  // never checked: nothing known
        auto loaded = LoadPoints(cat.kv(), tenant, set.name);
        if (!loaded.ok()) return loaded.status();
        std::vector<v1::PointRecord> records = std::move(*loaded);
        // A mirror without a record: one point at 0 (other layouts: none).
        if (records.empty() && set.layout == contracts::Layout::kMirror) records.emplace_back();
        for (const v1::PointRecord& r : records) {
          contracts::PointFact p = ToPointFact(r);
          if (r.time_ns() == 0) {
            // A mirror: dated by its last sync as far as evidence shows, as
            // the verdict dates it.
            if (r.gone_ns() != 0) continue;
            auto scan = cat.Scan({tenant, set.name, 0});
            int64_t newest = 0;
            for (; scan->Valid(); scan->Next()) newest = std::max(newest, scan->entry().mtime_ns);
            if (!scan->status().ok()) return scan->status();
            if (Status d = DateMirror(cat, tenant, set, r, newest, &p); !d.ok()) return d;
            if (p.time_ns == 0) continue;
            mirrors.push_back(set.name);
          }
          facts.push_back(std::move(p));
        }
      }
      if (first_check == 0) {
        h.note = "no check recorded yet";
      } else {
        const int64_t origin = std::max(first_check, contract->effective_from_ns);
        h.points = RpoAgeSeries(facts, origin, from_ns, now_ns);
        if (!mirrors.empty()) {
          std::string names;
          for (const auto& m : mirrors) names += (names.empty() ? "" : ", ") + m;
          h.note = names +
                   ": a mirror without dated restore points, counted as one point dated by its "
                   "last sync as far as the evidence shows (as the verdict does); its earlier "
                   "states are not recorded";
        }
      }
      h.samples = h.points.size();
      h.points = Downsample(h.points, max_points);
      out.push_back(std::move(h));
    }

    if (integ != nullptr && integ->integrity.reverify_within_ns > 0) {
      HistorySeries h;
      h.asset = asset.name;
      h.kind = "integrity";
      h.metric = "coverage";
      const int64_t window = integ->integrity.reverify_within_ns;
      h.definition = "entries read by checks that finished within the last " +
                     HumanDuration(window) +
                     ", over the entries listed, by check completion time (from the check log: "
                     "an entry read twice counts twice, so an upper bound of the coverage the "
                     "verdict measures)";
      if (integ->integrity.sample > 0) {
        h.note =
            "sampled commitment: its verdict rests on the random sample's faults, not on coverage";
      } else {
        h.has_limit = true;
        h.limit = 1.0;
        h.definition += "; line: every entry re-read";
      }
      // Checks before the window's start still count within it.
      std::vector<CheckSample> relevant;
      for (const CheckSample& c : asset_checks) {
        if (c.at_ns > from_ns - window) relevant.push_back(c);
      }
      // Entries listed before `from`: the latest check of each set before it.
      std::map<std::string, const CheckSample*> before;
      for (const CheckSample& c : asset_checks) {
        if (c.at_ns <= from_ns - window) {
          auto& b = before[c.backup_set];
          if (b == nullptr || c.at_ns > b->at_ns) b = &c;
        }
      }
      for (const auto& [set, c] : before) {
        CheckSample listed = *c;
        listed.read = 0;  // outside every window from `from` on
        relevant.push_back(listed);
      }
      h.points = CoverageSeries(relevant, window, from_ns, now_ns);
      if (asset_checks.empty()) h.note = "no check recorded yet";
      h.samples = h.points.size();
      h.points = Downsample(h.points, max_points);
      out.push_back(std::move(h));
    }
  }
  return out;
}

}  // namespace vigil::coordinator
