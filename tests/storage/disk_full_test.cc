// A full disk under a real RocksDB store: the database lives on a small
// tmpfs, a filler file takes the rest of it, writes go on until RocksDB
// refuses them, then the filler is deleted. Checked: nothing aborts (RocksDB
// 7.8's file logger and SyncWAL() assert after a failed write), writes and
// syncs are refused with "database writes failing (no space)" while the disk
// is full, reads keep working, the store resumes by itself once space is
// back, and every acknowledged write is there, before and after a reopen.
// Needs to mount a tmpfs (root, as CI runs); skipped with the reason
// otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/kv.h"
#include "storage/rocks_kv.h"
#include "tests/storage/test_util.h"
#include "tests/support/wait.h"

namespace vigil::storage {
namespace {

// A tmpfs of `mib` MiB on a fresh directory, unmounted at the end.
class SmallFs {
 public:
  explicit SmallFs(int mib) {
    std::string opts = "size=" + std::to_string(mib) + "m";
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallFs() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string Sub(const std::string& rel) const { return dir_ / rel; }

 private:
  testing::TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes zeros to `path` until the filesystem is full; the bytes written.
uint64_t FillUp(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path << ": " << std::strerror(errno);
  if (fd < 0) return 0;
  std::string block(64 << 10, '\0');
  uint64_t total = 0;
  while (true) {
    ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  // A partial last block may leave a few bytes: take them too.
  while (::write(fd, block.data(), 1) == 1) ++total;
  ::close(fd);
  return total;
}

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%08d", i);
  return buf;
}

// Incompressible values: the SST files take what the memtables held.
std::string Value(int i) {
  std::mt19937_64 rng(static_cast<uint64_t>(i));
  std::string v(32 << 10, '\0');
  for (size_t j = 0; j + 8 <= v.size(); j += 8) {
    uint64_t r = rng();
    std::memcpy(&v[j], &r, 8);
  }
  return v;
}

constexpr int kPerBatch = 8;  // 256 KiB a batch

Status WriteBatchAt(KvStore* kv, int batch) {
  KvBatch b;
  for (int i = batch * kPerBatch; i < (batch + 1) * kPerBatch; ++i) {
    b.Put(Space::kCatalogue, Key(i), Value(i));
  }
  return kv->Write(b, {.sync = true});
}

void ExpectBatches(KvStore* kv, int batches) {
  for (int i = 0; i < batches * kPerBatch; ++i) {
    std::string v;
    Status s = kv->Get(Space::kCatalogue, Key(i), &v);
    ASSERT_TRUE(s.ok()) << Key(i) << ": " << s;
    ASSERT_TRUE(v == Value(i)) << Key(i) << " has other content";
  }
}

RocksKvOptions SmallOptions(std::vector<std::string>* lines, std::mutex* mu) {
  RocksKvOptions o;
  o.write_buffer_bytes = 1 << 20;
  o.block_cache_bytes = 4 << 20;
  o.recovery_poll_ms = 50;
  o.log = [lines, mu](const std::string& line) {
    std::lock_guard lock(*mu);
    lines->push_back(line);
  };
  return o;
}

// Writes batches from `*next` on until one is refused; the refusal.
Status WriteUntilRefused(KvStore* kv, int* next) {
  for (int tries = 0; tries < 400; ++tries) {
    Status s = WriteBatchAt(kv, *next);
    if (!s.ok()) return s;
    ++*next;
  }
  return absl::OkStatus();
}

// A 16 MiB tmpfs (the test is skipped where none can be mounted), the
// database's directory on it, and the lines the database logs.
class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs_.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << fs_.error();
  }
  StatusOr<std::unique_ptr<KvStore>> Open() {
    return OpenRocksKv(db_, SmallOptions(&lines_, &mu_));
  }

  SmallFs fs_{16};
  const std::string db_ = fs_.Sub("db");
  std::vector<std::string> lines_;
  std::mutex mu_;
};

TEST_F(DiskFullTest, WritesAreRefusedThenResumeOnceSpaceIsFreed) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok()) << opened.status();
  KvStore* kv = opened->get();
  // Some data first, flushed to SST files along the way (1 MiB memtables).
  int acked = 0;
  for (; acked < 12; ++acked) ASSERT_TRUE(WriteBatchAt(kv, acked).ok());
  EXPECT_TRUE(kv->WriteHealth().ok());

  ASSERT_GT(FillUp(fs_.Sub("filler")), 0u);
  Status refused = WriteUntilRefused(kv, &acked);
  ASSERT_FALSE(refused.ok()) << "400 batches of 256 KiB fitted on a full 16 MiB filesystem";
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_NE(refused.message().find("database writes failing (no space) in " + db_),
            std::string::npos)
      << refused;
  Status health = kv->WriteHealth();
  EXPECT_TRUE(absl::IsUnavailable(health)) << health;
  EXPECT_NE(health.message().find("database writes failing (no space)"), std::string::npos)
      << health;
  EXPECT_NE(health.message().find("writes resume by themselves once space is freed"),
            std::string::npos)
      << health;

  // While the disk stays full: refused, and nothing aborts (a sync after a
  // failed WAL write, RocksDB's log lines about it, recovery attempts).
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(WriteBatchAt(kv, acked).ok());
    EXPECT_FALSE(kv->Sync().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  EXPECT_FALSE(kv->WriteHealth().ok());
  // Reads work meanwhile.
  ExpectBatches(kv, acked);

  ASSERT_EQ(::unlink(fs_.Sub("filler").c_str()), 0);
  ASSERT_TRUE(vigil::testing::WaitFor([kv] { return kv->WriteHealth().ok(); },
                                      std::chrono::seconds(30), std::chrono::milliseconds(20)))
      << kv->WriteHealth();
  EXPECT_TRUE(kv->Sync().ok());
  for (int i = 0; i < 4; ++i, ++acked) {
    Status s = WriteBatchAt(kv, acked);
    ASSERT_TRUE(s.ok()) << s;
  }
  ExpectBatches(kv, acked);
  {
    std::lock_guard lock(mu_);
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    EXPECT_NE(all.find("database writes failing (no space) in " + db_), std::string::npos) << all;
    EXPECT_NE(all.find("database writes work again in " + db_), std::string::npos) << all;
  }

  opened->reset();
  auto again = Open();
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectBatches(again->get(), acked);
}

TEST_F(DiskFullTest, ClosingWhileTheDiskIsFullLosesNothingAcknowledged) {
  int acked = 0;
  {
    auto opened = Open();
    ASSERT_TRUE(opened.ok()) << opened.status();
    for (; acked < 6; ++acked) ASSERT_TRUE(WriteBatchAt(opened->get(), acked).ok());
    ASSERT_GT(FillUp(fs_.Sub("filler")), 0u);
    ASSERT_FALSE(WriteUntilRefused(opened->get(), &acked).ok());
    EXPECT_FALSE(opened->get()->Sync().ok());
  }  // closed while writes fail
  ASSERT_EQ(::unlink(fs_.Sub("filler").c_str()), 0);
  auto again = Open();
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectBatches(again->get(), acked);
  EXPECT_TRUE(WriteBatchAt(again->get(), acked).ok());
}

}  // namespace
}  // namespace vigil::storage
