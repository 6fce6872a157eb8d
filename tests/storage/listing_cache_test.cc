// ListingCache and TreeWalker::set_listing_cache: a directory whose ctime
// has not moved since it was listed is not opened nor read again, and
// every change of its names (a file added, removed, renamed, the directory
// replaced) is still seen; a ctime too recent to be trusted is never
// remembered; memory stays within its bound.
#include "storage/listing_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include "storage/tree_walker.h"
#include "tests/services/worker/open_watch.h"
#include "tests/support/temp_dir.h"

namespace vigil::storage {
namespace {

namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& body) {
  std::ofstream(path, std::ios::binary) << body;
}

int64_t CtimeOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
}

int64_t RealNow() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A cache whose clock runs `ahead_ns` in front of the wall clock: the
// directories a test just made count as settled when ahead by more than
// the 2 s the cache waits.
ListingCache::Options Ahead(int64_t ahead_ns, size_t max_bytes = size_t{1} << 20) {
  ListingCache::Options o;
  o.max_bytes = max_bytes;
  o.now_ns = [ahead_ns] { return RealNow() + ahead_ns; };
  return o;
}
constexpr int64_t kTenSeconds = 10'000'000'000;

ListingCache::Names NamesOf(std::vector<std::string> names) {
  auto v = std::make_shared<std::vector<DirName>>();
  ino_t ino = 100;
  for (auto& n : names) v->push_back({std::move(n), DT_REG, ino++});
  return v;
}

TEST(ListingCacheTest, FoundOnlyUnderTheCtimeItWasListedWith) {
  ListingCache cache(Ahead(0));
  EXPECT_EQ(cache.Find({7, 1, 7}, 1000).names, nullptr);
  cache.Put({7, 1, 7}, 1000, {NamesOf({"a", "b"}), 1, 1});
  ListingCache::Listing l = cache.Find({7, 1, 7}, 1000);
  ASSERT_NE(l.names, nullptr);
  EXPECT_EQ(l.names->size(), 2u);
  EXPECT_EQ(l.ino_agrees, 1);
  EXPECT_EQ(cache.Find({7, 1, 7}, 1001).names, nullptr) << "the directory changed since";
  EXPECT_EQ(cache.Find({7, 2, 7}, 1000).names, nullptr) << "another device";
  EXPECT_EQ(cache.Find({8, 1, 7}, 1000).names, nullptr) << "another filesystem (a disk swapped)";
  EXPECT_EQ(cache.Find({7, 1, 8}, 1000).names, nullptr) << "another inode";
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 5u);
}

TEST(ListingCacheTest, ACtimeIsTrustedOnlyOnceSettled) {
  int64_t now = 100'000'000'000;
  ListingCache::Options o;
  o.now_ns = [&now] { return now; };
  ListingCache cache(o);
  EXPECT_FALSE(cache.Settled(now - 1'999'999'999));
  EXPECT_TRUE(cache.Settled(now - 2'000'000'000));
  EXPECT_FALSE(cache.Settled(now + 5)) << "a ctime in the future";
  o.max_bytes = 0;
  ListingCache off(o);
  EXPECT_FALSE(off.Settled(0)) << "a cache of no memory remembers nothing";
  off.Put({7, 1, 1}, 0, {NamesOf({"a"}), 1, 1});
  EXPECT_EQ(off.Find({7, 1, 1}, 0).names, nullptr);
}

TEST(ListingCacheTest, TheSameNamesAreKeptOnce) {
  ListingCache cache(Ahead(0));
  // The same directory in 30 hard-linked dated folders: 30 keys, one
  // listing (each folder's copy read separately, equal in content).
  for (ino_t ino = 1; ino <= 30; ++ino) cache.Put({7, 1, ino}, 5, {NamesOf({"x", "y"}), 1, 1});
  cache.Put({7, 1, 31}, 5, {NamesOf({"x", "z"}), 1, 1});
  ListingCache::Stats s = cache.stats();
  EXPECT_EQ(s.directories, 31u);
  EXPECT_EQ(s.listings, 2u);
  EXPECT_EQ(cache.Find({7, 1, 3}, 5).names, cache.Find({7, 1, 29}, 5).names);
  // A directory listed again after a change: its old listing's share goes.
  cache.Put({7, 1, 31}, 6, {NamesOf({"x", "y"}), 1, 1});
  EXPECT_EQ(cache.stats().listings, 1u);
  EXPECT_EQ(cache.Find({7, 1, 31}, 5).names, nullptr);
  EXPECT_NE(cache.Find({7, 1, 31}, 6).names, nullptr);
}

TEST(ListingCacheTest, MemoryStaysWithinItsBound) {
  std::vector<std::string> big;
  for (int i = 0; i < 100; ++i) big.push_back("a-name-longer-than-sso-" + std::to_string(i));
  auto put = [&](ListingCache& cache, ino_t ino) {
    big[0] = "first-" + std::to_string(ino);  // a listing of its own
    cache.Put({7, 1, ino}, 1, {NamesOf(big), 1, 1});
  };
  ListingCache probe(Ahead(0));
  put(probe, 1);
  const size_t one = probe.stats().bytes;
  ASSERT_GT(one, 100u * 24);

  // Room for three and a half listings.
  const size_t bound = 3 * one + one / 2;
  ListingCache cache(Ahead(0, bound));
  for (ino_t ino = 1; ino <= 3; ++ino) put(cache, ino);
  EXPECT_EQ(cache.stats().listings, 3u);
  // 2 found since: it stays when the fourth passes the bound, 1 and 3 (not
  // found since they were put) go, the fourth (just put) stays.
  ASSERT_NE(cache.Find({7, 1, 2}, 1).names, nullptr);
  put(cache, 4);
  EXPECT_LE(cache.stats().bytes, bound);
  EXPECT_EQ(cache.stats().listings, 2u);
  EXPECT_EQ(cache.Find({7, 1, 1}, 1).names, nullptr);
  EXPECT_EQ(cache.Find({7, 1, 3}, 1).names, nullptr);
  EXPECT_NE(cache.Find({7, 1, 2}, 1).names, nullptr);
  EXPECT_NE(cache.Find({7, 1, 4}, 1).names, nullptr);

  // Everything in use and more than fits (five found in turn, each found
  // again before the next is put): others go until a quarter is free, the
  // newest always stays.
  for (ino_t ino = 5; ino <= 9; ++ino) {
    put(cache, ino);
    for (ino_t i = 1; i <= ino; ++i) cache.Find({7, 1, i}, 1);
    EXPECT_LE(cache.stats().bytes, bound) << ino;
    EXPECT_NE(cache.Find({7, 1, ino}, 1).names, nullptr) << ino;
  }
  EXPECT_GE(cache.stats().listings, 2u);

  // One listing larger than the bound is still taken (and is then alone).
  ListingCache tiny(Ahead(0, one / 2));
  put(tiny, 1);
  put(tiny, 2);
  EXPECT_EQ(tiny.stats().directories, 1u);
  EXPECT_NE(tiny.Find({7, 1, 2}, 1).names, nullptr);
}

// A tree of two points hard-linked as dated folders are: p1/d{0,1}/f{0..4}
// and p2 the same inodes.
class WalkerCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The walker remembers listings only on filesystems whose ctimes and
    // inode numbers are the kernel's (tree_walker.cc): the temporary
    // directory must be on one (a test run on overlayfs or NFS has
    // nothing to show).
    struct statfs fs {};
    ASSERT_EQ(::statfs(tmp_.path().c_str(), &fs), 0);
    switch (static_cast<unsigned long>(fs.f_type)) {
      case 0xEF53UL:      // ext2/3/4
      case 0x58465342UL:  // XFS
      case 0x9123683EUL:  // Btrfs
      case 0x01021994UL:  // tmpfs
        break;
      default:
        GTEST_SKIP() << tmp_.path() << " is on filesystem type " << std::hex << fs.f_type
                     << ", where every directory is read";
    }
    root_ = tmp_.path() + "/root";
    for (int d = 0; d < 2; ++d) {
      fs::create_directories(root_ + "/p1/d" + std::to_string(d));
      fs::create_directories(root_ + "/p2/d" + std::to_string(d));
      for (int f = 0; f < 5; ++f) {
        const std::string rel = "/d" + std::to_string(d) + "/f" + std::to_string(f);
        Write(root_ + "/p1" + rel, "content " + rel);
        fs::create_hard_link(root_ + "/p1" + rel, root_ + "/p2" + rel);
      }
    }
  }

  using Seen = std::map<std::string, std::tuple<uint64_t, ino_t, int>>;  // size, inode, error
  // Walks root_ with `cache`; what it saw, and how many listings it reused.
  Seen Walk(ListingCache* cache, uint64_t* reused = nullptr, bool known = false) {
    auto w = TreeWalker::Open(root_);
    EXPECT_TRUE(w.ok()) << w.status();
    (*w)->set_listing_cache(cache);
    std::map<ino_t, WalkEntry> stated;
    if (known) {
      // Every file already stat'ed in this walk stands for its other names
      // (what the worker does for hard links).
      (*w)->set_known_inode([&](dev_t, ino_t ino, WalkEntry* e) {
        auto it = stated.find(ino);
        if (it == stated.end()) return false;
        e->size = it->second.size;
        e->mtime_ns = it->second.mtime_ns;
        return true;
      });
    }
    Seen seen;
    WalkEntry e;
    while ((*w)->Next(&e)) {
      seen[e.path] = {e.size, e.ino, e.error};
      if (!e.from_known_inode && e.error == 0) stated[e.ino] = e;
    }
    if (reused != nullptr) *reused = (*w)->listings_reused();
    return seen;
  }

  testing::TempDir tmp_;
  std::string root_;
};

TEST_F(WalkerCacheTest, AnUnchangedDirectoryIsNotOpenedAgain) {
  ListingCache cache(Ahead(kTenSeconds));
  const Seen uncached = Walk(nullptr);
  ASSERT_EQ(uncached.size(), 20u);
  uint64_t reused = 0;
  EXPECT_EQ(Walk(&cache, &reused, true), uncached);
  EXPECT_EQ(reused, 0u) << "the first walk reads every directory";
  // p1, p2 and the four d*: the walk's root is always read.
  EXPECT_EQ(cache.stats().directories, 6u);
  EXPECT_EQ(cache.stats().listings, 4u)
      << "p1, p2, and d0 and d1 once each (p2's name the same inodes as p1's)";

  // The second walk: p2's d0 is neither opened nor listed (its files are
  // the inodes p1's d0 just stat'ed).
  testing::OpenWatch watch(root_ + "/p2/d0");
  ASSERT_TRUE(watch.ok());
  Walk(nullptr, nullptr, true);
  ASSERT_TRUE(watch.Opened()) << "without the cache, the watch sees p2/d0 listed";
  ASSERT_NE(watch.what().find(root_ + "/p2/d0 read"), std::string::npos) << watch.what();
  EXPECT_EQ(Walk(&cache, &reused, true), uncached);
  EXPECT_EQ(reused, 6u);
  EXPECT_FALSE(watch.Opened()) << watch.what();
  // Without the inodes known, each directory is opened for the stats of
  // its files, not listed: still the same entries.
  testing::OpenWatch again(root_ + "/p2/d0");
  EXPECT_EQ(Walk(&cache, &reused), uncached);
  EXPECT_EQ(reused, 6u);
  EXPECT_TRUE(again.Opened());
  EXPECT_NE(again.what().find(root_ + "/p2/d0 opened"), std::string::npos) << again.what();
  EXPECT_EQ(again.what().find(root_ + "/p2/d0 read"), std::string::npos) << again.what();
}

TEST_F(WalkerCacheTest, EveryChangeOfADirectorysNamesIsSeen) {
  ListingCache cache(Ahead(kTenSeconds));
  Walk(&cache);
  // The changes below must get another ctime than the one remembered: on
  // a filesystem of coarse timestamps, wait for its clock to move on.
  const int64_t listed = CtimeOf(root_ + "/p2/d1");
  for (int i = 0; i < 2000 && CtimeOf(tmp_.path() + "/probe") <= listed; ++i) {
    Write(tmp_.path() + "/probe", std::to_string(i));
    ::usleep(1000);
  }
  ASSERT_GT(CtimeOf(tmp_.path() + "/probe"), listed) << "the clock did not move in 2 s";
  Seen want;
  // Added, removed, renamed, and a directory replaced by another under its
  // name (a new inode: never the old listing).
  Write(root_ + "/p1/d0/new", "new!");
  fs::remove(root_ + "/p1/d1/f0");
  fs::rename(root_ + "/p2/d0/f1", root_ + "/p2/d0/g1");
  fs::create_directories(root_ + "/other");
  Write(root_ + "/other/only", "1");
  fs::remove_all(root_ + "/p2/d1");
  fs::rename(root_ + "/other", root_ + "/p2/d1");
  want = Walk(nullptr);
  ASSERT_EQ(want.count("p1/d0/new"), 1u);
  ASSERT_EQ(want.count("p2/d1/only"), 1u);
  uint64_t reused = 0;
  EXPECT_EQ(Walk(&cache, &reused, true), want);
  // p1/d0, p1/d1 and p2/d0 changed their names, p2 too (d1 replaced), and
  // p2/d1 is another directory: only p1 (the same d0 and d1) is reused.
  EXPECT_EQ(reused, 1u);
  EXPECT_EQ(Walk(&cache, &reused, true), want);
  EXPECT_EQ(reused, 6u) << "all remembered again";
}

TEST_F(WalkerCacheTest, ARecentCtimeIsNeverRemembered) {
  ListingCache cache(Ahead(0));  // the directories were made just now
  Walk(&cache);
  uint64_t reused = 1;
  Walk(&cache, &reused);
  EXPECT_EQ(reused, 0u);
  EXPECT_EQ(cache.stats().directories, 0u);
}

// The directory whose listing came from memory replaced by another under
// its name during the walk, before anything in it needed a stat: its files
// not yet known count as vanished, never as the other directory's.
TEST_F(WalkerCacheTest, ADirectoryReplacedDuringTheWalkIsNotTakenForIt) {
  ListingCache cache(Ahead(kTenSeconds));
  Walk(&cache, nullptr, true);
  auto w = TreeWalker::Open(root_);
  ASSERT_TRUE(w.ok()) << w.status();
  (*w)->set_listing_cache(&cache);
  std::map<ino_t, uint64_t> sizes;
  bool swapped = false;
  (*w)->set_known_inode([&](dev_t, ino_t ino, WalkEntry* e) {
    if (e->path == "p2/d0/f1" && !swapped) {
      // Now: p2/d0 moved away, a directory of other files in its place.
      fs::rename(root_ + "/p2/d0", root_ + "/p2-old-d0");
      fs::create_directories(root_ + "/p2/d0");
      for (int f = 0; f < 5; ++f) Write(root_ + "/p2/d0/f" + std::to_string(f), "other");
      swapped = true;
    }
    if (e->path == "p2/d0/f3") return false;  // must be stat'ed: its directory opened now
    auto it = sizes.find(ino);
    if (it == sizes.end()) return false;
    e->size = it->second;
    return true;
  });
  Seen seen;
  WalkEntry e;
  while ((*w)->Next(&e)) {
    seen[e.path] = {e.size, e.ino, e.error};
    if (!e.from_known_inode && e.error == 0) sizes[e.ino] = e.size;
  }
  ASSERT_TRUE(swapped);
  EXPECT_GE((*w)->listings_reused(), 2u) << "p2 and p2/d0 from memory";
  EXPECT_EQ(seen.count("p2/d0/f3"), 0u) << "not the other directory's f3";
  for (int f : {0, 1, 2, 4}) {
    const std::string path = "p2/d0/f" + std::to_string(f);
    ASSERT_EQ(seen.count(path), 1u) << path;
    EXPECT_EQ(std::get<0>(seen[path]), std::get<0>(seen["p1/d0/f" + std::to_string(f)]))
        << path << ": the inode p1 shares, as stat'ed there";
  }
}

TEST_F(WalkerCacheTest, ADirectoryReplacedAfterItWasListedIsNotTakenForIt) {
  // A lazily opened directory must still be the one its listing is of.
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/p1/d0").c_str(), &st), 0);
  auto parent =
      std::make_shared<DirHandle>(::open((root_ + "/p1").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(parent->fd(), 0);
  DirHandle same(parent, "d0", st.st_dev, st.st_ino);
  EXPECT_GE(same.fd(), 0);
  DirHandle other(parent, "d1", st.st_dev, st.st_ino);  // d1 is not d0's inode
  EXPECT_EQ(other.fd(), -1);
  EXPECT_EQ(errno, ENOENT);
  fs::create_directory_symlink("d0", root_ + "/p1/link");
  DirHandle link(parent, "link", st.st_dev, st.st_ino);
  EXPECT_EQ(link.fd(), -1) << "a symbolic link is never followed";
  EXPECT_EQ(errno, ENOENT);
  DirHandle gone(parent, "missing", st.st_dev, st.st_ino);
  EXPECT_EQ(gone.fd(), -1);
  EXPECT_EQ(errno, ENOENT);
}

}  // namespace
}  // namespace vigil::storage
