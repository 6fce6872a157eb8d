// A large listing (issue 18, item 6: pagination, memory): the S3 store
// against the loopback S3 server (tests/support/s3_server.h, which pages at
// 1,000 keys) and the SFTP store against a loopback sshd
// (tests/support/sshd_server.h; OpenSSH answers READDIR 100 names at a
// time), each through storage::Store::List (one flat directory) and through
// storage::StoreWalker (directories of 1,000 keys). Each test checks that
// every key is seen exactly once, in the order the seam promises, and that
// the client's memory stays bounded while it lists.
//
// Size: Keys() = 20,000 in the test command; VIGIL_LISTING_KEYS=100000 runs
// the 100,000 (bench/remote/run --listing does; docs/BENCHMARKS.md
// has the figures). 100,000 does not fit a test's budget on the shared
// machine: creating 200,000 files takes 40-100 s there, and the S3 server
// re-reads (stats) its whole directory up to the continuation point for
// every page, so a flat listing costs it O(keys^2 / 1000) stats.
//
// Memory is the process's peak RSS growth: after a warm-up listing (the
// connection and its buffers exist before), the peak is reset
// (/proc/self/clear_refs "5", proc(5)), and VmHWM after the listing minus
// VmRSS before it is what the listing cost at its worst. Every test is its
// own process under ctest (gtest_discover_tests) and the servers are other
// processes, so this measures the client alone. The bound, Bound(): a
// third of Keys() * sizeof(StoreEntry), the least that holding the whole
// listing would cost (152 bytes an entry here, before any heap string):
// 0.97 MiB for 20,000 keys, 4.8 MiB for 100,000. A page needs far less: 1,000
// entries of 152 bytes plus their ETags is ~200 KiB. So a store (or a
// walker) that kept the whole listing fails, and one that keeps a page
// passes. Checked failing: with S3Store::List keeping every page's parsed
// listing until it returns, the S3 List test measured 3.4 MiB (20,000 keys)
// and failed.
//
// The walker holds one sorted directory per level of the current path
// (store_walker.h), so its bound holds for a tree of small directories, not
// for one flat directory: that holds all its entries by design.
//
// Seeding: the S3 server keeps each object as files in its directory
// (S3Server::WriteObjectOnDisk writes that layout directly, much faster than
// a PUT each); the SFTP trees are files in a temporary directory.
//
// Label integration. Thread safety: single-threaded tests.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "services/worker/remote/s3_store.h"
#include "services/worker/remote/sftp_store.h"
#include "storage/store.h"
#include "storage/store_walker.h"
#include "tests/support/s3_server.h"
#include "tests/support/sshd_server.h"
#include "tests/support/temp_dir.h"

namespace vigil::worker::remote {
namespace {

using storage::StoreEntry;
using storage::StoreEntryType;
using storage::StoreWalker;
using storage::WalkEntry;
using testing::S3Server;
using testing::SshdServer;
using testing::TempDir;

// How many keys: VIGIL_LISTING_KEYS (a multiple of 1,000), else 20,000.
int Keys() {
  static const int n = [] {
    const char* v = std::getenv("VIGIL_LISTING_KEYS");
    const int k = v != nullptr ? std::atoi(v) : 0;
    return k >= 1000 && k % 1000 == 0 ? k : 20000;
  }();
  return n;
}
constexpr int kPerDir = 1000;  // the trees: Keys() / kPerDir directories of 1,000
int Dirs() { return Keys() / kPerDir; }
// The most a listing may grow the peak RSS (see the header).
int64_t Bound() { return static_cast<int64_t>(Keys()) * sizeof(StoreEntry) / 3; }

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"); -1 if absent.
int64_t StatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      int64_t kb = -1;
      if (std::sscanf(line.c_str() + field.size() + 1, "%" SCNd64, &kb) != 1) return -1;
      return kb * 1024;
    }
  }
  return -1;
}

// Measures the peak RSS growth of what runs between Start() and Growth().
class PeakRss {
 public:
  PeakRss() {
    // "5" resets VmHWM to the current RSS (proc(5), Linux >= 4.0).
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    reset_ = clear.good();
    base_ = StatusBytes("VmRSS");
  }
  bool ok() const { return reset_ && base_ > 0; }
  int64_t Growth() const { return StatusBytes("VmHWM") - base_; }

 private:
  bool reset_ = false;
  int64_t base_ = 0;
};

std::string Key(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "k%06d", i);
  return b;
}

// The tree's files in walk order: d000/k000000 ... d019/k019999 (fixed
// widths, so name order is number order).
std::string TreePath(int i) {
  char b[32];
  std::snprintf(b, sizeof b, "d%03d/%s", i / kPerDir, Key(i).c_str());
  return b;
}

storage::RetryPolicy Policy() {
  storage::RetryPolicy p;
  p.attempts = 3;
  p.first_backoff = std::chrono::milliseconds(20);
  p.max_backoff = std::chrono::milliseconds(100);
  p.timeout = std::chrono::milliseconds(30000);
  return p;
}

// Walks the whole store from its root; checks the files come exactly as
// TreePath(0..Keys()-1) (the walker yields files, not directories) and that
// it listed the root and the kDirs directories. Returns the files seen.
int WalkAndCheck(storage::Store& store) {
  auto walker = StoreWalker::Open(store, "", store.Describe());
  EXPECT_TRUE(walker.ok()) << walker.status();
  if (!walker.ok()) return 0;
  WalkEntry e;
  int files = 0;
  int wrong = 0;
  while ((*walker)->Next(&e)) {
    if (files >= Keys() || e.path != TreePath(files) || e.is_directory || e.error != 0) {
      if (++wrong < 5) ADD_FAILURE() << "file " << files << ": " << e.path << " " << e.error_text;
    }
    ++files;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ((*walker)->directories(), static_cast<uint64_t>(Dirs() + 1));
  return files;
}

// Walks `store` (its d000 listed once first: the connection and its
// buffers exist before the meter starts) under the peak-RSS meter: every
// file once in catalogue order, and the growth within Bound(). `what` names
// the store in the output.
void WalkMeasured(storage::Store& store, const std::string& what) {
  ASSERT_TRUE(store.List("d000", [](StoreEntry&&) { return false; }).ok());
  PeakRss rss;
  ASSERT_TRUE(rss.ok()) << "cannot reset the peak RSS through /proc/self/clear_refs";
  EXPECT_EQ(WalkAndCheck(store), Keys());
  const int64_t growth = rss.Growth();
  EXPECT_LE(growth, Bound()) << "peak RSS grew by " << growth << " bytes walking " << Keys()
                             << " keys";
  std::printf("%s walk of %d keys: peak RSS growth %" PRId64 " KiB, %" PRIu64 " requests\n",
              what.c_str(), Keys(), growth / 1024, store.counters().requests.load());
}

class S3ListingScaleTest : public ::testing::Test {
 protected:
  S3ListingScaleTest() : server_({"bkt"}) {}

  std::unique_ptr<storage::Store> Open(const std::string& prefix, std::atomic<size_t>* peak_page) {
    auto s = OpenS3StoreForTest(server_.Config("bkt", prefix), S3Server::Credentials(), Policy(),
                                S3StoreOptionsForTest{1000, peak_page});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  S3Server server_;
};

TEST_F(S3ListingScaleTest, ListsAFlatPrefixInKeyOrderAPageAtATimeInBoundedMemory) {
  for (int i = 0; i < Keys(); ++i) {
    server_.WriteObjectOnDisk("bkt", "flat/" + Key(i), std::to_string(i));
  }
  std::atomic<size_t> peak_page{0};
  server_.WriteObjectOnDisk("bkt", "warm/x", "x");
  auto store = Open("", &peak_page);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->List("warm", [](StoreEntry&&) { return true; }).ok());
  const uint64_t warm_requests = store->counters().requests.load();

  PeakRss rss;
  ASSERT_TRUE(rss.ok()) << "cannot reset the peak RSS through /proc/self/clear_refs";
  int seen = 0;
  int wrong = 0;
  const auto s = store->List("flat", [&](StoreEntry&& e) {
    // S3 lists in key order: the i-th child is Key(i), each exactly once.
    if (seen >= Keys() || e.name != Key(seen) || e.type != StoreEntryType::kFile ||
        e.size != std::to_string(seen).size()) {
      if (++wrong < 5) ADD_FAILURE() << "child " << seen << ": " << e.name;
    }
    ++seen;
    return true;
  });
  const int64_t growth = rss.Growth();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, Keys());
  EXPECT_EQ(wrong, 0);
  // One ListObjectsV2 per 1,000 keys, never more than one page held.
  EXPECT_EQ(store->counters().requests.load() - warm_requests,
            static_cast<uint64_t>(Keys() / 1000));
  EXPECT_EQ(peak_page.load(), 1000u);
  EXPECT_LE(growth, Bound()) << "peak RSS grew by " << growth << " bytes listing " << Keys()
                             << " keys";
  std::printf("S3 List of %d keys: peak RSS growth %" PRId64 " KiB, %" PRIu64 " requests\n", Keys(),
              growth / 1024, store->counters().requests.load());
}

TEST_F(S3ListingScaleTest, WalksThousandKeyDirectoriesInCatalogueOrderInBoundedMemory) {
  for (int i = 0; i < Keys(); ++i) {
    server_.WriteObjectOnDisk("bkt", "tree/" + TreePath(i), "x");
  }
  std::atomic<size_t> peak_page{0};
  auto store = Open("tree", &peak_page);
  ASSERT_NE(store, nullptr);
  WalkMeasured(*store, "S3");
  // The root (one page of prefixes) and each directory (1,000 keys: one
  // page): never more than one page held.
  EXPECT_LE(peak_page.load(), 1000u);
}

class SftpListingScaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    sshd_ = SshdServer::Start(&error);
    ASSERT_NE(sshd_, nullptr) << error;
  }
  std::unique_ptr<storage::Store> Open(const std::string& root) {
    SftpConfig c;
    c.host = "127.0.0.1";
    c.port = sshd_->port();
    c.user = sshd_->user();
    c.host_key = sshd_->host_key();
    c.path = root;
    auto s = OpenSftpStore(c, SshCredentials{sshd_->user_key_file()}, Policy());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // An empty file at `path` (its directory exists).
  static void Touch(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fclose(f);
  }

  std::unique_ptr<SshdServer> sshd_;
  TempDir data_;
};

TEST_F(SftpListingScaleTest, ListsAFlatDirectoryEachNameOnceInBoundedMemory) {
  const std::string root = data_.path() + "/flat";
  std::filesystem::create_directory(root);
  for (int i = 0; i < Keys(); ++i) Touch(root + "/" + Key(i));
  auto store = Open(root);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->List("", [](StoreEntry&&) { return false; }).ok());  // warm-up

  PeakRss rss;
  ASSERT_TRUE(rss.ok()) << "cannot reset the peak RSS through /proc/self/clear_refs";
  // SFTP promises no order (the server's readdir order): each name once.
  std::vector<bool> seen(Keys(), false);
  int count = 0;
  int wrong = 0;
  const auto s = store->List("", [&](StoreEntry&& e) {
    ++count;
    int i = -1;
    if (e.name.size() == 7 && e.name[0] == 'k' && std::sscanf(e.name.c_str() + 1, "%d", &i) == 1 &&
        i >= 0 && i < Keys() && !seen[i] && e.type == StoreEntryType::kFile) {
      seen[i] = true;
    } else if (++wrong < 5) {
      ADD_FAILURE() << "unexpected or repeated child: " << e.name;
    }
    return true;
  });
  const int64_t growth = rss.Growth();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(count, Keys());
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(growth, Bound()) << "peak RSS grew by " << growth << " bytes listing " << Keys()
                             << " files";
  std::printf("SFTP List of %d files: peak RSS growth %" PRId64 " KiB, %" PRIu64 " requests\n",
              Keys(), growth / 1024, store->counters().requests.load());
}

TEST_F(SftpListingScaleTest, WalksThousandFileDirectoriesInCatalogueOrderInBoundedMemory) {
  const std::string root = data_.path() + "/tree";
  for (int d = 0; d < Dirs(); ++d) {
    std::filesystem::create_directories(root + "/" + TreePath(d * kPerDir).substr(0, 4));
  }
  for (int i = 0; i < Keys(); ++i) Touch(root + "/" + TreePath(i));
  auto store = Open(root);
  ASSERT_NE(store, nullptr);
  WalkMeasured(*store, "SFTP");
}

}  // namespace
}  // namespace vigil::worker::remote
