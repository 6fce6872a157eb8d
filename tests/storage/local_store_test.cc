// storage::LocalStore (the Store over a local directory) and the readers
// over any Store, each against its descriptor-based twin on the same tree:
// StoreWalker against TreeWalker (every field both give, in the same
// order), FileHasher::ReadStore against FileHasher::Read (both digests and
// the content sample).
#include "storage/local_store.h"

#include <gtest/gtest.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "storage/file_hasher.h"
#include "storage/store_walker.h"
#include "storage/tree_walker.h"
#include "tests/storage/test_util.h"
#include "tests/support/random_bytes.h"

namespace vigil::storage {
namespace {

using testing::TempDir;
using testing::WriteFile;

std::unique_ptr<LocalStore> OpenStore(const std::string& root) {
  auto s = LocalStore::Open(root);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

std::map<std::string, StoreEntry> ListAll(Store& s, std::string_view dir, Status* status) {
  std::map<std::string, StoreEntry> out;
  *status = s.List(dir, [&](StoreEntry&& e) {
    std::string name = e.name;
    out.emplace(name, std::move(e));
    return true;
  });
  return out;
}

TEST(LocalStore, ListsChildrenWithTypeSizeMtimeAndLinkTargets) {
  TempDir tmp;
  WriteFile(tmp / "d/a.txt", "hello");
  std::filesystem::create_directories(tmp / "d/sub");
  ASSERT_EQ(::symlink("/etc/passwd", (tmp / "d/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((tmp / "d/fifo").c_str(), 0600), 0);
  testing::SetMtime(tmp / "d/a.txt", 1'700'000'000'123'456'789);
  auto store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  Status st;
  auto got = ListAll(*store, "d", &st);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got["a.txt"].type, StoreEntryType::kFile);
  EXPECT_EQ(got["a.txt"].size, 5u);
  EXPECT_EQ(got["a.txt"].mtime_ns, 1'700'000'000'123'456'789);
  EXPECT_EQ(got["sub"].type, StoreEntryType::kDirectory);
  EXPECT_EQ(got["link"].type, StoreEntryType::kSymlink);
  EXPECT_EQ(got["link"].link_target, "/etc/passwd");
  EXPECT_EQ(got["fifo"].type, StoreEntryType::kOther);
  EXPECT_EQ(store->counters().requests.load(), 1u);
  // The root lists too, and an empty directory lists nothing.
  got = ListAll(*store, "", &st);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(got.size(), 1u);
  EXPECT_TRUE(ListAll(*store, "d/sub", &st).empty());
  EXPECT_TRUE(st.ok()) << st;
}

TEST(LocalStore, ListStopsWhenAsked) {
  TempDir tmp;
  for (int i = 0; i < 50; ++i) WriteFile(tmp / ("d/f" + std::to_string(i)), "x");
  auto store = OpenStore(tmp.path());
  int seen = 0;
  ASSERT_TRUE(store->List("d", [&](StoreEntry&&) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
}

TEST(LocalStore, ListErrorsFollowTheStoreConventions) {
  TempDir tmp;
  WriteFile(tmp / "file", "x");
  std::filesystem::create_directories(tmp / "real/inner");
  ASSERT_EQ(::symlink("real", (tmp / "alias").c_str()), 0);
  auto store = OpenStore(tmp.path());
  auto nothing = [](StoreEntry&&) { return true; };
  Status s = store->List("missing", nothing);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find(tmp.path()), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("missing"), std::string_view::npos) << s;
  s = store->List("file", nothing);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  // A link in the path is refused, naming it: never followed.
  s = store->List("alias/inner", nothing);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("'alias' is a symbolic link"), std::string_view::npos) << s;
  s = store->List("../etc", nothing);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::IsNotFound(LocalStore::Open(tmp / "none").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(LocalStore::Open(tmp / "file").status()));
}

TEST(LocalStore, StatsPathsWithoutFollowingLinks) {
  TempDir tmp;
  WriteFile(tmp / "a/b/c.bin", "12345678");
  ASSERT_EQ(::symlink("b", (tmp / "a/lb").c_str()), 0);
  auto store = OpenStore(tmp.path());
  auto root = store->Stat("");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->type, StoreEntryType::kDirectory);
  auto c = store->Stat("a/b/c.bin");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "a/b/c.bin");
  EXPECT_EQ(c->type, StoreEntryType::kFile);
  EXPECT_EQ(c->size, 8u);
  EXPECT_EQ(c->mtime_ns, testing::MtimeOf(tmp / "a/b/c.bin"));
  auto lb = store->Stat("a/lb");
  ASSERT_TRUE(lb.ok()) << lb.status();
  EXPECT_EQ(lb->type, StoreEntryType::kSymlink);
  EXPECT_EQ(lb->link_target, "b");
  EXPECT_TRUE(absl::IsInvalidArgument(store->Stat("a/lb/c.bin").status()));
  EXPECT_TRUE(absl::IsNotFound(store->Stat("a/none").status()));
  EXPECT_TRUE(absl::IsNotFound(store->Stat("a/b/c.bin/x").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store->Stat("a//b").status()));
}

TEST(LocalStore, ReadsRangesAndCountsBytesAndRequests) {
  TempDir tmp;
  WriteFile(tmp / "f", "0123456789");
  std::filesystem::create_directories(tmp / "dir");
  ASSERT_EQ(::symlink("f", (tmp / "lf").c_str()), 0);
  auto store = OpenStore(tmp.path());
  char buf[16];
  auto n = store->ReadAt("f", 0, buf, 4);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(std::string(buf, *n), "0123");
  n = store->ReadAt("f", 4, buf, sizeof buf);  // short only at the end
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(std::string(buf, *n), "456789");
  n = store->ReadAt("f", 10, buf, sizeof buf);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(store->counters().requests.load(), 3u);
  EXPECT_EQ(store->counters().bytes_read.load(), 10u);
  EXPECT_EQ(store->counters().retries.load(), 0u);
  EXPECT_TRUE(absl::IsFailedPrecondition(store->ReadAt("dir", 0, buf, 1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store->ReadAt("lf", 0, buf, 1).status()));
  EXPECT_TRUE(absl::IsNotFound(store->ReadAt("none", 0, buf, 1).status()));
  // A file replaced since: a read from its start sees the new one.
  WriteFile(tmp / "f.new", "abcdefghij");
  ASSERT_EQ(::rename((tmp / "f.new").c_str(), (tmp / "f").c_str()), 0);
  n = store->ReadAt("f", 0, buf, 3);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(std::string(buf, *n), "abc");
}

// --- StoreWalker against TreeWalker ---------------------------------------

// Makes the filesystem checks of this thread those of `nobody` while it
// lives (root reads every directory; CI runs as root): setfsuid drops the
// DAC override capabilities from the thread's effective set.
class AsNobody {
 public:
  AsNobody() {
    if (::geteuid() == 0) {
      ::setfsuid(65534);
      active_ = true;
    }
  }
  ~AsNobody() {
    if (active_) ::setfsuid(0);
  }

 private:
  bool active_ = false;
};

std::vector<WalkEntry> Walk(TreeWalker& w) {
  std::vector<WalkEntry> out;
  for (WalkEntry e; w.Next(&e);) out.push_back(e);
  return out;
}
std::vector<WalkEntry> Walk(StoreWalker& w) {
  std::vector<WalkEntry> out;
  for (WalkEntry e; w.Next(&e);) out.push_back(e);
  return out;
}

void ExpectSameWalk(const std::vector<WalkEntry>& tree, const std::vector<WalkEntry>& store) {
  ASSERT_EQ(tree.size(), store.size());
  for (size_t i = 0; i < tree.size(); ++i) {
    const WalkEntry& a = tree[i];
    const WalkEntry& b = store[i];
    SCOPED_TRACE("entry " + std::to_string(i) + " " + a.path);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.is_directory, b.is_directory);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.mtime_ns, b.mtime_ns);
    EXPECT_EQ(a.link_target, b.link_target);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.error_text, b.error_text);
    EXPECT_FALSE(b.stat_pending);
    EXPECT_EQ(b.dir, nullptr);
    EXPECT_EQ(b.dev, 0u);
    EXPECT_EQ(b.ino, 0u);
    EXPECT_EQ(b.nlink, 0u);
  }
}

class StoreWalkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Odd byte names: a high byte (sorts after ASCII as unsigned bytes,
    // before it as signed char), a newline, a space, upper before lower.
    const std::string root = tmp_ / "t";
    WriteFile(root + "/top/a.txt", "alpha");
    WriteFile(root + "/top/B.txt", "beta");
    WriteFile(root + "/top/\xff\xfe.bin", std::string(3000, 'z'));
    WriteFile(root +
                  "/top/\x80"
                  "x",
              "high");
    WriteFile(root + "/top/new\nline", "nl");
    WriteFile(root + "/top/with space/deep/deeper/leaf", "leaf");
    WriteFile(root + "/top/with space/z", "");
    WriteFile(root + "/top/a/inner", "inner");  // a dir "a" beside "a.txt"
    WriteFile(root + "/top/a-b", "dash");       // '-' sorts before '.' and '/'
    std::filesystem::create_directories(root + "/top/empty");
    std::filesystem::create_directories(root + "/top/empty2/nested-empty");
    WriteFile(root + "/top/locked/secret", "s");
    ASSERT_EQ(::symlink("a.txt", (root + "/top/link-file").c_str()), 0);
    ASSERT_EQ(::symlink("with space", (root + "/top/link-dir").c_str()), 0);
    ASSERT_EQ(::symlink("/nonexistent/target", (root + "/top/dangling").c_str()), 0);
    ASSERT_EQ(::mkfifo((root + "/top/fifo").c_str(), 0644), 0);
    ASSERT_EQ(::link((root + "/top/a.txt").c_str(), (root + "/top/hard").c_str()), 0);
    testing::SetMtime(root + "/top/a.txt", 1'600'000'000'000'000'001);
    // Readable by anyone but `locked` (AsNobody reads as nobody).
    std::filesystem::permissions(tmp_.path(), std::filesystem::perms(0755));
    for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (e.is_symlink()) continue;
      std::filesystem::permissions(
          e.path(), e.is_directory() ? std::filesystem::perms(0755) : std::filesystem::perms(0644));
    }
    std::filesystem::permissions(root, std::filesystem::perms(0755));
    ASSERT_EQ(::chmod((root + "/top/locked").c_str(), 0), 0);
  }

  TempDir tmp_;
};

TEST_F(StoreWalkerTest, YieldsTheSameSequenceAsTreeWalker) {
  const std::string root = tmp_ / "t";
  AsNobody nobody;
  for (const std::string sub : {"", "top", "top/with space"}) {
    SCOPED_TRACE("walk of '" + sub + "'");
    auto tree = TreeWalker::Open(sub.empty() ? root : root + "/" + sub);
    ASSERT_TRUE(tree.ok()) << tree.status();
    auto store = OpenStore(root);
    auto walker = StoreWalker::Open(*store, sub, "shown");
    ASSERT_TRUE(walker.ok()) << walker.status();
    std::vector<WalkEntry> a = Walk(**tree);
    std::vector<WalkEntry> b = Walk(**walker);
    ExpectSameWalk(a, b);
    EXPECT_EQ((*tree)->directories(), (*walker)->directories());
    if (sub == "top") {
      // What the tree holds, so the comparison above is not of two empty
      // walks: every kind of entry, the unreadable directory among them.
      std::map<std::string, const WalkEntry*> by_path;
      for (const WalkEntry& e : b) by_path[e.path] = &e;
      ASSERT_TRUE(by_path.count("a.txt"));
      ASSERT_TRUE(by_path.count("locked"));
      EXPECT_TRUE(by_path["locked"]->is_directory);
      EXPECT_EQ(by_path["locked"]->error, EACCES);
      EXPECT_EQ(by_path["link-dir"]->type, EntryType::kSymlink);
      EXPECT_EQ(by_path["fifo"]->type, EntryType::kOther);
      EXPECT_EQ(by_path["with space/deep/deeper/leaf"]->size, 4u);
      EXPECT_EQ(by_path["a.txt"]->mtime_ns, 1'600'000'000'000'000'001);
      EXPECT_EQ(b.back().path, "\xff\xfe.bin");
    }
  }
}

TEST_F(StoreWalkerTest, OpenFailsOnAMissingRootNamingIt) {
  auto store = OpenStore(tmp_ / "t");
  auto w = StoreWalker::Open(*store, "top/none", "s3://b/top/none");
  EXPECT_TRUE(absl::IsNotFound(w.status())) << w.status();
  EXPECT_NE(w.status().message().find("s3://b/top/none"), std::string_view::npos);
}

// --- ReadStore against Read -------------------------------------------------

TEST(FileHasherReadStore, GivesTheDigestsAndSampleOfRead) {
  TempDir tmp;
  const std::map<std::string, size_t> sizes = {
      {"empty", 0}, {"one", 1}, {"mib", 1 << 20}, {"big", (3 << 20) + 7}, {"odd", 5000}};
  uint64_t seed = 1;
  for (const auto& [name, size] : sizes) {
    WriteFile(tmp / name, vigil::testing::Bytes(size, seed++));
  }
  WriteFile(tmp / "pdf", "%PDF-1.7 " + std::string(4000, 'a'));
  auto store = OpenStore(tmp.path());
  FileHasher local(HashAlgorithm::kXxh3_128, HashAlgorithm::kSha256);
  FileHasher remote(HashAlgorithm::kXxh3_128, HashAlgorithm::kSha256);
  for (const char* name : {"empty", "one", "mib", "big", "odd", "pdf"}) {
    SCOPED_TRACE(name);
    const uint64_t size = std::filesystem::file_size(tmp / name);
    FileReading a = local.Read(AT_FDCWD, (tmp / name).c_str(), size);
    const uint64_t before = store->counters().requests.load();
    FileReading b = remote.ReadStore(*store, name, size);
    ASSERT_TRUE(a.ok);
    ASSERT_TRUE(b.ok) << b.error_text;
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.digest, b.digest);
    EXPECT_EQ(a.also_digest, b.also_digest);
    EXPECT_FALSE(b.also_digest.empty());
    EXPECT_EQ(a.sample, b.sample);
    EXPECT_TRUE(b.has_stat);
    EXPECT_EQ(b.size, size);
    EXPECT_EQ(b.ino, 0u);
    // Reads of the buffer's size, none past the listed size.
    const uint64_t reads = store->counters().requests.load() - before;
    EXPECT_EQ(reads, size == 0 ? 1u : (size + (1 << 20) - 1) >> 20);
  }
  // The samples differ between files: the comparison is not of defaults.
  EXPECT_EQ(local.Read(AT_FDCWD, (tmp / "pdf").c_str(), 0).sample.format, FileFormat::kPdf);
}

TEST(FileHasherReadStore, ReadsToTheEndWhenTheListedSizeIsWrongAndReportsErrors) {
  TempDir tmp;
  WriteFile(tmp / "f", vigil::testing::Bytes(10'000, 9));
  auto store = OpenStore(tmp.path());
  FileHasher h(HashAlgorithm::kSha256, 4096);
  FileReading want = h.Read(AT_FDCWD, (tmp / "f").c_str(), 10'000);
  // Listed 0 (unknown): read to the end; listed larger (shrunk since):
  // read to the end, what was there.
  for (uint64_t listed : {uint64_t{0}, uint64_t{20'000}}) {
    FileReading r = h.ReadStore(*store, "f", listed);
    ASSERT_TRUE(r.ok) << r.error_text;
    EXPECT_EQ(r.bytes, 10'000u);
    EXPECT_EQ(r.digest, want.digest);
  }
  FileReading gone = h.ReadStore(*store, "none", 5);
  EXPECT_FALSE(gone.ok);
  EXPECT_EQ(gone.error, ENOENT);
  EXPECT_NE(gone.error_text.find("none"), std::string::npos) << gone.error_text;
}

}  // namespace
}  // namespace vigil::storage
