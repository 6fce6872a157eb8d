// TreeWalker's known-inode shortcut (set_known_inode): a regular file whose
// directory entry names an inode the caller already stat'ed is filled from
// the caller instead of a stat of its own; the first regular file of each
// directory is always stat'ed (it checks that readdir's inode numbers are
// stat's), and directories, symbolic links and files of unknown inodes are
// stat'ed as always.
#include "storage/tree_walker.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil::storage {
namespace {

void Write(const std::string& path, const std::string& body) {
  std::ofstream(path, std::ios::binary) << body;
}

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

int64_t CtimeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
}

TEST(TreeWalkerKnownInodeTest, AKnownHardLinkIsFilledFromTheCallerNotStated) {
  testing::TempDir tmp;
  const std::string root = tmp.path() + "/root";
  std::filesystem::create_directories(root + "/d");
  Write(root + "/d/a", "first");  // the directory's first file: always stat'ed
  Write(root + "/d/b", "twelve bytes");
  std::filesystem::create_hard_link(root + "/d/b", root + "/d/c");
  std::filesystem::create_symlink("b", root + "/d/l");
  std::filesystem::create_directories(root + "/d/sub");
  Write(root + "/d/sub/x", "x");
  const ino_t b = InodeOf(root + "/d/b");

  auto w = TreeWalker::Open(root);
  ASSERT_TRUE(w.ok()) << w.status();
  std::map<std::string, int> asked;  // path -> calls
  (*w)->set_known_inode([&](dev_t, ino_t ino, WalkEntry* e) {
    ++asked[e->path];
    if (ino != b) return false;
    e->size = 777;  // not what stat says: proves no stat replaced it
    e->mtime_ns = 42;
    e->nlink = 2;
    return true;
  });
  std::map<std::string, WalkEntry> seen;
  WalkEntry e;
  while ((*w)->Next(&e)) seen[e.path] = e;
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen["d/a"].size, 5u) << "the first file is stat'ed";
  EXPECT_EQ(asked.count("d/a"), 0u);
  EXPECT_EQ(seen["d/b"].size, 777u);
  EXPECT_EQ(seen["d/b"].mtime_ns, 42);
  EXPECT_EQ(seen["d/b"].ino, b);
  EXPECT_EQ(seen["d/b"].name, "b");
  EXPECT_EQ(seen["d/b"].type, EntryType::kFile);
  EXPECT_EQ(seen["d/c"].size, 777u) << "the other name of the same inode";
  EXPECT_EQ(seen["d/l"].type, EntryType::kSymlink) << "links are never asked";
  EXPECT_EQ(seen["d/l"].link_target, "b");
  EXPECT_EQ(asked.count("d/l"), 0u);
  // In sub/, x is the first file: stat'ed, not asked.
  EXPECT_EQ(seen["d/sub/x"].size, 1u);
  EXPECT_EQ(asked.count("d/sub/x"), 0u);
}

TEST(TreeWalkerKnownInodeTest, AnUnknownInodeIsStatedAsAlways) {
  testing::TempDir tmp;
  const std::string root = tmp.path() + "/root";
  std::filesystem::create_directories(root);
  Write(root + "/a", "1");
  Write(root + "/b", "22");
  Write(root + "/c", "333");
  auto w = TreeWalker::Open(root);
  ASSERT_TRUE(w.ok()) << w.status();
  int asked = 0;
  (*w)->set_known_inode([&](dev_t, ino_t, WalkEntry*) {
    ++asked;
    return false;
  });
  std::map<std::string, uint64_t> sizes;
  WalkEntry e;
  while ((*w)->Next(&e)) sizes[e.path] = e.size;
  EXPECT_EQ(sizes, (std::map<std::string, uint64_t>{{"a", 1}, {"b", 2}, {"c", 3}}));
  EXPECT_EQ(asked, 2) << "b and c asked, a (the first) stat'ed";
}

// A stat'ed entry carries its inode's change time: what tells a file
// read earlier in a check from a new file that got its inode number (the
// worker reuses a digest only while size, mtime and ctime are the same).
TEST(TreeWalkerTest, AnEntryCarriesItsInodesChangeTime) {
  testing::TempDir tmp;
  const std::string root = tmp.path() + "/root";
  std::filesystem::create_directories(root + "/d");
  Write(root + "/d/a", "a");
  std::filesystem::create_symlink("a", root + "/d/l");
  auto walk = [&] {
    std::map<std::string, int64_t> ctimes;
    auto w = TreeWalker::Open(root);
    EXPECT_TRUE(w.ok()) << w.status();
    WalkEntry e;
    while ((*w)->Next(&e)) ctimes[e.path] = e.ctime_ns;
    return ctimes;
  };
  std::map<std::string, int64_t> want = {{"d/a", CtimeOf(root + "/d/a")},
                                         {"d/l", CtimeOf(root + "/d/l")}};
  EXPECT_EQ(walk(), want);
  EXPECT_NE(want["d/a"], 0);
  // A change of the inode alone (a chmod: size and mtime stay) moves it.
  for (int i = 0; i < 1000 && CtimeOf(root + "/d/a") == want["d/a"]; ++i) {
    ASSERT_EQ(::chmod((root + "/d/a").c_str(), i % 2 == 0 ? 0600 : 0644), 0);
    ::usleep(1000);
  }
  ASSERT_NE(CtimeOf(root + "/d/a"), want["d/a"]) << "the clock did not move in one second";
  want["d/a"] = CtimeOf(root + "/d/a");
  EXPECT_EQ(walk(), want);
}

}  // namespace
}  // namespace vigil::storage
