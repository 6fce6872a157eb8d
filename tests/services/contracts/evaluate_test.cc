// Unit tests of calendar arithmetic, commitment evaluation and scheduling on
// hand-built facts. The 90-day multi-tenant simulation is simulation_test.cc.
#include "services/contracts/evaluate.h"

#include <gtest/gtest.h>

#include "services/contracts/calendar.h"
#include "services/contracts/schedule.h"

namespace vigil::contracts {
namespace {

constexpr int64_t kH = kHourNs;
constexpr int64_t kD = kDayNs;

// 2026-10-01T00:00:00Z = 1790812800 s (date -u -d 2026-10-01 +%s).
constexpr int64_t kOct1Utc = 1790812800LL * kSecondNs;

TEST(CalendarTest, LocalDaysFollowDst) {
  Calendar paris("Europe/Paris");
  ASSERT_TRUE(paris.ok());
  // Paris is UTC+2 on 2026-10-01: local midnight is 22:00Z the day before.
  EXPECT_EQ(paris.LocalMidnight(2026, 10, 1), kOct1Utc - 2 * kH);
  // 2026-10-25 is the end of summer time: that local day lasts 25 hours.
  Interval d = paris.UnitContaining(CalendarUnit::kDay, paris.LocalMidnight(2026, 10, 25) + kH);
  EXPECT_EQ(d.end_ns - d.start_ns, 25 * kH);
  // ISO weeks start on Monday: 2026-10-01 is a Thursday, its week starts
  // on Monday 2026-09-28.
  Interval w = paris.UnitContaining(CalendarUnit::kWeek, kOct1Utc + 12 * kH);
  EXPECT_EQ(w.start_ns, paris.LocalMidnight(2026, 9, 28));
  EXPECT_EQ(w.end_ns, paris.LocalMidnight(2026, 10, 5));
  // Months and years.
  Interval m = paris.UnitBefore(CalendarUnit::kMonth, kOct1Utc + 12 * kH, 1);
  EXPECT_EQ(m.start_ns, paris.LocalMidnight(2026, 9, 1));
  EXPECT_EQ(m.end_ns, paris.LocalMidnight(2026, 10, 1));
  Interval y = paris.UnitContaining(CalendarUnit::kYear, kOct1Utc);
  EXPECT_EQ(y.start_ns, paris.LocalMidnight(2026, 1, 1));
  auto c = paris.ToCivil(kOct1Utc);  // 02:00 local, a Thursday
  EXPECT_EQ(c.hour, 2u);
  EXPECT_EQ(c.weekday, 3u);
  EXPECT_EQ(paris.Format(kOct1Utc), "2026-10-01 02:00 CEST");
  EXPECT_FALSE(Calendar("Mars/Olympus_Mons").ok());
}

TEST(CalendarTest, Periods) {
  Calendar paris("Europe/Paris");
  std::string err;
  auto p = ParsePeriod("2026-10", paris, &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->interval.start_ns, paris.LocalMidnight(2026, 10, 1));
  EXPECT_EQ(p->interval.end_ns, paris.LocalMidnight(2026, 11, 1));
  auto r = ParsePeriod("2026-10-01..2026-10-15", paris, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->interval.end_ns, paris.LocalMidnight(2026, 10, 16));
  EXPECT_FALSE(ParsePeriod("2026-13", paris, &err));
  EXPECT_NE(err.find("2026-13"), std::string::npos);
  EXPECT_FALSE(ParsePeriod("2026-10-15..2026-10-01", paris, &err));
  EXPECT_NE(err.find("before"), std::string::npos);
  EXPECT_FALSE(ParsePeriod("last month", paris, &err));
  EXPECT_EQ(MonthOf(kOct1Utc, paris).label, "2026-10");
  EXPECT_EQ(MonthOf(kOct1Utc - 3 * kH, paris).label, "2026-09");  // 23:00 local
}

// A tenant with one asset on one backup set, in UTC for readable numbers.
struct Fixture {
  Tenant tenant;
  Contract contract;
  std::map<std::string, Location> locations;
  TenantFacts facts;

  Fixture() {
    tenant.name = "t";
    tenant.timezone = "UTC";
    locations["nas"] = Location{.name = "nas", .site = "office"};
    Location vault{.name = "vault", .site = "provider"};
    vault.offsite = true;
    locations["vault"] = vault;
    Asset a;
    a.name = "fs";
    BackupSet s;
    s.name = "fs-nas";
    s.location = "nas";
    s.layout = Layout::kDatedFolders;
    a.backup_sets.push_back(s);
    contract.tenant = "t";
    contract.assets.push_back(a);
  }
  Commitment& Add(CommitmentKind k) {
    Commitment c;
    c.kind = k;
    contract.commitments.push_back(c);
    return contract.commitments.back();
  }
  BackupSetFacts& Set(const std::string& name = "fs-nas") {
    BackupSetFacts& f = facts.sets[name];
    f.name = name;
    return f;
  }
  // Daily points at 22:00 from day `from` to day `to` (inclusive).
  void Daily(BackupSetFacts& f, int from, int to) {
    for (int d = from; d <= to; ++d) {
      PointFact p;
      p.time_ns = kOct1Utc + d * kD + 22 * kH;
      p.name = "day" + std::to_string(d);
      p.first_seen_ns = p.time_ns + kH;
      p.files = 100;
      p.bytes = 1 << 20;
      f.points.push_back(p);
    }
  }
  Evaluation Eval(int64_t start, int64_t end, int64_t now) {
    return Evaluate(tenant, contract, locations, facts, Interval{start, end}, now);
  }
};

TEST(EvaluateTest, RpoPassFailUnknown) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  // Never inventoried: unknown, and the asset is not ready.
  Evaluation e = fx.Eval(kOct1Utc, kOct1Utc + 10 * kD, kOct1Utc + 10 * kD);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRpo)->verdict, Verdict::kUnknown);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);

  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 3);
  fx.Daily(f, 5, 9);  // day 4 skipped: 48 h between day 3 and day 5
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 9 * kD + 23 * kH;
  // Days 1-3 only: pass.
  e = fx.Eval(kOct1Utc + kD, kOct1Utc + 4 * kD, kOct1Utc + 10 * kD);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  // The whole window: the breach starts 26 h after day 3's point.
  e = fx.Eval(kOct1Utc, kOct1Utc + 10 * kD, kOct1Utc + 10 * kD);
  v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, kOct1Utc + 3 * kD + 22 * kH + 26 * kH);
  EXPECT_NE(v->summary.find("2 d"), std::string::npos) << v->summary;  // worst age 48 h
  // Now recovered: ready (no other commitment).
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kReady);
  // Long silence after the last inventory: unknown, at risk.
  e = fx.Eval(kOct1Utc + 10 * kD, kOct1Utc + 13 * kD, kOct1Utc + 13 * kD);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRpo)->verdict, Verdict::kUnknown);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kAtRisk);
}

TEST(EvaluateTest, DamagedOrImplausiblePointsAreNotGood) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 5);
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 6 * kD + 12 * kH;
  // The newest point is an emptied source: the newest GOOD one is day 4.
  f.points.back().implausible.push_back("file count fell from 100 to 2 (-98%)");
  int64_t now = kOct1Utc + 6 * kD + 12 * kH;
  Evaluation e = fx.Eval(kOct1Utc + 6 * kD, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, kOct1Utc + 4 * kD + 22 * kH + 26 * kH);
  const AssetReadiness* r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kAtRisk);
  ASSERT_FALSE(r->reasons.empty());
  bool names_it = false;
  for (const auto& s : r->reasons) names_it |= s.find("implausible") != std::string::npos;
  EXPECT_TRUE(names_it);
  // Every point damaged: not ready.
  for (auto& p : f.points) p.damaged_ns = kOct1Utc + 6 * kD;
  e = fx.Eval(kOct1Utc + 6 * kD, now, now);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);
}

TEST(EvaluateTest, RpoWithoutAGoodPointCountsFromTheFirstInventory) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 24 * kH;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 0);
  f.points[0].damaged_ns = f.points[0].time_ns + kH;  // found damaged at once
  f.first_inventory_ns = f.points[0].time_ns + kH;
  f.last_inventory_ns = f.first_inventory_ns + 2 * kH;
  int64_t now = f.last_inventory_ns;
  Evaluation e = fx.Eval(kOct1Utc, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  EXPECT_NE(v->summary.find("no good restore point"), std::string::npos) << v->summary;
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);
  // A day later with no new point, the inventory sees the breach.
  f.last_inventory_ns = f.first_inventory_ns + 25 * kH;
  now = f.last_inventory_ns;
  e = fx.Eval(kOct1Utc, now, now);
  v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, f.first_inventory_ns + 24 * kH);
}

TEST(EvaluateTest, RetentionAgedOutIsExpectedEarlyDeletionFails) {
  Fixture fx;
  Commitment& c = fx.Add(CommitmentKind::kRetention);
  c.retention.daily = 7;
  c.retention.weekly = 2;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 29);
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 30 * kD;
  int64_t now = kOct1Utc + 30 * kD;
  // Keep like `restic forget --keep-daily 7 --keep-weekly 2`: the 7 newest
  // days, and the newest point of each of the 2 newest weeks; the rest aged
  // out on day 29.
  Calendar utc("UTC");
  std::set<int64_t> keep_weeks;
  for (int d = 29; d >= 0 && keep_weeks.size() < 2; --d) {
    keep_weeks.insert(utc.UnitContaining(CalendarUnit::kWeek, f.points[d].time_ns).start_ns);
  }
  std::map<int64_t, int> newest_of_week;
  for (int d = 0; d <= 29; ++d) {
    newest_of_week[utc.UnitContaining(CalendarUnit::kWeek, f.points[d].time_ns).start_ns] = d;
  }
  for (int d = 0; d < 23; ++d) {
    int64_t wk = utc.UnitContaining(CalendarUnit::kWeek, f.points[d].time_ns).start_ns;
    if (keep_weeks.count(wk) && newest_of_week[wk] == d) continue;
    f.points[d].gone_ns = kOct1Utc + 29 * kD + 23 * kH;
  }
  Evaluation e = fx.Eval(kOct1Utc + 29 * kD, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRetention);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  // A daily point still inside the ladder is deleted: fail from then.
  f.points[26].gone_ns = kOct1Utc + 29 * kD + 23 * kH + 30 * kMinuteNs;
  e = fx.Eval(kOct1Utc + 29 * kD, now, now);
  v = e.Find("fs", CommitmentKind::kRetention);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, f.points[26].gone_ns);
  EXPECT_NE(v->summary.find("daily 2026-10-27: deleted while it must still be kept"),
            std::string::npos)
      << v->summary;
}

// A slot held only by an implausible (emptied, encrypted) or damaged point is
// not held: restoring it would bring that back. The evidence names them.
TEST(EvaluateTest, RetentionDoesNotCountImplausibleOrDamagedPointsAsHeld) {
  Fixture fx;
  fx.Add(CommitmentKind::kRetention).retention.daily = 7;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 9);
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 10 * kD;
  const int64_t now = kOct1Utc + 10 * kD;
  Evaluation e = fx.Eval(kOct1Utc, now, now);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRetention)->verdict, Verdict::kPass);
  // Day 9's point is an encrypted source: its day is not held, from then.
  f.points[9].implausible.push_back("mass-change: 95% of the files changed");
  e = fx.Eval(kOct1Utc, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRetention);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, f.points[9].time_ns);
  EXPECT_NE(v->summary.find("daily 2026-10-10: held only by fs-nas/day9 implausible: mass-change"),
            std::string::npos)
      << v->summary;
  // Day 6 damaged too: both slots named in the evidence.
  f.points[6].damaged_ns = kOct1Utc + 9 * kD;
  f.points[6].damage = "2 entries modified";
  e = fx.Eval(kOct1Utc, now, now);
  v = e.Find("fs", CommitmentKind::kRetention);
  std::string held;
  for (const Evidence& x : v->evidence) {
    if (x.name == "slots_held_only_by_bad_points") held = x.value;
  }
  EXPECT_NE(held.find("daily 2026-10-10: fs-nas/day9 implausible"), std::string::npos) << held;
  EXPECT_NE(held.find("daily 2026-10-07: fs-nas/day6 damaged: 2 entries modified"),
            std::string::npos)
      << held;
}

// A point at time 0 in a set that is not a mirror (what an empty dated-folders
// set was given) is no backup: no "point of 1970" in the RPO evidence, no
// retention slot, and the scope finding and "not ready" say why.
TEST(EvaluateTest, NoTimeZeroPointAndNoBackupFoundSaysWhy) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  fx.Add(CommitmentKind::kRetention).retention.daily = 7;
  BackupSetFacts& f = fx.Set();
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 2 * kH;
  f.points.push_back(PointFact{.time_ns = 0, .first_seen_ns = kOct1Utc});
  f.no_backup = "empty";
  const int64_t now = kOct1Utc + 3 * kH;
  Evaluation e = fx.Eval(kOct1Utc, now, now);
  const CommitmentVerdict* rpo = e.Find("fs", CommitmentKind::kRpo);
  for (const Evidence& x : rpo->evidence) {
    if (x.name == "newest_good_point") {
      EXPECT_EQ(x.value, "none");
    }
    EXPECT_EQ(x.value.find("1970"), std::string::npos) << x.name << ": " << x.value;
  }
  const CommitmentVerdict* ret = e.Find("fs", CommitmentKind::kRetention);
  for (const Evidence& x : ret->evidence) {
    if (x.name == "required_slots_at_end") {
      EXPECT_EQ(x.value, "0");
    }
  }
  ASSERT_EQ(e.scope.size(), 1u);
  EXPECT_EQ(e.scope[0].finding, "in scope, no backup found: fs-nas: empty");
  const AssetReadiness* r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kNotReady);
  ASSERT_FALSE(r->reasons.empty());
  EXPECT_EQ(r->reasons[0], "in scope, no backup found: fs-nas: empty");
  // A directory that does not exist says so.
  f.no_backup = "does not exist";
  e = fx.Eval(kOct1Utc, now, now);
  EXPECT_EQ(e.ReadinessOf("fs")->reasons[0],
            "in scope, no backup found: fs-nas: directory does not exist");
  // So does one whose points were all there once and are gone with it.
  f.points.clear();
  fx.Daily(f, -1, -1);  // the day before
  f.points[0].gone_ns = kOct1Utc + kH;
  e = fx.Eval(kOct1Utc, kOct1Utc + kH - 1, kOct1Utc + kH - 1);  // still there: no finding
  EXPECT_TRUE(e.scope.empty());
  e = fx.Eval(kOct1Utc, now, now);
  ASSERT_EQ(e.scope.size(), 1u);
  EXPECT_EQ(e.scope[0].finding, "in scope, no backup found: fs-nas: directory does not exist");
}

TEST(EvaluateTest, CopiesCountCurrentAndOffsiteAndDisagreement) {
  Fixture fx;
  BackupSet copy;
  copy.name = "fs-vault";
  copy.location = "vault";
  fx.contract.assets[0].backup_sets.push_back(copy);
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  Commitment& c = fx.Add(CommitmentKind::kCopies);
  c.copies.min = 2;
  c.copies.offsite = 1;
  BackupSetFacts& a = fx.Set("fs-nas");
  fx.Daily(a, 0, 9);
  a.first_inventory_ns = kOct1Utc;
  a.last_inventory_ns = kOct1Utc + 10 * kD;
  BackupSetFacts& b = fx.Set("fs-vault");
  fx.Daily(b, 0, 5);  // the offsite copy stopped after day 5
  b.first_inventory_ns = kOct1Utc;
  b.last_inventory_ns = kOct1Utc + 10 * kD;
  int64_t now = kOct1Utc + 10 * kD;
  Evaluation e = fx.Eval(kOct1Utc + 9 * kD, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_NE(v->summary.find("0 current offsite copies of 1"), std::string::npos) << v->summary;
  bool declared = false;
  for (const auto& ev : v->evidence) declared |= ev.basis == "declared";
  EXPECT_TRUE(declared);
  // Copy current again, but content differs.
  fx.Daily(b, 6, 9);
  fx.facts.copies.push_back({.a = "fs-nas",
                             .b = "fs-vault",
                             .state = CopyAgreement::State::kDisagree,
                             .matched = 98,
                             .differing = 2});
  e = fx.Eval(kOct1Utc + 9 * kD, now, now);
  v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(v->verdict, Verdict::kFail);
  EXPECT_NE(v->summary.find("copies differ"), std::string::npos) << v->summary;
  // Different algorithms: not established is said, not failed.
  fx.facts.copies.back().state = CopyAgreement::State::kNotEstablished;
  e = fx.Eval(kOct1Utc + 9 * kD, now, now);
  v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  EXPECT_NE(v->summary.find("not established"), std::string::npos);
}

// The evidence named `name` with `basis` in `v`, or "" when none.
std::string EvidenceOf(const CommitmentVerdict& v, const std::string& name,
                       const std::string& basis) {
  for (const auto& e : v.evidence) {
    if (e.name == name && e.basis == basis) return e.value;
  }
  return "";
}

// A remote location's declarations beside what its store said (facts given
// as data): not measured until a check asked; Object Lock off under an
// immutable declaration, or objects not under retention, is a finding
// naming the location, the declaration and the store's word; an object
// differing from the store's upload record is a finding; none of it changes
// the copies verdict. A filesystem location gets none of this evidence.
TEST(EvaluateTest, StoreEvidenceBesideTheDeclarations) {
  Fixture fx;
  Location& vault = fx.locations["vault"];
  vault.kind = "s3";
  vault.immutable = true;
  BackupSet copy;
  copy.name = "fs-vault";
  copy.location = "vault";
  fx.contract.assets[0].backup_sets.push_back(copy);
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  Commitment& c = fx.Add(CommitmentKind::kCopies);
  c.copies.min = 2;
  c.copies.offsite = 1;
  for (const char* name : {"fs-nas", "fs-vault"}) {
    BackupSetFacts& f = fx.Set(name);
    fx.Daily(f, 0, 9);
    f.first_inventory_ns = kOct1Utc;
    f.last_inventory_ns = kOct1Utc + 10 * kD;
  }
  const int64_t now = kOct1Utc + 10 * kD;
  auto eval = [&] { return fx.Eval(kOct1Utc + 9 * kD, now, now); };
  auto findings = [](const Evaluation& e) {
    std::string out;
    for (const auto& f : e.scope) out += f.subject + ": " + f.finding + "\n";
    return out;
  };

  // Never asked.
  Evaluation e = eval();
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kCopies);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  EXPECT_EQ(EvidenceOf(*v, "immutable vault", "declared"), "declared immutable");
  EXPECT_EQ(EvidenceOf(*v, "immutable vault", "measured"),
            "not measured: no check has asked the store yet");
  EXPECT_EQ(EvidenceOf(*v, "offsite vault", "declared"), "declared offsite; the store cannot tell");
  EXPECT_EQ(EvidenceOf(*v, "immutable nas", "declared"), "");  // a filesystem location
  EXPECT_EQ(findings(e), "");

  // The server does not implement Object Lock: not measured, with why.
  StoreSaid said;
  said.store = "s3://h/b";
  said.measured_ns = now - kH;
  said.object_lock_unmeasured =
      "s3://h/b: the server does not implement GetObjectLockConfiguration";
  said.versioning = "enabled";
  said.agree = 10;
  fx.Set("fs-vault").store_said = said;
  e = eval();
  v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(v->verdict, Verdict::kPass);
  EXPECT_EQ(EvidenceOf(*v, "immutable vault", "measured"),
            "not measured: s3://h/b: the server does not implement GetObjectLockConfiguration");
  EXPECT_EQ(EvidenceOf(*v, "versioning vault", "measured"),
            "the store says: versioning enabled (s3://h/b)");
  EXPECT_EQ(EvidenceOf(*v, "upload_records fs-vault", "measured"),
            "10 object(s) read equal the store's upload record, 0 differ, 0 without one (the "
            "store's record at upload, not a re-read)");
  EXPECT_EQ(findings(e), "");

  // Object Lock off under an immutable declaration: a finding, the verdict
  // unchanged.
  said.object_lock = "off";
  fx.Set("fs-vault").store_said = said;
  e = eval();
  v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(v->verdict, Verdict::kPass);
  EXPECT_EQ(EvidenceOf(*v, "immutable vault", "measured"),
            "the store says: Object Lock off (s3://h/b)");
  EXPECT_EQ(findings(e),
            "location vault: declared immutable, but the store says Object Lock is off "
            "(s3://h/b)\n");

  // Object Lock on, two objects read out of retention, one differing from
  // its upload record.
  said.object_lock = "on";
  said.default_mode = "COMPLIANCE";
  said.default_days = 30;
  said.retained = 8;
  said.not_retained = 2;
  said.agree = 9;
  said.disagree = 1;
  said.disagreeing = {"day3/a: the store recorded md5 00 at upload, the bytes read give 11"};
  fx.Set("fs-vault").store_said = said;
  e = eval();
  v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(v->verdict, Verdict::kPass);
  EXPECT_EQ(EvidenceOf(*v, "immutable vault", "measured"),
            "the store says: Object Lock on, default retention COMPLIANCE 30 day(s) (s3://h/b); "
            "8 of 10 object(s) read under retention at 2026-10-10 23:00 UTC");
  EXPECT_EQ(findings(e),
            "location vault: declared immutable, but the store says 2 of 10 object(s) read of "
            "fs-vault not under retention at 2026-10-10 23:00 UTC (s3://h/b)\n"
            "backup set fs-vault: 1 object(s) read differ from the store's own upload record "
            "(damage at the store or in the read path): day3/a: the store recorded md5 00 at "
            "upload, the bytes read give 11\n");

  // Declared not immutable, Object Lock on: said, not a finding.
  vault.immutable = false;
  said.not_retained = 0;
  said.disagree = 0;
  fx.Set("fs-vault").store_said = said;
  e = eval();
  v = e.Find("fs", CommitmentKind::kCopies);
  EXPECT_EQ(EvidenceOf(*v, "immutable vault", "declared"), "declared not immutable");
  EXPECT_NE(EvidenceOf(*v, "immutable vault", "measured").find("Object Lock on"),
            std::string::npos);
  EXPECT_EQ(findings(e), "");
}

TEST(EvaluateTest, IntegrityCoverageAndSampling) {
  Fixture fx;
  Commitment& c = fx.Add(CommitmentKind::kIntegrity);
  c.integrity.reverify_within_ns = 30 * kD;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 2);
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 3 * kD;
  f.integrity = {.entries = 1000, .verified_within = 1000, .oldest_verified_ns = kOct1Utc};
  int64_t now = kOct1Utc + 3 * kD;
  Evaluation e = fx.Eval(kOct1Utc, now, now);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kIntegrity)->verdict, Verdict::kPass);
  f.integrity.verified_within = 900;
  e = fx.Eval(kOct1Utc, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kIntegrity);
  EXPECT_EQ(v->verdict, Verdict::kFail);
  EXPECT_NE(v->summary.find("90.00 %"), std::string::npos) << v->summary;
  EXPECT_NE(v->summary.find("100 entries"), std::string::npos) << v->summary;
  // Sampling: the confidence bound is 3/n.
  c.integrity.sample = 300;
  f.integrity.sampled = 300;
  e = fx.Eval(kOct1Utc, now, now);
  v = e.Find("fs", CommitmentKind::kIntegrity);
  EXPECT_EQ(v->verdict, Verdict::kPass);
  EXPECT_NE(v->summary.find("1.00 %"), std::string::npos) << v->summary;
  f.integrity.failures = 1;
  e = fx.Eval(kOct1Utc, now, now);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kIntegrity)->verdict, Verdict::kFail);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kAtRisk);
}

TEST(EvaluateTest, DrillProjectsAgainstRto) {
  Fixture fx;
  Commitment& c = fx.Add(CommitmentKind::kRestoreDrill);
  c.drill.every_ns = 30 * kD;
  c.drill.rto_ns = 4 * kH;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 40);
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 41 * kD;
  // No drill after 10 days: not yet due.
  Evaluation e = fx.Eval(kOct1Utc, kOct1Utc + 10 * kD, kOct1Utc + 10 * kD);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRestoreDrill)->verdict, Verdict::kUnknown);
  // After 31 days without one: fail from day 30.
  e = fx.Eval(kOct1Utc, kOct1Utc + 31 * kD, kOct1Utc + 31 * kD);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRestoreDrill);
  EXPECT_EQ(v->verdict, Verdict::kFail);
  EXPECT_EQ(v->failing_since_ns, kOct1Utc + 30 * kD);
  // A drill at 100 MiB/s on a 1 TiB point projects ~2.9 h: pass. It
  // passed over the newest point (implausible): the evidence says so.
  f.drills.push_back({.at_ns = kOct1Utc + 31 * kD,
                      .files = 100,
                      .bytes = 100ull << 20,
                      .seconds = 1.0,
                      .point_bytes = 1ull << 40,
                      .skipped = {"day40 (2026-11-10 22:00 UTC): implausible: files-drop"}});
  int64_t now = kOct1Utc + 32 * kD;
  e = fx.Eval(kOct1Utc + 31 * kD, now, now);
  v = e.Find("fs", CommitmentKind::kRestoreDrill);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  std::string skipped;
  for (const Evidence& x : v->evidence) {
    if (x.name == "newer_points_skipped") skipped = x.value;
  }
  EXPECT_EQ(skipped, "day40 (2026-11-10 22:00 UTC): implausible: files-drop");
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kReady);
  // At 50 MiB/s it takes ~5.8 h > 4 h: fail, at risk.
  f.drills.back().seconds = 2.0;
  e = fx.Eval(kOct1Utc + 31 * kD, now, now);
  v = e.Find("fs", CommitmentKind::kRestoreDrill);
  EXPECT_EQ(v->verdict, Verdict::kFail);
  EXPECT_NE(v->summary.find("5 h 49 min"), std::string::npos) << v->summary;
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kAtRisk);
  // Restored data differs: not ready.
  f.drills.back().mismatches = 1;
  e = fx.Eval(kOct1Utc + 31 * kD, now, now);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);
}

TEST(EvaluateTest, ScopeAndVersions) {
  Fixture fx;
  fx.Set().first_inventory_ns = kOct1Utc;
  fx.Set().last_inventory_ns = kOct1Utc;
  fx.facts.unscoped.push_back("nas:t/old-erp");
  fx.contract.out_of_scope.push_back({.item = "SaaS", .reason = "vendor"});
  Evaluation e = fx.Eval(kOct1Utc, kOct1Utc + kD, kOct1Utc + kD);
  ASSERT_EQ(e.scope.size(), 2u);
  EXPECT_EQ(e.scope[0].subject, "fs");
  EXPECT_NE(e.scope[0].finding.find("no backup found"), std::string::npos);
  EXPECT_EQ(e.scope[1].subject, "nas:t/old-erp");
  ASSERT_EQ(e.out_of_scope.size(), 1u);

  std::vector<Contract> versions(2, fx.contract);
  versions[0].effective_from_ns = kOct1Utc;
  versions[1].effective_from_ns = kOct1Utc + 15 * kD;
  EXPECT_EQ(VersionInForce(versions, kOct1Utc - 1), nullptr);
  EXPECT_EQ(VersionInForce(versions, kOct1Utc + 14 * kD), &versions[0]);
  EXPECT_EQ(VersionInForce(versions, kOct1Utc + 15 * kD), &versions[1]);
}

// Judging time before anyone looked: Vigil first inventories the set on
// day 5 (the client joined then). The days before are not monitored: an
// old point's age then is no breach, and a failure that Vigil finds at its
// first look is detected then, though it began earlier.
TEST(EvaluateTest, TimeBeforeTheFirstInventoryIsNotMonitored) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  BackupSetFacts& f = fx.Set();
  // A point of day -10, then daily from day 4 (22:00).
  fx.Daily(f, -10, -10);
  fx.Daily(f, 4, 9);
  f.first_inventory_ns = kOct1Utc + 5 * kD;
  f.last_inventory_ns = kOct1Utc + 10 * kD;
  const int64_t end = kOct1Utc + 10 * kD;
  Evaluation e = fx.Eval(kOct1Utc, end, end);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRpo);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  EXPECT_EQ(v->monitored_from_ns, kOct1Utc + 5 * kD);
  EXPECT_NE(v->summary.find("not monitored before 2026-10-06 00:00"), std::string::npos)
      << v->summary;
  EXPECT_EQ(e.ReadinessOf("fs")->monitored_from_ns, kOct1Utc + 5 * kD);

  // The first look finds the newest point 6.5 days old (day -10's only):
  // a fail detected at the first inventory, begun when that point turned
  // 26 h old.
  BackupSetFacts& g = fx.Set();
  g.points.clear();
  fx.Daily(g, -10, -10);
  fx.Daily(g, 7, 9);
  e = fx.Eval(kOct1Utc, end, end);
  v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, kOct1Utc + 5 * kD);
  EXPECT_EQ(v->began_ns, kOct1Utc - 10 * kD + 22 * kH + 26 * kH);

  // The contract takes effect on day 8, later than the first inventory:
  // monitoring starts then, and day 7's point is within the RPO.
  fx.contract.effective_from_ns = kOct1Utc + 8 * kD;
  e = fx.Eval(kOct1Utc, end, end);
  v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kPass) << v->summary;
  EXPECT_EQ(v->monitored_from_ns, kOct1Utc + 8 * kD);
}

// A mirror without a sync marker is dated by a lower bound of its last
// sync: past the RPO nothing proves the sync stopped (unchanged data looks
// the same), so the RPO is unknown, never fail, and the asset at risk.
TEST(EvaluateTest, MirrorFreshnessWithoutProofIsUnknown) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  BackupSetFacts& f = fx.Set();
  PointFact p;
  p.time_ns = kOct1Utc + 1 * kD;  // newest file's mtime
  p.first_seen_ns = kOct1Utc + 2 * kD;
  p.time_is_lower_bound = true;
  p.time_basis = "newest file's mtime; no sync marker";
  f.points.push_back(p);
  f.first_inventory_ns = kOct1Utc + 2 * kD;
  f.last_inventory_ns = kOct1Utc + 10 * kD - kH;
  const int64_t end = kOct1Utc + 10 * kD;
  Evaluation e = fx.Eval(kOct1Utc, end, end);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kUnknown) << v->summary;
  EXPECT_NE(v->summary.find("no evidence of a sync of mirror fs-nas"), std::string::npos)
      << v->summary;
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kAtRisk);
  // Nothing dates it at all (time 0: an empty mirror): no point, not one
  // "20000 days old"; in scope, no backup found.
  f.points[0].time_ns = 0;
  e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRpo)->summary.find("1970"), std::string::npos);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);
  ASSERT_FALSE(e.ReadinessOf("fs")->reasons.empty());
  EXPECT_EQ(e.ReadinessOf("fs")->reasons[0].rfind("in scope, no backup found", 0), 0u)
      << e.ReadinessOf("fs")->reasons[0];
  // A sync marker proves the last sync: its age past the RPO is a fail.
  f.points[0].time_ns = kOct1Utc + 1 * kD;
  f.points[0].time_is_lower_bound = false;
  f.points[0].time_basis = "sync marker .last-sync";
  e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRpo)->verdict, Verdict::kFail);
}

// Readiness after the loss of the primary site: only a current good copy
// on an offsite location (another site) counts, and a failing copies
// commitment makes it not ready (and the restore readiness too, when the
// contract says gatesReadiness).
TEST(EvaluateTest, ReadinessAfterSiteLoss) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  Commitment& copies = fx.Add(CommitmentKind::kCopies);
  copies.copies = {.min = 2, .offsite = 1};
  BackupSet vault;
  vault.name = "fs-vault";
  vault.location = "vault";
  vault.layout = Layout::kDatedFolders;
  fx.contract.assets[0].backup_sets.push_back(vault);
  BackupSetFacts& nas = fx.Set();
  fx.Daily(nas, 0, 9);
  nas.first_inventory_ns = kOct1Utc;
  nas.last_inventory_ns = kOct1Utc + 10 * kD - kH;
  BackupSetFacts& off = fx.Set("fs-vault");
  fx.Daily(off, 0, 9);
  off.first_inventory_ns = kOct1Utc;
  off.last_inventory_ns = kOct1Utc + 10 * kD - kH;
  const int64_t end = kOct1Utc + 10 * kD;
  Evaluation e = fx.Eval(kOct1Utc, end, end);
  const AssetReadiness* r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kReady);
  EXPECT_EQ(r->site_loss, Readiness::kReady) << ::testing::PrintToString(r->site_loss_reasons);

  // The offsite copy stopped after day 5: copies fail; the primary is
  // still fine, so the asset is ready, but not after the loss of its site.
  fx.Set("fs-vault").points.resize(6);
  e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kCopies)->verdict, Verdict::kFail);
  r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kReady);
  EXPECT_EQ(r->site_loss, Readiness::kNotReady);
  ASSERT_FALSE(r->site_loss_reasons.empty());
  EXPECT_NE(::testing::PrintToString(r->site_loss_reasons).find("offsite copy fs-vault"),
            std::string::npos)
      << ::testing::PrintToString(r->site_loss_reasons);
  // The contract lets the copies commitment gate the restore readiness.
  fx.contract.commitments[1].copies.gates_readiness = true;
  e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);

  // Without any offsite location: not ready after site loss, whatever the
  // primary holds.
  fx.contract.commitments.resize(1);
  fx.contract.assets[0].backup_sets.resize(1);
  e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kReady);
  EXPECT_EQ(e.ReadinessOf("fs")->site_loss, Readiness::kNotReady);
  // A location declared offsite on the primary's own site does not count.
  fx.locations["vault"].site = "office";
  fx.contract.assets[0].backup_sets.push_back(vault);
  fx.Set("fs-vault").points.clear();
  fx.Daily(fx.Set("fs-vault"), 0, 9);
  e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.ReadinessOf("fs")->site_loss, Readiness::kNotReady)
      << ::testing::PrintToString(e.ReadinessOf("fs")->site_loss_reasons);
}

TEST(ScheduleTest, CadencesJitterAndOverdueFirst) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 24 * kH;
  Commitment& i = fx.Add(CommitmentKind::kIntegrity);
  i.integrity.reverify_within_ns = 30 * kD;
  i.integrity.budget_bytes = 1ull << 30;
  fx.Add(CommitmentKind::kRestoreDrill).drill.every_ns = 30 * kD;
  std::vector<const Commitment*> cs = fx.contract.CommitmentsFor("fs");
  EXPECT_EQ(Cadence(CheckKind::kInventory, cs), 12 * kH);
  EXPECT_EQ(Cadence(CheckKind::kIntegrity, cs), kDayNs);
  EXPECT_EQ(Cadence(CheckKind::kRestoreDrill, cs), 27 * kD);

  int64_t now = kOct1Utc;
  // Never run: everything due now.
  std::vector<DueCheck> due = PlanChecks(fx.tenant, fx.contract, fx.locations, {}, now);
  ASSERT_EQ(due.size(), 3u);
  for (const auto& d : due) {
    EXPECT_TRUE(d.overdue);
    EXPECT_EQ(d.start_ns, now);
  }
  // The inventory ran 20 h ago (8 h overdue), the integrity run 1 h ago,
  // the drill 2 days ago: the inventory comes first, the others later.
  CheckHistory h = {{{"fs-nas", CheckKind::kInventory}, now - 20 * kH},
                    {{"fs-nas", CheckKind::kIntegrity}, now - kH},
                    {{"fs-nas", CheckKind::kRestoreDrill}, now - 2 * kD}};
  due = PlanChecks(fx.tenant, fx.contract, fx.locations, h, now);
  ASSERT_EQ(due.size(), 2u);  // the drill is 25 days away, past the horizon
  EXPECT_EQ(due[0].kind, CheckKind::kInventory);
  EXPECT_TRUE(due[0].overdue);
  EXPECT_EQ(due[1].kind, CheckKind::kIntegrity);
  EXPECT_FALSE(due[1].overdue);
  EXPECT_EQ(due[1].byte_budget, 1ull << 30);
  // Jitter is below the maximum and stable.
  EXPECT_GE(due[1].due_ns, now - kH + kDayNs);
  EXPECT_LT(due[1].due_ns, now - kH + kDayNs + 10 * kMinuteNs);
  EXPECT_EQ(PlanChecks(fx.tenant, fx.contract, fx.locations, h, now)[1].due_ns, due[1].due_ns);
}

TEST(ScheduleTest, MaintenanceWindowsAreNotRead) {
  Location loc{.name = "nas", .site = "office"};
  loc.timezone = "Europe/Paris";
  // Weekdays 22:00-02:00 local (the NAS's own backups).
  loc.maintenance_windows.push_back({.days = 0x1f, .start_minute = 22 * 60, .duration_ns = 4 * kH});
  Calendar paris("Europe/Paris");
  int64_t thu = paris.LocalMidnight(2026, 10, 1);  // Thursday
  EXPECT_FALSE(InMaintenance(loc, thu + 21 * kH));
  EXPECT_TRUE(InMaintenance(loc, thu + 22 * kH));
  EXPECT_TRUE(InMaintenance(loc, thu + 25 * kH));   // Friday 01:00, Thursday's window
  EXPECT_FALSE(InMaintenance(loc, thu + 26 * kH));  // Friday 02:00
  EXPECT_EQ(NextReadable(loc, thu + 23 * kH), thu + 26 * kH);
  EXPECT_EQ(NextReadable(loc, thu + 12 * kH), thu + 12 * kH);
  int64_t sat = paris.LocalMidnight(2026, 10, 3);
  EXPECT_TRUE(InMaintenance(loc, sat + kH));        // Friday's window runs into Saturday
  EXPECT_FALSE(InMaintenance(loc, sat + 23 * kH));  // no window on Saturday

  // A check due inside the window starts at its end.
  Fixture fx;
  fx.locations["nas"] = loc;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 24 * kH;
  std::vector<DueCheck> due = PlanChecks(fx.tenant, fx.contract, fx.locations, {}, thu + 23 * kH);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].start_ns, thu + 26 * kH);
}

// A point found suspicious or encrypted by its ransomware signals is not
// good (RPO and retention stop counting it) unless an operator accepted it;
// a point not examined yet stays good (recorded before signals existed).
TEST(EvaluateTest, FlaggedPointsAreNotGoodNotExaminedOnesAre) {
  PointFact p;
  p.time_ns = 10;
  p.first_seen_ns = 10;
  EXPECT_TRUE(GoodPointAt(p, 100));  // not computed: good
  EXPECT_EQ(WhyPointNotGood(p, 100), "");
  p.verdict = PointVerdict::kClean;
  EXPECT_TRUE(GoodPointAt(p, 100));
  p.verdict = PointVerdict::kSuspicious;
  p.signals = {"renames: 240 files renamed", "notes: README-DECRYPT.txt in 12 directories"};
  EXPECT_FALSE(GoodPointAt(p, 100));
  EXPECT_EQ(WhyPointNotGood(p, 100), "suspicious: renames: 240 files renamed");
  p.verdict = PointVerdict::kEncrypted;
  EXPECT_FALSE(GoodPointAt(p, 100));
  EXPECT_EQ(WhyPointNotGood(p, 100), "encrypted: renames: 240 files renamed");
  p.signals.clear();
  EXPECT_EQ(WhyPointNotGood(p, 100), "encrypted");
  p.accepted = true;  // an operator declared it clean
  EXPECT_TRUE(GoodPointAt(p, 100));
  EXPECT_TRUE(CleanPointAt(p, 100));

  // Through the evaluation: day 5 encrypted, the newest good point is day 4.
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  fx.Add(CommitmentKind::kRetention).retention.daily = 3;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 5);
  for (PointFact& x : f.points) x.verdict = PointVerdict::kClean;
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 6 * kD + 12 * kH;
  f.points.back().verdict = PointVerdict::kEncrypted;
  f.points.back().signals = {"entropy: 950 files turned random"};
  const int64_t now = kOct1Utc + 6 * kD + 12 * kH;
  Evaluation e = fx.Eval(kOct1Utc + 6 * kD, now, now);
  const CommitmentVerdict* v = e.Find("fs", CommitmentKind::kRpo);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_EQ(v->failing_since_ns, kOct1Utc + 4 * kD + 22 * kH + 26 * kH);
  v = e.Find("fs", CommitmentKind::kRetention);
  EXPECT_EQ(v->verdict, Verdict::kFail) << v->summary;
  EXPECT_NE(v->summary.find("fs-nas/day5 encrypted: entropy: 950 files turned random"),
            std::string::npos)
      << v->summary;
  // Its structured form names the verdict and the signal.
  bool structured = false;
  std::vector<const Message*> stack = {&v->summary_message};
  while (!stack.empty()) {
    const Message* m = stack.back();
    stack.pop_back();
    structured |= m->id == "point.encrypted_why";
    for (const MessageArg& a : m->args) {
      for (const Message& sub : a.items) stack.push_back(&sub);
    }
  }
  EXPECT_TRUE(structured);
  // Not examined: still good, the RPO holds.
  f.points.back().verdict = PointVerdict::kNotComputed;
  e = fx.Eval(kOct1Utc + 6 * kD, now, now);
  EXPECT_EQ(e.Find("fs", CommitmentKind::kRpo)->verdict, Verdict::kPass);
}

// Readiness when the newest point is not clean: at risk, naming the point to
// restore from (the last clean one across the asset's sets) or that there
// is none; a newest point not examined yet is said without lowering it.
TEST(EvaluateTest, ReadinessNamesTheLastCleanPoint) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 72 * kH;
  BackupSetFacts& f = fx.Set();
  fx.Daily(f, 0, 5);
  for (PointFact& x : f.points) x.verdict = PointVerdict::kClean;
  f.first_inventory_ns = kOct1Utc;
  f.last_inventory_ns = kOct1Utc + 6 * kD + 12 * kH;
  const int64_t now = kOct1Utc + 6 * kD + 12 * kH;
  Evaluation e = fx.Eval(kOct1Utc, now, now);
  const AssetReadiness* r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kReady) << ::testing::PrintToString(r->reasons);
  EXPECT_TRUE(r->reasons.empty()) << ::testing::PrintToString(r->reasons);
  EXPECT_EQ(r->last_clean_set, "fs-nas");
  EXPECT_EQ(r->last_clean_name, "day5");
  EXPECT_EQ(r->last_clean_ns, f.points[5].time_ns);

  // Days 4 and 5 flagged: at risk (days 0-3 are clean and within the RPO),
  // restore from day 3.
  f.points[4].verdict = PointVerdict::kSuspicious;
  f.points[4].signals = {"renames: 300 files renamed"};
  f.points[5].verdict = PointVerdict::kEncrypted;
  f.points[5].signals = {"entropy: 950 files turned random", "notes: 12 ransom notes"};
  e = fx.Eval(kOct1Utc, now, now);
  r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kAtRisk);
  EXPECT_EQ(r->reasons,
            (std::vector<std::string>{
                "newest point fs-nas/day5 is encrypted: entropy: 950 files turned random",
                "restore from fs-nas/day3 (taken 2026-10-04 22:00 UTC)"}));
  ASSERT_EQ(r->reason_messages.size(), 2u);
  EXPECT_EQ(r->reason_messages[0].id, "ready.not_clean");
  EXPECT_EQ(r->reason_messages[1].id, "ready.restore_from");
  EXPECT_EQ(r->last_clean_name, "day3");

  // The last clean point may be on another of the asset's sets.
  BackupSet usb;
  usb.name = "fs-usb";
  usb.location = "nas";
  usb.layout = Layout::kDatedFolders;
  fx.contract.assets[0].backup_sets.push_back(usb);
  BackupSetFacts& u = fx.Set("fs-usb");
  u.first_inventory_ns = kOct1Utc;
  u.last_inventory_ns = now;
  PointFact up;
  up.time_ns = kOct1Utc + 4 * kD + 12 * kH;
  up.first_seen_ns = up.time_ns;
  up.name = "usb-1";
  up.verdict = PointVerdict::kClean;
  u.points.push_back(up);
  e = fx.Eval(kOct1Utc, now, now);
  r = e.ReadinessOf("fs");
  ASSERT_EQ(r->reasons.size(), 2u);
  EXPECT_EQ(r->reasons[1], "restore from fs-usb/usb-1 (taken 2026-10-05 12:00 UTC)");
  EXPECT_EQ(r->last_clean_set, "fs-usb");
  fx.contract.assets[0].backup_sets.resize(1);

  // No clean point at all (older points never examined): at risk, says so.
  for (int i = 0; i < 4; ++i) f.points[i].verdict = PointVerdict::kNotComputed;
  e = fx.Eval(kOct1Utc, now, now);
  r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kAtRisk);
  ASSERT_EQ(r->reasons.size(), 2u) << ::testing::PrintToString(r->reasons);
  EXPECT_EQ(r->reasons[1], "no clean restore point");
  EXPECT_EQ(r->last_clean_ns, 0);
  // Every point flagged: nothing good to restore, not ready.
  for (int i = 0; i < 4; ++i) f.points[i].verdict = PointVerdict::kSuspicious;
  e = fx.Eval(kOct1Utc, now, now);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kNotReady);

  // The newest point accepted by an operator: clean again, ready.
  for (PointFact& x : f.points) x.verdict = PointVerdict::kClean;
  f.points[5].verdict = PointVerdict::kEncrypted;
  f.points[5].accepted = true;
  e = fx.Eval(kOct1Utc, now, now);
  EXPECT_EQ(e.ReadinessOf("fs")->readiness, Readiness::kReady);
  EXPECT_EQ(e.ReadinessOf("fs")->last_clean_name, "day5");

  // The newest point not examined yet: said, still ready; the last clean
  // point is the one before.
  f.points[5].accepted = false;
  f.points[5].verdict = PointVerdict::kNotComputed;
  e = fx.Eval(kOct1Utc, now, now);
  r = e.ReadinessOf("fs");
  EXPECT_EQ(r->readiness, Readiness::kReady);
  EXPECT_EQ(r->reasons,
            (std::vector<std::string>{"newest point not yet examined for ransomware signals"}));
  EXPECT_EQ(r->reason_messages.at(0).id, "ready.not_examined");
  EXPECT_EQ(r->last_clean_name, "day4");
}

// After the loss of the primary site: an offsite copy whose newest point is
// flagged names the point to restore from, or that there is none.
TEST(EvaluateTest, SiteLossWithAFlaggedOffsitePoint) {
  Fixture fx;
  fx.Add(CommitmentKind::kRpo).rpo.max_age_ns = 26 * kH;
  BackupSet vault;
  vault.name = "fs-vault";
  vault.location = "vault";
  vault.layout = Layout::kDatedFolders;
  fx.contract.assets[0].backup_sets.push_back(vault);
  const int64_t end = kOct1Utc + 10 * kD;
  for (const char* name : {"fs-nas", "fs-vault"}) {
    BackupSetFacts& f = fx.Set(name);
    fx.Daily(f, 0, 9);
    for (PointFact& x : f.points) x.verdict = PointVerdict::kClean;
    f.first_inventory_ns = kOct1Utc;
    f.last_inventory_ns = end - kH;
  }
  Evaluation e = fx.Eval(kOct1Utc, end, end);
  EXPECT_EQ(e.ReadinessOf("fs")->site_loss, Readiness::kReady);
  BackupSetFacts& off = fx.Set("fs-vault");
  off.points[9].verdict = PointVerdict::kEncrypted;
  off.points[9].signals = {"entropy: 950 files turned random"};
  e = fx.Eval(kOct1Utc, end, end);
  const AssetReadiness* r = e.ReadinessOf("fs");
  EXPECT_EQ(r->site_loss, Readiness::kAtRisk);
  EXPECT_EQ(r->site_loss_reasons,
            (std::vector<std::string>{
                "offsite copy fs-vault: newest point day9 is encrypted: entropy: 950 files turned "
                "random; restore from fs-vault/day8 (taken 2026-10-09 22:00 UTC)"}));
  EXPECT_EQ(r->site_loss_reason_messages.at(0).id, "site.not_clean");
  // The primary is fine: ready, naming its own newest clean point.
  EXPECT_EQ(r->readiness, Readiness::kReady);
  EXPECT_EQ(r->last_clean_set, "fs-nas");
  // Every offsite point flagged: nothing to restore there.
  for (PointFact& x : off.points) x.verdict = PointVerdict::kSuspicious;
  e = fx.Eval(kOct1Utc, end, end);
  r = e.ReadinessOf("fs");
  EXPECT_EQ(r->site_loss, Readiness::kNotReady);
  EXPECT_NE(r->site_loss_reasons.at(0).find("; no clean restore point"), std::string::npos)
      << r->site_loss_reasons.at(0);
}

TEST(LastCleanPoint, NewestGoodPointExaminedCleanOrAccepted) {
  auto point = [](int64_t t, PointVerdict v) {
    PointFact p;
    p.time_ns = t;
    p.first_seen_ns = t;
    p.verdict = v;
    return p;
  };
  std::vector<PointFact> points = {point(10, PointVerdict::kClean), point(20, PointVerdict::kClean),
                                   point(30, PointVerdict::kEncrypted),
                                   point(40, PointVerdict::kSuspicious),
                                   point(50, PointVerdict::kNotComputed)};
  ASSERT_NE(LastCleanPoint(points, 100), nullptr);
  EXPECT_EQ(LastCleanPoint(points, 100)->time_ns, 20);
  // Before point 20 was taken, 10 was the last clean one; before 10, none.
  EXPECT_EQ(LastCleanPoint(points, 15)->time_ns, 10);
  EXPECT_EQ(LastCleanPoint(points, 5), nullptr);
  // An operator's acceptance makes a suspicious point clean.
  points[3].accepted = true;
  EXPECT_EQ(LastCleanPoint(points, 100)->time_ns, 40);
  // A clean verdict does not make a damaged or gone point clean.
  points[3].damaged_ns = 60;
  EXPECT_EQ(LastCleanPoint(points, 100)->time_ns, 20);
  points[1].gone_ns = 70;
  EXPECT_EQ(LastCleanPoint(points, 100)->time_ns, 10);
  EXPECT_FALSE(CleanPointAt(points[4], 100));  // not examined is not clean
}

}  // namespace
}  // namespace vigil::contracts
