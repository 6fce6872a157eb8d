#include "services/contracts/schedule.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "base/name_table.h"
#include "services/common/text.h"
#include "services/contracts/calendar.h"
#include "services/contracts/parse.h"

namespace vigil::contracts {
namespace {

// FNV-1a: stable across runs and builds (std::hash is not).
uint64_t StableHash(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

constexpr NameRow<CheckKind> kCheckKindNames[] = {{CheckKind::kInventory, "inventory"},
                                                  {CheckKind::kIntegrity, "integrity"},
                                                  {CheckKind::kRestoreDrill, "drill"}};
static_assert(CoversEnum(kCheckKindNames));

}  // namespace

const char* CheckKindName(CheckKind k) { return NameOf(kCheckKindNames, k, "?"); }

int64_t Cadence(CheckKind kind, const std::vector<const Commitment*>& cs) {
  switch (kind) {
    case CheckKind::kInventory: {
      const Commitment* rpo = FindKind(cs, CommitmentKind::kRpo);
      if (rpo == nullptr) return kDayNs;
      return std::clamp<int64_t>(rpo->rpo.max_age_ns / 2, 5 * kMinuteNs, kDayNs);
    }
    case CheckKind::kIntegrity: {
      const Commitment* c = FindKind(cs, CommitmentKind::kIntegrity);
      if (c == nullptr) return 0;
      const IntegritySpec& s = c->integrity;
      if (s.budget_bytes > 0 || s.sample > 0) {
        return std::clamp<int64_t>(s.reverify_within_ns / 4, kHourNs, kDayNs);
      }
      return std::max<int64_t>(s.reverify_within_ns / 2, kHourNs);
    }
    case CheckKind::kRestoreDrill: {
      const Commitment* c = FindKind(cs, CommitmentKind::kRestoreDrill);
      if (c == nullptr) return 0;
      return std::max<int64_t>(c->drill.every_ns - c->drill.every_ns / 10, kHourNs);
    }
  }
  return 0;
}

namespace {

// The latest end among the maintenance windows holding `t`; nullopt when
// none does.
std::optional<int64_t> WindowEndAt(const Location& loc, const Calendar& cal, int64_t t) {
  std::optional<int64_t> end;
  // A window may have started on one of the previous days and still run.
  for (const WeeklyWindow& w : loc.maintenance_windows) {
    int64_t span_days = w.duration_ns / kDayNs + 1;
    for (int64_t back = 0; back <= span_days; ++back) {
      Interval day = cal.UnitBefore(CalendarUnit::kDay, t, static_cast<int>(back));
      auto c = cal.ToCivil(day.start_ns);
      if ((w.days & (1u << c.weekday)) == 0) continue;
      int64_t start = day.start_ns + static_cast<int64_t>(w.start_minute) * kMinuteNs;
      if (t >= start && t < start + w.duration_ns) {
        end = std::max(end.value_or(0), start + w.duration_ns);
      }
    }
  }
  return end;
}

}  // namespace

bool InMaintenance(const Location& loc, int64_t t) {
  if (loc.maintenance_windows.empty()) return false;
  return WindowEndAt(loc, Calendar(loc.timezone), t).has_value();
}

int64_t NextReadable(const Location& loc, int64_t t) {
  if (loc.maintenance_windows.empty()) return t;
  Calendar cal(loc.timezone);
  // Jump from window end to window end: windows that touch or overlap are
  // crossed one after the other (bounded: a week of back-to-back windows).
  int64_t cur = t;
  for (int i = 0; i < 7 * 24 * 60; ++i) {
    std::optional<int64_t> end = WindowEndAt(loc, cal, cur);
    if (!end) return cur;
    cur = *end;
  }
  return cur;
}

std::vector<DueCheck> PlanChecks(const Tenant& tenant, const Contract& contract,
                                 const std::map<std::string, Location>& locations,
                                 const CheckHistory& history, int64_t now,
                                 const ScheduleOptions& options) {
  std::vector<DueCheck> out;
  for (const Asset& a : contract.assets) {
    std::vector<const Commitment*> cs = contract.CommitmentsFor(a.name);
    const Commitment* integ = FindKind(cs, CommitmentKind::kIntegrity);
    for (const BackupSet& s : a.backup_sets) {
      auto loc = locations.find(s.location);
      for (CheckKind k : {CheckKind::kInventory, CheckKind::kIntegrity, CheckKind::kRestoreDrill}) {
        int64_t cadence = Cadence(k, cs);
        if (cadence == 0) continue;
        // One drill per asset: on its first backup set (the primary copy).
        if (k == CheckKind::kRestoreDrill && &s != &a.backup_sets.front()) continue;
        auto h = history.find({s.name, k});
        int64_t jitter = options.max_jitter_ns > 0
                             ? static_cast<int64_t>(
                                   StableHash(tenant.name + "/" + s.name + "/" + CheckKindName(k)) %
                                   static_cast<uint64_t>(options.max_jitter_ns))
                             : 0;
        DueCheck d;
        d.tenant = tenant.name;
        d.asset = a.name;
        d.backup_set = s.name;
        d.location = s.location;
        d.kind = k;
        // Never run: due now (an inventory is the baseline everything needs).
        d.due_ns = h == history.end() ? now : h->second + cadence + jitter;
        d.overdue = d.due_ns <= now;
        d.start_ns = std::max(d.due_ns, now);
        if (loc != locations.end()) {
          d.start_ns = NextReadable(loc->second, d.start_ns);
          d.rate_limit_bytes_per_s = loc->second.io_budget_bytes_per_s;
        }
        if (k == CheckKind::kIntegrity && integ != nullptr) {
          d.byte_budget = integ->integrity.budget_bytes;
          d.sample = integ->integrity.sample;
        }
        if (d.start_ns < now + options.horizon_ns) out.push_back(std::move(d));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const DueCheck& x, const DueCheck& y) {
    if (x.overdue != y.overdue) return x.overdue;
    if (x.overdue) return x.due_ns < y.due_ns;  // most overdue first
    return x.start_ns < y.start_ns;
  });
  return out;
}

ReadBudgetCoverage JudgeReadBudget(const Location& loc, std::optional<uint64_t> set_bytes,
                                   int64_t reverify_within_ns) {
  ReadBudgetCoverage c;
  const uint64_t budget = loc.read_bytes_per_day;
  if (budget == 0 || reverify_within_ns <= 0) return c;
  c.applies = true;
  if (!set_bytes) {
    c.text = "size unknown until its first check";
    return c;
  }
  c.size_known = true;
  const long double bytes = static_cast<long double>(*set_bytes);
  const long double days = static_cast<long double>(reverify_within_ns) / kDayNs;
  c.needed_per_day = static_cast<uint64_t>(std::ceil(bytes / days));
  const uint64_t pass_days = (*set_bytes + budget - 1) / budget;
  c.full_pass_ns = static_cast<int64_t>(std::min<uint64_t>(pass_days, 365ULL * 1000)) * kDayNs;
  // A pass of whole days at the budget must fit in the period.
  c.reachable = c.full_pass_ns <= reverify_within_ns;
  if (c.reachable) return c;
  c.text = "reverifyWithin " + FormatDuration(reverify_within_ns) + " needs " +
           HumanBytes(static_cast<double>(c.needed_per_day)) + "/day over " +
           HumanBytes(static_cast<double>(*set_bytes)) + "; readBudget allows " +
           HumanBytes(static_cast<double>(budget)) + "/day: full pass in " +
           std::to_string(pass_days) + " d";
  return c;
}

}  // namespace vigil::contracts
