// Ransomware signals (services/contracts/signals.h) on a real RocksDB
// catalogue with synthetic entries carrying content samples: each signal
// alone, the verdicts, combinations, and legitimate changes that must stay
// clean (a software upgrade, a photo import, a growing database, a folder
// renamed, a user's few renames).
#include "services/contracts/signals.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "tests/services/contracts/signal_trees.h"
#include "tests/storage/test_util.h"

namespace vigil::contracts {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace vigil::testing::signal_trees;

constexpr int64_t kRef = 1'700'000'000'000'000'000;
constexpr int64_t kCur = kRef + 86'400'000'000'000;

std::vector<std::string> Kinds(const PointJudgement& j) {
  std::vector<std::string> out;
  for (const auto& s : j.signals) out.push_back(s.kind);
  return out;
}

const Signal* Find(const PointJudgement& j, std::string_view kind) {
  for (const auto& s : j.signals) {
    if (s.kind == kind) return &s;
  }
  return nullptr;
}

class SignalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = storage::Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }

  SignalScan Scan(const Tree& ref, const Tree& cur, const RansomwareSpec& spec = {}) {
    WriteTree(*cat_, "acme", "files", kRef, ref);
    WriteTree(*cat_, "acme", "files", kCur, cur);
    auto s = ScanSignals(*cat_, "acme", "files", kRef, kCur, spec);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : SignalScan{};
  }
  PointJudgement Verdict(const Tree& ref, const Tree& cur, const RansomwareSpec& spec = {}) {
    return Judge(Scan(ref, cur, spec), {}, spec);
  }
  // The set's first point, judged on its own.
  PointJudgement Alone(const Tree& cur) {
    WriteTree(*cat_, "acme", "files", kCur, cur);
    auto s = ScanSignals(*cat_, "acme", "files", std::nullopt, kCur, {});
    EXPECT_TRUE(s.ok()) << s.status();
    return Judge(s.ok() ? *s : SignalScan{}, {}, {});
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Catalogue> cat_;
};

TEST(RansomNotes, KnownNamesMatchAndOrdinaryFilesDoNot) {
  for (const char* n : {"_readme.txt", "HOW_TO_DECRYPT.txt", "How-To-Decrypt-Files.html",
                        "DECRYPT_INSTRUCTIONS.html", "!!!READ_ME!!!.txt", "RESTORE_FILES_INFO.txt",
                        "+_RECOVER_+xyz.html", "Restore-My-Files.txt", "RyukReadMe.txt",
                        "README_FOR_DECRYPT.txt", "readme-unlock.txt", "HELP_DECRYPT.HTA",
                        "YOUR_FILES_ARE_ENCRYPTED.TXT", "#DECRYPT_MY_FILES#.txt"}) {
    EXPECT_TRUE(LooksLikeRansomNote(n)) << n;
  }
  for (const char* n :
       {"README.md", "README.txt", "readme", "README", "decrypt.py", "how_to_restore.docx",
        "restore.txt", "recovery.log", "notes.txt", "decrypted.txt", "HOW_TO_DECRYPT.pdf",
        "Release notes.html", "restore_files.sh", "index.html"}) {
    EXPECT_FALSE(LooksLikeRansomNote(n)) << n;
  }
}

TEST_F(SignalsTest, UnchangedPointIsClean) {
  PointJudgement j = Verdict(Office(), Office());
  EXPECT_EQ(j.verdict, PointVerdict::kClean);
  EXPECT_TRUE(j.signals.empty());
}

TEST_F(SignalsTest, EncryptedInPlaceIsEncrypted) {
  Tree ref = Office(), cur = ref;
  for (auto& [p, f] : cur) f = {p + " encrypted", f.size + 16, kEncrypted};
  SignalScan s = Scan(ref, cur);
  // .txt were structured by entropy, the others by their format: all 1,000
  // became random; the 800 with a known format also lost their magic.
  EXPECT_EQ(s.became_random.count, 1000u);
  EXPECT_EQ(s.format_mismatch.count, 800u);
  EXPECT_EQ(s.random_files, 1000u);
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kEncrypted);
  EXPECT_THAT(Kinds(j), ElementsAre("became-random", "format-mismatch"));
  const Signal* r = Find(j, "became-random");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->count, 1000u);
  EXPECT_EQ(r->threshold, 10u);
  EXPECT_EQ(r->examples.size(), kMaxSignalExamples);
  EXPECT_THAT(r->message, HasSubstr("1,000 files were structured against the last clean point"));
  EXPECT_THAT(r->message, HasSubstr("100% of 1,000 sampled files"));
}

TEST_F(SignalsTest, IntermittentEncryptionLosesTheMagic) {
  Tree ref = Office(), cur = ref;
  for (auto& [p, f] : cur) {
    if (storage::ExpectedFormat(p) != FileFormat::kUnknown)
      f = {p + " part-encrypted", f.size, kPartlyEncrypted};
  }
  SignalScan s = Scan(ref, cur);
  EXPECT_EQ(s.became_random.count, 0u);  // entropy stays below 7.5 bits
  EXPECT_EQ(s.format_mismatch.count, 800u);
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kEncrypted);
  EXPECT_THAT(Kinds(j), ElementsAre("format-mismatch"));
}

TEST_F(SignalsTest, FewRandomFilesAreSuspiciousThenClean) {
  Tree ref = Office(), cur = ref;
  int n = 0;
  for (auto& [p, f] : cur) {
    if (n++ < 12) f = {p + " encrypted", f.size, kEncrypted};
  }
  PointJudgement j = Verdict(ref, cur);  // 12 of 1,000: above the floor, far from 25%
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_EQ(Find(j, "became-random")->count, 12u);

  RansomwareSpec lax;
  lax.random_files_suspicious = 20;
  lax.random_files_encrypted = 50;
  EXPECT_EQ(Judge(Scan(ref, cur, lax), {}, lax).verdict, PointVerdict::kClean);
}

TEST_F(SignalsTest, FormatsRandomByNatureRewrittenStayClean) {
  // Every JPEG re-encoded (new digests, still JPEGs) and every docx resaved.
  Tree ref = Office(), cur = ref;
  for (auto& [p, f] : cur) {
    if (f.sample == kJpeg || f.sample == kDocx) f.content += " re-encoded";
  }
  PointJudgement j = Verdict(ref, cur);
  EXPECT_EQ(j.verdict, PointVerdict::kClean) << (j.signals.empty() ? "" : j.signals[0].message);
}

// Files whose content has no sample (a restic set, a point listed without
// reading) cannot be judged on content: a point where as many of them
// changed as would have flagged it is not clean (it was once: a point
// encrypted in place with no sample said "clean").
TEST_F(SignalsTest, UnsampledContentIsNotJudgedAndCounted) {
  Tree ref = Office(), cur = ref;
  for (auto& [p, f] : cur) f = {p + " encrypted", f.size, {}};  // no sample (e.g. restic)
  SignalScan s = Scan(ref, cur);
  EXPECT_EQ(s.random_files, 0u);
  EXPECT_EQ(s.not_judged, 1000u);
  EXPECT_EQ(s.sampled_files, 0u);
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kContentNotJudged);
  ASSERT_EQ(j.signals.size(), 1u);
  EXPECT_EQ(j.signals[0].kind, kSignalContentNotJudged);
  EXPECT_EQ(j.signals[0].count, 1000u);
  EXPECT_EQ(j.signals[0].threshold, RansomwareSpec{}.random_files_suspicious);
  EXPECT_EQ(j.signals[0].examples.size(), kMaxSignalExamples);
  EXPECT_NE(j.signals[0].message.find("1,000 changed or new files"), std::string::npos)
      << j.signals[0].message;
}

// Below the count that would flag a point, unsampled files leave it clean;
// at it, not.
Tree WithUnsampledChanges(uint64_t n) {
  Tree cur = Office();
  uint64_t changed = 0;
  for (auto& [p, f] : cur) {
    if (changed == n) break;
    f = {p + " v2", f.size, {}};
    ++changed;
  }
  return cur;
}

TEST_F(SignalsTest, AFewUnsampledFilesLeaveAPointClean) {
  const RansomwareSpec spec;
  SignalScan s = Scan(Office(), WithUnsampledChanges(spec.random_files_suspicious - 1));
  EXPECT_EQ(s.not_judged, spec.random_files_suspicious - 1);
  PointJudgement j = Judge(s, {}, spec);
  EXPECT_EQ(j.verdict, PointVerdict::kClean);
  EXPECT_TRUE(j.signals.empty());
}

TEST_F(SignalsTest, AsManyUnsampledFilesAsWouldFlagAPointAreNotClean) {
  const RansomwareSpec spec;
  SignalScan s = Scan(Office(), WithUnsampledChanges(spec.random_files_suspicious));
  EXPECT_EQ(s.not_judged, spec.random_files_suspicious);
  EXPECT_EQ(Judge(s, {}, spec).verdict, PointVerdict::kContentNotJudged);
}

// A signal over its threshold makes the verdict; files not judged are then
// only counted in the content signals' messages.
TEST(SignalsJudge, ASignalOutranksFilesNotJudged) {
  SignalScan s;
  s.renames.count = RansomwareSpec{}.renames;
  s.not_judged = 1000;
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre(std::string(kSignalRenames)));
}

TEST_F(SignalsTest, ExtensionChangesAloneAndWithEncryption) {
  Tree ref = Office(), cur = ref;
  int n = 0;
  for (const auto& [p, f] : ref) {
    if (n++ >= 60) break;
    cur.erase(p);
    // Same content, a new extension: a rename only (x.docx -> x.docx.lockbit
    // and, for the .txt, x.txt -> x.crypt).
    cur[storage::ExpectedFormat(p) == FileFormat::kUnknown ? p.substr(0, p.size() - 4) + ".crypt"
                                                           : p + ".lockbit"] = f;
  }
  SignalScan s = Scan(ref, cur);
  EXPECT_EQ(s.extension_changes.count, 60u);
  EXPECT_EQ(s.renames.count, 60u);  // same content under a new name
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre("extension-changes"));  // 60 renames < 200
  EXPECT_THAT(Find(j, "extension-changes")->examples[0], HasSubstr(" -> "));

  // The same with the content encrypted: the pairs became random.
  Tree enc = ref;
  n = 0;
  for (const auto& [p, f] : ref) {
    enc.erase(p);
    enc[p + ".lockbit"] = {p + " encrypted", f.size, kEncrypted};
  }
  WriteTree(*cat_, "acme", "enc", kRef, ref);
  WriteTree(*cat_, "acme", "enc", kCur, enc);
  auto s2 = ScanSignals(*cat_, "acme", "enc", kRef, kCur, {});
  ASSERT_TRUE(s2.ok()) << s2.status();
  EXPECT_EQ(s2->extension_changes.count, 1000u);
  EXPECT_EQ(s2->renames.count, 0u);  // new content
  EXPECT_EQ(s2->became_random.count, 1000u);
  PointJudgement j2 = Judge(*s2, {}, {});
  EXPECT_EQ(j2.verdict, PointVerdict::kEncrypted);
  // Every extension lost all its files (net of the new ones: none of them).
  EXPECT_THAT(Kinds(j2),
              ElementsAre("extension-changes", "deletions", "became-random", "format-mismatch"));
}

TEST_F(SignalsTest, ConversionsAndCompressionAreNotExtensionChanges) {
  Tree ref = Office(), cur = ref;
  for (const auto& [p, f] : ref) {
    cur.erase(p);
    if (p.ends_with(".txt")) {
      cur[p + ".gz"] = {p + "gz", 300, {FileFormat::kGzip, 127}};  // gzip'ed
    } else if (p.ends_with(".docx")) {
      cur[p.substr(0, p.size() - 1)] = {p + "doc", 900, {FileFormat::kOle2, 90}};  // saved as .doc
    } else {
      cur[p] = f;
    }
  }
  SignalScan s = Scan(ref, cur);
  EXPECT_EQ(s.extension_changes.count, 0u);
  EXPECT_EQ(s.random_files, 0u);
}

TEST_F(SignalsTest, RenamesAtScaleAreSuspiciousAFolderRenameIsNot) {
  Tree ref = Office();
  // A user renames one folder of 25 files... and a whole tree of 1,000: paths
  // move, names stay: not renames.
  Tree moved;
  for (const auto& [p, f] : ref) moved["archive/2026/" + p.substr(6)] = f;
  SignalScan s = Scan(ref, moved);
  EXPECT_EQ(s.renames.count, 0u);
  EXPECT_EQ(s.deletions.size(), 0u);  // net of the new files of each extension
  EXPECT_EQ(Judge(s, {}, {}).verdict, PointVerdict::kClean);

  // 250 files renamed in place (content kept, name changed).
  Tree renamed = ref;
  int n = 0;
  for (const auto& [p, f] : ref) {
    if (n++ % 4 != 0) continue;
    renamed.erase(p);
    const size_t dot = p.rfind('.');
    renamed[p.substr(0, dot) + "-x7Gq" + p.substr(dot)] = f;
  }
  WriteTree(*cat_, "acme", "ren", kRef, ref);
  WriteTree(*cat_, "acme", "ren", kCur, renamed);
  auto s2 = ScanSignals(*cat_, "acme", "ren", kRef, kCur, {});
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->renames.count, 250u);
  PointJudgement j = Judge(*s2, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre("renames"));
  EXPECT_EQ(Find(j, "renames")->threshold, 200u);
  RansomwareSpec lax;
  lax.renames = 300;
  EXPECT_EQ(Judge(*s2, {}, lax).verdict, PointVerdict::kClean);
}

TEST_F(SignalsTest, ACopyDeletedIsNotARename) {
  Tree ref = Office();
  // Each document also has a copy under another name; the originals go.
  for (const auto& [p, f] : Office()) ref[p + ".bak"] = f;
  Tree cur;
  for (const auto& [p, f] : ref) {
    if (p.ends_with(".bak")) cur[p] = f;
  }
  SignalScan s = Scan(ref, cur);
  EXPECT_EQ(s.renames.count, 0u);
}

TEST_F(SignalsTest, DeletionsPerExtension) {
  Tree ref = Office(), cur = ref;
  int n = 0;
  for (const auto& [p, f] : ref) {
    if (p.ends_with(".pdf") && n++ < 150) cur.erase(p);  // 150 of 200 pdf
  }
  PointJudgement j = Verdict(ref, cur);
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre("deletions"));
  EXPECT_EQ(Find(j, "deletions")->count, 150u);
  EXPECT_THAT(Find(j, "deletions")->message, HasSubstr("150 of 200 .pdf files deleted"));

  // 99 deleted: below the count.
  Tree cur2 = ref;
  n = 0;
  for (const auto& [p, f] : ref) {
    if (p.ends_with(".pdf") && n++ < 99) cur2.erase(p);
  }
  WriteTree(*cat_, "acme", "few", kRef, ref);
  WriteTree(*cat_, "acme", "few", kCur, cur2);
  auto s = ScanSignals(*cat_, "acme", "few", kRef, kCur, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Judge(*s, {}, {}).verdict, PointVerdict::kClean);
}

TEST_F(SignalsTest, EmptiedPointIsSuspicious) {
  // 150 files, 30 per extension; 90% of them gone: under the per-extension
  // count, but the point is emptied against the reference.
  Tree ref, cur;
  for (const auto& [p, f] : Office()) {
    if (ref.size() < 150) ref[p] = f;
  }
  int n = 0;
  for (const auto& [p, f] : ref) {
    if (n++ % 10 == 0) cur[p] = f;
  }
  SignalScan s = Scan(ref, cur);
  EXPECT_TRUE(s.deletions.empty());
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre("deletions"));
  EXPECT_THAT(Find(j, "deletions")->message, HasSubstr("file count fell from 150 to 15"));
  EXPECT_EQ(Find(j, "deletions")->count, 135u);
}

TEST_F(SignalsTest, RansomNotesByNameAndRepeatedInDirectories) {
  Tree ref = Office();
  Tree one = ref;
  one["share/dept3/HOW_TO_DECRYPT.txt"] = {"pay", 900, kText};
  PointJudgement j = Verdict(ref, one);
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre("ransom-notes"));
  EXPECT_THAT(Find(j, "ransom-notes")->examples, ElementsAre("share/dept3/HOW_TO_DECRYPT.txt"));

  // An unknown family's note: the same new small .txt in 12 directories that
  // held files.
  Tree many = ref;
  for (int d = 0; d < 12; ++d) {
    many["share/dept" + std::to_string(d) + "/info-3x9k.txt"] = {"pay", 900, kText};
  }
  WriteTree(*cat_, "acme", "many", kRef, ref);
  WriteTree(*cat_, "acme", "many", kCur, many);
  auto s = ScanSignals(*cat_, "acme", "many", kRef, kCur, {});
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->repeated_names.size(), 1u);
  EXPECT_EQ(s->repeated_names[0].name, "info-3x9k.txt");
  EXPECT_EQ(s->repeated_names[0].directories, 12u);
  PointJudgement j2 = Judge(*s, {}, {});
  EXPECT_EQ(j2.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Find(j2, "ransom-notes")->message,
              HasSubstr("new file info-3x9k.txt in 12 directories (threshold 10)"));
}

TEST_F(SignalsTest, SameNewNameInNewDirectoriesIsNotANote) {
  // An upgrade adds 50 new package directories, each with its own
  // README.txt and LICENSE.txt: new directories, not notes.
  Tree ref = Office(), cur = ref;
  for (int d = 0; d < 50; ++d) {
    std::string dir = "share/app/lib/pkg" + std::to_string(d) + "/";
    cur[dir + "README.txt"] = {dir + "r", 2000, kText};
    cur[dir + "LICENSE.txt"] = {dir + "l", 2000, kText};
    cur[dir + "module.so"] = {dir + "m", 90000, kElf};
  }
  PointJudgement j = Verdict(ref, cur);
  EXPECT_EQ(j.verdict, PointVerdict::kClean);
}

TEST_F(SignalsTest, FirstPointIsJudgedOnItsOwn) {
  EXPECT_EQ(Alone(Office()).verdict, PointVerdict::kClean);
  Tree enc;
  for (const auto& [p, f] : Office()) {
    enc[p] = {p + "enc", f.size,
              storage::ExpectedFormat(p) == FileFormat::kUnknown ? kText : kEncrypted};
  }
  enc["share/_readme.txt"] = {"pay", 900, kText};
  PointJudgement j = Alone(enc);
  EXPECT_EQ(j.verdict, PointVerdict::kEncrypted);
  EXPECT_THAT(Kinds(j), ElementsAre("format-mismatch", "ransom-notes"));
  EXPECT_THAT(Find(j, "format-mismatch")->message, HasSubstr("800 files no longer start"));
}

TEST_F(SignalsTest, LegitimateBigChangesStayClean) {
  // One tree with: 5,000 binaries of an upgrade (same names and formats,
  // new digests), 2,000 new JPEGs and zips, a growing database, 1% of the
  // documents edited, a few added and deleted, five renamed.
  Tree ref = Office();
  AddPrograms(&ref);
  Tree cur = ref;
  for (auto& [p, f] : cur) {
    if (p.starts_with("apps/")) f.content += " v2";
  }
  for (int i = 0; i < 2000; ++i) {
    std::string p = "share/photos/2026-06/IMG_" + std::to_string(i) + (i % 4 ? ".jpg" : ".zip");
    cur[p] = {p, 3'000'000, i % 4 ? kJpeg : kZip};
  }
  cur["db/app.sqlite"] = {"db v2", 2 << 20, kSqlite};
  int n = 0;
  for (const auto& [p, f] : ref) {
    if (!p.starts_with("share/")) continue;
    ++n;
    if (n % 100 == 0) cur[p].content += " edited";
    if (n % 300 == 1) cur.erase(p);
    if (n % 250 == 2) {
      cur.erase(p);
      cur[p.substr(0, p.rfind('/')) + "/renamed-" + std::to_string(n) + p.substr(p.rfind('.'))] = f;
    }
  }
  cur["share/dept1/new-plan.docx"] = Usual("share/dept1/new-plan.docx");
  SignalScan s = Scan(ref, cur);
  PointJudgement j = Judge(s, {}, {});
  EXPECT_EQ(j.verdict, PointVerdict::kClean) << (j.signals.empty() ? "" : j.signals[0].message);
  EXPECT_EQ(s.random_files, 0u);
  EXPECT_EQ(s.renames.count, 4u);
}

TEST(ChangeRate, NeedsHistoryFloorAndSigma) {
  RansomwareSpec spec;
  ChangeRate r{5000, 1 << 30, 20000, {100, 120, 90, 110, 100}};
  std::optional<Signal> s = ChangeRateSignal(r, spec);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->count, 5000u);
  EXPECT_THAT(s->message, HasSubstr("5,000 files changed or added since the previous point"));
  r.history.pop_back();  // 4 points of history: no baseline
  EXPECT_FALSE(ChangeRateSignal(r, spec).has_value());
  r.history = {100, 120, 90, 110, 100};
  r.changed_files = 900;  // under the 1,000 floor
  EXPECT_FALSE(ChangeRateSignal(r, spec).has_value());
  r = {1500, 0, 100000, {100, 120, 90, 110, 100}};  // under 5% of the point
  EXPECT_FALSE(ChangeRateSignal(r, spec).has_value());
  r = {3000, 0, 10000, {100, 3000, 100, 3000, 100, 3000}};  // a set that churns this much
  EXPECT_FALSE(ChangeRateSignal(r, spec).has_value());
}

TEST(ChangeRate, AloneNeverFlagsAndJoinsAnotherSignal) {
  ChangeRate r{5000, 1 << 30, 20000, {100, 120, 90, 110, 100}};
  SignalScan clean;
  PointJudgement j = Judge(clean, r, {});
  EXPECT_EQ(j.verdict, PointVerdict::kClean);
  EXPECT_TRUE(j.signals.empty());
  SignalScan notes;
  notes.known_notes.Add("HOW_TO_DECRYPT.txt");
  j = Judge(notes, r, {});
  EXPECT_EQ(j.verdict, PointVerdict::kSuspicious);
  EXPECT_THAT(Kinds(j), ElementsAre("ransom-notes", "change-rate"));
}

TEST(Judge, EncryptedByCountOrByFractionOfSampledFiles) {
  SignalScan s;
  s.random_files = 30;
  s.became_random.count = 30;
  s.sampled_files = 100;
  EXPECT_EQ(Judge(s, {}, {}).verdict, PointVerdict::kEncrypted);  // 30% >= 25%
  s.sampled_files = 1000;
  EXPECT_EQ(Judge(s, {}, {}).verdict, PointVerdict::kSuspicious);
  RansomwareSpec spec;
  spec.random_files_fraction = 0.02;
  EXPECT_EQ(Judge(s, {}, spec).verdict, PointVerdict::kEncrypted);
}

}  // namespace
}  // namespace vigil::contracts
