#include "services/contracts/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "services/common/text.h"

namespace vigil::contracts {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

std::string Pct(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %%", f * 100.0);
  return buf;
}

// The points and facts of one asset, across all its backup sets.
struct AssetView {
  const Asset* asset = nullptr;
  struct Point {
    const PointFact* p;
    const BackupSet* set;
  };
  std::vector<Point> points;  // by time ascending
  std::vector<const BackupSetFacts*> facts;
  std::vector<const BackupSet*> sets;
  int64_t first_inventory_ns = 0;  // earliest over the sets (0 = never)
  int64_t last_inventory_ns = 0;   // latest over the sets
};

AssetView ViewOf(const Asset& a, const TenantFacts& tf) {
  AssetView v;
  v.asset = &a;
  for (const BackupSet& s : a.backup_sets) {
    v.sets.push_back(&s);
    auto it = tf.sets.find(s.name);
    if (it == tf.sets.end()) continue;
    const BackupSetFacts& f = it->second;
    v.facts.push_back(&f);
    if (f.first_inventory_ns != 0 &&
        (v.first_inventory_ns == 0 || f.first_inventory_ns < v.first_inventory_ns)) {
      v.first_inventory_ns = f.first_inventory_ns;
    }
    v.last_inventory_ns = std::max(v.last_inventory_ns, f.last_inventory_ns);
    for (const PointFact& p : f.points) {
      // A point at time 0 is one no evidence dates (a mirror before it is
      // dated, an empty one): not a backup of 1970.
      if (p.time_ns != 0) v.points.push_back({&p, &s});
    }
  }
  std::sort(v.points.begin(), v.points.end(),
            [](const AssetView::Point& x, const AssetView::Point& y) {
              return x.p->time_ns < y.p->time_ns;
            });
  return v;
}

bool Present(const PointFact& p, int64_t t) { return p.gone_ns == 0 || p.gone_ns > t; }

// A good point at `t`: taken by then, still there, not damaged, plausible.
bool GoodAt(const PointFact& p, int64_t t) {
  return p.time_ns <= t && Present(p, t) && (p.damaged_ns == 0 || p.damaged_ns > t) &&
         p.implausible.empty();
}

// Why `p` is not good at `t` ("" when it is): "gone", "damaged: ...",
// "implausible: ...", "not yet taken".
std::string WhyNotGood(const PointFact& p, int64_t t) {
  if (p.time_ns > t) return "not yet taken";
  if (!Present(p, t)) return "gone";
  if (p.damaged_ns != 0 && p.damaged_ns <= t) {
    return "damaged" + (p.damage.empty() ? std::string() : ": " + p.damage);
  }
  if (!p.implausible.empty()) return "implausible: " + p.implausible.front();
  return "";
}

// Newest good point at `t` (nullptr if none).
const AssetView::Point* NewestGood(const AssetView& v, int64_t t) {
  for (auto it = v.points.rbegin(); it != v.points.rend(); ++it) {
    if (GoodAt(*it->p, t)) return &*it;
  }
  return nullptr;
}

class Evaluator {
 public:
  Evaluator(const Tenant& tenant, const Contract& contract,
            const std::map<std::string, Location>& locations, const TenantFacts& facts,
            const Interval& interval, int64_t now, const EvaluateOptions& options)
      : tenant_(tenant),
        contract_(contract),
        locations_(locations),
        facts_(facts),
        iv_(interval),
        now_(now),
        options_(options),
        cal_(tenant.timezone) {}

  Evaluation Run() {
    Evaluation ev;
    ev.tenant = tenant_.name;
    ev.interval = iv_;
    ev.at_ns = now_;
    for (const Asset& a : contract_.assets) {
      AssetView v = ViewOf(a, facts_);
      monitored_from_ = v.first_inventory_ns == 0
                            ? 0
                            : std::max(v.first_inventory_ns, contract_.effective_from_ns);
      std::vector<const Commitment*> cs = contract_.CommitmentsFor(a.name);
      AssetReadiness r;
      r.asset = a.name;
      r.monitored_from_ns = monitored_from_;
      for (const Commitment* c : cs) {
        CommitmentVerdict cv;
        cv.asset = a.name;
        cv.kind = c->kind;
        switch (c->kind) {
          case CommitmentKind::kRpo:
            Rpo(v, *c, &cv);
            break;
          case CommitmentKind::kRetention:
            Retention(v, *c, &cv);
            break;
          case CommitmentKind::kCopies:
            Copies(v, *c, FindKind(cs, CommitmentKind::kRpo), &cv);
            break;
          case CommitmentKind::kIntegrity:
            Integrity(v, *c, &cv);
            break;
          case CommitmentKind::kRestoreDrill:
            Drill(v, *c, &cv);
            break;
        }
        Monitored(&cv);
        ev.verdicts.push_back(std::move(cv));
      }
      Ready(v, cs, &r);
      SiteLoss(v, cs, &r);
      ev.readiness.push_back(std::move(r));
      Scope(v, &ev.scope);
    }
    for (const std::string& u : facts_.unscoped) {
      ev.scope.push_back({u, "found at a location, not covered by the contract"});
    }
    ev.out_of_scope = contract_.out_of_scope;
    return ev;
  }

 private:
  int64_t End() const { return std::min(iv_.end_ns, now_); }
  // The first instant of the interval that was monitored.
  int64_t Start() const { return std::max(iv_.start_ns, monitored_from_); }

  // What every verdict says of the time before monitoring began: nothing.
  // A failure is detected at the earliest when monitoring began; when it
  // began, as far as the evidence shows, is kept apart (began_ns).
  void Monitored(CommitmentVerdict* cv) const {
    cv->monitored_from_ns = monitored_from_;
    if (cv->verdict == Verdict::kFail) {
      if (cv->began_ns == 0 || cv->began_ns > cv->failing_since_ns) {
        cv->began_ns = cv->failing_since_ns;
      }
      cv->failing_since_ns = std::max(cv->failing_since_ns, Start());
      if (cv->began_ns < cv->failing_since_ns) {
        cv->evidence.push_back(
            {"failure_began", When(cv->began_ns) + ", detected " + When(cv->failing_since_ns)});
      }
    }
    if (monitored_from_ > iv_.start_ns) {
      cv->evidence.push_back({"not_monitored_before", When(monitored_from_)});
      if (cv->verdict == Verdict::kPass) {
        cv->summary += "; not monitored before " + When(monitored_from_);
      }
    }
  }
  std::string When(int64_t t) const { return t == 0 ? "never" : cal_.Format(t); }

  // --- RPO: the age of the newest good point, at every instant ----------
  //
  // Between two events (a point taken, gone, or damaged) the newest good
  // point does not change, so its age grows linearly and peaks just before
  // the next event: checking each segment's end is exact.
  void Rpo(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    const int64_t max_age = c.rpo.max_age_ns;
    const int64_t end = End();
    cv->evidence.push_back({"rpo", HumanDuration(max_age), "contract"});
    if (v.last_inventory_ns == 0) {
      cv->verdict = Verdict::kUnknown;
      cv->summary = "no inventory of its backup sets yet";
      return;
    }
    // Only the monitored part of the interval is judged: from the first
    // inventory (or the contract's start if later). Before any good point,
    // the age counts from then: a new client is not in breach for backups
    // taken before Vigil was told of them.
    const int64_t origin = monitored_from_;
    const int64_t start = Start();
    if (end <= start) {
      cv->verdict = Verdict::kUnknown;
      cv->summary = "not monitored in the period: monitoring began " + When(origin);
      return;
    }
    std::vector<int64_t> cuts = {start, end};
    for (const auto& pt : v.points) {
      for (int64_t t : {pt.p->time_ns, pt.p->gone_ns, pt.p->damaged_ns}) {
        if (t > start && t < end) cuts.push_back(t);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    int64_t worst = -1, worst_at = 0, breach = 0, began = 0;
    // A breach whose newest good point is a mirror dated only by a lower
    // bound (no sync marker): nothing proves the sync stopped.
    int64_t unproven = 0;
    const AssetView::Point* unproven_point = nullptr;
    // A mirror keeps only its current state's date: before it, while the
    // mirror was already there, its state then is not recorded. That time
    // is not judged (like time not monitored), never a breach.
    int64_t unjudged_until = 0;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      const AssetView::Point* n = NewestGood(v, cuts[i]);
      int64_t seg_end = cuts[i + 1];
      if (n == nullptr && MirrorStateUnrecorded(v, cuts[i])) {
        unjudged_until = seg_end;
        continue;
      }
      int64_t base = n ? n->p->time_ns : origin;
      int64_t age = seg_end - base;
      if (age > worst) {
        worst = age;
        worst_at = seg_end;
      }
      if (age <= max_age) continue;
      const int64_t at = std::max(cuts[i], base + max_age);
      if (n != nullptr && n->p->time_is_lower_bound) {
        if (unproven == 0) unproven = at, unproven_point = n;
      } else if (breach == 0) {
        breach = at;
        began = base + max_age;
      }
    }
    const AssetView::Point* newest = NewestGood(v, end);
    if (newest) {
      cv->evidence.push_back({"newest_good_point", cal_.Format(newest->p->time_ns) + " (" +
                                                       newest->set->name + "/" + newest->p->name +
                                                       ")"});
      cv->evidence.push_back({"age_at_end", HumanDuration(end - newest->p->time_ns)});
    } else {
      cv->evidence.push_back({"newest_good_point", "none"});
    }
    for (const auto& pt : v.points) {
      if (!pt.p->time_basis.empty() && Present(*pt.p, end)) {
        cv->evidence.push_back(
            {"mirror_freshness " + pt.set->name,
             (pt.p->time_ns == 0 ? std::string("unknown") : When(pt.p->time_ns)) + " (" +
                 pt.p->time_basis + ")"});
      }
    }
    if (worst >= 0) {
      cv->evidence.push_back(
          {"worst_age_in_period", HumanDuration(worst) + " at " + cal_.Format(worst_at)});
    }
    cv->evidence.push_back({"last_inventory", When(v.last_inventory_ns)});
    // What Vigil cannot have seen: a breach after the last inventory.
    const int64_t stale = options_.stale_inventory_ns > 0 ? options_.stale_inventory_ns : max_age;
    if (breach != 0 && breach <= v.last_inventory_ns) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = breach;
      cv->began_ns = began;
      cv->summary = newest ? "no good restore point for " + HumanDuration(worst) + " (RPO " +
                                 HumanDuration(max_age) + "), from " + cal_.Format(breach)
                           : "no good restore point";
      return;
    }
    if (breach != 0 || end - v.last_inventory_ns > stale) {
      cv->verdict = Verdict::kUnknown;
      cv->summary = "not inventoried since " + When(v.last_inventory_ns);
      return;
    }
    if (unproven != 0) {
      const PointFact& p = *unproven_point->p;
      cv->verdict = Verdict::kUnknown;
      cv->summary = "no evidence of a sync of mirror " + unproven_point->set->name +
                    (p.time_ns == 0 ? std::string(" since monitoring began")
                                    : " since " + cal_.Format(p.time_ns)) +
                    " (" + p.time_basis +
                    "): unchanged data and a stopped sync look alike; declare a syncMarker";
      return;
    }
    cv->verdict = Verdict::kPass;
    if (newest == nullptr) {
      cv->summary = "no good restore point, but within the RPO of " + HumanDuration(max_age) +
                    " since monitoring began at " + When(origin);
      return;
    }
    cv->summary = "newest good point " + HumanDuration(end - newest->p->time_ns) + " old; worst " +
                  HumanDuration(worst) + " (RPO " + HumanDuration(max_age) + ")";
    if (unjudged_until != 0) {
      cv->evidence.push_back({"not_judged_before", When(unjudged_until) +
                                                       " (a mirror's earlier states are not "
                                                       "recorded)"});
      cv->summary += "; not judged before " + When(unjudged_until) +
                     " (a mirror's earlier states are not recorded)";
    }
  }

  // At `t` a mirror of the asset was present (first listed by then) but
  // its current state is dated later: what it held at `t` is not recorded.
  static bool MirrorStateUnrecorded(const AssetView& v, int64_t t) {
    for (const auto& pt : v.points) {
      const PointFact& p = *pt.p;
      if (!p.time_basis.empty() && p.first_seen_ns <= t && Present(p, t) && p.time_ns > t) {
        return true;
      }
    }
    return false;
  }

  // --- Retention: points that had to be kept and are gone ---------------
  //
  // Rung u with count N: the N most recent local days (ISO weeks, months,
  // years) in which a point was ever taken must each still hold a present,
  // undamaged point. Points that leave the ladder are aged out (expected);
  // a rung slot emptied while it is still among the N is a failure. Audited
  // at the start of the interval, at every disappearance or damage within
  // it, and at its end.
  struct Gap {
    std::string rung;
    Interval slot;
    std::string why;
  };

  std::vector<Gap> AuditAt(const AssetView& v, const RetentionSpec& spec, int64_t t,
                           uint64_t* required) const {
    std::vector<Gap> gaps;
    struct Rung {
      const char* name;
      CalendarUnit unit;
      int count;
    } rungs[] = {{"daily", CalendarUnit::kDay, spec.daily},
                 {"weekly", CalendarUnit::kWeek, spec.weekly},
                 {"monthly", CalendarUnit::kMonth, spec.monthly},
                 {"yearly", CalendarUnit::kYear, spec.yearly}};
    for (const Rung& r : rungs) {
      if (r.count <= 0) continue;
      int found = 0;
      int64_t cursor = t;
      // Walk slots back from t over the points ever taken by then.
      auto it =
          std::upper_bound(v.points.begin(), v.points.end(), t,
                           [](int64_t x, const AssetView::Point& p) { return x < p.p->time_ns; });
      while (found < r.count && it != v.points.begin()) {
        const AssetView::Point& last = *std::prev(it);
        Interval slot = cal_.UnitContaining(r.unit, std::min(cursor, last.p->time_ns));
        // Every point of the slot taken by t.
        // A slot is held by a good point: present, undamaged, plausible. One
        // held only by damaged or implausible points is not (restoring them
        // would bring back damaged data or an emptied or encrypted source).
        bool ok = false;
        bool any_gone = false;
        std::string bad;  // the slot's present points that are not good, and why
        auto first = it;
        while (first != v.points.begin() && std::prev(first)->p->time_ns >= slot.start_ns) {
          --first;
          const PointFact& p = *first->p;
          if (GoodAt(p, t)) ok = true;
          if (!Present(p, t)) {
            any_gone = true;
          } else if (std::string why = WhyNotGood(p, t); !why.empty()) {
            bad += (bad.empty() ? "" : ", ") + first->set->name + "/" + p.name + " " + why;
          }
        }
        ++found;
        if (!ok) {
          std::string why = !bad.empty() ? "held only by " + bad
                            : any_gone   ? "deleted while it must still be kept"
                                         : "no point";
          gaps.push_back({r.name, slot, why});
        }
        it = first;
        cursor = slot.start_ns - 1;
      }
      *required += static_cast<uint64_t>(found);
    }
    return gaps;
  }

  void Retention(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    const RetentionSpec& spec = c.retention;
    cv->evidence.push_back({"ladder",
                            "daily " + std::to_string(spec.daily) + ", weekly " +
                                std::to_string(spec.weekly) + ", monthly " +
                                std::to_string(spec.monthly) + ", yearly " +
                                std::to_string(spec.yearly),
                            "contract"});
    if (v.last_inventory_ns == 0) {
      cv->verdict = Verdict::kUnknown;
      cv->summary = "no inventory of its backup sets yet";
      return;
    }
    const int64_t end = End();
    std::vector<int64_t> audits = {iv_.start_ns, end - 1};
    for (const auto& pt : v.points) {
      // An implausible point fails its slot from when it was taken.
      const int64_t implausible = pt.p->implausible.empty() ? 0 : pt.p->time_ns;
      for (int64_t t : {pt.p->gone_ns, pt.p->damaged_ns, implausible}) {
        if (t > iv_.start_ns && t < end) audits.push_back(t);
      }
    }
    std::sort(audits.begin(), audits.end());
    audits.erase(std::unique(audits.begin(), audits.end()), audits.end());
    std::vector<Gap> first_gaps;
    int64_t failing_since = 0;
    for (int64_t t : audits) {
      uint64_t req = 0;
      std::vector<Gap> g = AuditAt(v, spec, t, &req);
      if (!g.empty() && failing_since == 0) {
        failing_since = t;
        first_gaps = g;
      }
    }
    uint64_t required = 0;
    std::vector<Gap> now_gaps = AuditAt(v, spec, end - 1, &required);
    uint64_t present = 0, aged_out = 0;
    for (const auto& pt : v.points) {
      if (pt.p->time_ns >= end) continue;
      if (Present(*pt.p, end - 1)) {
        ++present;
      } else if (pt.p->gone_ns >= iv_.start_ns) {
        ++aged_out;  // gone in the interval; the gaps below say if any was due
      }
    }
    cv->evidence.push_back({"required_slots_at_end", std::to_string(required)});
    cv->evidence.push_back({"points_present_at_end", std::to_string(present)});
    cv->evidence.push_back({"points_gone_in_period", std::to_string(aged_out)});
    {
      // Slots with points that do not count: damaged or implausible.
      std::string held_badly;
      for (const Gap& g : now_gaps) {
        if (g.why.rfind("held only by ", 0) != 0) continue;
        held_badly += (held_badly.empty() ? "" : "; ") + g.rung + " " +
                      cal_.FormatDate(g.slot.start_ns) + ": " + g.why.substr(13);
      }
      if (!held_badly.empty()) {
        cv->evidence.push_back({"slots_held_only_by_bad_points", held_badly});
      }
    }
    if (failing_since == 0) {
      cv->verdict = Verdict::kPass;
      cv->summary = std::to_string(required) + " required slots held; " + std::to_string(aged_out) +
                    " point(s) aged out as expected";
      return;
    }
    cv->verdict = Verdict::kFail;
    cv->failing_since_ns = failing_since;
    const std::vector<Gap>& shown = now_gaps.empty() ? first_gaps : now_gaps;
    std::string list;
    for (size_t i = 0; i < shown.size() && i < 5; ++i) {
      list += (i ? "; " : "") + std::string(shown[i].rung) + " " +
              cal_.FormatDate(shown[i].slot.start_ns) + ": " + shown[i].why;
    }
    if (shown.size() > 5) list += "; +" + std::to_string(shown.size() - 5) + " more";
    cv->evidence.push_back({"missing_slots", list});
    cv->summary = std::to_string(shown.size()) + " required slot(s) missing since " +
                  cal_.Format(failing_since) + ": " + list;
  }

  // --- Copies ------------------------------------------------------------
  void Copies(const AssetView& v, const Commitment& c, const Commitment* rpo,
              CommitmentVerdict* cv) {
    const int64_t end = End();
    cv->evidence.push_back(
        {"required",
         std::to_string(c.copies.min) + " copies, " + std::to_string(c.copies.offsite) + " offsite",
         "contract"});
    if (v.last_inventory_ns == 0) {
      cv->verdict = Verdict::kUnknown;
      cv->summary = "no inventory of its backup sets yet";
      return;
    }
    int current = 0, offsite = 0;
    std::string stale;
    for (const BackupSet* s : v.sets) {
      auto it = facts_.sets.find(s->name);
      const PointFact* newest = nullptr;
      if (it != facts_.sets.end()) {
        for (const PointFact& p : it->second.points) {
          if (GoodAt(p, end) && (!newest || p.time_ns > newest->time_ns)) newest = &p;
        }
      }
      bool is_current =
          newest != nullptr && (rpo == nullptr || end - newest->time_ns <= rpo->rpo.max_age_ns);
      auto loc = locations_.find(s->location);
      bool off = loc != locations_.end() && loc->second.offsite;
      std::string state = newest == nullptr ? "no good point"
                          : is_current      ? "current, newest " + cal_.Format(newest->time_ns)
                                            : "stale, newest " + cal_.Format(newest->time_ns);
      cv->evidence.push_back(
          {"copy " + s->name, s->location + (off ? " (offsite)" : "") + ": " + state});
      if (is_current) {
        ++current;
        if (off) ++offsite;
      } else {
        stale += (stale.empty() ? "" : ", ") + s->name;
      }
    }
    cv->evidence.push_back(
        {"offsite_locations", "offsite flags as declared by the MSP", "declared"});
    std::vector<std::string> disagreements, unestablished;
    std::set<std::string> mine;
    for (const BackupSet* s : v.sets) mine.insert(s->name);
    for (const CopyAgreement& a : facts_.copies) {
      if (!mine.count(a.a) && !mine.count(a.b)) continue;
      std::string pair = a.a + " vs " + a.b;
      switch (a.state) {
        case CopyAgreement::State::kAgree:
          cv->evidence.push_back({"agreement " + pair, "content agrees: " + GroupDigits(a.matched) +
                                                           " entries with equal digests"});
          break;
        case CopyAgreement::State::kDisagree:
          disagreements.push_back(pair);
          cv->evidence.push_back(
              {"agreement " + pair, "content differs: " + GroupDigits(a.differing) +
                                        " entries differ, " + GroupDigits(a.missing_in_b) +
                                        " missing" +
                                        (a.detail.empty() ? "" : " (" + a.detail + ")")});
          break;
        case CopyAgreement::State::kNotEstablished:
          unestablished.push_back(pair);
          cv->evidence.push_back(
              {"agreement " + pair,
               "content agreement not established" + (a.detail.empty() ? "" : ": " + a.detail)});
          break;
      }
    }
    cv->evidence.push_back({"current_copies", std::to_string(current)});
    cv->evidence.push_back({"current_offsite_copies", std::to_string(offsite), "declared"});
    std::vector<std::string> problems;
    if (current < c.copies.min) {
      problems.push_back(std::to_string(current) + " current copies of " +
                         std::to_string(c.copies.min) + " required" +
                         (stale.empty() ? "" : " (not current: " + stale + ")"));
    }
    if (offsite < c.copies.offsite) {
      problems.push_back(std::to_string(offsite) + " current offsite copies of " +
                         std::to_string(c.copies.offsite) + " required");
    }
    for (const auto& d : disagreements) problems.push_back("copies differ: " + d);
    if (problems.empty()) {
      cv->verdict = Verdict::kPass;
      cv->summary = std::to_string(current) + " current copies, " + std::to_string(offsite) +
                    " offsite (declared)";
      if (!unestablished.empty()) cv->summary += "; content agreement not established for some";
      return;
    }
    cv->verdict = Verdict::kFail;
    cv->failing_since_ns = end;
    std::string s;
    for (const auto& p : problems) s += (s.empty() ? "" : "; ") + p;
    cv->summary = s;
  }

  // --- Integrity coverage -------------------------------------------------
  void Integrity(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    const IntegritySpec& spec = c.integrity;
    const int64_t end = End();
    cv->evidence.push_back({"reverify_within", HumanDuration(spec.reverify_within_ns), "contract"});
    uint64_t entries = 0, within = 0, failures = 0, sampled = 0, faults = 0;
    int64_t oldest = kNever, last_run = 0;
    for (const BackupSetFacts* f : v.facts) {
      const IntegrityFact& i = f->integrity;
      entries += i.entries;
      within += i.verified_within;
      failures += i.failures;
      sampled += i.sampled;
      faults += i.sample_faults;
      if (i.entries > 0) oldest = std::min(oldest, i.oldest_verified_ns);
      last_run = std::max(last_run, i.last_run_ns);
    }
    cv->evidence.push_back({"entries", GroupDigits(entries)});
    cv->evidence.push_back({"last_run", When(last_run)});
    if (failures > 0) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = end;
      for (const auto& pt : v.points) {
        if (pt.p->damaged_ns != 0 && pt.p->damaged_ns < end && Present(*pt.p, end - 1) &&
            (cv->failing_since_ns == end || pt.p->damaged_ns < cv->failing_since_ns)) {
          cv->failing_since_ns = std::max(pt.p->damaged_ns, iv_.start_ns);
        }
      }
      cv->evidence.push_back({"failures", GroupDigits(failures)});
      for (const auto& pt : v.points) {
        if (pt.p->damaged_ns != 0 && !pt.p->damage.empty()) {
          cv->evidence.push_back({"damaged " + pt.set->name + "/" + pt.p->name, pt.p->damage});
        }
      }
      cv->summary = GroupDigits(failures) + " entries modified, missing or unreadable";
      return;
    }
    if (spec.sample > 0) {
      if (sampled == 0) {
        cv->verdict = Verdict::kUnknown;
        cv->summary = "no sampled run within " + HumanDuration(spec.reverify_within_ns);
        return;
      }
      double bound = 3.0 / static_cast<double>(sampled);
      cv->evidence.push_back({"sampled_entries", GroupDigits(sampled)});
      cv->evidence.push_back({"sample_faults", GroupDigits(faults)});
      cv->evidence.push_back(
          {"confidence", "no fault in n = " + GroupDigits(sampled) +
                             " random entries bounds the fault rate below 3/n = " + Pct(bound) +
                             " at 95 % confidence (rule of three)"});
      if (faults > 0) {
        cv->verdict = Verdict::kFail;
        cv->failing_since_ns = end;
        cv->summary =
            GroupDigits(faults) + " faults in " + GroupDigits(sampled) + " sampled entries";
      } else {
        cv->verdict = Verdict::kPass;
        cv->summary = "no fault in " + GroupDigits(sampled) + " sampled entries (fault rate < " +
                      Pct(bound) + ", 95 %)";
      }
      return;
    }
    if (entries == 0) {
      cv->verdict = Verdict::kUnknown;
      cv->summary = "nothing catalogued yet";
      return;
    }
    double coverage = static_cast<double>(within) / static_cast<double>(entries);
    cv->evidence.push_back({"coverage", Pct(coverage) + " (" + GroupDigits(within) + " of " +
                                            GroupDigits(entries) + " entries re-read within " +
                                            HumanDuration(spec.reverify_within_ns) + ")"});
    cv->evidence.push_back({"oldest_verification", When(oldest == kNever ? 0 : oldest)});
    if (within >= entries) {
      cv->verdict = Verdict::kPass;
      cv->summary = "every entry re-read within " + HumanDuration(spec.reverify_within_ns);
      return;
    }
    cv->verdict = Verdict::kFail;
    cv->failing_since_ns = oldest == 0 || oldest == kNever
                               ? end
                               : std::max(iv_.start_ns, oldest + spec.reverify_within_ns);
    cv->summary = "coverage " + Pct(coverage) + ": " + GroupDigits(entries - within) +
                  " entries not re-read within " + HumanDuration(spec.reverify_within_ns);
  }

  // --- Restore drill ---------------------------------------------------
  const DrillFact* LatestDrill(const AssetView& v, int64_t t) const {
    const DrillFact* d = nullptr;
    for (const BackupSetFacts* f : v.facts) {
      for (const DrillFact& x : f->drills) {
        if (x.at_ns <= t && (!d || x.at_ns > d->at_ns)) d = &x;
      }
    }
    return d;
  }

  static double Throughput(const DrillFact& d) {
    return d.seconds > 0 ? static_cast<double>(d.bytes) / d.seconds : 0;
  }
  static int64_t Projected(const DrillFact& d) {
    double tp = Throughput(d);
    if (tp <= 0) return kNever;
    return static_cast<int64_t>(static_cast<double>(d.point_bytes) / tp * 1e9);
  }

  void Drill(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    const RestoreDrillSpec& spec = c.drill;
    const int64_t end = End();
    cv->evidence.push_back({"every", HumanDuration(spec.every_ns), "contract"});
    cv->evidence.push_back({"rto", HumanDuration(spec.rto_ns), "contract"});
    const DrillFact* d = LatestDrill(v, end);
    if (d == nullptr) {
      int64_t since = std::max(v.first_inventory_ns, contract_.effective_from_ns);
      if (v.first_inventory_ns != 0 && end - since > spec.every_ns) {
        cv->verdict = Verdict::kFail;
        cv->failing_since_ns = std::max(iv_.start_ns, since + spec.every_ns);
        cv->summary = "no restore drill since " + When(since) + " (every " +
                      HumanDuration(spec.every_ns) + ")";
      } else {
        cv->verdict = Verdict::kUnknown;
        cv->summary = "no drill yet";
        if (v.first_inventory_ns != 0) {
          cv->summary += "; first due by " + cal_.Format(since + spec.every_ns);
        }
      }
      return;
    }
    double tp = Throughput(*d);
    int64_t projected = Projected(*d);
    cv->evidence.push_back({"last_drill", When(d->at_ns)});
    cv->evidence.push_back({"restore_point", cal_.Format(d->point_time_ns)});
    if (!d->skipped.empty()) {
      std::string list;
      for (const std::string& x : d->skipped) list += (list.empty() ? "" : "; ") + x;
      cv->evidence.push_back({"newer_points_skipped", list});
    }
    cv->evidence.push_back(
        {"sample", GroupDigits(d->files) + " files, " + HumanBytes(static_cast<double>(d->bytes))});
    cv->evidence.push_back({"throughput", HumanBytes(tp) + "/s"});
    cv->evidence.push_back({"point_size", HumanBytes(static_cast<double>(d->point_bytes))});
    cv->evidence.push_back(
        {"projected_full_restore", projected == kNever ? "unknown" : HumanDuration(projected)});
    cv->evidence.push_back({"assumptions", options_.drill_assumptions});
    if (!d->error.empty()) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns);
      cv->summary = "the last drill failed: " + d->error;
      return;
    }
    if (d->mismatches > 0) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns);
      cv->summary = GroupDigits(d->mismatches) + " restored files differ from the catalogue";
      return;
    }
    if (end - d->at_ns > spec.every_ns) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns + spec.every_ns);
      cv->summary = "last drill " + When(d->at_ns) + ", overdue since " +
                    cal_.Format(d->at_ns + spec.every_ns);
      return;
    }
    if (projected > spec.rto_ns) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns);
      cv->summary = "projected full restore " +
                    (projected == kNever ? std::string("unknown") : HumanDuration(projected)) +
                    " exceeds the RTO of " + HumanDuration(spec.rto_ns);
      return;
    }
    cv->verdict = Verdict::kPass;
    cv->summary = "projected full restore " + HumanDuration(projected) + " within the RTO of " +
                  HumanDuration(spec.rto_ns) + " (drill " + cal_.FormatDate(d->at_ns) + ")";
  }

  // --- Restore readiness: could we restore it now? ------------------------
  void Ready(const AssetView& v, const std::vector<const Commitment*>& cs, AssetReadiness* r) {
    const int64_t end = End();
    const AssetView::Point* newest = NewestGood(v, end);
    std::vector<std::string> not_ready, at_risk;
    if (v.last_inventory_ns == 0) {
      not_ready.push_back("never inventoried");
    } else if (!AnyPresent(v, end)) {
      not_ready.push_back("in scope, no backup found" + NoBackupWhy(v));
    } else if (newest == nullptr) {
      not_ready.push_back("no good restore point");
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kRpo); c && newest) {
      int64_t age = end - newest->p->time_ns;
      if (age > c->rpo.max_age_ns) at_risk.push_back(TooOld(*newest, age, c->rpo.max_age_ns));
      const int64_t stale =
          options_.stale_inventory_ns > 0 ? options_.stale_inventory_ns : c->rpo.max_age_ns;
      if (end - v.last_inventory_ns > stale) {
        at_risk.push_back("not inventoried since " + When(v.last_inventory_ns));
      }
    }
    // The newest point present is implausible (an emptied or encrypted
    // source): the next restore would bring that back. A newer plausible
    // point clears it.
    for (auto it = v.points.rbegin(); it != v.points.rend(); ++it) {
      if (it->p->time_ns > end || !Present(*it->p, end)) continue;
      if (!it->p->implausible.empty()) {
        at_risk.push_back("newest point " + it->set->name + "/" + it->p->name +
                          " is implausible: " + it->p->implausible.front());
      }
      break;
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kIntegrity)) {
      CommitmentVerdict iv;
      Integrity(v, *c, &iv);
      if (iv.verdict == Verdict::kFail) at_risk.push_back("integrity: " + iv.summary);
      if (iv.verdict == Verdict::kUnknown) at_risk.push_back("integrity: " + iv.summary);
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kRestoreDrill)) {
      const DrillFact* d = LatestDrill(v, end);
      if (d == nullptr) {
        at_risk.push_back("never drilled");
      } else if (!d->error.empty() || d->mismatches > 0) {
        not_ready.push_back("last restore drill " + cal_.FormatDate(d->at_ns) + " failed" +
                            (d->error.empty() ? ": restored data differs" : ": " + d->error));
      } else {
        if (end - d->at_ns > c->drill.every_ns) {
          at_risk.push_back("last drill " + cal_.FormatDate(d->at_ns) + " is overdue");
        }
        int64_t projected = Projected(*d);
        if (projected > c->drill.rto_ns) {
          at_risk.push_back(
              "projected restore " +
              (projected == kNever ? std::string("unknown") : HumanDuration(projected)) +
              " exceeds the RTO of " + HumanDuration(c->drill.rto_ns));
        }
      }
    }
    // A required restore point gone or damaged: that point cannot be
    // restored.
    if (const Commitment* c = FindKind(cs, CommitmentKind::kRetention)) {
      CommitmentVerdict rv;
      Retention(v, *c, &rv);
      if (rv.verdict == Verdict::kFail) at_risk.push_back("retention: " + rv.summary);
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kCopies);
        c != nullptr && c->copies.gates_readiness) {
      CommitmentVerdict cv;
      Copies(v, *c, FindKind(cs, CommitmentKind::kRpo), &cv);
      if (cv.verdict == Verdict::kFail) not_ready.push_back("copies: " + cv.summary);
    }
    Level(not_ready, at_risk, &r->readiness, &r->reasons);
  }

  static void Level(const std::vector<std::string>& not_ready,
                    const std::vector<std::string>& at_risk, Readiness* level,
                    std::vector<std::string>* reasons) {
    reasons->clear();
    if (!not_ready.empty()) {
      *level = Readiness::kNotReady;
      *reasons = not_ready;
      reasons->insert(reasons->end(), at_risk.begin(), at_risk.end());
    } else if (!at_risk.empty()) {
      *level = Readiness::kAtRisk;
      *reasons = at_risk;
    } else {
      *level = Readiness::kReady;
    }
  }

  // Why the newest good point `p`, `age` old, is past the RPO.
  std::string TooOld(const AssetView::Point& p, int64_t age, int64_t max_age) const {
    if (p.p->time_is_lower_bound) {
      return "no evidence of a sync of mirror " + p.set->name + " since " + When(p.p->time_ns) +
             " (" + p.p->time_basis + "; RPO " + HumanDuration(max_age) + ")";
    }
    return "newest good point is " + HumanDuration(age) + " old (RPO " + HumanDuration(max_age) +
           ")";
  }

  // --- Readiness after the loss of the primary site ---------------------
  //
  // Could the asset be restored if the primary site (that of the location
  // of its first backup set) burnt down? Only backup sets on locations
  // declared offsite, on another site, count: ready when one holds a good
  // point within the RPO and was inventoried lately, and the copies
  // commitment (if any) is not failing.
  void SiteLoss(const AssetView& v, const std::vector<const Commitment*>& cs, AssetReadiness* r) {
    const int64_t end = End();
    const Commitment* rpo = FindKind(cs, CommitmentKind::kRpo);
    std::vector<std::string> not_ready, at_risk, problems;
    std::string primary_site;
    if (!v.sets.empty()) {
      if (auto it = locations_.find(v.sets.front()->location); it != locations_.end()) {
        primary_site = it->second.site;
      }
    }
    int offsite_sets = 0, current = 0;
    bool any_good = false;
    for (const BackupSet* s : v.sets) {
      auto loc = locations_.find(s->location);
      if (loc == locations_.end() || !loc->second.offsite) continue;
      if (!primary_site.empty() && loc->second.site == primary_site) {
        problems.push_back(s->name + ": location " + s->location +
                           " is declared offsite but is on the primary site " + primary_site);
        continue;
      }
      ++offsite_sets;
      auto f = facts_.sets.find(s->name);
      if (f == facts_.sets.end() || f->second.last_inventory_ns == 0) {
        problems.push_back("offsite copy " + s->name + " never inventoried");
        continue;
      }
      const AssetView::Point* newest = nullptr;
      const AssetView::Point* newest_present = nullptr;
      for (const AssetView::Point& pt : v.points) {
        if (pt.set != s || pt.p->time_ns > end || !Present(*pt.p, end)) continue;
        newest_present = &pt;
        if (GoodAt(*pt.p, end)) newest = &pt;
      }
      if (newest == nullptr) {
        problems.push_back("offsite copy " + s->name + ": no good restore point");
        continue;
      }
      any_good = true;
      if (newest_present != newest && !newest_present->p->implausible.empty()) {
        problems.push_back("offsite copy " + s->name + ": newest point " + newest_present->p->name +
                           " is implausible: " + newest_present->p->implausible.front());
        continue;
      }
      const int64_t age = end - newest->p->time_ns;
      if (rpo != nullptr && age > rpo->rpo.max_age_ns) {
        problems.push_back("offsite copy " + s->name + ": " +
                           TooOld(*newest, age, rpo->rpo.max_age_ns));
        continue;
      }
      const int64_t stale = options_.stale_inventory_ns > 0 ? options_.stale_inventory_ns
                            : rpo != nullptr                ? rpo->rpo.max_age_ns
                                                            : 0;
      if (stale > 0 && end - f->second.last_inventory_ns > stale) {
        problems.push_back("offsite copy " + s->name + " not inventoried since " +
                           When(f->second.last_inventory_ns));
        continue;
      }
      ++current;
    }
    if (offsite_sets == 0) {
      not_ready.push_back("no backup set on a location declared offsite from the primary site" +
                          (primary_site.empty() ? std::string() : " (" + primary_site + ")"));
      not_ready.insert(not_ready.end(), problems.begin(), problems.end());
    } else if (current == 0) {
      // A good but old offsite point still restores something.
      std::vector<std::string>& level = any_good ? at_risk : not_ready;
      level.insert(level.end(), problems.begin(), problems.end());
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kCopies)) {
      CommitmentVerdict cv;
      Copies(v, *c, rpo, &cv);
      if (cv.verdict == Verdict::kFail) not_ready.push_back("copies: " + cv.summary);
      if (cv.verdict == Verdict::kUnknown) at_risk.push_back("copies: " + cv.summary);
    }
    Level(not_ready, at_risk, &r->site_loss, &r->site_loss_reasons);
  }

  void Scope(const AssetView& v, std::vector<ScopeFinding>* out) {
    if (v.last_inventory_ns == 0) return;
    if (!AnyPresent(v, End()))
      out->push_back({v.asset->name, "in scope, no backup found" + NoBackupWhy(v)});
  }

  // Some point of the asset is present at `t` (taken and not gone): a
  // backup is found, good or not.
  static bool AnyPresent(const AssetView& v, int64_t t) {
    for (const auto& pt : v.points) {
      if (pt.p->time_ns <= t && Present(*pt.p, t)) return true;
    }
    return false;
  }

  // What the inventories found at the sets' directories, when they said:
  // ": set-a: directory does not exist; set-b: empty".
  static std::string NoBackupWhy(const AssetView& v) {
    std::string why;
    for (const BackupSetFacts* f : v.facts) {
      if (f->last_inventory_ns == 0 || f->no_backup.empty()) continue;
      why += (why.empty() ? ": " : "; ") + f->name + ": " +
             (f->no_backup == "does not exist" ? "directory does not exist" : f->no_backup);
    }
    return why;
  }

  const Tenant& tenant_;
  const Contract& contract_;
  const std::map<std::string, Location>& locations_;
  const TenantFacts& facts_;
  Interval iv_;
  int64_t now_;
  EvaluateOptions options_;
  Calendar cal_;
  int64_t monitored_from_ = 0;  // of the asset being judged (Run)
};

}  // namespace

bool GoodPointAt(const PointFact& p, int64_t t) { return GoodAt(p, t); }

std::string WhyPointNotGood(const PointFact& p, int64_t t) { return WhyNotGood(p, t); }

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

const char* ReadinessName(Readiness r) {
  switch (r) {
    case Readiness::kReady:
      return "ready";
    case Readiness::kAtRisk:
      return "at risk";
    case Readiness::kNotReady:
      return "not ready";
  }
  return "?";
}

const CommitmentVerdict* Evaluation::Find(const std::string& asset, CommitmentKind kind) const {
  for (const auto& v : verdicts) {
    if (v.asset == asset && v.kind == kind) return &v;
  }
  return nullptr;
}

const AssetReadiness* Evaluation::ReadinessOf(const std::string& asset) const {
  for (const auto& r : readiness) {
    if (r.asset == asset) return &r;
  }
  return nullptr;
}

Evaluation Evaluate(const Tenant& tenant, const Contract& contract,
                    const std::map<std::string, Location>& locations, const TenantFacts& facts,
                    const Interval& period, int64_t now_ns, const EvaluateOptions& options) {
  return Evaluator(tenant, contract, locations, facts, period, now_ns, options).Run();
}

const Contract* VersionInForce(const std::vector<Contract>& versions, int64_t t) {
  const Contract* in_force = nullptr;
  for (const Contract& c : versions) {
    if (c.effective_from_ns <= t &&
        (in_force == nullptr || c.effective_from_ns >= in_force->effective_from_ns)) {
      in_force = &c;
    }
  }
  return in_force;
}

}  // namespace vigil::contracts
