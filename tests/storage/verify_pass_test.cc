// The verification pass on real temporary trees.
#include "storage/verify_pass.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "tests/storage/test_util.h"
#include "tests/support/random_bytes.h"

namespace vigil::storage {

// Readable DiffKind in gtest messages (found by ADL).
void PrintTo(DiffKind k, std::ostream* os) { *os << DiffKindName(k); }
void PrintTo(const Digest& d, std::ostream* os) { *os << (d.empty() ? "(empty)" : d.ToString()); }

namespace {

using testing::MtimeOf;
using testing::SetMtime;
using testing::TempDir;
using testing::WriteFile;

constexpr int64_t kT0 = 1700000000000000000;  // a fixed "now"
constexpr int64_t kHour = 3600LL * 1'000'000'000;
constexpr int64_t kDay = 24 * kHour;

class VerifyPassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "tree";
    std::filesystem::create_directories(root_);
    auto c = Catalogue::Open(dir_ / "db");
    ASSERT_TRUE(c.ok()) << c.status();
    cat_ = std::move(*c);
  }

  std::string P(std::string_view rel) const { return root_ + "/" + std::string(rel); }

  PassOptions Options(int64_t now = kT0) {
    PassOptions o;
    o.root = root_;
    o.scope = scope_;
    o.threads = 2;
    o.now_ns = now;
    return o;
  }

  // Runs a pass, collecting its events in events_.
  StatusOr<PassSummary> Run(PassOptions o) {
    events_.clear();
    o.on_event = [this](const PassEvent& e) { events_.push_back(e); };
    return RunVerifyPass(*cat_, o);
  }
  PassSummary MustRun(PassOptions o) {
    auto s = Run(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : PassSummary();
  }

  std::map<std::string, EntryRecord> Entries() {
    std::map<std::string, EntryRecord> out;
    auto s = cat_->Scan(scope_);
    for (; s->Valid(); s->Next()) out[s->path()] = s->entry();
    EXPECT_TRUE(s->status().ok()) << s->status();
    return out;
  }

  std::vector<std::pair<DiffKind, std::string>> EventKinds() const {
    std::vector<std::pair<DiffKind, std::string>> out;
    for (const auto& e : events_) out.emplace_back(e.kind, e.path);
    return out;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<Catalogue> cat_;
  Scope scope_{"tenant", "set", 1};
  std::vector<PassEvent> events_;
};

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1664525 + 1013904223;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

TEST_F(VerifyPassTest, BaselineThenUnchanged) {
  WriteFile(P("a/one"), "1");
  WriteFile(P("a/two"), Pattern(3 << 20, 2));  // several read buffers
  WriteFile(P("b"), "");
  WriteFile(P("c/d/e/f"), "deep");
  PassSummary s = MustRun(Options());
  EXPECT_TRUE(s.baseline);
  EXPECT_EQ(s.counts.added, 4u);
  EXPECT_EQ(s.entries, 4u);
  EXPECT_EQ(s.files_read, 4u);
  EXPECT_EQ(s.bytes_read, 1u + (3u << 20) + 4u);
  EXPECT_EQ(s.problems(), 0u);
  EXPECT_EQ(s.directories, 5u);  // root, a, c, c/d, c/d/e
  EXPECT_EQ(events_.size(), 4u);
  for (const auto& e : events_) EXPECT_EQ(e.kind, DiffKind::kAdded) << e.path;

  auto entries = Entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries["a/two"].digest, HashBytes(HashAlgorithm::kXxh3_128, Pattern(3 << 20, 2)));
  EXPECT_EQ(entries["a/two"].size, 3u << 20);
  EXPECT_EQ(entries["a/two"].mtime_ns, MtimeOf(P("a/two")));
  EXPECT_EQ(entries["a/two"].first_seen_ns, kT0);
  EXPECT_EQ(entries["b"].digest, HashBytes(HashAlgorithm::kXxh3_128, ""));

  s = MustRun(Options(kT0 + kHour));
  EXPECT_FALSE(s.baseline);
  EXPECT_EQ(s.counts.unchanged, 4u);
  EXPECT_EQ(s.files_read, 4u);
  EXPECT_EQ(s.problems() + s.counts.added + s.counts.updated, 0u);
  EXPECT_TRUE(events_.empty());
  EntryRecord e;
  VerifyRecord v;
  ASSERT_TRUE(cat_->GetEntry(scope_, "a/one", &e, &v).ok());
  EXPECT_EQ(v.state, EntryState::kOk);
  EXPECT_EQ(v.last_verified_ns, kT0 + kHour);
  EXPECT_EQ(e.first_seen_ns, kT0);
}

TEST_F(VerifyPassTest, FlippedByteIsModifiedWithBothReadings) {
  std::string data = Pattern(2 << 20, 9);
  WriteFile(P("data.bin"), data);
  WriteFile(P("other"), "x");
  MustRun(Options());
  Digest original = HashBytes(HashAlgorithm::kXxh3_128, data);

  int fd = ::open(P("data.bin").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  char c = static_cast<char>(data[data.size() / 2] ^ 0x04);
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(data.size() / 2)), 1);
  ::close(fd);
  data[data.size() / 2] = c;
  Digest now = HashBytes(HashAlgorithm::kXxh3_128, data);

  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.counts.modified, 1u);
  EXPECT_EQ(s.counts.unchanged, 1u);
  EXPECT_EQ(s.rereads, 1u);
  EXPECT_EQ(s.transient_mismatches, 0u);
  ASSERT_EQ(events_.size(), 1u);
  const PassEvent& ev = events_[0];
  EXPECT_EQ(ev.kind, DiffKind::kModified);
  EXPECT_EQ(ev.path, "data.bin");
  EXPECT_FALSE(ev.accepted);
  ASSERT_TRUE(ev.has_record);
  EXPECT_EQ(ev.recorded.digest, original);
  EXPECT_FALSE(ev.first_reading.empty());
  EXPECT_FALSE(ev.second_reading.empty());
  EXPECT_EQ(ev.first_reading, ev.second_reading);
  EXPECT_EQ(ev.first_reading, now);
  EXPECT_EQ(ev.observed_size, data.size());

  // The record keeps the original as the reference; the problem and its
  // evidence are in the VerifyRecord.
  EntryRecord e;
  VerifyRecord v;
  ASSERT_TRUE(cat_->GetEntry(scope_, "data.bin", &e, &v).ok());
  EXPECT_EQ(e.digest, original);
  EXPECT_EQ(v.state, EntryState::kModified);
  EXPECT_EQ(v.first_reading, now);
  EXPECT_EQ(v.second_reading, now);
  EXPECT_EQ(v.last_checked_ns, kT0 + kHour);
  EXPECT_EQ(v.last_verified_ns, kT0);

  // Still reported by the next pass (no silent re-baselining).
  s = MustRun(Options(kT0 + 2 * kHour));
  EXPECT_EQ(s.counts.modified, 1u);
}

TEST_F(VerifyPassTest, TruncationDeletionAdditionRename) {
  WriteFile(P("trunc"), "0123456789");
  WriteFile(P("gone"), "g");
  WriteFile(P("old"), "moving");
  MustRun(Options());
  ASSERT_EQ(::truncate(P("trunc").c_str(), 5), 0);
  ASSERT_EQ(::unlink(P("gone").c_str()), 0);
  ASSERT_EQ(::rename(P("old").c_str(), P("renamed").c_str()), 0);
  WriteFile(P("brand-new"), "n");
  PassSummary s = MustRun(Options(kT0 + kHour));
  using K = DiffKind;
  EXPECT_EQ(EventKinds(), (std::vector<std::pair<DiffKind, std::string>>{{K::kAdded, "brand-new"},
                                                                         {K::kMissing, "gone"},
                                                                         {K::kMissing, "old"},
                                                                         {K::kAdded, "renamed"},
                                                                         {K::kModified, "trunc"}}));
  EXPECT_EQ(s.counts.missing, 2u);
  EXPECT_EQ(s.counts.added, 2u);
  EXPECT_EQ(s.counts.modified, 1u);
  EXPECT_EQ(s.problems(), 3u);
}

TEST_F(VerifyPassTest, HardLinksAreReadOnceAndRecordedUnderEveryName) {
  std::string content = Pattern(100000, 4);
  WriteFile(P("h1"), content);
  ASSERT_EQ(::link(P("h1").c_str(), P("h2").c_str()), 0);
  std::filesystem::create_directories(P("sub"));
  ASSERT_EQ(::link(P("h1").c_str(), P("sub/h3").c_str()), 0);
  WriteFile(P("single"), "s");
  PassSummary s = MustRun(Options());
  EXPECT_EQ(s.hardlinks_reused, 2u);
  EXPECT_EQ(s.files_read, 2u);  // h1 once, single once
  EXPECT_EQ(s.bytes_read, content.size() + 1);
  EXPECT_EQ(s.entries, 4u);
  auto entries = Entries();
  Digest d = HashBytes(HashAlgorithm::kXxh3_128, content);
  for (const char* p : {"h1", "h2", "sub/h3"}) {
    ASSERT_EQ(entries.count(p), 1u) << p;
    EXPECT_EQ(entries[p].digest, d) << p;
    EXPECT_EQ(entries[p].size, content.size()) << p;
  }
  std::vector<std::string> holders;
  ASSERT_TRUE(cat_->ForEachHolder(d,
                                  [&](const EntryKey& k) {
                                    holders.push_back(k.path);
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(holders, (std::vector<std::string>{"h1", "h2", "sub/h3"}));

  // Second pass: still read once, all unchanged.
  s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.hardlinks_reused, 2u);
  EXPECT_EQ(s.files_read, 2u);
  EXPECT_EQ(s.counts.unchanged, 4u);
  EXPECT_TRUE(events_.empty());
}

// A re-verify does not stat regular files in the walker: the first hard link
// shows up in a hashing thread's fstat, is read by the collector, and the
// walker stats again from then on. A later name of the same inode, planned
// long after the switch (beyond the in-flight window), must still reuse the
// first reading, not read the inode again.
TEST_F(VerifyPassTest, HardLinksFoundWithoutWalkerStatAreReadOnce) {
  std::filesystem::create_directories(P("a"));
  std::filesystem::create_directories(P("b"));
  std::filesystem::create_directories(P("c"));
  WriteFile(P("a/e1"), "linked");
  ASSERT_EQ(::link(P("a/e1").c_str(), P("a/e2").c_str()), 0);
  constexpr int kFiles = 3000;  // > the window of 2 threads (24 batches of 64)
  for (int i = 0; i < kFiles; ++i) WriteFile(P("b/f" + std::to_string(10000 + i)), "x");
  ASSERT_EQ(::link(P("a/e1").c_str(), P("c/late").c_str()), 0);
  PassSummary s = MustRun(Options());
  EXPECT_EQ(s.files_read, kFiles + 1u);
  EXPECT_EQ(s.hardlinks_reused, 2u);

  s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.entries, kFiles + 3u);
  EXPECT_EQ(s.files_read, kFiles + 1u);
  EXPECT_EQ(s.hardlinks_reused, 2u);
  EXPECT_EQ(s.bytes_read, kFiles + 6u);
  EXPECT_EQ(s.counts.unchanged, kFiles + 3u);
  EXPECT_TRUE(events_.empty());
}

TEST_F(VerifyPassTest, ModifiedHardLinkIsReportedUnderEveryName) {
  std::string content = Pattern(50000, 8);
  WriteFile(P("h1"), content);
  ASSERT_EQ(::link(P("h1").c_str(), P("h2").c_str()), 0);
  ASSERT_EQ(::link(P("h1").c_str(), P("h3").c_str()), 0);
  MustRun(Options());
  int fd = ::open(P("h2").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "!", 1, 25000), 1);
  ::close(fd);
  content[25000] = '!';
  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.files_read, 1u);
  EXPECT_EQ(s.counts.modified, 3u);
  ASSERT_EQ(events_.size(), 3u);
  for (const auto& e : events_) {
    EXPECT_EQ(e.kind, DiffKind::kModified) << e.path;
    EXPECT_EQ(e.first_reading, HashBytes(HashAlgorithm::kXxh3_128, content)) << e.path;
  }
}

// KNOWN BUG (storage/verify_pass.cc, Collect's kLinkOf branch): only the
// first reading of a hard-linked inode is kept in link_readings_, so the
// other names are declared modified without the confirming re-read (and, if
// the re-read contradicted the first reading, from the unconfirmed reading).
// Disabled until fixed; run with --gtest_also_run_disabled_tests.
TEST_F(VerifyPassTest, ModifiedHardLinkCarriesTheConfirmingReadingUnderEveryName) {
  std::string content = Pattern(50000, 8);
  WriteFile(P("h1"), content);
  ASSERT_EQ(::link(P("h1").c_str(), P("h2").c_str()), 0);
  MustRun(Options());
  int fd = ::open(P("h1").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "!", 1, 100), 1);
  ::close(fd);
  MustRun(Options(kT0 + kHour));
  ASSERT_EQ(events_.size(), 2u);
  for (const auto& e : events_) {
    EXPECT_FALSE(e.second_reading.empty()) << e.path << ": no confirming reading";
    EXPECT_EQ(e.first_reading, e.second_reading) << e.path;
  }
}

// KNOWN BUG (storage/verify_pass.cc, Pass::PlanFile and Collect's kLinkOf
// branch): a hard link's first reading is reused for its other names whatever
// the algorithm, so a name recorded with another algorithm is compared with a
// digest of the wrong algorithm and reported as modified. Disabled so that
// the suite stays green until the fix lands; run it with
// --gtest_also_run_disabled_tests to see it fail.
TEST_F(VerifyPassTest, NewHardLinkToAFileRecordedWithAnotherAlgorithmIsNotModified) {
  // "b" is recorded with SHA-256. A later pass whose default algorithm is
  // XXH3 finds a new name "a" for the same inode, which sorts first. Existing
  // entries are checked with the algorithm they were recorded with
  // (verify_pass.h), so "b" must not be reported as modified.
  WriteFile(P("b"), "hard-linked content");
  PassOptions o = Options();
  o.algorithm = HashAlgorithm::kSha256;
  MustRun(o);
  ASSERT_EQ(Entries()["b"].digest.algorithm(), HashAlgorithm::kSha256);
  ASSERT_EQ(::link(P("b").c_str(), P("a").c_str()), 0);
  PassSummary s = MustRun(Options(kT0 + kHour));  // default: XXH3-128
  EXPECT_EQ(s.counts.modified, 0u) << "false integrity failure on 'b'";
  EXPECT_EQ(s.counts.added, 1u);
  EXPECT_EQ(s.counts.unchanged, 1u);
  for (const auto& e : events_) {
    EXPECT_NE(e.kind, DiffKind::kModified) << e.path << " recorded " << e.recorded.digest.ToString()
                                           << " read " << e.first_reading.ToString();
  }
}

TEST_F(VerifyPassTest, SymlinksAreRecordedAndNeverFollowed) {
  TempDir outside;
  WriteFile(outside / "secret.txt", "outside content");
  WriteFile(outside / "dir/inner.txt", "inner content");
  WriteFile(P("real"), "r");
  ASSERT_EQ(::symlink((outside / "secret.txt").c_str(), P("to-file").c_str()), 0);
  ASSERT_EQ(::symlink((outside / "dir").c_str(), P("to-dir").c_str()), 0);
  ASSERT_EQ(::symlink("does/not/exist", P("dangling").c_str()), 0);
  ASSERT_EQ(::symlink("real", P("relative").c_str()), 0);
  PassSummary s = MustRun(Options());
  EXPECT_EQ(s.files_read, 1u) << "only 'real' is read";
  EXPECT_EQ(s.bytes_read, 1u);
  EXPECT_EQ(s.directories, 1u) << "the linked directory is not descended into";
  auto entries = Entries();
  EXPECT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries["to-file"].type, EntryType::kSymlink);
  EXPECT_EQ(entries["to-file"].link_target, outside / "secret.txt");
  EXPECT_EQ(entries["to-file"].size, (outside / "secret.txt").size());
  EXPECT_TRUE(entries["to-file"].digest.empty()) << "symlinks carry no content digest";
  EXPECT_EQ(entries["to-dir"].type, EntryType::kSymlink);
  EXPECT_EQ(entries["dangling"].link_target, "does/not/exist");
  EXPECT_EQ(entries["relative"].link_target, "real");
  for (const auto& [p, e] : entries) EXPECT_FALSE(p.starts_with("to-dir/")) << p;
  bool found = false;
  ASSERT_TRUE(cat_->ForEachHolder(HashBytes(HashAlgorithm::kXxh3_128, "outside content"),
                                  [&](const EntryKey&) { return !(found = true); })
                  .ok());
  EXPECT_FALSE(found) << "the outside file's content was read";

  // Retargeting a link is a modification.
  ASSERT_EQ(::unlink(P("relative").c_str()), 0);
  ASSERT_EQ(::symlink("real2", P("relative").c_str()), 0);
  s = MustRun(Options(kT0 + kHour));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, DiffKind::kModified);
  EXPECT_EQ(events_[0].path, "relative");
  EXPECT_EQ(events_[0].type, EntryType::kSymlink);
}

TEST_F(VerifyPassTest, FifoIsRecordedAsOtherAndNeverOpened) {
  WriteFile(P("a"), "a");
  ASSERT_EQ(::mkfifo(P("pipe").c_str(), 0644), 0);
  WriteFile(P("z"), "z");
  // A pass that opened the FIFO for reading would block forever: run it on
  // another thread and give up after a generous deadline.
  auto fut = std::async(std::launch::async, [&] { return Run(Options()); });
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "the pass hangs on a FIFO";
  auto s = fut.get();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->files_read, 2u);
  auto entries = Entries();
  ASSERT_EQ(entries.count("pipe"), 1u);
  EXPECT_EQ(entries["pipe"].type, EntryType::kOther);
  EXPECT_TRUE(entries["pipe"].digest.empty());
  s = Run(Options(kT0 + kHour));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->counts.unchanged, 3u);
}

TEST_F(VerifyPassTest, AwkwardNames) {
  const std::string newline = "line\nbreak", bad = "bad\xff\xfe", dir = "d\x80ir";
  WriteFile(P(newline), "1");
  WriteFile(P(bad), "2");
  WriteFile(P(dir + "/with space"), "3");
  WriteFile(P("a/b"), "4");
  WriteFile(P("a.txt"), "5");
  PassSummary s = MustRun(Options());
  EXPECT_EQ(s.counts.added, 5u);
  std::vector<std::string> order;
  for (const auto& e : events_) order.push_back(e.path);
  // Key order: "a/b" before "a.txt"; bytes compare unsigned.
  EXPECT_EQ(order, (std::vector<std::string>{"a/b", "a.txt", bad, dir + "/with space", newline}));
  auto entries = Entries();
  EXPECT_EQ(entries[newline].digest, HashBytes(HashAlgorithm::kXxh3_128, "1"));
  EXPECT_EQ(entries[bad].digest, HashBytes(HashAlgorithm::kXxh3_128, "2"));
  s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.counts.unchanged, 5u);
  EXPECT_TRUE(events_.empty());
}

TEST_F(VerifyPassTest, MaxAgeSkipsRecentlyVerifiedUnchangedFiles) {
  WriteFile(P("stable"), "stable");
  WriteFile(P("grows"), "grows");
  WriteFile(P("quiet"), "quiet");
  int64_t quiet_mtime = MtimeOf(P("quiet"));
  MustRun(Options());

  // Same size and mtime, content altered behind our back: not read within
  // max_age (the documented trade-off of incremental mode).
  WriteFile(P("quiet"), "QUIET");
  SetMtime(P("quiet"), quiet_mtime);
  // Changed in size: read whatever its age.
  WriteFile(P("grows"), "grows bigger");

  PassOptions o = Options(kT0 + kHour);
  o.max_age_ns = kDay;
  PassSummary s = MustRun(o);
  EXPECT_EQ(s.counts.not_read, 2u);
  EXPECT_EQ(s.files_read, 1u);
  EXPECT_EQ(s.counts.modified, 1u);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "grows");
  EXPECT_EQ(s.entries, 3u);
  EntryRecord e;
  VerifyRecord v;
  ASSERT_TRUE(cat_->GetEntry(scope_, "stable", &e, &v).ok());
  EXPECT_EQ(v.last_verified_ns, kT0) << "a skipped entry is not re-stamped";

  // Past max_age everything is read again and the silent change is found.
  o = Options(kT0 + 2 * kDay);
  o.max_age_ns = kDay;
  s = MustRun(o);
  EXPECT_EQ(s.counts.not_read, 0u);
  EXPECT_EQ(s.files_read, 3u);
  EXPECT_EQ(s.counts.modified, 2u);
}

TEST_F(VerifyPassTest, MaxAgeNeverSkipsAProblemEntry) {
  WriteFile(P("f"), "before");
  MustRun(Options());
  WriteFile(P("f"), "after!");  // same size
  MustRun(Options(kT0 + kHour));
  ASSERT_EQ(events_.size(), 1u);
  PassOptions o = Options(kT0 + 2 * kHour);
  o.max_age_ns = kDay;
  PassSummary s = MustRun(o);
  EXPECT_EQ(s.counts.not_read, 0u);
  EXPECT_EQ(s.counts.modified, 1u);
}

TEST_F(VerifyPassTest, AcceptRebaselines) {
  WriteFile(P("changed"), "v1");
  WriteFile(P("deleted"), "d");
  WriteFile(P("kept"), "k");
  MustRun(Options());
  WriteFile(P("changed"), "v2 with more");
  ASSERT_EQ(::unlink(P("deleted").c_str()), 0);

  PassOptions o = Options(kT0 + kHour);
  o.accept = true;
  PassSummary s = MustRun(o);
  EXPECT_EQ(s.counts.modified, 1u);
  EXPECT_EQ(s.counts.missing, 1u);
  ASSERT_EQ(events_.size(), 2u);
  for (const auto& e : events_) EXPECT_TRUE(e.accepted) << e.path;
  auto entries = Entries();
  EXPECT_EQ(entries.count("deleted"), 0u);
  EXPECT_EQ(entries["changed"].digest, HashBytes(HashAlgorithm::kXxh3_128, "v2 with more"));

  s = MustRun(Options(kT0 + 2 * kHour));
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(s.problems(), 0u);
  EXPECT_EQ(s.counts.unchanged, 2u);
  std::vector<std::string> holders;
  ASSERT_TRUE(cat_->ForEachHolder(HashBytes(HashAlgorithm::kXxh3_128, "v1"),
                                  [&](const EntryKey& k) {
                                    holders.push_back(k.path);
                                    return true;
                                  })
                  .ok());
  EXPECT_TRUE(holders.empty()) << "stale hash-index key for the accepted change";
}

TEST_F(VerifyPassTest, MutableMirrorSemantics) {
  WriteFile(P("updated"), "version 1");
  WriteFile(P("rotted"), "original");
  WriteFile(P("touched"), "same");
  int64_t m0 = MtimeOf(P("rotted"));
  PassOptions o = Options();
  o.diff.mutable_set = true;
  MustRun(o);
  EntryRecord before = Entries()["updated"];

  WriteFile(P("updated"), "version 2, longer");
  SetMtime(P("updated"), m0 + 10 * 1'000'000'000LL);
  WriteFile(P("rotted"), "0riginal");  // same size...
  SetMtime(P("rotted"), m0);           // ...same mtime: silent corruption
  SetMtime(P("touched"), m0 + 5 * 1'000'000'000LL);

  o = Options(kT0 + kHour);
  o.diff.mutable_set = true;
  PassSummary s = MustRun(o);
  EXPECT_EQ(s.counts.updated, 1u);
  EXPECT_EQ(s.counts.modified, 1u);
  EXPECT_EQ(s.counts.unchanged, 1u);
  using K = DiffKind;
  EXPECT_EQ(EventKinds(), (std::vector<std::pair<DiffKind, std::string>>{
                              {K::kModified, "rotted"}, {K::kUpdated, "updated"}}));
  auto entries = Entries();
  EXPECT_EQ(entries["updated"].digest, HashBytes(HashAlgorithm::kXxh3_128, "version 2, longer"));
  EXPECT_EQ(entries["updated"].first_seen_ns, before.first_seen_ns);
  EXPECT_EQ(entries["updated"].mtime_ns, m0 + 10 * 1'000'000'000LL);
  EXPECT_EQ(entries["rotted"].digest, HashBytes(HashAlgorithm::kXxh3_128, "original"))
      << "corruption must not become the new baseline";
  EXPECT_EQ(entries["touched"].mtime_ns, m0 + 5 * 1'000'000'000LL);

  // The update is the new reference: a further pass is quiet except for the
  // still-corrupt file.
  o = Options(kT0 + 2 * kHour);
  o.diff.mutable_set = true;
  s = MustRun(o);
  EXPECT_EQ(s.counts.updated, 0u);
  EXPECT_EQ(s.counts.modified, 1u);
}

TEST_F(VerifyPassTest, ImmutableContentChangeWithNewMtimeIsModified) {
  WriteFile(P("f"), "version 1");
  MustRun(Options());
  WriteFile(P("f"), "version 2");
  SetMtime(P("f"), kT0);
  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.counts.modified, 1u);
  EXPECT_EQ(s.counts.updated, 0u);
}

TEST_F(VerifyPassTest, MtimeOnlyChangeIsUnchangedAndRecorded) {
  WriteFile(P("f"), "content");
  MustRun(Options());
  SetMtime(P("f"), kT0 - kDay);
  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.counts.unchanged, 1u);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(Entries()["f"].mtime_ns, kT0 - kDay);
  EXPECT_EQ(Entries()["f"].first_seen_ns, kT0);
}

TEST_F(VerifyPassTest, MissingRootIsAnError) {
  PassOptions o = Options();
  o.root = dir_ / "no-such-dir";
  auto s = Run(o);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsNotFound(s.status())) << s.status();
  WriteFile(dir_ / "a-file", "x");
  o.root = dir_ / "a-file";
  s = Run(o);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Entries().empty());
}

TEST_F(VerifyPassTest, EmptyTreeAfterBaselineReportsEverythingMissing) {
  WriteFile(P("x"), "1");
  WriteFile(P("y/z"), "2");
  MustRun(Options());
  std::filesystem::remove_all(root_);
  std::filesystem::create_directories(root_);
  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.counts.missing, 2u);
  EXPECT_EQ(s.entries, 0u);
}

TEST_F(VerifyPassTest, IdempotentOnAnUnchangedTree) {
  for (int i = 0; i < 300; ++i) {
    WriteFile(P("d" + std::to_string(i % 7) + "/f" + std::to_string(i)), Pattern(i * 37, i));
  }
  ASSERT_EQ(::link(P("d0/f0").c_str(), P("d0/link").c_str()), 0);
  ASSERT_EQ(::symlink("d0/f0", P("sym").c_str()), 0);
  ASSERT_EQ(::mkfifo(P("fifo").c_str(), 0600), 0);
  MustRun(Options());
  auto first = Entries();
  ASSERT_EQ(first.size(), 303u);
  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_TRUE(events_.empty());
  auto second = Entries();
  EXPECT_EQ(first, second);
  s = MustRun(Options(kT0 + 2 * kHour));
  EXPECT_EQ(Entries(), first);
  EXPECT_EQ(s.counts.unchanged, 303u);
}

TEST_F(VerifyPassTest, ThreadCountsAgree) {
  for (int i = 0; i < 200; ++i) WriteFile(P("f" + std::to_string(i)), Pattern(i * 101, i));
  PassOptions o = Options();
  o.threads = 1;
  MustRun(o);
  auto one = Entries();
  // A fresh catalogue for the second run.
  TempDir other;
  auto c = Catalogue::Open(other / "db");
  ASSERT_TRUE(c.ok());
  o.threads = 4;
  auto s = RunVerifyPass(**c, o);
  ASSERT_TRUE(s.ok());
  std::map<std::string, EntryRecord> four;
  auto scan = (*c)->Scan(scope_);
  for (; scan->Valid(); scan->Next()) four[scan->path()] = scan->entry();
  EXPECT_EQ(one, four);
}

TEST_F(VerifyPassTest, SummaryIsStoredAndProgressEnds) {
  WriteFile(P("f"), "x");
  PassOptions o = Options();
  bool saw_done = false;
  o.on_progress = [&](const PassProgress& p) {
    if (p.walk_done) {
      saw_done = true;
      EXPECT_EQ(p.entries_done, 1u);
      EXPECT_EQ(p.bytes_read, 1u);
    }
  };
  MustRun(o);
  EXPECT_TRUE(saw_done);
  std::string v;
  EXPECT_TRUE(cat_->GetMeta(PassSummaryKey(scope_), &v).ok());
  EXPECT_FALSE(v.empty());
  EXPECT_NE(PassSummaryKey(scope_), PassSummaryKey({"tenant", "set", 2}));
}

TEST_F(VerifyPassTest, OtherRestorePointsAreUntouched) {
  WriteFile(P("f"), "x");
  MustRun(Options());
  Scope before = scope_;
  scope_.restore_point = 2;
  WriteFile(P("g"), "y");
  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_TRUE(s.baseline);
  EXPECT_EQ(s.counts.added, 2u);
  auto n = cat_->CountEntries(before);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
}

// --- Where verification times live -----------------------------------------

// Number of keys in the `verified` keyspace (the range record included).
size_t VerifiedKeys(Catalogue& cat) {
  auto it = cat.kv()->NewIterator(Space::kVerified, {});
  size_t n = 0;
  for (it->Seek(""); it->Valid(); it->Next()) ++n;
  return n;
}

std::map<std::string, VerifyRecord> Verifies(Catalogue& cat, const Scope& scope) {
  std::map<std::string, VerifyRecord> out;
  auto s = cat.Scan(scope);
  for (; s->Valid(); s->Next()) out[s->path()] = s->verify();
  return out;
}

TEST_F(VerifyPassTest, FullPassOverUnchangedTreeWritesOneRecordNotOnePerEntry) {
  for (int i = 0; i < 300; ++i) WriteFile(P("d/f" + std::to_string(i)), std::to_string(i));
  MustRun(Options(kT0));
  MustRun(Options(kT0 + kDay));
  // One range record for the restore point, nothing per entry.
  EXPECT_EQ(VerifiedKeys(*cat_), 1u);
  auto v = Verifies(*cat_, scope_);
  ASSERT_EQ(v.size(), 300u);
  for (const auto& [path, rec] : v) {
    EXPECT_EQ(rec.state, EntryState::kOk) << path;
    EXPECT_EQ(rec.last_verified_ns, kT0 + kDay) << path;
  }
  EntryRecord e;
  VerifyRecord one;
  ASSERT_TRUE(cat_->GetEntry(scope_, "d/f7", &e, &one).ok());
  EXPECT_EQ(one.last_verified_ns, kT0 + kDay);
}

TEST_F(VerifyPassTest, ProblemFromTheLastFullPassStandsUntilFixed) {
  WriteFile(P("a"), "good");
  WriteFile(P("b"), "fine");
  MustRun(Options(kT0));
  WriteFile(P("a"), "evil");
  MustRun(Options(kT0 + kDay));
  auto v = Verifies(*cat_, scope_);
  EXPECT_EQ(v["a"].state, EntryState::kModified);
  EXPECT_EQ(v["a"].last_checked_ns, kT0 + kDay);
  EXPECT_EQ(v["a"].last_verified_ns, kT0);  // last good check: the baseline
  EXPECT_EQ(v["b"].state, EntryState::kOk);
  EXPECT_EQ(v["b"].last_verified_ns, kT0 + kDay);

  // Still broken a day later: still reported, newer check time.
  MustRun(Options(kT0 + 2 * kDay));
  v = Verifies(*cat_, scope_);
  EXPECT_EQ(v["a"].state, EntryState::kModified);
  EXPECT_EQ(v["a"].last_checked_ns, kT0 + 2 * kDay);

  // Restored from a good copy: ok again, its own record dropped.
  WriteFile(P("a"), "good");
  PassSummary s = MustRun(Options(kT0 + 3 * kDay));
  EXPECT_EQ(s.problems(), 0u);
  v = Verifies(*cat_, scope_);
  EXPECT_EQ(v["a"].state, EntryState::kOk);
  EXPECT_EQ(v["a"].last_verified_ns, kT0 + 3 * kDay);
  EXPECT_EQ(VerifiedKeys(*cat_), 1u);
}

TEST_F(VerifyPassTest, IncrementalPassRecordsOnlyWhatItReread) {
  WriteFile(P("old"), "o");
  WriteFile(P("grown"), "g");
  MustRun(Options(kT0));
  WriteFile(P("grown"), "grown bigger");
  PassOptions o = Options(kT0 + 2 * kHour);
  o.max_age_ns = kDay;
  PassSummary s = MustRun(o);
  EXPECT_EQ(s.counts.not_read, 1u);
  auto v = Verifies(*cat_, scope_);
  EXPECT_EQ(v["old"].last_verified_ns, kT0);  // skipped: not re-verified
  EXPECT_EQ(v["grown"].state, EntryState::kModified);
  // No range record from an incremental pass: only the problem record.
  EXPECT_EQ(VerifiedKeys(*cat_), 2u);  // range record of the baseline + "grown"
}

// `vigil verify` records the hasher's content sample (storage/
// content_sample.h) with each file, and a record written without one (before
// samples existed) gets it on the next full read, as unchanged.
TEST_F(VerifyPassTest, RecordsCarryTheContentSampleAndOldRecordsGetItUnchanged) {
  std::string text = "%PDF-1.7\n";
  while (text.size() < 20000) text += "the quick brown fox jumps over the lazy dog; ";
  WriteFile(P("report.pdf"), text);
  WriteFile(P("random.bin"), vigil::testing::Bytes(64 << 10, 5));
  MustRun(Options());
  auto entries = Entries();
  EXPECT_EQ(entries["report.pdf"].sample.format, FileFormat::kPdf);
  EXPECT_LE(entries["report.pdf"].sample.entropy, 80);
  EXPECT_EQ(entries["random.bin"].sample.format, FileFormat::kUnknown);
  EXPECT_GE(entries["random.bin"].sample.entropy, 126);
  const auto sampled = entries;

  // As written before samples existed.
  {
    Catalogue::Writer w(cat_.get(), scope_);
    for (const auto& [path, rec] : sampled) {
      EntryRecord old = rec;
      old.sample = ContentSample();
      ASSERT_TRUE(w.PutEntry(path, old, &rec).ok());
    }
    ASSERT_TRUE(w.Commit(true).ok());
  }
  for (const auto& [path, rec] : Entries()) EXPECT_FALSE(rec.sample.sampled()) << path;

  PassSummary s = MustRun(Options(kT0 + kHour));
  EXPECT_EQ(s.counts.unchanged, 2u);
  EXPECT_EQ(s.problems() + s.counts.added + s.counts.updated, 0u);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(Entries(), sampled);  // the samples back, nothing else moved
}

}  // namespace
}  // namespace vigil::storage
