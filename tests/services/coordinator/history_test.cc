// The tenant page's numeric history (services/coordinator/history.h): RPO
// age and integrity coverage over time. Expected values are worked out by
// hand from the point and check times below (not by the code under test),
// then read off the series at chosen instants the way the page draws it
// (samples joined by straight lines; at a jump, the later sample holds).
#include "services/coordinator/history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "services/coordinator/check_log_writer.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "storage/catalogue.h"
#include "storage/kv.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1'000'000'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = vigil::testing::kFakeClockStart;  // 2026-10-01T00:00:00Z

// The series' value at t: linear between samples, the last sample at t if
// several share it (the value from t on). NaN outside the series.
double At(const std::vector<SeriesPoint>& s, int64_t t) {
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i].t_ns == t) return s[i].value;
    if (s[i].t_ns < t) {
      if (i + 1 == s.size()) return std::nan("");
      const SeriesPoint &a = s[i], &b = s[i + 1];
      return a.value + (b.value - a.value) * static_cast<double>(t - a.t_ns) /
                           static_cast<double>(b.t_ns - a.t_ns);
    }
  }
  return std::nan("");
}

// The value just before t (the first sample at t, if several share it).
double Before(const std::vector<SeriesPoint>& s, int64_t t) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i].t_ns == t) return s[i].value;
    if (s[i].t_ns > t) return At(s, t);
  }
  return std::nan("");
}

double Hours(double ns) { return ns / static_cast<double>(kHour); }

contracts::PointFact Point(int64_t time, int64_t gone = 0, int64_t damaged = 0) {
  contracts::PointFact p;
  p.time_ns = time;
  p.first_seen_ns = time + kHour / 2;
  p.gone_ns = gone;
  p.damaged_ns = damaged;
  return p;
}

TEST(HistoryTest, RpoAgeIsASawtoothOverGoodPoints) {
  // Points at +1 h, +25 h, +30 h (gone at +40 h), +42 h (damaged at +45 h),
  // +44 h (implausible); monitoring from kT0; window to +48 h.
  std::vector<contracts::PointFact> pts = {
      Point(kT0 + 25 * kHour), Point(kT0 + 1 * kHour), Point(kT0 + 30 * kHour, kT0 + 40 * kHour),
      Point(kT0 + 42 * kHour, 0, kT0 + 45 * kHour), Point(kT0 + 44 * kHour)};
  pts.back().implausible.push_back("emptied");
  auto s = RpoAgeSeries(pts, kT0, kT0 - 90 * kDay, kT0 + 48 * kHour);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front().t_ns, kT0);  // starts when monitoring began
  EXPECT_EQ(s.back().t_ns, kT0 + 48 * kHour);
  for (size_t i = 1; i < s.size(); ++i) EXPECT_LE(s[i - 1].t_ns, s[i].t_ns);
  // Before the first point: since monitoring began.
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0)), 0);
  EXPECT_DOUBLE_EQ(Hours(Before(s, kT0 + 1 * kHour)), 1);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 1 * kHour)), 0);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 12 * kHour)), 11);
  // The peak just before the point of +25 h: 24 h since +1 h.
  EXPECT_DOUBLE_EQ(Hours(Before(s, kT0 + 25 * kHour)), 24);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 25 * kHour)), 0);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 39 * kHour)), 9);  // since +30 h
  // +30 h gone at +40 h: back to the point of +25 h.
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 40 * kHour)), 15);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 43 * kHour)), 1);  // +42 h, still good
  // +44 h is implausible: never good; +42 h damaged at +45 h: back to +25 h.
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 44 * kHour + kHour / 2)), 2.5);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 45 * kHour)), 20);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 48 * kHour)), 23);
}

TEST(HistoryTest, RpoAgeStartsAtTheWindowAndIsEmptyBeforeMonitoring) {
  std::vector<contracts::PointFact> pts = {Point(kT0), Point(kT0 + 10 * kHour)};
  auto s = RpoAgeSeries(pts, kT0, kT0 + 5 * kHour, kT0 + 12 * kHour);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front().t_ns, kT0 + 5 * kHour);
  EXPECT_DOUBLE_EQ(Hours(s.front().value), 5);
  EXPECT_DOUBLE_EQ(Hours(At(s, kT0 + 12 * kHour)), 2);
  EXPECT_TRUE(RpoAgeSeries(pts, kT0 + 20 * kHour, kT0, kT0 + 12 * kHour).empty());
}

TEST(HistoryTest, CoverageCountsReadsWithinTheWindowCappedPerSet) {
  // Window 10 days. Set a: 100 entries all read on day 1; 40 of 100 read on
  // day 5; 30 of 120 read on day 12. Set b: 50 entries read in full on days
  // 2 and 3 (100 reads, capped at 50).
  const int64_t w = 10 * kDay;
  std::vector<CheckSample> checks = {{"a", kT0 + 1 * kDay, 100, 100},
                                     {"a", kT0 + 5 * kDay, 100, 40},
                                     {"a", kT0 + 12 * kDay, 120, 30},
                                     {"b", kT0 + 2 * kDay, 50, 50},
                                     {"b", kT0 + 3 * kDay, 50, 50}};
  auto s = CoverageSeries(checks, w, kT0 - 90 * kDay, kT0 + 20 * kDay);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front().t_ns, kT0 + 1 * kDay);  // from the first check
  EXPECT_EQ(s.back().t_ns, kT0 + 20 * kDay);
  auto at = [&](int64_t t) {  // a step function: the last sample at or before t
    double v = std::nan("");
    for (const auto& p : s) {
      if (p.t_ns <= t) v = p.value;
    }
    return v;
  };
  EXPECT_DOUBLE_EQ(at(kT0 + 1 * kDay), 1.0);  // a only: 100/100
  EXPECT_DOUBLE_EQ(at(kT0 + 2 * kDay), 1.0);  // (100 + 50)/150
  EXPECT_DOUBLE_EQ(at(kT0 + 6 * kDay), 1.0);  // a: min(140, 100); b: min(100, 50)
  // Day 11: a's day-1 read left the window: a 40/100, b 50/50.
  EXPECT_DOUBLE_EQ(at(kT0 + 11 * kDay), 90.0 / 150);
  // Day 12: a lists 120, has 40 + 30 read; b still 50/50.
  EXPECT_DOUBLE_EQ(at(kT0 + 12 * kDay), 120.0 / 170);
  // Day 13.5: b's reads of days 2 and 3 left the window: a 70/120, b 0/50.
  EXPECT_DOUBLE_EQ(at(kT0 + 13 * kDay + kDay / 2), 70.0 / 170);
  // Day 16: a's day-5 read left too: 30/170.
  EXPECT_DOUBLE_EQ(at(kT0 + 16 * kDay), 30.0 / 170);
  // The step down at day 11 is drawn as two samples at that instant.
  int at_day11 = 0;
  for (const auto& p : s) at_day11 += p.t_ns == kT0 + 11 * kDay;
  EXPECT_EQ(at_day11, 2);
  EXPECT_TRUE(CoverageSeries({}, w, kT0, kT0 + kDay).empty());
}

TEST(HistoryTest, DownsampleKeepsTheEndsAndTheExtremes) {
  std::vector<SeriesPoint> pts;
  for (int i = 0; i < 10000; ++i) pts.push_back({kT0 + i * kHour, static_cast<double>(i % 97)});
  pts[4321].value = 1000;  // a spike
  pts[8765].value = -5;    // a trough
  auto d = Downsample(pts, 500);
  EXPECT_LE(d.size(), 500u);
  EXPECT_GE(d.size(), 400u);
  EXPECT_EQ(d.front().t_ns, pts.front().t_ns);
  EXPECT_EQ(d.back().t_ns, pts.back().t_ns);
  bool spike = false, trough = false;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(d[i - 1].t_ns, d[i].t_ns);
    }
    spike |= d[i].t_ns == pts[4321].t_ns && d[i].value == 1000;
    trough |= d[i].t_ns == pts[8765].t_ns && d[i].value == -5;
  }
  EXPECT_TRUE(spike);
  EXPECT_TRUE(trough);
  EXPECT_EQ(Downsample({pts.begin(), pts.begin() + 10}, 500).size(), 10u);
}

// --- From a real coordinator database -------------------------------------

namespace manifests = vigil::testing::manifests;

class HistoryCatalogueTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    clock_.Set(kT0);
    coordinator_options_.enrol_token_sha256.clear();  // no workers here
    Open();
    ApplyYaml(manifests::Join(  // in force from kT0
        {manifests::Location(), manifests::Tenant(),
         manifests::Contract(
             "acme",
             "assets:\n" +
                 manifests::Asset("fs", {manifests::BackupSet("fs-nas", "nas", "acme/fs",
                                                              {"layout: rsnapshot"})}) +
                 manifests::Asset("www", {manifests::BackupSet("www-nas", "nas", "acme/www")}) +
                 "commitments:\n  - rpo: 24h\n  - integrity: {reverifyWithin: 10d}\n")}));
  }
  void PutPoint(int64_t time, int64_t first_seen, int64_t gone = 0) {
    v1::PointRecord p;
    p.set_time_ns(time);
    p.set_first_seen_ns(first_seen);
    p.set_gone_ns(gone);
    p.set_plausibility_checked(true);
    storage::KvBatch b;
    b.Put(storage::Space::kMeta, keys::Point("acme", "fs-nas", time), p.SerializeAsString());
    ASSERT_TRUE(c_->catalogue().kv()->Write(b, {.sync = true}).ok());
  }
  // A finished check as CheckResultJson records it.
  void LogCheck(int64_t at, uint64_t entries, uint64_t not_read, const char* type = "check",
                const char* state = "done") {
    nlohmann::json j = {{"v", 1},
                        {"type", type},
                        {"state", state},
                        {"backup_set", "fs-nas"},
                        {"finished_ns", at},
                        {"inventory_only", false},
                        {"entries", entries},
                        {"counts", {{"not_read", not_read}}}};
    ASSERT_TRUE(check_log::Append(*c_->catalogue().kv(), "acme", j.dump(), at).ok());
  }

  // The series of (asset, kind) in `h`, or nullptr.
  static const HistorySeries* Find(const std::vector<HistorySeries>& h, const std::string& asset,
                                   const std::string& kind) {
    for (const auto& s : h) {
      if (s.asset == asset && s.kind == kind) return &s;
    }
    return nullptr;
  }
};

TEST_F(HistoryCatalogueTest, SeriesFromStoredPointsAndTheCheckLog) {
  // Daily backups at 22:00 from day 0, the one of day 2 missed; each seen
  // by the check at 23:00 that day. The first check (day 0, 23:00) begins
  // the monitoring.
  for (int day : {0, 1, 3, 4})
    PutPoint(kT0 + day * kDay + 22 * kHour, kT0 + day * kDay + 23 * kHour);
  // An old point, gone since day 1 (it counts only while present).
  PutPoint(kT0 - 30 * kDay, kT0 + 23 * kHour, kT0 + kDay + 23 * kHour);
  // Checks: 10 entries each; day 0 and 1 read all, day 3 only 4, day 4 none;
  // a failed check and a drill that must not count.
  LogCheck(kT0 + 23 * kHour, 10, 0);
  LogCheck(kT0 + kDay + 23 * kHour, 10, 0);
  LogCheck(kT0 + 2 * kDay + 23 * kHour, 10, 0, "check", "failed");
  LogCheck(kT0 + 3 * kDay + 23 * kHour, 10, 6);
  LogCheck(kT0 + 3 * kDay + 23 * kHour + kHour / 2, 10, 0, "drill");
  LogCheck(kT0 + 4 * kDay + 23 * kHour, 10, 10);
  const int64_t now = kT0 + 12 * kDay;

  auto h = TenantHistory(c_->catalogue(), "acme", now - 90 * kDay, now);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->size(), 4u);  // rpo, integrity of fs then of www (never checked)
  const HistorySeries& rpo = (*h)[0];
  EXPECT_EQ(rpo.asset, "fs");
  EXPECT_EQ(rpo.kind, "rpo");
  EXPECT_EQ(rpo.metric, "rpo_age");
  ASSERT_TRUE(rpo.has_limit);
  EXPECT_DOUBLE_EQ(rpo.limit, static_cast<double>(24 * kHour));
  ASSERT_FALSE(rpo.points.empty());
  // From the first check (day 0, 23:00): the point of 22:00 is 1 h old;
  // before it, the old point of day -30 counted: not in the series (it
  // starts when monitoring began).
  EXPECT_EQ(rpo.points.front().t_ns, kT0 + 23 * kHour);
  EXPECT_DOUBLE_EQ(Hours(rpo.points.front().value), 1);
  EXPECT_DOUBLE_EQ(Hours(Before(rpo.points, kT0 + kDay + 22 * kHour)), 24);
  // Day 2's backup missed: 48 h old just before day 3's at 22:00.
  EXPECT_DOUBLE_EQ(Hours(Before(rpo.points, kT0 + 3 * kDay + 22 * kHour)), 48);
  EXPECT_DOUBLE_EQ(Hours(At(rpo.points, kT0 + 3 * kDay + 22 * kHour)), 0);
  // Now: 12 d - (4 d 22 h) = 7 d 2 h.
  EXPECT_EQ(rpo.points.back().t_ns, now);
  EXPECT_DOUBLE_EQ(Hours(rpo.points.back().value), 7 * 24 + 2);

  const HistorySeries& cov = (*h)[1];
  EXPECT_EQ(cov.kind, "integrity");
  EXPECT_EQ(cov.metric, "coverage");
  ASSERT_TRUE(cov.has_limit);
  EXPECT_DOUBLE_EQ(cov.limit, 1.0);
  ASSERT_FALSE(cov.points.empty());
  auto at = [&](int64_t t) {
    double v = std::nan("");
    for (const auto& p : cov.points) {
      if (p.t_ns <= t) v = p.value;
    }
    return v;
  };
  // 10 of 10 on day 0; reads add up (capped) until the day-0 read leaves
  // the 10-day window: then 10 + 4 + 0 of 10 (capped) until day 11, 23:00,
  // when day 1's leaves: 4 of 10.
  EXPECT_DOUBLE_EQ(at(kT0 + 23 * kHour), 1.0);
  EXPECT_DOUBLE_EQ(at(kT0 + 10 * kDay + 23 * kHour), 1.0);
  EXPECT_DOUBLE_EQ(at(kT0 + 11 * kDay + 23 * kHour), 0.4);
  EXPECT_DOUBLE_EQ(at(now), 0.4);
  EXPECT_EQ(cov.points.back().t_ns, now);
}

TEST_F(HistoryCatalogueTest, AMirrorIsOnePointDatedByItsNewestFile) {
  // www-nas has no dated restore points: its entries at point time 0, the
  // newest modified at +5 h; first checked at +6 h.
  {
    storage::Catalogue::Writer w(&c_->catalogue(), {"acme", "www-nas", 0});
    storage::EntryRecord e;
    e.mtime_ns = kT0 - 2 * kHour;
    ASSERT_TRUE(w.PutEntry("index.html", e).ok());
    e.mtime_ns = kT0 + 5 * kHour;
    ASSERT_TRUE(w.PutEntry("news.html", e).ok());
    v1::PointRecord p;
    p.set_first_seen_ns(kT0 + 6 * kHour);
    p.set_plausibility_checked(true);
    w.PutMeta(keys::Point("acme", "www-nas", 0), p.SerializeAsString());
    ASSERT_TRUE(w.Commit(true).ok());
  }
  nlohmann::json j = {{"type", "check"},
                      {"state", "done"},
                      {"backup_set", "www-nas"},
                      {"finished_ns", kT0 + 6 * kHour},
                      {"entries", 2},
                      {"counts", {{"not_read", 0}}}};
  ASSERT_TRUE(check_log::Append(*c_->catalogue().kv(), "acme", j.dump(), kT0 + 6 * kHour).ok());

  auto h = TenantHistory(c_->catalogue(), "acme", kT0 - 90 * kDay, kT0 + 2 * kDay);
  ASSERT_TRUE(h.ok()) << h.status();
  const HistorySeries* rpo = Find(*h, "www", "rpo");
  ASSERT_NE(rpo, nullptr);
  ASSERT_FALSE(rpo->points.empty());
  EXPECT_EQ(rpo->points.front().t_ns, kT0 + 6 * kHour);
  EXPECT_DOUBLE_EQ(Hours(rpo->points.front().value), 1);         // since +5 h
  EXPECT_DOUBLE_EQ(Hours(At(rpo->points, kT0 + 2 * kDay)), 43);  // 48 h - 5 h
  EXPECT_NE(rpo->note.find("www-nas: a mirror"), std::string::npos) << rpo->note;
  const HistorySeries* cov = Find(*h, "www", "integrity");
  ASSERT_NE(cov, nullptr);
  ASSERT_FALSE(cov->points.empty());
  EXPECT_DOUBLE_EQ(cov->points.back().value, 1.0);
  // fs was never checked: no points, said so.
  const HistorySeries* fs = Find(*h, "fs", "rpo");
  ASSERT_NE(fs, nullptr);
  EXPECT_TRUE(fs->points.empty());
  EXPECT_EQ(fs->note, "no check recorded yet");
}

TEST_F(HistoryCatalogueTest, NothingCheckedYetSaysSo) {
  auto h = TenantHistory(c_->catalogue(), "acme", kT0 - 90 * kDay, kT0 + kDay);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->size(), 4u);
  EXPECT_TRUE((*h)[0].points.empty());
  EXPECT_EQ((*h)[0].note, "no check recorded yet");
  EXPECT_TRUE((*h)[1].points.empty());
  auto none = TenantHistory(c_->catalogue(), "nobody", kT0, kT0 + kDay);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace vigil::coordinator
