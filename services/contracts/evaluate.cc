#include "services/contracts/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
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

// Found suspicious or encrypted by its ransomware signals, and not declared
// clean by an operator since: restoring it would bring the attack back.
bool Flagged(const PointFact& p) {
  return !p.accepted &&
         (p.verdict == PointVerdict::kSuspicious || p.verdict == PointVerdict::kEncrypted);
}

// A good point at `t`: taken by then, still there, not damaged, plausible,
// not flagged by its ransomware signals (one not examined yet stays good:
// points recorded before signals existed; it is not clean either).
bool GoodAt(const PointFact& p, int64_t t) {
  return p.time_ns <= t && Present(p, t) && (p.damaged_ns == 0 || p.damaged_ns > t) &&
         p.implausible.empty() && !Flagged(p);
}

// Why `p` is not good at `t` ("" when it is): "gone", "damaged: ...",
// "implausible: ...", "not yet taken"; `m` (if given) the same, structured.
std::string WhyNotGood(const PointFact& p, int64_t t, Message* m = nullptr) {
  Message ignored;
  if (m == nullptr) m = &ignored;
  if (p.time_ns > t) return *m = Msg("point.not_yet_taken"), "not yet taken";
  if (!Present(p, t)) return *m = Msg("point.gone"), "gone";
  if (p.damaged_ns != 0 && p.damaged_ns <= t) {
    *m = p.damage.empty() ? Msg("point.damaged")
                          : Msg("point.damaged_why", {msg::Nested(DamageMessage(p.damage))});
    return "damaged" + (p.damage.empty() ? std::string() : ": " + p.damage);
  }
  if (!p.implausible.empty()) {
    *m = Msg("point.implausible", {msg::Text(p.implausible.front())});
    return "implausible: " + p.implausible.front();
  }
  if (Flagged(p)) {
    const std::string verdict = p.verdict == PointVerdict::kEncrypted ? "encrypted" : "suspicious";
    if (p.signals.empty()) return *m = Msg("point." + verdict), verdict;
    *m = Msg("point." + verdict + "_why", {msg::Text(p.signals.front())});
    return verdict + ": " + p.signals.front();
  }
  *m = Message{};
  return "";
}

}  // namespace

// Parses services/coordinator/ingest.cc DamageText: "3 entries modified:
// a, b", "4 entries (3 modified, 1 missing): ..."; any other text (a format
// verdict's) is kept as written.
Message DamageMessage(const std::string& damage) {
  const size_t colon = damage.find(": ");
  const std::string head = damage.substr(0, colon);
  const MessageArg paths = msg::Text(colon == std::string::npos ? "" : damage.substr(colon + 2));
  unsigned long long n = 0;
  char kind[16] = {0};
  int used = 0;
  if (std::sscanf(head.c_str(), "%llu %*s %15[a-z]%n", &n, kind, &used) == 2 &&
      static_cast<size_t>(used) == head.size() && colon != std::string::npos) {
    const std::string k = kind;
    if (k == "modified" || k == "missing" || k == "unreadable") {
      return Msg("damage." + k, {msg::Count(n), paths});
    }
  }
  // "4 entries (3 modified, 1 missing)": the kinds present, in that order.
  if (head.find('(') != std::string::npos && colon != std::string::npos) {
    std::string inside = head.substr(head.find('(') + 1);
    uint64_t counts[3] = {0, 0, 0};
    static constexpr const char* kKinds[] = {"modified", "missing", "unreadable"};
    bool ok = std::sscanf(head.c_str(), "%llu", &n) == 1;
    for (size_t at = 0; ok && at < inside.size();) {
      size_t end = inside.find_first_of(",)", at);
      if (end == std::string::npos) break;
      std::string part = inside.substr(at, end - at);
      unsigned long long v = 0;
      char word[16] = {0};
      ok = std::sscanf(part.c_str(), " %llu %15[a-z]", &v, word) == 2;
      int i = 0;
      while (ok && i < 3 && std::string(word) != kKinds[i]) ++i;
      ok = ok && i < 3;
      if (ok) counts[i] = v;
      at = end + 1;
      if (inside[end] == ')') break;
    }
    if (ok) {
      return Msg("damage.mixed", {msg::Count(n), msg::Count(counts[0]), msg::Count(counts[1]),
                                  msg::Count(counts[2]), paths});
    }
  }
  return Msg("ev.text", {msg::Text(damage)});
}

namespace {

// A readiness reason: its English text and its structured form.
struct Reason {
  std::string text;
  Message message;
};

// "integrity: <summary>": a commitment's summary given as a reason.
Reason KindReason(const char* kind, const std::string& summary, const Message& m) {
  return {std::string(kind) + ": " + summary,
          Msg("reason.kind", {msg::Nested(Msg(std::string("kind.") + kind)), msg::Nested(m)})};
}

// The newest clean point of the asset at `t` across its backup sets
// (CleanPointAt), nullptr if none.
const AssetView::Point* LastClean(const AssetView& v, int64_t t) {
  for (auto it = v.points.rbegin(); it != v.points.rend(); ++it) {
    if (CleanPointAt(*it->p, t)) return &*it;
  }
  return nullptr;
}

// The asset's newest point present at `t` (nullptr if none); of points of
// the same time (copies on several sets), a good one if any, then a clean
// one: one bad copy does not hide a good one as recent.
const AssetView::Point* NewestPresent(const AssetView& v, int64_t t) {
  const AssetView::Point* best = nullptr;
  auto rank = [t](const PointFact& p) { return CleanPointAt(p, t) ? 2 : GoodAt(p, t) ? 1 : 0; };
  for (auto it = v.points.rbegin(); it != v.points.rend(); ++it) {
    if (it->p->time_ns > t || !Present(*it->p, t)) continue;
    if (best != nullptr && it->p->time_ns != best->p->time_ns) break;
    if (best == nullptr || rank(*it->p) > rank(*best->p)) best = &*it;
  }
  return best;
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
      StoreFindings(v, &ev.scope);
    }
    for (const std::string& u : facts_.unscoped) {
      ev.scope.push_back(
          {u, "found at a location, not covered by the contract", Msg("scope.unscoped")});
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
        Add(cv, "failure_began", When(cv->began_ns) + ", detected " + When(cv->failing_since_ns),
            Msg("ev.began_detected", {WhenArg(cv->began_ns), WhenArg(cv->failing_since_ns)}));
      }
    }
    if (monitored_from_ > iv_.start_ns) {
      Add(cv, "not_monitored_before", When(monitored_from_), At(monitored_from_));
      if (cv->verdict == Verdict::kPass) {
        Say(cv, cv->summary + "; not monitored before " + When(monitored_from_),
            Msg("join.not_monitored_before",
                {msg::Nested(cv->summary_message), WhenArg(monitored_from_)}));
      }
    }
  }
  std::string When(int64_t t) const { return t == 0 ? "never" : cal_.Format(t); }
  // When(t) as a message argument.
  static MessageArg WhenArg(int64_t t) { return t == 0 ? msg::Nested(Msg("never")) : msg::Time(t); }
  // A summary and its structured form.
  static void Say(CommitmentVerdict* cv, std::string text, Message m) {
    cv->summary = std::move(text);
    cv->summary_message = std::move(m);
  }
  // An evidence item and its structured form.
  static void Add(CommitmentVerdict* cv, std::string name, std::string value, Message m,
                  std::string basis = "measured") {
    cv->evidence.push_back({std::move(name), std::move(value), std::move(basis), std::move(m)});
  }
  static Message Dur(int64_t ns) { return Msg("ev.duration", {msg::Duration(ns)}); }
  static Message Num(uint64_t n) { return Msg("ev.count", {msg::Count(n)}); }
  static Message At(int64_t t) { return Msg("ev.time", {WhenArg(t)}); }

  // --- RPO: the age of the newest good point, at every instant ----------
  //
  // Between two events (a point taken, gone, or damaged) the newest good
  // point does not change, so its age grows linearly and peaks just before
  // the next event: checking each segment's end is exact.
  void Rpo(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    const int64_t max_age = c.rpo.max_age_ns;
    const int64_t end = End();
    Add(cv, "rpo", HumanDuration(max_age), Dur(max_age), "contract");
    if (v.last_inventory_ns == 0) {
      cv->verdict = Verdict::kUnknown;
      Say(cv, "no inventory of its backup sets yet", Msg("no_inventory_yet"));
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
      Say(cv, "not monitored in the period: monitoring began " + When(origin),
          Msg("rpo.not_monitored_in_period", {WhenArg(origin)}));
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
      const std::string point = newest->set->name + "/" + newest->p->name;
      Add(cv, "newest_good_point", cal_.Format(newest->p->time_ns) + " (" + point + ")",
          Msg("ev.point", {msg::Time(newest->p->time_ns), msg::Text(point)}));
      Add(cv, "age_at_end", HumanDuration(end - newest->p->time_ns), Dur(end - newest->p->time_ns));
    } else {
      Add(cv, "newest_good_point", "none", Msg("none"));
    }
    for (const auto& pt : v.points) {
      if (!pt.p->time_basis.empty() && Present(*pt.p, end)) {
        Add(cv, "mirror_freshness " + pt.set->name,
            (pt.p->time_ns == 0 ? std::string("unknown") : When(pt.p->time_ns)) + " (" +
                pt.p->time_basis + ")",
            Msg("ev.with_basis",
                {pt.p->time_ns == 0 ? msg::Nested(Msg("unknown")) : msg::Time(pt.p->time_ns),
                 msg::Text(pt.p->time_basis)}));
      }
    }
    if (worst >= 0) {
      Add(cv, "worst_age_in_period", HumanDuration(worst) + " at " + cal_.Format(worst_at),
          Msg("ev.duration_at", {msg::Duration(worst), msg::Time(worst_at)}));
    }
    Add(cv, "last_inventory", When(v.last_inventory_ns), At(v.last_inventory_ns));
    // What Vigil cannot have seen: a breach after the last inventory.
    const int64_t stale = options_.stale_inventory_ns > 0 ? options_.stale_inventory_ns : max_age;
    if (breach != 0 && breach <= v.last_inventory_ns) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = breach;
      cv->began_ns = began;
      if (newest) {
        Say(cv,
            "no good restore point for " + HumanDuration(worst) + " (RPO " +
                HumanDuration(max_age) + "), from " + cal_.Format(breach),
            Msg("rpo.fail", {msg::Duration(worst), msg::Duration(max_age), msg::Time(breach)}));
      } else {
        Say(cv, "no good restore point", Msg("no_good_point"));
      }
      return;
    }
    if (breach != 0 || end - v.last_inventory_ns > stale) {
      cv->verdict = Verdict::kUnknown;
      Say(cv, "not inventoried since " + When(v.last_inventory_ns),
          Msg("not_inventoried_since", {WhenArg(v.last_inventory_ns)}));
      return;
    }
    if (unproven != 0) {
      const PointFact& p = *unproven_point->p;
      cv->verdict = Verdict::kUnknown;
      Say(cv,
          "no evidence of a sync of mirror " + unproven_point->set->name +
              (p.time_ns == 0 ? std::string(" since monitoring began")
                              : " since " + cal_.Format(p.time_ns)) +
              " (" + p.time_basis +
              "): unchanged data and a stopped sync look alike; declare a syncMarker",
          p.time_ns == 0
              ? Msg("rpo.mirror_unproven",
                    {msg::Text(unproven_point->set->name), msg::Text(p.time_basis)})
              : Msg("rpo.mirror_unproven_since", {msg::Text(unproven_point->set->name),
                                                  msg::Time(p.time_ns), msg::Text(p.time_basis)}));
      return;
    }
    cv->verdict = Verdict::kPass;
    if (newest == nullptr) {
      Say(cv,
          "no good restore point, but within the RPO of " + HumanDuration(max_age) +
              " since monitoring began at " + When(origin),
          Msg("rpo.pass_no_point", {msg::Duration(max_age), WhenArg(origin)}));
      return;
    }
    Say(cv,
        "newest good point " + HumanDuration(end - newest->p->time_ns) + " old; worst " +
            HumanDuration(worst) + " (RPO " + HumanDuration(max_age) + ")",
        Msg("rpo.pass", {msg::Duration(end - newest->p->time_ns), msg::Duration(worst),
                         msg::Duration(max_age)}));
    if (unjudged_until != 0) {
      Add(cv, "not_judged_before",
          When(unjudged_until) + " (a mirror's earlier states are not recorded)",
          Msg("ev.not_judged_before", {WhenArg(unjudged_until)}));
      Say(cv,
          cv->summary + "; not judged before " + When(unjudged_until) +
              " (a mirror's earlier states are not recorded)",
          Msg("join.not_judged_before",
              {msg::Nested(cv->summary_message), WhenArg(unjudged_until)}));
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
    Message why_message;             // `why`, structured
    std::vector<Message> held_by{};  // the points not good that hold the slot, structured
  };
  // "daily 3 Oct 2026: <what>" as a message.
  static Message SlotMessage(const Gap& g, MessageArg what) {
    return Msg("slot.entry",
               {msg::Nested(Msg("rung." + g.rung)), msg::Date(g.slot.start_ns), std::move(what)});
  }

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
        std::vector<Message> bad_messages;
        auto first = it;
        while (first != v.points.begin() && std::prev(first)->p->time_ns >= slot.start_ns) {
          --first;
          const PointFact& p = *first->p;
          if (GoodAt(p, t)) ok = true;
          if (!Present(p, t)) {
            any_gone = true;
          } else if (Message m; !WhyNotGood(p, t, &m).empty()) {
            bad += (bad.empty() ? "" : ", ") + first->set->name + "/" + p.name + " " +
                   WhyNotGood(p, t);
            bad_messages.push_back(
                Msg("point.not_good",
                    {msg::Text(first->set->name + "/" + p.name), msg::Nested(std::move(m))}));
          }
        }
        ++found;
        if (!ok) {
          std::string why = !bad.empty() ? "held only by " + bad
                            : any_gone   ? "deleted while it must still be kept"
                                         : "no point";
          Message why_message = !bad.empty() ? Msg("slot.held_only_by", {msg::List(bad_messages)})
                                : any_gone   ? Msg("slot.deleted")
                                             : Msg("slot.no_point");
          gaps.push_back({r.name, slot, why, std::move(why_message), std::move(bad_messages)});
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
    Add(cv, "ladder",
        "daily " + std::to_string(spec.daily) + ", weekly " + std::to_string(spec.weekly) +
            ", monthly " + std::to_string(spec.monthly) + ", yearly " + std::to_string(spec.yearly),
        Msg("ev.ladder", {msg::Count(static_cast<uint64_t>(spec.daily)),
                          msg::Count(static_cast<uint64_t>(spec.weekly)),
                          msg::Count(static_cast<uint64_t>(spec.monthly)),
                          msg::Count(static_cast<uint64_t>(spec.yearly))}),
        "contract");
    if (v.last_inventory_ns == 0) {
      cv->verdict = Verdict::kUnknown;
      Say(cv, "no inventory of its backup sets yet", Msg("no_inventory_yet"));
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
    Add(cv, "required_slots_at_end", std::to_string(required), Num(required));
    Add(cv, "points_present_at_end", std::to_string(present), Num(present));
    Add(cv, "points_gone_in_period", std::to_string(aged_out), Num(aged_out));
    {
      // Slots with points that do not count: damaged or implausible.
      std::string held_badly;
      std::vector<Message> held_badly_messages;
      for (const Gap& g : now_gaps) {
        if (g.why.rfind("held only by ", 0) != 0) continue;
        held_badly += (held_badly.empty() ? "" : "; ") + g.rung + " " +
                      cal_.FormatDate(g.slot.start_ns) + ": " + g.why.substr(13);
        held_badly_messages.push_back(SlotMessage(g, msg::List(g.held_by)));
      }
      if (!held_badly.empty()) {
        Add(cv, "slots_held_only_by_bad_points", held_badly,
            Msg("list", {msg::List(std::move(held_badly_messages))}));
      }
    }
    if (failing_since == 0) {
      cv->verdict = Verdict::kPass;
      Say(cv,
          std::to_string(required) + " required slots held; " + std::to_string(aged_out) +
              " point(s) aged out as expected",
          Msg("retention.pass", {msg::Count(required), msg::Count(aged_out)}));
      return;
    }
    cv->verdict = Verdict::kFail;
    cv->failing_since_ns = failing_since;
    const std::vector<Gap>& shown = now_gaps.empty() ? first_gaps : now_gaps;
    std::string list;
    std::vector<Message> list_messages;
    for (size_t i = 0; i < shown.size() && i < 5; ++i) {
      list += (i ? "; " : "") + std::string(shown[i].rung) + " " +
              cal_.FormatDate(shown[i].slot.start_ns) + ": " + shown[i].why;
      list_messages.push_back(SlotMessage(shown[i], msg::Nested(shown[i].why_message)));
    }
    if (shown.size() > 5) {
      list += "; +" + std::to_string(shown.size() - 5) + " more";
      list_messages.push_back(Msg("more", {msg::Count(shown.size() - 5)}));
    }
    Add(cv, "missing_slots", list, Msg("list", {msg::List(list_messages)}));
    Say(cv,
        std::to_string(shown.size()) + " required slot(s) missing since " +
            cal_.Format(failing_since) + ": " + list,
        Msg("retention.fail",
            {msg::Count(shown.size()), msg::Time(failing_since), msg::List(list_messages)}));
  }

  // --- Copies ------------------------------------------------------------
  void Copies(const AssetView& v, const Commitment& c, const Commitment* rpo,
              CommitmentVerdict* cv) {
    const int64_t end = End();
    Add(cv, "required",
        std::to_string(c.copies.min) + " copies, " + std::to_string(c.copies.offsite) + " offsite",
        Msg("ev.copies_required", {msg::Count(static_cast<uint64_t>(c.copies.min)),
                                   msg::Count(static_cast<uint64_t>(c.copies.offsite))}),
        "contract");
    if (v.last_inventory_ns == 0) {
      cv->verdict = Verdict::kUnknown;
      Say(cv, "no inventory of its backup sets yet", Msg("no_inventory_yet"));
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
      Message state_message = newest == nullptr ? Msg("copy.no_good_point")
                              : is_current      ? Msg("copy.current", {msg::Time(newest->time_ns)})
                                                : Msg("copy.stale", {msg::Time(newest->time_ns)});
      Add(cv, "copy " + s->name, s->location + (off ? " (offsite)" : "") + ": " + state,
          Msg(off ? "ev.copy_offsite" : "ev.copy",
              {msg::Text(s->location), msg::Nested(std::move(state_message))}));
      if (is_current) {
        ++current;
        if (off) ++offsite;
      } else {
        stale += (stale.empty() ? "" : ", ") + s->name;
      }
    }
    Add(cv, "offsite_locations", "offsite flags as declared by the MSP", Msg("ev.offsite_declared"),
        "declared");
    // Remote locations: what their stores said, beside the declarations.
    std::set<std::string> told;
    for (const BackupSet* s : v.sets) StoreEvidence(*s, &told, cv);
    std::vector<std::string> disagreements, unestablished;
    std::vector<Message> disagreement_messages;
    std::set<std::string> mine;
    for (const BackupSet* s : v.sets) mine.insert(s->name);
    for (const CopyAgreement& a : facts_.copies) {
      if (!mine.count(a.a) && !mine.count(a.b)) continue;
      std::string pair = a.a + " vs " + a.b;
      switch (a.state) {
        case CopyAgreement::State::kAgree:
          Add(cv, "agreement " + pair,
              "content agrees: " + GroupDigits(a.matched) + " entries with equal digests",
              Msg("agree.agrees", {msg::Count(a.matched)}));
          break;
        case CopyAgreement::State::kDisagree:
          disagreements.push_back(pair);
          disagreement_messages.push_back(Msg("copies.differ", {msg::Text(a.a), msg::Text(a.b)}));
          Add(cv, "agreement " + pair,
              "content differs: " + GroupDigits(a.differing) + " entries differ, " +
                  GroupDigits(a.missing_in_b) + " missing" +
                  (a.detail.empty() ? "" : " (" + a.detail + ")"),
              a.detail.empty()
                  ? Msg("agree.differs", {msg::Count(a.differing), msg::Count(a.missing_in_b)})
                  : Msg("agree.differs_detail", {msg::Count(a.differing),
                                                 msg::Count(a.missing_in_b), msg::Text(a.detail)}));
          break;
        case CopyAgreement::State::kNotEstablished:
          unestablished.push_back(pair);
          Add(cv, "agreement " + pair,
              "content agreement not established" + (a.detail.empty() ? "" : ": " + a.detail),
              a.detail.empty() ? Msg("agree.not_established")
                               : Msg("agree.not_established_detail", {msg::Text(a.detail)}));
          break;
      }
    }
    const auto n_current = static_cast<uint64_t>(current),
               n_offsite = static_cast<uint64_t>(offsite);
    Add(cv, "current_copies", std::to_string(current), Num(n_current));
    Add(cv, "current_offsite_copies", std::to_string(offsite), Num(n_offsite), "declared");
    std::vector<std::string> problems;
    std::vector<Message> problem_messages;
    if (current < c.copies.min) {
      problems.push_back(std::to_string(current) + " current copies of " +
                         std::to_string(c.copies.min) + " required" +
                         (stale.empty() ? "" : " (not current: " + stale + ")"));
      const MessageArg required = msg::Count(static_cast<uint64_t>(c.copies.min));
      problem_messages.push_back(
          stale.empty()
              ? Msg("copies.too_few", {msg::Count(n_current), required})
              : Msg("copies.too_few_stale", {msg::Count(n_current), required, msg::Text(stale)}));
    }
    if (offsite < c.copies.offsite) {
      problems.push_back(std::to_string(offsite) + " current offsite copies of " +
                         std::to_string(c.copies.offsite) + " required");
      problem_messages.push_back(
          Msg("copies.too_few_offsite",
              {msg::Count(n_offsite), msg::Count(static_cast<uint64_t>(c.copies.offsite))}));
    }
    for (const auto& d : disagreements) problems.push_back("copies differ: " + d);
    problem_messages.insert(problem_messages.end(), disagreement_messages.begin(),
                            disagreement_messages.end());
    if (problems.empty()) {
      cv->verdict = Verdict::kPass;
      Say(cv,
          std::to_string(current) + " current copies, " + std::to_string(offsite) +
              " offsite (declared)" +
              (unestablished.empty() ? "" : "; content agreement not established for some"),
          Msg(unestablished.empty() ? "copies.pass" : "copies.pass_unestablished",
              {msg::Count(n_current), msg::Count(n_offsite)}));
      return;
    }
    cv->verdict = Verdict::kFail;
    cv->failing_since_ns = end;
    std::string s;
    for (const auto& p : problems) s += (s.empty() ? "" : "; ") + p;
    Say(cv, s, Msg("list", {msg::List(std::move(problem_messages))}));
  }

  // --- What the store says (docs/remote.md) ------------------------------
  // The location of `s` (null when the contract does not declare it) and,
  // for a remote one, what its store said (null: never asked).
  const Location* LocationOf(const BackupSet& s) const {
    auto it = locations_.find(s.location);
    return it == locations_.end() ? nullptr : &it->second;
  }
  const StoreSaid* SaidOf(const BackupSet& s) const {
    auto it = facts_.sets.find(s.name);
    return it == facts_.sets.end() || !it->second.store_said ? nullptr : &*it->second.store_said;
  }

  // What the store said of its Object Lock (and of the objects read), or
  // why it is not measured.
  Message LockMessage(const StoreSaid& said, std::string* text) const {
    std::vector<Message> parts;
    std::string t;
    if (said.object_lock.empty()) {
      t = "not measured: " + said.object_lock_unmeasured;
      *text = t;
      return Msg("store.not_measured", {msg::Text(said.object_lock_unmeasured)});
    }
    if (said.object_lock == "off") {
      t = "the store says: Object Lock off (" + said.store + ")";
      parts.push_back(Msg("store.lock_off", {msg::Text(said.store)}));
    } else if (said.default_mode.empty() || (said.default_days == 0 && said.default_years == 0)) {
      t = "the store says: Object Lock on, no default retention (" + said.store + ")";
      parts.push_back(Msg("store.lock_on", {msg::Text(said.store)}));
    } else {
      const bool days = said.default_days != 0;
      const uint64_t n = days ? said.default_days : said.default_years;
      t = "the store says: Object Lock on, default retention " + said.default_mode + " " +
          std::to_string(n) + (days ? " day(s)" : " year(s)") + " (" + said.store + ")";
      parts.push_back(Msg(days ? "store.lock_on_days" : "store.lock_on_years",
                          {msg::Text(said.store), msg::Text(said.default_mode), msg::Count(n)}));
    }
    const uint64_t seen = said.retained + said.not_retained;
    if (said.object_lock == "on" && seen > 0) {
      t += "; " + std::to_string(said.retained) + " of " + std::to_string(seen) +
           " object(s) read under retention at " + cal_.Format(said.measured_ns);
      parts.push_back(Msg("store.retained", {msg::Count(said.retained), msg::Count(seen),
                                             msg::Time(said.measured_ns)}));
    }
    *text = t;
    return Msg("list", {msg::List(std::move(parts))});
  }

  // Evidence of the location of `s` (once per location in `told`) and of
  // the objects of `s` read: the declarations, and what the store said
  // beside them. Filesystem locations: nothing here (the declared offsite
  // flags above say it all).
  void StoreEvidence(const BackupSet& s, std::set<std::string>* told, CommitmentVerdict* cv) {
    const Location* loc = LocationOf(s);
    if (loc == nullptr || loc->kind == "filesystem") return;
    const StoreSaid* said = SaidOf(s);
    if (told->insert(s.location).second) {
      Add(cv, "offsite " + s.location,
          std::string(loc->offsite ? "declared offsite" : "declared not offsite") +
              "; the store cannot tell",
          Msg(loc->offsite ? "ev.offsite_cannot_tell" : "ev.not_offsite_cannot_tell"), "declared");
      Add(cv, "immutable " + s.location,
          loc->immutable ? "declared immutable" : "declared not immutable",
          Msg(loc->immutable ? "ev.immutable_declared" : "ev.not_immutable_declared"), "declared");
      if (said == nullptr) {
        Add(cv, "immutable " + s.location, "not measured: no check has asked the store yet",
            Msg("store.never_asked"));
        Add(cv, "versioning " + s.location, "not measured: no check has asked the store yet",
            Msg("store.never_asked"));
      } else {
        std::string text;
        Message m = LockMessage(*said, &text);
        Add(cv, "immutable " + s.location, text, std::move(m));
        if (said->versioning.empty()) {
          Add(cv, "versioning " + s.location, "not measured: " + said->versioning_unmeasured,
              Msg("store.not_measured", {msg::Text(said->versioning_unmeasured)}));
        } else {
          Add(cv, "versioning " + s.location,
              "the store says: versioning " + said->versioning + " (" + said->store + ")",
              Msg("store.versioning_" + said->versioning, {msg::Text(said->store)}));
        }
      }
    }
    if (said != nullptr && said->agree + said->disagree + said->absent > 0) {
      Add(cv, "upload_records " + s.name,
          std::to_string(said->agree) + " object(s) read equal the store's upload record, " +
              std::to_string(said->disagree) + " differ, " + std::to_string(said->absent) +
              " without one (the store's record at upload, not a re-read)",
          Msg("store.upload_records",
              {msg::Count(said->agree), msg::Count(said->disagree), msg::Count(said->absent)}));
    }
  }

  // Where a store contradicts what is declared of its location, or an
  // object read differs from the store's own upload record: a finding
  // (once per location / set). Information only: no verdict changes.
  void StoreFindings(const AssetView& v, std::vector<ScopeFinding>* out) {
    for (const BackupSet* s : v.sets) {
      const Location* loc = LocationOf(*s);
      const StoreSaid* said = SaidOf(*s);
      if (loc == nullptr || said == nullptr) continue;
      const uint64_t seen = said->retained + said->not_retained;
      if (loc->immutable && said->object_lock == "off" &&
          findings_done_.insert("lock " + s->location).second) {
        out->push_back(
            {"location " + s->location,
             "declared immutable, but the store says Object Lock is off (" + said->store + ")",
             Msg("finding.immutable_lock_off", {msg::Text(said->store)})});
      } else if (loc->immutable && said->object_lock == "on" && said->not_retained > 0 &&
                 findings_done_.insert("retention " + s->name).second) {
        out->push_back({"location " + s->location,
                        "declared immutable, but the store says " +
                            std::to_string(said->not_retained) + " of " + std::to_string(seen) +
                            " object(s) read of " + s->name + " not under retention at " +
                            cal_.Format(said->measured_ns) + " (" + said->store + ")",
                        Msg("finding.immutable_not_retained",
                            {msg::Count(said->not_retained), msg::Count(seen), msg::Text(s->name),
                             msg::Time(said->measured_ns), msg::Text(said->store)})});
      }
      if (said->disagree > 0 && findings_done_.insert("upload " + s->name).second) {
        const std::string first = said->disagreeing.empty() ? "" : said->disagreeing.front();
        out->push_back(
            {"backup set " + s->name,
             std::to_string(said->disagree) +
                 " object(s) read differ from the store's own upload record (damage "
                 "at the store or in the read path)" +
                 (first.empty() ? "" : ": " + first),
             Msg("finding.upload_record_differs", {msg::Count(said->disagree), msg::Text(first)})});
      }
    }
  }
  // --- Integrity coverage -------------------------------------------------
  // The measured coverage, then the read budget: a location whose daily
  // budget cannot re-read a set in full within the period makes the
  // commitment unreachable, said as evidence, and a pass is at best unknown
  // (what was re-read once will not be again in time).
  void Integrity(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    IntegrityMeasured(v, c, cv);
    for (const BackupSetFacts* f : v.facts) {
      const std::string& why = f->integrity.read_budget;
      if (why.empty()) continue;
      Add(cv, "read_budget " + f->name, why, Msg("ev.text", {msg::Text(why)}));
      if (cv->verdict == Verdict::kPass) {
        cv->verdict = Verdict::kUnknown;
        Say(cv, why, Msg("integrity.read_budget", {msg::Text(why)}));
      }
    }
  }

  void IntegrityMeasured(const AssetView& v, const Commitment& c, CommitmentVerdict* cv) {
    const IntegritySpec& spec = c.integrity;
    const int64_t end = End();
    Add(cv, "reverify_within", HumanDuration(spec.reverify_within_ns), Dur(spec.reverify_within_ns),
        "contract");
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
    Add(cv, "entries", GroupDigits(entries), Num(entries));
    Add(cv, "last_run", When(last_run), At(last_run));
    if (failures > 0) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = end;
      for (const auto& pt : v.points) {
        if (pt.p->damaged_ns != 0 && pt.p->damaged_ns < end && Present(*pt.p, end - 1) &&
            (cv->failing_since_ns == end || pt.p->damaged_ns < cv->failing_since_ns)) {
          cv->failing_since_ns = std::max(pt.p->damaged_ns, iv_.start_ns);
        }
      }
      Add(cv, "failures", GroupDigits(failures), Num(failures));
      for (const auto& pt : v.points) {
        if (pt.p->damaged_ns != 0 && !pt.p->damage.empty()) {
          Add(cv, "damaged " + pt.set->name + "/" + pt.p->name, pt.p->damage,
              DamageMessage(pt.p->damage));
        }
      }
      Say(cv, GroupDigits(failures) + " entries modified, missing or unreadable",
          Msg("integrity.failures", {msg::Count(failures)}));
      return;
    }
    if (spec.sample > 0) {
      if (sampled == 0) {
        cv->verdict = Verdict::kUnknown;
        Say(cv, "no sampled run within " + HumanDuration(spec.reverify_within_ns),
            Msg("integrity.no_sampled_run", {msg::Duration(spec.reverify_within_ns)}));
        return;
      }
      double bound = 3.0 / static_cast<double>(sampled);
      Add(cv, "sampled_entries", GroupDigits(sampled), Num(sampled));
      Add(cv, "sample_faults", GroupDigits(faults), Num(faults));
      Add(cv, "confidence",
          "no fault in n = " + GroupDigits(sampled) +
              " random entries bounds the fault rate below 3/n = " + Pct(bound) +
              " at 95 % confidence (rule of three)",
          Msg("integrity.confidence", {msg::Count(sampled), msg::Percent(bound)}));
      if (faults > 0) {
        cv->verdict = Verdict::kFail;
        cv->failing_since_ns = end;
        Say(cv, GroupDigits(faults) + " faults in " + GroupDigits(sampled) + " sampled entries",
            Msg("integrity.sample_faults", {msg::Count(faults), msg::Count(sampled)}));
      } else {
        cv->verdict = Verdict::kPass;
        Say(cv,
            "no fault in " + GroupDigits(sampled) + " sampled entries (fault rate < " + Pct(bound) +
                ", 95 %)",
            Msg("integrity.sample_pass", {msg::Count(sampled), msg::Percent(bound)}));
      }
      return;
    }
    if (entries == 0) {
      cv->verdict = Verdict::kUnknown;
      Say(cv, "nothing catalogued yet", Msg("integrity.nothing_catalogued"));
      return;
    }
    double coverage = static_cast<double>(within) / static_cast<double>(entries);
    Add(cv, "coverage",
        Pct(coverage) + " (" + GroupDigits(within) + " of " + GroupDigits(entries) +
            " entries re-read within " + HumanDuration(spec.reverify_within_ns) + ")",
        Msg("ev.coverage", {msg::Percent(coverage), msg::Count(within), msg::Count(entries),
                            msg::Duration(spec.reverify_within_ns)}));
    Add(cv, "oldest_verification", When(oldest == kNever ? 0 : oldest),
        At(oldest == kNever ? 0 : oldest));
    if (within >= entries) {
      cv->verdict = Verdict::kPass;
      Say(cv, "every entry re-read within " + HumanDuration(spec.reverify_within_ns),
          Msg("integrity.pass", {msg::Duration(spec.reverify_within_ns)}));
      return;
    }
    cv->verdict = Verdict::kFail;
    cv->failing_since_ns = oldest == 0 || oldest == kNever
                               ? end
                               : std::max(iv_.start_ns, oldest + spec.reverify_within_ns);
    Say(cv,
        "coverage " + Pct(coverage) + ": " + GroupDigits(entries - within) +
            " entries not re-read within " + HumanDuration(spec.reverify_within_ns),
        Msg("integrity.coverage_fail", {msg::Percent(coverage), msg::Count(entries - within),
                                        msg::Duration(spec.reverify_within_ns)}));
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
    Add(cv, "every", HumanDuration(spec.every_ns), Dur(spec.every_ns), "contract");
    Add(cv, "rto", HumanDuration(spec.rto_ns), Dur(spec.rto_ns), "contract");
    const DrillFact* d = LatestDrill(v, end);
    if (d == nullptr) {
      int64_t since = std::max(v.first_inventory_ns, contract_.effective_from_ns);
      if (v.first_inventory_ns != 0 && end - since > spec.every_ns) {
        cv->verdict = Verdict::kFail;
        cv->failing_since_ns = std::max(iv_.start_ns, since + spec.every_ns);
        Say(cv,
            "no restore drill since " + When(since) + " (every " + HumanDuration(spec.every_ns) +
                ")",
            Msg("drill.none_since", {WhenArg(since), msg::Duration(spec.every_ns)}));
      } else {
        cv->verdict = Verdict::kUnknown;
        if (v.first_inventory_ns != 0) {
          Say(cv, "no drill yet; first due by " + cal_.Format(since + spec.every_ns),
              Msg("drill.none_yet_due", {msg::Time(since + spec.every_ns)}));
        } else {
          Say(cv, "no drill yet", Msg("drill.none_yet"));
        }
      }
      return;
    }
    double tp = Throughput(*d);
    int64_t projected = Projected(*d);
    Add(cv, "last_drill", When(d->at_ns), At(d->at_ns));
    Add(cv, "restore_point", cal_.Format(d->point_time_ns), At(d->point_time_ns));
    if (!d->skipped.empty()) {
      std::string list;
      std::vector<Message> items;
      for (const std::string& x : d->skipped) {
        list += (list.empty() ? "" : "; ") + x;
        items.push_back(Msg("ev.text", {msg::Text(x)}));
      }
      Add(cv, "newer_points_skipped", list, Msg("list", {msg::List(std::move(items))}));
    }
    Add(cv, "sample",
        GroupDigits(d->files) + " files, " + HumanBytes(static_cast<double>(d->bytes)),
        Msg("ev.files_bytes", {msg::Count(d->files), msg::Bytes(d->bytes)}));
    Add(cv, "throughput", HumanBytes(tp) + "/s",
        Msg("ev.rate", {msg::Rate(static_cast<uint64_t>(tp))}));
    Add(cv, "point_size", HumanBytes(static_cast<double>(d->point_bytes)),
        Msg("ev.bytes", {msg::Bytes(d->point_bytes)}));
    Add(cv, "projected_full_restore", projected == kNever ? "unknown" : HumanDuration(projected),
        projected == kNever ? Msg("unknown") : Dur(projected));
    // The default assumptions have a structured form; a caller's own text
    // is shown as written.
    Add(cv, "assumptions", options_.drill_assumptions,
        options_.drill_assumptions == EvaluateOptions{}.drill_assumptions
            ? Msg("drill.assumptions")
            : Msg("ev.text", {msg::Text(options_.drill_assumptions)}));
    if (!d->error.empty()) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns);
      Say(cv, "the last drill failed: " + d->error, Msg("drill.failed", {msg::Text(d->error)}));
      return;
    }
    if (d->mismatches > 0) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns);
      Say(cv, GroupDigits(d->mismatches) + " restored files differ from the catalogue",
          Msg("drill.mismatches", {msg::Count(d->mismatches)}));
      return;
    }
    if (end - d->at_ns > spec.every_ns) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns + spec.every_ns);
      Say(cv,
          "last drill " + When(d->at_ns) + ", overdue since " +
              cal_.Format(d->at_ns + spec.every_ns),
          Msg("drill.overdue", {msg::Time(d->at_ns), msg::Time(d->at_ns + spec.every_ns)}));
      return;
    }
    if (projected > spec.rto_ns) {
      cv->verdict = Verdict::kFail;
      cv->failing_since_ns = std::max(iv_.start_ns, d->at_ns);
      Say(cv,
          "projected full restore " +
              (projected == kNever ? std::string("unknown") : HumanDuration(projected)) +
              " exceeds the RTO of " + HumanDuration(spec.rto_ns),
          Msg("drill.too_slow", {msg::Nested(projected == kNever ? Msg("unknown") : Dur(projected)),
                                 msg::Duration(spec.rto_ns)}));
      return;
    }
    cv->verdict = Verdict::kPass;
    Say(cv,
        "projected full restore " + HumanDuration(projected) + " within the RTO of " +
            HumanDuration(spec.rto_ns) + " (drill " + cal_.FormatDate(d->at_ns) + ")",
        Msg("drill.pass",
            {msg::Duration(projected), msg::Duration(spec.rto_ns), msg::Date(d->at_ns)}));
  }

  // --- Restore readiness: could we restore it now? ------------------------
  void Ready(const AssetView& v, const std::vector<const Commitment*>& cs, AssetReadiness* r) {
    const int64_t end = End();
    const AssetView::Point* newest = NewestGood(v, end);
    std::vector<Reason> not_ready, at_risk;
    if (v.last_inventory_ns == 0) {
      not_ready.push_back({"never inventoried", Msg("ready.never_inventoried")});
    } else if (!AnyPresent(v, end)) {
      not_ready.push_back(NoBackup(v));
    } else if (newest == nullptr) {
      not_ready.push_back({"no good restore point", Msg("no_good_point")});
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kRpo); c && newest) {
      int64_t age = end - newest->p->time_ns;
      if (age > c->rpo.max_age_ns) at_risk.push_back(TooOld(*newest, age, c->rpo.max_age_ns));
      const int64_t stale =
          options_.stale_inventory_ns > 0 ? options_.stale_inventory_ns : c->rpo.max_age_ns;
      if (end - v.last_inventory_ns > stale) {
        at_risk.push_back({"not inventoried since " + When(v.last_inventory_ns),
                           Msg("not_inventoried_since", {WhenArg(v.last_inventory_ns)})});
      }
    }
    // The newest point present is implausible (an emptied or encrypted
    // source) or flagged by its ransomware signals: the next restore would
    // bring that back. A newer plausible point clears it. When flagged, the
    // point to restore from instead is the last clean one (or none). Not
    // examined yet: said, without lowering the level (notes).
    std::vector<Reason> notes;
    if (const AssetView::Point* it = NewestPresent(v, end)) {
      const std::string point = it->set->name + "/" + it->p->name;
      if (!it->p->implausible.empty()) {
        at_risk.push_back(
            {"newest point " + point + " is implausible: " + it->p->implausible.front(),
             Msg("ready.implausible", {msg::Text(point), msg::Text(it->p->implausible.front())})});
      } else if (Flagged(*it->p)) {
        Message why;
        const std::string text = WhyNotGood(*it->p, end, &why);
        at_risk.push_back({"newest point " + point + " is " + text,
                           Msg("ready.not_clean", {msg::Text(point), msg::Nested(why)})});
        at_risk.push_back(RestoreFrom(LastClean(v, end)));
      } else if (GoodAt(*it->p, end) && !CleanPointAt(*it->p, end)) {
        notes.push_back(it->p->verdict == PointVerdict::kContentNotJudged
                            ? Reason{"newest point's content not sampled: encryption not ruled out",
                                     Msg("ready.content_not_judged")}
                            : Reason{"newest point not yet examined for ransomware signals",
                                     Msg("ready.not_examined")});
      }
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kIntegrity)) {
      CommitmentVerdict iv;
      Integrity(v, *c, &iv);
      if (iv.verdict != Verdict::kPass) {
        at_risk.push_back(KindReason("integrity", iv.summary, iv.summary_message));
      }
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kRestoreDrill)) {
      const DrillFact* d = LatestDrill(v, end);
      if (d == nullptr) {
        at_risk.push_back({"never drilled", Msg("ready.never_drilled")});
      } else if (!d->error.empty() || d->mismatches > 0) {
        not_ready.push_back({"last restore drill " + cal_.FormatDate(d->at_ns) + " failed" +
                                 (d->error.empty() ? ": restored data differs" : ": " + d->error),
                             d->error.empty() ? Msg("ready.drill_differs", {msg::Date(d->at_ns)})
                                              : Msg("ready.drill_failed",
                                                    {msg::Date(d->at_ns), msg::Text(d->error)})});
      } else {
        if (end - d->at_ns > c->drill.every_ns) {
          at_risk.push_back({"last drill " + cal_.FormatDate(d->at_ns) + " is overdue",
                             Msg("ready.drill_overdue", {msg::Date(d->at_ns)})});
        }
        int64_t projected = Projected(*d);
        if (projected > c->drill.rto_ns) {
          at_risk.push_back(
              {"projected restore " +
                   (projected == kNever ? std::string("unknown") : HumanDuration(projected)) +
                   " exceeds the RTO of " + HumanDuration(c->drill.rto_ns),
               Msg("ready.too_slow",
                   {msg::Nested(projected == kNever ? Msg("unknown") : Dur(projected)),
                    msg::Duration(c->drill.rto_ns)})});
        }
      }
    }
    // A required restore point gone or damaged: that point cannot be
    // restored.
    if (const Commitment* c = FindKind(cs, CommitmentKind::kRetention)) {
      CommitmentVerdict rv;
      Retention(v, *c, &rv);
      if (rv.verdict == Verdict::kFail) {
        at_risk.push_back(KindReason("retention", rv.summary, rv.summary_message));
      }
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kCopies);
        c != nullptr && c->copies.gates_readiness) {
      CommitmentVerdict cv;
      Copies(v, *c, FindKind(cs, CommitmentKind::kRpo), &cv);
      if (cv.verdict == Verdict::kFail) {
        not_ready.push_back(KindReason("copies", cv.summary, cv.summary_message));
      }
    }
    Level(not_ready, at_risk, &r->readiness, &r->reasons, &r->reason_messages, notes);
    if (const AssetView::Point* clean = LastClean(v, end)) {
      r->last_clean_set = clean->set->name;
      r->last_clean_ns = clean->p->time_ns;
      r->last_clean_name = clean->p->name;
    }
  }

  // "restore from SET/POINT (taken TIME)", or "no clean restore point".
  Reason RestoreFrom(const AssetView::Point* clean) const {
    if (clean == nullptr) return {"no clean restore point", Msg("ready.no_clean_point")};
    const std::string point = clean->set->name + "/" + clean->p->name;
    return {"restore from " + point + " (taken " + When(clean->p->time_ns) + ")",
            Msg("ready.restore_from", {msg::Text(point), WhenArg(clean->p->time_ns)})};
  }

  // The level set by the reasons (`notes` follow them without lowering it).
  static void Level(const std::vector<Reason>& not_ready, const std::vector<Reason>& at_risk,
                    Readiness* level, std::vector<std::string>* reasons,
                    std::vector<Message>* messages, const std::vector<Reason>& notes = {}) {
    reasons->clear();
    messages->clear();
    std::vector<Reason> all;
    if (!not_ready.empty()) {
      *level = Readiness::kNotReady;
      all = not_ready;
      all.insert(all.end(), at_risk.begin(), at_risk.end());
    } else if (!at_risk.empty()) {
      *level = Readiness::kAtRisk;
      all = at_risk;
    } else {
      *level = Readiness::kReady;
    }
    all.insert(all.end(), notes.begin(), notes.end());
    for (Reason& r : all) {
      reasons->push_back(std::move(r.text));
      messages->push_back(std::move(r.message));
    }
  }

  // Why the newest good point `p`, `age` old, is past the RPO.
  Reason TooOld(const AssetView::Point& p, int64_t age, int64_t max_age) const {
    if (p.p->time_is_lower_bound) {
      return {"no evidence of a sync of mirror " + p.set->name + " since " + When(p.p->time_ns) +
                  " (" + p.p->time_basis + "; RPO " + HumanDuration(max_age) + ")",
              Msg("ready.mirror_too_old", {msg::Text(p.set->name), WhenArg(p.p->time_ns),
                                           msg::Text(p.p->time_basis), msg::Duration(max_age)})};
    }
    return {
        "newest good point is " + HumanDuration(age) + " old (RPO " + HumanDuration(max_age) + ")",
        Msg("ready.too_old", {msg::Duration(age), msg::Duration(max_age)})};
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
    std::vector<Reason> not_ready, at_risk, problems;
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
        problems.push_back({s->name + ": location " + s->location +
                                " is declared offsite but is on the primary site " + primary_site,
                            Msg("site.same_site", {msg::Text(s->name), msg::Text(s->location),
                                                   msg::Text(primary_site)})});
        continue;
      }
      ++offsite_sets;
      auto f = facts_.sets.find(s->name);
      if (f == facts_.sets.end() || f->second.last_inventory_ns == 0) {
        problems.push_back({"offsite copy " + s->name + " never inventoried",
                            Msg("site.never_inventoried", {msg::Text(s->name)})});
        continue;
      }
      const AssetView::Point* newest = nullptr;
      const AssetView::Point* newest_present = nullptr;
      for (const AssetView::Point& pt : v.points) {
        if (pt.set != s || pt.p->time_ns > end || !Present(*pt.p, end)) continue;
        newest_present = &pt;
        if (GoodAt(*pt.p, end)) newest = &pt;
      }
      if (newest_present != nullptr && Flagged(*newest_present->p)) {
        // Flagged by its signals: restore from the set's last clean point.
        any_good |= newest != nullptr;
        const AssetView::Point* clean = nullptr;
        for (const AssetView::Point& pt : v.points) {
          if (pt.set == s && CleanPointAt(*pt.p, end)) clean = &pt;
        }
        Message why;
        const std::string text = WhyNotGood(*newest_present->p, end, &why);
        Reason from = RestoreFrom(clean);
        problems.push_back(
            {"offsite copy " + s->name + ": newest point " + newest_present->p->name + " is " +
                 text + "; " + from.text,
             Msg("site.not_clean",
                 {msg::Text(s->name), msg::Text(newest_present->p->name),
                  msg::Nested(std::move(why)), msg::Nested(std::move(from.message))})});
        continue;
      }
      if (newest == nullptr) {
        problems.push_back({"offsite copy " + s->name + ": no good restore point",
                            Msg("site.no_good_point", {msg::Text(s->name)})});
        continue;
      }
      any_good = true;
      if (newest_present != newest && !newest_present->p->implausible.empty()) {
        problems.push_back(
            {"offsite copy " + s->name + ": newest point " + newest_present->p->name +
                 " is implausible: " + newest_present->p->implausible.front(),
             Msg("site.implausible", {msg::Text(s->name), msg::Text(newest_present->p->name),
                                      msg::Text(newest_present->p->implausible.front())})});
        continue;
      }
      const int64_t age = end - newest->p->time_ns;
      if (rpo != nullptr && age > rpo->rpo.max_age_ns) {
        Reason old = TooOld(*newest, age, rpo->rpo.max_age_ns);
        problems.push_back(
            {"offsite copy " + s->name + ": " + old.text,
             Msg("site.prefixed", {msg::Text(s->name), msg::Nested(std::move(old.message))})});
        continue;
      }
      const int64_t stale = options_.stale_inventory_ns > 0 ? options_.stale_inventory_ns
                            : rpo != nullptr                ? rpo->rpo.max_age_ns
                                                            : 0;
      if (stale > 0 && end - f->second.last_inventory_ns > stale) {
        problems.push_back({"offsite copy " + s->name + " not inventoried since " +
                                When(f->second.last_inventory_ns),
                            Msg("site.not_inventoried_since",
                                {msg::Text(s->name), WhenArg(f->second.last_inventory_ns)})});
        continue;
      }
      ++current;
    }
    if (offsite_sets == 0) {
      not_ready.push_back({"no backup set on a location declared offsite from the primary site" +
                               (primary_site.empty() ? std::string() : " (" + primary_site + ")"),
                           primary_site.empty()
                               ? Msg("site.no_offsite")
                               : Msg("site.no_offsite_site", {msg::Text(primary_site)})});
      not_ready.insert(not_ready.end(), problems.begin(), problems.end());
    } else if (current == 0) {
      // A good but old offsite point still restores something.
      std::vector<Reason>& level = any_good ? at_risk : not_ready;
      level.insert(level.end(), problems.begin(), problems.end());
    }
    if (const Commitment* c = FindKind(cs, CommitmentKind::kCopies)) {
      CommitmentVerdict cv;
      Copies(v, *c, rpo, &cv);
      if (cv.verdict == Verdict::kFail) {
        not_ready.push_back(KindReason("copies", cv.summary, cv.summary_message));
      }
      if (cv.verdict == Verdict::kUnknown) {
        at_risk.push_back(KindReason("copies", cv.summary, cv.summary_message));
      }
    }
    Level(not_ready, at_risk, &r->site_loss, &r->site_loss_reasons, &r->site_loss_reason_messages);
  }

  void Scope(const AssetView& v, std::vector<ScopeFinding>* out) {
    if (v.last_inventory_ns == 0) return;
    if (!AnyPresent(v, End())) {
      Reason r = NoBackup(v);
      out->push_back({v.asset->name, std::move(r.text), std::move(r.message)});
    }
  }

  // Some point of the asset is present at `t` (taken and not gone): a
  // backup is found, good or not.
  static bool AnyPresent(const AssetView& v, int64_t t) {
    for (const auto& pt : v.points) {
      if (pt.p->time_ns <= t && Present(*pt.p, t)) return true;
    }
    return false;
  }

  // "in scope, no backup found", with what the inventories found at the
  // sets' directories when they said: ": set-a: directory does not exist;
  // set-b: empty".
  static Reason NoBackup(const AssetView& v) {
    std::string why;
    std::vector<Message> items;
    for (const BackupSetFacts* f : v.facts) {
      if (f->last_inventory_ns == 0 || f->no_backup.empty()) continue;
      why += (why.empty() ? ": " : "; ") + f->name + ": " +
             (f->no_backup == "does not exist" ? "directory does not exist" : f->no_backup);
      const char* id = f->no_backup == "does not exist"           ? "nobackup.no_directory"
                       : f->no_backup == "empty"                  ? "nobackup.empty"
                       : f->no_backup == "holds no restore point" ? "nobackup.no_point"
                                                                  : "nobackup.other";
      items.push_back(f->no_backup == "does not exist" || f->no_backup == "empty" ||
                              f->no_backup == "holds no restore point"
                          ? Msg(id, {msg::Text(f->name)})
                          : Msg(id, {msg::Text(f->name), msg::Text(f->no_backup)}));
    }
    if (items.empty()) return {"in scope, no backup found", Msg("scope.no_backup")};
    return {"in scope, no backup found" + why,
            Msg("scope.no_backup_why", {msg::List(std::move(items))})};
  }

  const Tenant& tenant_;
  const Contract& contract_;
  const std::map<std::string, Location>& locations_;
  const TenantFacts& facts_;
  // Store findings already made (StoreFindings), by what they are about.
  std::set<std::string> findings_done_;
  Interval iv_;
  int64_t now_;
  EvaluateOptions options_;
  Calendar cal_;
  int64_t monitored_from_ = 0;  // of the asset being judged (Run)
};

}  // namespace

bool GoodPointAt(const PointFact& p, int64_t t) { return GoodAt(p, t); }

bool CleanPointAt(const PointFact& p, int64_t t) {
  return GoodAt(p, t) && (p.verdict == PointVerdict::kClean || p.accepted);
}

const PointFact* LastCleanPoint(const std::vector<PointFact>& points, int64_t t) {
  const PointFact* best = nullptr;
  for (const PointFact& p : points) {
    if (CleanPointAt(p, t) && (best == nullptr || p.time_ns > best->time_ns)) best = &p;
  }
  return best;
}

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
