// OpenSftpStore (services/worker/remote/sftp_store.h) against a real sshd on
// loopback (tests/support/sshd_server.h): listing, stat and ranged reads of a
// small tree, host key pinning, key authentication, timeouts on a server
// that never speaks or stops answering, and reconnection after sshd dies.
// The tests that start sshd are labelled integration; each starts its own.
//
// Thread safety: gtest runs one test at a time.
#include "services/worker/remote/sftp_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/test_util.h"
#include "tests/support/random_bytes.h"
#include "tests/support/sshd_server.h"
#include "tests/support/temp_dir.h"

namespace vigil::worker::remote {
namespace {

using storage::StoreEntry;
using storage::StoreEntryType;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::SshdServer;
using testing::TempDir;

constexpr size_t kMiB = 1024 * 1024;
constexpr int64_t kMtime = 1700000000;
constexpr char kUtf8Name[] = "ünïcødé 日本.txt";  // UTF-8 bytes, as the server stores them

std::string Sha256(const void* data, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

// "SHA256:..." of a public key file, as ssh-keygen prints it.
std::string KeygenFingerprint(const std::string& pub_file) {
  const testing::RunResult r =
      testing::RunProcess({"/usr/bin/ssh-keygen", "-l", "-E", "sha256", "-f", pub_file});
  std::istringstream in(r.out);
  std::string bits, fp;
  in >> bits >> fp;
  return fp;
}

void SetMtime(const std::string& path, int64_t sec, long nsec) {
  const timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

class SftpStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    sshd_ = SshdServer::Start(&error);
    ASSERT_NE(sshd_, nullptr) << error;
    namespace fs = std::filesystem;
    root_ = data_ / "backup";
    testing::MakeDirs(root_ + "/a/b");
    testing::MakeDirs(root_ + "/nested dir");
    testing::WriteFile(root_ + "/a/b/c.txt", "hello");
    testing::WriteFile(root_ + "/with space.txt", "spaced");
    testing::WriteFile(root_ + "/" + kUtf8Name, "utf8");
    testing::WriteFile(root_ + "/nested dir/inner file", "inner");
    testing::WriteFile(root_ + "/empty", "");
    big_ = testing::Bytes(5 * kMiB, 18);
    testing::WriteFile(root_ + "/big.bin", big_);
    fs::create_symlink("a/b/c.txt", root_ + "/link");
    fs::create_symlink("a", root_ + "/dirlink");
    SetMtime(root_ + "/with space.txt", kMtime, 123456789);
  }

  SftpConfig Config() const {
    SftpConfig c;
    c.host = "127.0.0.1";
    c.port = sshd_->port();
    c.user = sshd_->user();
    c.host_key = sshd_->host_key();
    c.path = root_;
    return c;
  }
  SshCredentials Creds() const { return {sshd_->user_key_file()}; }
  static storage::RetryPolicy Fast(int timeout_ms = 5000) {
    storage::RetryPolicy p;
    p.attempts = 3;
    p.first_backoff = std::chrono::milliseconds(20);
    p.max_backoff = std::chrono::milliseconds(100);
    p.timeout = std::chrono::milliseconds(timeout_ms);
    return p;
  }
  std::unique_ptr<storage::Store> Open(const storage::RetryPolicy& p = Fast()) {
    auto s = OpenSftpStore(Config(), Creds(), p);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static std::map<std::string, StoreEntry> ListAll(storage::Store& s, std::string_view dir) {
    std::map<std::string, StoreEntry> out;
    const auto st = s.List(dir, [&](StoreEntry&& e) {
      out[e.name] = e;
      return true;
    });
    EXPECT_TRUE(st.ok()) << st;
    return out;
  }

  std::unique_ptr<SshdServer> sshd_;
  TempDir data_;
  std::string root_;
  std::string big_;
};

TEST_F(SftpStoreTest, ListsAndStatsATreeWithoutFollowingLinks) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(),
            "sftp://" + sshd_->user() + "@127.0.0.1:" + std::to_string(sshd_->port()) + root_);

  const auto top = ListAll(*store, "");
  std::vector<std::string> names;
  for (const auto& [n, e] : top) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "big.bin", "dirlink", "empty", "link",
                                             "nested dir", "with space.txt", kUtf8Name}));
  EXPECT_EQ(top.at("a").type, StoreEntryType::kDirectory);
  EXPECT_EQ(top.at("big.bin").type, StoreEntryType::kFile);
  EXPECT_EQ(top.at("big.bin").size, 5 * kMiB);
  EXPECT_EQ(top.at("empty").size, 0u);
  EXPECT_EQ(top.at("link").type, StoreEntryType::kSymlink);
  EXPECT_EQ(top.at("link").link_target, "a/b/c.txt");
  EXPECT_EQ(top.at("dirlink").type, StoreEntryType::kSymlink);
  EXPECT_EQ(top.at("dirlink").link_target, "a");
  // SFTP v3 carries whole seconds.
  EXPECT_EQ(top.at("with space.txt").mtime_ns, kMtime * 1'000'000'000);
  EXPECT_EQ(top.at("with space.txt").size, 6u);

  const auto nested = ListAll(*store, "nested dir");
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(nested.begin()->first, "inner file");
  const auto deep = ListAll(*store, "a/b");
  ASSERT_EQ(deep.size(), 1u);
  EXPECT_EQ(deep.at("c.txt").size, 5u);

  auto link = store->Stat("link");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->name, "link");
  EXPECT_EQ(link->type, StoreEntryType::kSymlink);
  EXPECT_EQ(link->link_target, "a/b/c.txt");
  auto file = store->Stat("a/b/c.txt");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->type, StoreEntryType::kFile);
  EXPECT_EQ(file->size, 5u);
  auto dir = store->Stat("nested dir");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->type, StoreEntryType::kDirectory);

  EXPECT_EQ(store->Stat("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->List("missing", [](StoreEntry&&) { return true; }).code(),
            absl::StatusCode::kNotFound);
  const auto not_dir = store->List("a/b/c.txt", [](StoreEntry&&) { return true; });
  EXPECT_EQ(not_dir.code(), absl::StatusCode::kFailedPrecondition) << not_dir;
  EXPECT_THAT(std::string(not_dir.message()), HasSubstr("'a/b/c.txt' is not a directory"));
  const auto outside = store->Stat("../etc");
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_GT(store->counters().requests.load(), 0u);
}

// `each` runs without the store's lock: a reader may stat what it lists.
TEST_F(SftpStoreTest, ListCallbackMayCallTheStore) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  int files = 0;
  const auto st = store->List("", [&](StoreEntry&& e) {
    auto s = store->Stat(e.name);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok() && s->type == StoreEntryType::kFile) ++files;
    return true;
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(files, 4);
}

TEST_F(SftpStoreTest, ReadsFiveMebibytesInRangesOverOneHandle) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const uint64_t before = store->counters().requests.load();
  std::string got(5 * kMiB, '\0');
  for (size_t off = 0; off < got.size(); off += kMiB) {
    auto n = store->ReadAt("big.bin", off, got.data() + off, kMiB);
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_EQ(*n, kMiB) << off;
  }
  EXPECT_EQ(Sha256(got.data(), got.size()), Sha256(big_.data(), big_.size()));
  EXPECT_EQ(store->counters().bytes_read.load(), 5 * kMiB);
  // 80 READs of 64 KiB and one OPEN and FSTAT: the handle is kept between
  // the calls (reopening would cost an OPEN, FSTAT and CLOSE per call).
  EXPECT_LE(store->counters().requests.load() - before, 82u);
  EXPECT_EQ(store->counters().retries.load(), 0u);

  // Sequential ranges of uneven sizes (answers read ahead past a range are
  // kept for the next), then jumps (what was read ahead is dropped).
  std::string seq;
  uint64_t pos = 0;
  for (size_t n : {100000u, 1048576u, 65536u, 1u, 3000000u, 777777u, 2000000u}) {
    std::string part(n, '\0');
    auto r = store->ReadAt("big.bin", pos, part.data(), n);
    ASSERT_TRUE(r.ok()) << r.status();
    seq.append(part.data(), *r);
    pos += *r;
  }
  EXPECT_EQ(pos, 5 * kMiB);
  EXPECT_TRUE(seq == big_) << "sequential uneven reads differ";
  for (uint64_t at : {4000000u, 10u, 2500000u, 2500000u + 65536u, 0u}) {
    std::string part(500000, '\0');
    auto r = store->ReadAt("big.bin", at, part.data(), part.size());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(*r, std::min<size_t>(part.size(), 5 * kMiB - at));
    EXPECT_TRUE(part.substr(0, *r) == big_.substr(at, *r)) << at;
  }

  // An unaligned range across the pipeline's chunks, then another file.
  std::string mid(300000, '\0');
  auto n = store->ReadAt("big.bin", 1234567, mid.data(), mid.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(mid, big_.substr(1234567, mid.size()));
  char small[16];
  auto c = store->ReadAt("a/b/c.txt", 1, small, sizeof(small));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(std::string(small, *c), "ello");
}

// OpenSSH answers READDIR with at most 100 names: 1,000 files take several
// pages, each handed to `each` before the next is asked for.
TEST_F(SftpStoreTest, ListsADirectoryOfManyPages) {
  testing::MakeDirs(root_ + "/many");
  for (int i = 0; i < 1000; ++i) testing::WriteFile(root_ + "/many/f" + std::to_string(i), "");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const uint64_t before = store->counters().requests.load();
  std::set<std::string> names;
  const auto st = store->List("many", [&](StoreEntry&& e) {
    EXPECT_EQ(e.type, StoreEntryType::kFile);
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(names.size(), 1000u);
  // OPENDIR, >= 10 READDIRs, CLOSE.
  EXPECT_GE(store->counters().requests.load() - before, 12u);

  // Stopping early stops the listing.
  int seen = 0;
  ASSERT_TRUE(store->List("many", [&](StoreEntry&&) { return ++seen < 5; }).ok());
  EXPECT_EQ(seen, 5);
}

// Several threads share the one session: each gets its own file's bytes.
TEST_F(SftpStoreTest, ConcurrentReadersGetTheirOwnBytes) {
  for (int i = 0; i < 4; ++i) {
    testing::WriteFile(root_ + "/t" + std::to_string(i), testing::Bytes(3 * kMiB, 100 + i));
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      std::string& out = got[i];
      out.assign(3 * kMiB, '\0');
      for (size_t off = 0; off < out.size(); off += 256 * 1024) {
        auto n = store->ReadAt("t" + std::to_string(i), off, out.data() + off, 256 * 1024);
        if (!n.ok() || *n != 256 * 1024) {
          out = "failed at " + std::to_string(off);
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(got[i] == testing::Bytes(3 * kMiB, 100 + i)) << i << ": " << got[i].substr(0, 40);
  }
  EXPECT_EQ(store->counters().bytes_read.load(), 12 * kMiB);
}

TEST_F(SftpStoreTest, ReadAtTheEnd) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::string buf(kMiB, '\0');
  auto tail = store->ReadAt("big.bin", 5 * kMiB - 100, buf.data(), buf.size());
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_EQ(*tail, 100u);
  EXPECT_EQ(buf.substr(0, 100), big_.substr(5 * kMiB - 100));
  auto past = store->ReadAt("big.bin", 5 * kMiB, buf.data(), buf.size());
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_EQ(*past, 0u);
  auto far = store->ReadAt("big.bin", 50 * kMiB, buf.data(), buf.size());
  ASSERT_TRUE(far.ok()) << far.status();
  EXPECT_EQ(*far, 0u);
  auto empty = store->ReadAt("empty", 0, buf.data(), buf.size());
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, 0u);
  EXPECT_EQ(store->ReadAt("missing", 0, buf.data(), 10).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store->ReadAt("a", 0, buf.data(), 10).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // After an error the cached handle still serves the file it holds.
  auto again = store->ReadAt("big.bin", 0, buf.data(), 10);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(buf.substr(0, 10), big_.substr(0, 10));
}

TEST_F(SftpStoreTest, HostKeyMismatchIsRefusedBeforeLogin) {
  std::string other;
  const std::string other_file = sshd_->NewKey("other_host_key", &other);
  SftpConfig c = Config();
  c.host_key = other;
  auto s = OpenSftpStore(c, Creds(), Fast());
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  const std::string msg(s.status().message());
  EXPECT_THAT(msg, HasSubstr(KeygenFingerprint(other_file + ".pub")));
  EXPECT_THAT(msg, HasSubstr(KeygenFingerprint(sshd_->dir() + "/host_key.pub")));
  EXPECT_THAT(msg, HasSubstr("refused"));
  // Never authenticated, so nothing was read; the right key logs in.
  EXPECT_THAT(sshd_->Log(), Not(HasSubstr("Accepted publickey")));
  ASSERT_NE(Open(), nullptr);
  EXPECT_TRUE(testing::WaitFor(
      [&] { return sshd_->Log().find("Accepted publickey") != std::string::npos; }));
}

TEST_F(SftpStoreTest, UnknownUserKeyIsPermissionDenied) {
  std::string pub;
  const std::string key = sshd_->NewKey("stranger", &pub);
  auto s = OpenSftpStore(Config(), {key}, Fast());
  ASSERT_EQ(s.status().code(), absl::StatusCode::kPermissionDenied) << s.status();
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("the server refused key " + key + " for user " + sshd_->user()));
}

TEST_F(SftpStoreTest, UnusableKeyFileIsFailedPrecondition) {
  auto missing = OpenSftpStore(Config(), {data_ / "nope"}, Fast());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(data_ / "nope"));

  const std::string enc = data_ / "encrypted";
  ASSERT_EQ(
      testing::RunProcess({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", enc})
          .exit_code,
      0);
  auto encrypted = OpenSftpStore(Config(), {enc}, Fast());
  EXPECT_EQ(encrypted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(encrypted.status().message()), HasSubstr(enc));
  EXPECT_THAT(sshd_->Log(), Not(HasSubstr("Accepted publickey")));
}

TEST(SftpStoreConfigTest, MalformedConfigurationIsInvalidArgument) {
  SftpConfig good;
  good.host = "127.0.0.1";
  good.port = 22;
  good.user = "u";
  good.host_key =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
  good.path = "/srv";
  const auto code = [](const SftpConfig& c) {
    return OpenSftpStore(c, {"/nonexistent"}, {}).status().code();
  };
  SftpConfig c = good;
  c.host_key = "AAAAC3NzaC1lZDI1NTE5";
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c.host_key = "ssh-ed25519 not-base64!";
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = good;
  c.path = "relative/dir";
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = good;
  c.port = 0;
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = good;
  c.user = "";
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  // Well formed: the key file is what is wrong.
  EXPECT_EQ(code(good), absl::StatusCode::kFailedPrecondition);
}

// A listener that accepts TCP and never speaks: the handshake times out on
// every attempt, then Unavailable.
TEST(SftpStoreTimeoutTest, SilentServerIsUnavailableWithinTheTimeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  TempDir dir;
  const std::string key = dir / "key";
  ASSERT_EQ(testing::RunProcess({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key})
                .exit_code,
            0);
  SftpConfig c;
  c.host = "127.0.0.1";
  c.port = ntohs(addr.sin_port);
  c.user = "u";
  c.host_key = testing::ReadFile(key + ".pub");
  c.path = "/";
  storage::RetryPolicy p;
  p.attempts = 3;
  p.first_backoff = std::chrono::milliseconds(10);
  p.max_backoff = std::chrono::milliseconds(20);
  p.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  auto s = OpenSftpStore(c, {key}, p);
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kUnavailable) << s.status();
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("3 attempts"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr(std::to_string(c.port)));
  EXPECT_GE(took, std::chrono::milliseconds(3 * 300));
  EXPECT_LT(took, std::chrono::seconds(5));
}

// sshd killed with everything it forked, then started again on the same
// port: the next read reconnects and goes on, even with a single attempt
// (the dead session is replaced, not counted as an attempt).
TEST_F(SftpStoreTest, ReconnectsAfterSshdIsKilledAndRestarted) {
  storage::RetryPolicy one = Fast();
  one.attempts = 1;
  auto store = Open(one);
  ASSERT_NE(store, nullptr);
  std::string got(2 * kMiB, '\0');
  auto a = store->ReadAt("big.bin", 0, got.data(), kMiB);
  ASSERT_TRUE(a.ok()) << a.status();
  sshd_->Kill();
  std::string error;
  ASSERT_TRUE(sshd_->Restart(&error)) << error;
  auto b = store->ReadAt("big.bin", kMiB, got.data() + kMiB, kMiB);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, kMiB);
  EXPECT_EQ(got, big_.substr(0, 2 * kMiB));
  EXPECT_EQ(store->counters().retries.load(), 1u);
  EXPECT_EQ(ListAll(*store, "a").size(), 1u);
}

// sshd gone for good (or moved to another port): Unavailable, naming the
// store and the address, after the policy's attempts.
TEST_F(SftpStoreTest, KilledServerIsUnavailable) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  char buf[10];
  ASSERT_TRUE(store->ReadAt("big.bin", 0, buf, sizeof(buf)).ok());
  sshd_->Kill();
  auto r = store->ReadAt("big.bin", 10, buf, sizeof(buf));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  const std::string msg(r.status().message());
  EXPECT_THAT(msg, HasSubstr(store->Describe()));
  EXPECT_THAT(msg, HasSubstr("3 attempts"));
  // The dead session replaced at once, then 3 connection attempts.
  EXPECT_EQ(store->counters().retries.load(), 3u);
  EXPECT_EQ(store->Stat("a").status().code(), absl::StatusCode::kUnavailable);
}

// The connection's processes freeze mid-session (the listener still
// accepts): the read gives up on the frozen session after the timeout and
// succeeds on a new one.
TEST_F(SftpStoreTest, StalledSessionTimesOutAndReconnects) {
  auto store = Open(Fast(/*timeout_ms=*/1000));
  ASSERT_NE(store, nullptr);
  std::string got(kMiB, '\0');
  ASSERT_TRUE(store->ReadAt("big.bin", 0, got.data(), 100).ok());
  sshd_->StopSessions();
  const auto start = std::chrono::steady_clock::now();
  auto r = store->ReadAt("big.bin", 0, got.data(), kMiB);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(got, big_.substr(0, kMiB));
  EXPECT_EQ(store->counters().retries.load(), 1u);
  EXPECT_GE(took, std::chrono::milliseconds(1000));
  EXPECT_LT(took, std::chrono::seconds(10));
}

}  // namespace
}  // namespace vigil::worker::remote
