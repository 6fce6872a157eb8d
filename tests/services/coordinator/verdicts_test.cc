// Ransomware verdicts of a set's restore points as the coordinator stores
// them (RecheckPlausibility, ResetVerdictsAfter; services/coordinator/
// points.h), on a real catalogue with synthetic points: weeks of legitimate
// churn stay clean, an encryption is flagged and so are the points after
// it (the reference is the last clean point), an accepted point becomes
// the reference, points recorded before verdicts existed get one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/contracts/signals.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "storage/catalogue.h"
#include "storage/versions.h"
#include "tests/services/contracts/signal_trees.h"
#include "tests/support/temp_dir.h"

namespace vigil::coordinator {
namespace {

using ::testing::ElementsAre;
using namespace vigil::testing::signal_trees;

constexpr int64_t kDay = 86'400'000'000'000;
constexpr int64_t kT0 = 1'780'000'000'000'000'000;

std::vector<std::string> Kinds(const v1::PointRecord& r) {
  std::vector<std::string> out;
  for (const auto& s : r.signals()) out.push_back(s.kind());
  return out;
}

std::string Explain(const v1::PointRecord& r) {
  std::string s = "point " + std::to_string((r.time_ns() - kT0) / kDay) + ":";
  for (const auto& x : r.signals()) s += " [" + x.kind() + ": " + x.message() + "]";
  return s;
}

// An office share (40 folders of 25 documents), a 300-file project folder,
// 5,000 program binaries and a database: 6,301 files.
Tree Server() {
  Tree t = Office();
  const char* exts[] = {".docx", ".pdf", ".txt", ".xlsx", ".jpg"};
  for (int f = 0; f < 300; ++f) {
    std::string p = "share/projects/alpha/part" + std::to_string(f) + exts[f % 5];
    t[p] = Usual(p);
  }
  AddPrograms(&t);
  return t;
}

// `t` with 150 documents rewritten and no content sample (as a restic set
// or a listing without reads records them): encrypted in place, unseen.
Tree UnsampledDocuments(Tree t) {
  int n = 0;
  for (auto& [p, f] : t) {
    if (p.ends_with(".docx") && n++ < 150) f = {f.content + " encrypted in place", f.size, {}};
  }
  return t;
}

class VerdictsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = storage::Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }

  // Records a new point (as a merge does: plausibility not checked, verdict
  // not computed) and rechecks the set (as the merge's completion does).
  void AddPoint(int64_t t, const Tree& tree, const contracts::RansomwareSpec& spec = {},
                int64_t mtime_ns = 0) {
    WriteTree(*cat_, "acme", "files", t, tree, mtime_ns);
    v1::PointRecord r;
    r.set_time_ns(t);
    r.set_name("p" + std::to_string(t));
    r.set_files(tree.size());
    Put(r);
    ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files", true, spec).ok());
  }
  void Put(const v1::PointRecord& r) {
    storage::KvBatch b;
    b.Put(storage::Space::kMeta, keys::Point("acme", "files", r.time_ns()), r.SerializeAsString());
    ASSERT_TRUE(cat_->kv()->Write(b, {.sync = false}).ok());
  }
  std::vector<v1::PointRecord> Records() {
    auto p = LoadPoints(cat_->kv(), "acme", "files");
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : std::vector<v1::PointRecord>{};
  }

  vigil::testing::TempDir dir_;
  std::unique_ptr<storage::Catalogue> cat_;
};

TEST_F(VerdictsTest, WeeksOfLegitimateChurnStayCleanThenEncryptionIsFlaggedAndStays) {
  Tree tree = Server();
  AddPoint(kT0, tree);
  for (int day = 1; day < 30; ++day) {
    // 1% of the documents edited, 3 added, 2 deleted, 1 renamed; the
    // database grows.
    int n = 0;
    std::vector<std::string> gone, renamed;
    for (auto& [p, f] : tree) {
      if (!p.starts_with("share/dept")) continue;
      if ((n + day * 7) % 100 == 0) f.content += " edit " + std::to_string(day);
      if (n == day * 13 || n == day * 13 + 5) gone.push_back(p);
      if (n == day * 13 + 9) renamed.push_back(p);
      ++n;
    }
    for (const auto& p : gone) tree.erase(p);
    for (const auto& p : renamed) {
      File f = tree[p];
      tree.erase(p);
      tree[p.substr(0, p.rfind('/')) + "/renamed-" + std::to_string(day) + p.substr(p.rfind('.'))] =
          f;
    }
    for (int i = 0; i < 3; ++i) {
      std::string p = "share/dept" + std::to_string(i) + "/new-" + std::to_string(day) + ".docx";
      tree[p] = Usual(p);
    }
    tree["db/app.sqlite"] = {"db " + std::to_string(day), (1u << 20) + day * 65536u, kSqlite};
    if (day == 10) {  // a software upgrade: every binary replaced
      for (auto& [p, f] : tree) {
        if (p.starts_with("apps/")) f.content += " v2";
      }
    }
    if (day == 15) {  // a photo import: 2,000 JPEGs and zips
      for (int i = 0; i < 2000; ++i) {
        std::string p = "share/photos/IMG_" + std::to_string(i) + (i % 4 ? ".jpg" : ".zip");
        tree[p] = {p, 3'000'000, i % 4 ? kJpeg : kZip};
      }
    }
    if (day == 20) {  // a user renames the project folder
      Tree moved;
      for (auto it = tree.begin(); it != tree.end();) {
        if (it->first.starts_with("share/projects/alpha/")) {
          moved["share/projects/alpha-2026/" + it->first.substr(21)] = it->second;
          it = tree.erase(it);
        } else {
          ++it;
        }
      }
      tree.merge(moved);
    }
    AddPoint(kT0 + day * kDay, tree);
  }
  std::vector<v1::PointRecord> rec = Records();
  ASSERT_EQ(rec.size(), 30u);
  for (size_t i = 0; i < rec.size(); ++i) {
    EXPECT_EQ(rec[i].verdict(), v1::POINT_VERDICT_CLEAN) << Explain(rec[i]);
    EXPECT_EQ(rec[i].signals_size(), 0) << Explain(rec[i]);
    EXPECT_EQ(rec[i].compared_with_ns(), i == 0 ? 0 : rec[i - 1].time_ns());
  }
  EXPECT_GE(rec[10].changed_files(), 5000u);  // the upgrade, told apart by the other signals
  EXPECT_LT(rec[11].changed_files(), 50u);
  EXPECT_GT(rec[1].changed_bytes(), 0u);

  // Day 30: every document encrypted in place, a note in each folder.
  for (auto& [p, f] : tree) {
    if (p.starts_with("share/dept")) f = {f.content + " enc", f.size + 16, kEncrypted};
  }
  for (int d = 0; d < 40; ++d) {
    tree["share/dept" + std::to_string(d) + "/_readme.txt"] = {"pay", 900, kText};
  }
  AddPoint(kT0 + 30 * kDay, tree);
  // Day 31: nothing changed since: still encrypted, against day 29.
  AddPoint(kT0 + 31 * kDay, tree);
  rec = Records();
  ASSERT_EQ(rec.size(), 32u);
  for (size_t i : {30u, 31u}) {
    EXPECT_EQ(rec[i].verdict(), v1::POINT_VERDICT_ENCRYPTED) << Explain(rec[i]);
    EXPECT_EQ(rec[i].compared_with_ns(), rec[29].time_ns());
  }
  // The change rate joins the other signals on day 30 (1,000+ files against
  // a baseline of a few dozen); on day 31 nothing changed.
  EXPECT_THAT(Kinds(rec[30]),
              ElementsAre("became-random", "format-mismatch", "ransom-notes", "change-rate"));
  EXPECT_THAT(Kinds(rec[31]), ElementsAre("became-random", "format-mismatch", "ransom-notes"));
  EXPECT_EQ(rec[31].implausible_size(), 0);  // against the previous point: no change
  EXPECT_EQ(rec[31].changed_files(), 0u);
}

// Each judged point keeps its tally (contracts::PointTally) beside it, the
// next point's scan reads only what changed since, and a tally made stale by
// an entry of its point changed in place is not used: the tallies kept are
// those of the points read whole.
TEST_F(VerdictsTest, APointsTallyIsKeptAndOneMadeStaleIsNotUsed) {
  const int64_t kMtime = kT0 - kDay;  // files unchanged share their versions
  storage::Versions versions(cat_->kv());
  auto kept = [&](int64_t t) -> std::optional<contracts::PointTally> {
    auto s = versions.GetSummary("acme", "files", t);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok() || !*s) return std::nullopt;
    return contracts::DecodePointTally(**s);
  };
  auto whole = [&](int64_t t) {
    auto s = contracts::ScanSignals(*cat_, "acme", "files", std::nullopt, t, {});
    EXPECT_TRUE(s.ok() && s->new_tally) << s.status();
    return s.ok() && s->new_tally ? *s->new_tally : contracts::PointTally{};
  };
  Tree tree = Server();
  AddPoint(kT0, tree, {}, kMtime);
  ASSERT_TRUE(kept(kT0).has_value());
  EXPECT_EQ(*kept(kT0), whole(kT0));
  for (int day = 1; day <= 2; ++day) {
    tree["share/dept1/new-" + std::to_string(day) + ".docx"] = Usual("x");
    tree.erase(std::prev(tree.end()));
    AddPoint(kT0 + day * kDay, tree, {}, kMtime);
    ASSERT_TRUE(kept(kT0 + day * kDay).has_value()) << day;
    EXPECT_EQ(*kept(kT0 + day * kDay), whole(kT0 + day * kDay)) << day;
  }
  EXPECT_EQ(kept(kT0 + 2 * kDay)->files, tree.size());
  // Day 2 loses 500 documents in place (a writer on the recorded point):
  // every tally of the set is stale.
  {
    storage::Catalogue::Writer w(cat_.get(), storage::Scope{"acme", "files", kT0 + 2 * kDay});
    int n = 0;
    for (auto it = tree.begin(); it != tree.end() && n < 500;) {
      if (it->first.starts_with("apps/")) {
        storage::EntryRecord e;
        storage::VerifyRecord v;
        ASSERT_TRUE(cat_->GetEntry({"acme", "files", kT0 + 2 * kDay}, it->first, &e, &v).ok());
        ASSERT_TRUE(w.DeleteEntry(it->first, e).ok());
        it = tree.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    ASSERT_TRUE(w.Commit(false).ok());
  }
  EXPECT_FALSE(kept(kT0 + 2 * kDay).has_value());
  EXPECT_FALSE(kept(kT0).has_value());
  // Day 3 as day 2 is now: judged against day 2 read whole (its stale
  // tally would have counted the 500 files still there).
  AddPoint(kT0 + 3 * kDay, tree, {}, kMtime);
  ASSERT_TRUE(kept(kT0 + 3 * kDay).has_value());
  EXPECT_EQ(kept(kT0 + 3 * kDay)->files, tree.size());
  EXPECT_EQ(*kept(kT0 + 3 * kDay), whole(kT0 + 3 * kDay));
  const v1::PointRecord day3 = Records().back();
  EXPECT_EQ(day3.verdict(), v1::POINT_VERDICT_CLEAN) << Explain(day3);
  EXPECT_EQ(day3.changed_files(), 0u);
}

// With verdicts off, the plausibility comparison keeps the tallies as well:
// each next point is compared from the previous one's (the same findings as
// the join of both points).
TEST_F(VerdictsTest, WithVerdictsOffTheComparisonKeepsTheTalliesToo) {
  contracts::RansomwareSpec off;
  off.enabled = false;
  const int64_t kMtime = kT0 - kDay;
  storage::Versions versions(cat_->kv());
  Tree tree = Server();
  AddPoint(kT0, tree, off, kMtime);
  AddPoint(kT0 + kDay, tree, off, kMtime);  // the first comparison: read whole
  ASSERT_TRUE(*versions.GetSummary("acme", "files", kT0 + kDay));
  // Day 2 emptied of its programs: files-drop, found from day 1's tally.
  for (auto it = tree.begin(); it != tree.end();) {
    it = it->first.starts_with("apps/") ? tree.erase(it) : std::next(it);
  }
  AddPoint(kT0 + 2 * kDay, tree, off, kMtime);
  const std::vector<v1::PointRecord> rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  auto joined = contracts::ComparePoints(*cat_, "acme", "files", kT0 + kDay, kT0 + 2 * kDay);
  ASSERT_TRUE(joined.ok());
  std::vector<std::string> want;
  for (const auto& f : contracts::CheckPlausibility(*joined)) {
    want.push_back(std::string(contracts::FindingKindName(f.kind)) + ": " + f.message);
  }
  ASSERT_FALSE(want.empty());
  EXPECT_THAT(rec[2].implausible(), ::testing::ElementsAreArray(want));
  EXPECT_EQ(rec[2].changed_files(), joined->content_changed + joined->new_files);
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_UNSPECIFIED);  // (not judged)
  auto kept = versions.GetSummary("acme", "files", kT0 + 2 * kDay);
  ASSERT_TRUE(kept.ok() && *kept);
  EXPECT_EQ(contracts::DecodePointTally(**kept)->files, tree.size());
}

TEST_F(VerdictsTest, AnAcceptedPointBecomesTheReference) {
  Tree t1 = Server();
  AddPoint(kT0, t1);
  Tree t2 = t1;  // a legitimate but unusual change: 150 documents protected
  int n = 0;
  for (auto& [p, f] : t2) {
    if (p.ends_with(".docx") && n++ < 150) f = {f.content + " protected", f.size, kEncrypted};
  }
  AddPoint(kT0 + kDay, t2);
  Tree t3 = t2;
  t3["share/dept0/minutes.docx"] = Usual("share/dept0/minutes.docx");
  AddPoint(kT0 + 2 * kDay, t3);
  std::vector<v1::PointRecord> rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_ENCRYPTED) << Explain(rec[1]);
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_ENCRYPTED) << Explain(rec[2]);
  EXPECT_EQ(rec[2].compared_with_ns(), kT0);

  // The operator accepts day 1; the later points are judged again, against it.
  rec[1].set_accepted_ns(kT0 + 3 * kDay);
  rec[1].set_accepted_by("alice");
  Put(rec[1]);
  ASSERT_TRUE(ResetVerdictsAfter(*cat_, "acme", "files", kT0 + kDay).ok());
  rec = Records();
  EXPECT_EQ(rec[0].verdict(), v1::POINT_VERDICT_CLEAN);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_ENCRYPTED);  // as computed; accepted
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_UNSPECIFIED);
  EXPECT_EQ(rec[2].signals_size(), 0);
  ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files").ok());
  rec = Records();
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_CLEAN) << Explain(rec[2]);
  EXPECT_EQ(rec[2].compared_with_ns(), kT0 + kDay);
}

// A point whose changed files have no content sample (a restic set, a point
// listed without reading) cannot be judged on content: not clean, and it
// says why (it was "clean" before, even encrypted in place). Its names,
// deletions and notes were checked, so the next point is compared with it.
TEST_F(VerdictsTest, UnsampledChangesAreNotCleanAndTheNextPointIsComparedWithThem) {
  Tree t1 = Server();
  AddPoint(kT0, t1);
  Tree t2 = UnsampledDocuments(t1);
  AddPoint(kT0 + kDay, t2);
  Tree t3 = t2;  // 250 programs renamed (same content, new file name)
  int n = 0;
  for (const auto& [p, f] : t2) {
    if (!p.starts_with("share/") && n++ < 250) {
      const size_t slash = p.rfind('/') + 1;
      t3.erase(p);
      t3[p.substr(0, slash) + "renamed-" + p.substr(slash)] = f;
    }
  }
  AddPoint(kT0 + 2 * kDay, t3);
  std::vector<v1::PointRecord> rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[0].verdict(), v1::POINT_VERDICT_CLEAN) << Explain(rec[0]);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_CONTENT_NOT_JUDGED) << Explain(rec[1]);
  EXPECT_THAT(Kinds(rec[1]), ElementsAre("content-not-judged"));
  EXPECT_EQ(rec[1].signals(0).count(), 150u);
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_SUSPICIOUS) << Explain(rec[2]);
  EXPECT_THAT(Kinds(rec[2]), ElementsAre("renames"));
  EXPECT_EQ(rec[2].compared_with_ns(), kT0 + kDay);
  // Its reference is not called clean.
  EXPECT_NE(rec[2].signals(0).message().find("its content not judged"), std::string::npos)
      << rec[2].signals(0).message();
}

// A point compared with a content-not-judged one shares its unjudged
// files: it is not clean either, even with nothing new to judge, until an
// operator accepts the reference.
TEST_F(VerdictsTest, APointAfterOneWhoseContentWasNotJudgedIsNotCleanEither) {
  Tree t1 = Server();
  AddPoint(kT0, t1);
  Tree t2 = UnsampledDocuments(t1);
  AddPoint(kT0 + kDay, t2);
  Tree t3 = t2;  // one new document, sampled
  t3["share/dept0/minutes.docx"] = Usual("share/dept0/minutes.docx");
  AddPoint(kT0 + 2 * kDay, t3);
  std::vector<v1::PointRecord> rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_CONTENT_NOT_JUDGED) << Explain(rec[1]);
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_CONTENT_NOT_JUDGED) << Explain(rec[2]);
  EXPECT_EQ(rec[2].compared_with_ns(), kT0 + kDay);
  ASSERT_EQ(rec[2].signals_size(), 1);
  EXPECT_EQ(rec[2].signals(0).count(), 150u) << "the reference's unjudged files";
  EXPECT_NE(rec[2].signals(0).message().find("compared with point"), std::string::npos)
      << rec[2].signals(0).message();

  // Accepted by an operator, day 1 is clean: day 2 judged again is clean.
  rec[1].set_accepted_ns(kT0 + 3 * kDay);
  rec[1].set_accepted_by("alice");
  Put(rec[1]);
  ASSERT_TRUE(ResetVerdictsAfter(*cat_, "acme", "files", kT0 + kDay).ok());
  ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files").ok());
  rec = Records();
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_CLEAN) << Explain(rec[2]);
}

// Verdicts computed by the rules before content-not-judged existed
// (PointRecord.verdict_rules 0): a clean one is judged again at the set's
// next check and becomes content-not-judged where its changed files had no
// sample; it never becomes flagged (thresholds changed since do not raise
// an alert for an old point), and a flagged one is left as it is.
TEST_F(VerdictsTest, CleanVerdictsOfTheOldRulesAreJudgedAgainOnce) {
  Tree t1 = Server();
  AddPoint(kT0, t1);
  Tree t2 = UnsampledDocuments(t1);
  AddPoint(kT0 + kDay, t2);
  Tree t3 = t2;
  t3["share/dept0/minutes.docx"] = Usual("share/dept0/minutes.docx");
  AddPoint(kT0 + 2 * kDay, t3);
  // As the old rules left them: all clean, no signal, rules 0.
  std::vector<v1::PointRecord> rec = Records();
  ASSERT_EQ(rec.size(), 3u);
  for (v1::PointRecord& r : rec) {
    EXPECT_EQ(r.verdict_rules(), contracts::kVerdictRules);
    r.set_verdict(v1::POINT_VERDICT_CLEAN);
    r.clear_signals();
    r.set_verdict_rules(0);
    Put(r);
  }
  // Judged again: the one whose content was not sampled is no longer clean.
  ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files").ok());
  rec = Records();
  EXPECT_EQ(rec[0].verdict(), v1::POINT_VERDICT_CLEAN) << Explain(rec[0]);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_CONTENT_NOT_JUDGED) << Explain(rec[1]);
  EXPECT_THAT(Kinds(rec[1]), ElementsAre("content-not-judged"));
  // Compared with day 1, day 2 holds its unjudged files too.
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_CONTENT_NOT_JUDGED) << Explain(rec[2]);
  for (const v1::PointRecord& r : rec) EXPECT_EQ(r.verdict_rules(), contracts::kVerdictRules);

  // Under a threshold that flags every point now (renames from 0), an old
  // clean verdict judged again is not flagged; an old flagged one is left.
  contracts::RansomwareSpec strict;
  strict.renames = 0;
  rec[0].set_verdict_rules(0);
  Put(rec[0]);
  rec[2].set_verdict(v1::POINT_VERDICT_SUSPICIOUS);
  rec[2].set_verdict_rules(0);
  Put(rec[2]);
  ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files", true, strict).ok());
  rec = Records();
  EXPECT_EQ(rec[0].verdict(), v1::POINT_VERDICT_CLEAN) << Explain(rec[0]);
  EXPECT_EQ(rec[0].verdict_rules(), contracts::kVerdictRules);
  EXPECT_EQ(rec[2].verdict(), v1::POINT_VERDICT_SUSPICIOUS) << "a flagged verdict is left";
  EXPECT_EQ(rec[2].verdict_rules(), 0u);
}

TEST_F(VerdictsTest, PointsRecordedBeforeVerdictsGetOneAndDisabledLeavesThem) {
  Tree t = Server();
  WriteTree(*cat_, "acme", "files", kT0, t);
  t["share/dept1/HOW_TO_DECRYPT.txt"] = {"pay", 900, kText};
  WriteTree(*cat_, "acme", "files", kT0 + kDay, t);
  for (int64_t time : {kT0, kT0 + kDay}) {
    v1::PointRecord r;  // as recorded before this change: checked, no verdict
    r.set_time_ns(time);
    r.set_plausibility_checked(true);
    Put(r);
  }
  contracts::RansomwareSpec off;
  off.enabled = false;
  ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files", true, off).ok());
  std::vector<v1::PointRecord> rec = Records();
  EXPECT_EQ(rec[0].verdict(), v1::POINT_VERDICT_UNSPECIFIED);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_UNSPECIFIED);

  ASSERT_TRUE(RecheckPlausibility(*cat_, "acme", "files").ok());
  rec = Records();
  EXPECT_EQ(rec[0].verdict(), v1::POINT_VERDICT_CLEAN);
  EXPECT_EQ(rec[1].verdict(), v1::POINT_VERDICT_SUSPICIOUS) << Explain(rec[1]);
  EXPECT_THAT(Kinds(rec[1]), ElementsAre("ransom-notes"));
  EXPECT_EQ(rec[1].signals(0).examples(0), "share/dept1/HOW_TO_DECRYPT.txt");
  EXPECT_EQ(rec[1].changed_files(), 1u);
}

}  // namespace
}  // namespace vigil::coordinator
