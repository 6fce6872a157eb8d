// A scan from the reference's tally (services/contracts/signals.h,
// PointTally: only the paths whose versions differ between the two points
// are read) against the scan that reads both points whole, on random
// histories written into a real RocksDB catalogue: the same SignalScan,
// field by field, the same new point's tally, and the same ComparePoints
// from a summary. Files keep their mtime while unchanged, so points share
// versions as the coordinator's merges make them share.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "services/contracts/plausibility.h"
#include "services/contracts/signals.h"
#include "storage/catalogue.h"
#include "storage/content_sample.h"
#include "storage/hash.h"
#include "storage/versions.h"
#include "tests/storage/test_util.h"

namespace vigil::contracts {
namespace {

using storage::ContentSample;
using storage::EntryRecord;
using storage::EntryType;
using storage::FileFormat;

constexpr int64_t kDay = 86'400'000'000'000;
constexpr int64_t kStart = 1'700'000'000'000'000'000;

struct ByPathOrder {
  bool operator()(const std::string& a, const std::string& b) const {
    return storage::ComparePathOrder(a, b) < 0;
  }
};
using Point = std::map<std::string, EntryRecord, ByPathOrder>;

std::string Text(const SignalScan& s) {
  std::ostringstream o;
  auto tally = [&](const char* name, const Tally& t) {
    o << name << " " << t.count;
    for (const auto& e : t.examples) o << " [" << e << "]";
    o << "\n";
  };
  const PointComparison& c = s.versus_reference;
  o << "ref " << s.reference_ns.value_or(-1) << "\n"
    << "prev " << c.prev.time_ns << " " << c.prev.files << " " << c.prev.bytes << " "
    << c.prev.zero_length_files << "\n"
    << "cur " << c.cur.time_ns << " " << c.cur.files << " " << c.cur.bytes << " "
    << c.cur.zero_length_files << "\n"
    << "common " << c.common_files << " changed " << c.content_changed << " became-zero "
    << c.became_zero_length << " new-zero " << c.new_zero_length << " new " << c.new_files
    << " changed-bytes " << c.changed_bytes << "\n";
  tally("renames", s.renames);
  tally("extension-changes", s.extension_changes);
  tally("became-random", s.became_random);
  tally("format-mismatch", s.format_mismatch);
  tally("known-notes", s.known_notes);
  o << "random " << s.random_files << "\n";
  for (const auto& n : s.repeated_names) {
    o << "name " << n.name << " " << n.directories;
    for (const auto& e : n.examples) o << " [" << e << "]";
    o << "\n";
  }
  for (const auto& d : s.deletions) {
    o << "deletions '" << d.extension << "' " << d.reference_files << " " << d.gone << " "
      << d.added;
    for (const auto& e : d.examples) o << " [" << e << "]";
    o << "\n";
  }
  o << "sampled " << s.sampled_files << " not-judged " << s.not_judged;
  for (const auto& e : s.not_judged_examples) o << " [" << e << "]";
  o << "\nuntracked " << s.untracked_extensions << " " << s.untracked_names << " "
    << s.untracked_renames << "\n";
  return o.str();
}

std::string Text(const PointComparison& c) {
  SignalScan s;
  s.versus_reference = c;
  return Text(s);
}

// Random daily histories of a share: documents, pictures, notes, files
// without an extension or with one too long to be one, empty files,
// FIFOs and symbolic links (not files: not counted), and each day
// edits, encryptions, renames, extension changes, deletions, new files,
// ransom notes, same-named notes in many directories, and files back after
// a deletion (a new version of the same content).
class History {
 public:
  explicit History(uint32_t seed) : rng_(seed) {
    for (int d = 0; d < 12; ++d) {
      const std::string dir = "share/d" + std::to_string(d);
      Put(dir + "/fifo", Fifo());
      for (int f = 0; f < 25; ++f) AddFile(dir);
    }
    for (int f = 0; f < 6; ++f) AddFile("");  // at the root
    Put("share/link", Link());
  }

  const Point& point() const { return p_; }

  void Day() {
    std::vector<std::string> files;
    for (const auto& [path, e] : p_) {
      if (e.type == EntryType::kFile) files.push_back(path);
    }
    const int changes = Pick(1, 30);
    for (int i = 0; i < changes && !files.empty(); ++i) {
      const std::string path = files[Pick(0, static_cast<int>(files.size()) - 1)];
      auto it = p_.find(path);
      if (it == p_.end()) continue;
      switch (Pick(0, 10)) {
        case 0:  // edited
          it->second = File(path, Pick(0, 9) == 0 ? 0 : Pick(1, 5000));
          break;
        case 1: {  // encrypted in place
          EntryRecord e = File(path, it->second.size);
          e.sample = {FileFormat::kUnknown, 127};
          it->second = e;
          break;
        }
        case 2: {  // renamed (same content)
          EntryRecord e = it->second;
          p_.erase(it);
          p_[Join(DirOf(path), "renamed" + std::to_string(next_++) + ".docx")] = e;
          break;
        }
        case 3: {  // extension appended, encrypted
          EntryRecord e = File(path, it->second.size);
          e.sample = {FileFormat::kUnknown, 127};
          p_.erase(it);
          p_[path + ".lockbit"] = e;
          break;
        }
        case 4:
          deleted_.emplace_back(it->first, it->second);
          p_.erase(it);
          break;
        case 5:
          AddFile(DirOf(path));
          break;
        case 6:  // a note where files were
          p_[Join(DirOf(path), "HOW_TO_DECRYPT.txt")] = File("note", 300);
          break;
        case 7:  // the same note-like name in a directory
          p_[Join(DirOf(path), "read_this.txt")] = File("read", 200);
          break;
        case 8: {  // a new directory with a note-like file only
          const std::string dir = "share/new" + std::to_string(next_++);
          p_[dir + "/read_this.txt"] = File("read", 200);
          break;
        }
        case 10:  // a file deleted earlier back as it was, not sampled this time
          if (!deleted_.empty()) {
            auto [back, e] = deleted_.back();
            deleted_.pop_back();
            e.sample = {};
            p_[back] = e;
          }
          break;
        default: {  // content unchanged, sample lost (another record, same content)
          EntryRecord e = it->second;
          e.sample = {};
          e.first_seen_ns += 1;
          it->second = e;
          break;
        }
      }
    }
  }

 private:
  static std::string DirOf(const std::string& p) {
    const size_t s = p.rfind('/');
    return s == std::string::npos ? std::string() : p.substr(0, s);
  }
  static std::string Join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
  }

  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  static EntryRecord Fifo() {
    EntryRecord e;
    e.type = EntryType::kOther;
    return e;
  }
  static EntryRecord Link() {
    EntryRecord e;
    e.type = EntryType::kSymlink;
    e.link_target = "d0";
    return e;
  }
  EntryRecord File(const std::string& content, uint64_t size) {
    EntryRecord e;
    e.type = EntryType::kFile;
    e.size = size;
    e.mtime_ns = kStart + static_cast<int64_t>(next_++);
    e.first_seen_ns = e.mtime_ns;
    e.digest = storage::HashBytes(storage::HashAlgorithm::kXxh3_128,
                                  content + "#" + std::to_string(next_++));
    if (Pick(0, 4) != 0) e.sample = storage::ContentSample{FileFormat::kZip, 126};
    return e;
  }
  void AddFile(const std::string& dir) {
    static const char* kExts[] = {".docx", ".pdf", ".txt", ".jpg", "", ".an-extension-far-too-long",
                                  ".xlsx", ".tmp"};
    const std::string name = "f" + std::to_string(next_++) + kExts[Pick(0, 7)];
    const std::string path = Join(dir, name);
    p_[path] = File(path, Pick(0, 12) == 0 ? 0 : Pick(1, 5000));
  }
  void Put(const std::string& path, const EntryRecord& e) { p_[path] = e; }

  std::mt19937 rng_;
  Point p_;
  std::vector<std::pair<std::string, EntryRecord>> deleted_;
  uint64_t next_ = 0;
};

class SignalsTallyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = storage::Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
    // Thresholds low enough for every signal to fire in a small share.
    spec_.renames = 3;
    spec_.extension_changes = 2;
    spec_.deletions_count = 3;
    spec_.note_directories = 2;
    spec_.random_files_suspicious = 2;
  }

  void Write(const std::string& set, int64_t t, const Point& p) {
    storage::Catalogue::Writer w(cat_.get(), storage::Scope{"acme", set, t});
    for (const auto& [path, e] : p) ASSERT_TRUE(w.PutEntry(path, e).ok()) << path;
    ASSERT_TRUE(w.Commit(false).ok());
  }

  SignalScan Whole(const std::string& set, std::optional<int64_t> ref, int64_t t) {
    auto s = ScanSignals(*cat_, "acme", set, ref, t, spec_);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s.ok() && s->read_changes_only);
    return s.ok() ? *s : SignalScan{};
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Catalogue> cat_;
  RansomwareSpec spec_;
};

TEST_F(SignalsTallyTest, AScanFromTheReferencesTallyIsTheWholeScan) {
  int fast_scans = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string set = "s" + std::to_string(seed);
    History h(seed);
    std::vector<int64_t> times;
    std::map<int64_t, PointTally> tallies;
    for (int day = 0; day < 8; ++day) {
      if (day > 0) h.Day();
      const int64_t t = kStart + day * kDay;
      Write(set, t, h.point());
      times.push_back(t);
      if (day == 0) {
        SignalScan alone = Whole(set, std::nullopt, t);
        ASSERT_TRUE(alone.new_tally.has_value());
        tallies[t] = *alone.new_tally;
        continue;
      }
      // Against the day before and against a random earlier day.
      std::mt19937 pick(seed * 100 + day);
      for (int64_t ref :
           {times[times.size() - 2],
            times[std::uniform_int_distribution<size_t>(0, times.size() - 2)(pick)]}) {
        SCOPED_TRACE("day " + std::to_string(day) + " against " +
                     std::to_string((ref - kStart) / kDay));
        const SignalScan whole = Whole(set, ref, t);
        ASSERT_TRUE(whole.reference_tally.has_value());
        EXPECT_EQ(*whole.reference_tally, tallies.at(ref));
        auto fast = ScanSignals(*cat_, "acme", set, ref, t, spec_, &tallies.at(ref));
        ASSERT_TRUE(fast.ok()) << fast.status();
        EXPECT_TRUE(fast->read_changes_only);
        EXPECT_EQ(Text(*fast), Text(whole));
        ASSERT_TRUE(fast->new_tally.has_value());
        ASSERT_TRUE(whole.new_tally.has_value());
        EXPECT_EQ(*fast->new_tally, *whole.new_tally);
        EXPECT_FALSE(fast->reference_tally.has_value());  // (not read)
        const auto j1 = Judge(*fast, {}, spec_), j2 = Judge(whole, {}, spec_);
        EXPECT_EQ(j1.verdict, j2.verdict);
        EXPECT_EQ(j1.signals.size(), j2.signals.size());
        tallies[t] = *fast->new_tally;
        ++fast_scans;

        const PointTally& r = tallies.at(ref);
        const PointSummary summary{0, r.files, r.bytes, r.zero_length_files};
        auto c1 = ComparePoints(*cat_, "acme", set, ref, t, &summary);
        auto c2 = ComparePoints(*cat_, "acme", set, ref, t);
        ASSERT_TRUE(c1.ok() && c2.ok());
        EXPECT_EQ(Text(*c1), Text(*c2));
      }
    }
  }
  EXPECT_EQ(fast_scans, 6 * 7 * 2);
}

TEST_F(SignalsTallyTest, ATallyThatDoesNotAddUpIsNotTrusted) {
  History h(42);
  Write("s", kStart, h.point());
  h.Day();
  h.Day();
  Write("s", kStart + kDay, h.point());
  const SignalScan whole = Whole("s", kStart, kStart + kDay);
  ASSERT_GT(whole.versus_reference.common_files, whole.versus_reference.cur.files / 2);
  // A tally of nothing: the first changed reference file takes it below
  // zero, and the points are read whole.
  PointTally empty;
  auto s = ScanSignals(*cat_, "acme", "s", kStart, kStart + kDay, spec_, &empty);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->read_changes_only);
  EXPECT_EQ(Text(*s), Text(whole));
  const PointSummary none{};
  auto c1 = ComparePoints(*cat_, "acme", "s", kStart, kStart + kDay, &none);
  auto c2 = ComparePoints(*cat_, "acme", "s", kStart, kStart + kDay);
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_EQ(Text(*c1), Text(*c2));
}

TEST(PointTallyCodec, RoundTripsAndRejectsWhatIsNotATally) {
  PointTally t;
  t.files = 7;
  t.bytes = 123456;
  t.zero_length_files = 1;
  t.sampled_files = 5;
  t.long_extension_files = 2;
  t.extensions = {{"", 1}, {"docx", 3}, {"pdf", 1}};
  const std::string bytes = EncodePointTally(t);
  auto back = DecodePointTally(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
  EXPECT_FALSE(DecodePointTally(""));
  EXPECT_FALSE(DecodePointTally("\x02"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodePointTally(bytes.substr(0, n))) << n;  // every truncation
  }
  EXPECT_FALSE(DecodePointTally(bytes + "x"));
  PointTally wrong = t;
  wrong.files = 8;  // the extensions count 7 files
  EXPECT_FALSE(DecodePointTally(EncodePointTally(wrong)));
  wrong = t;
  wrong.sampled_files = 9;
  EXPECT_FALSE(DecodePointTally(EncodePointTally(wrong)));
}

}  // namespace
}  // namespace vigil::contracts
