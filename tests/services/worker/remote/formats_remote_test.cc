// The BagIt and checksum-file readers (formats/bagit.h, sumfile.h) over the
// real remote stores: the same bag and the same checksum files, once on
// disk (the descriptor path, DirSource) and once in a bucket of the
// loopback S3 server (tests/support/s3_server.h) or a directory served by a
// real sshd (tests/support/sshd_server.h), read through
// formats::StoreSource. The reports must be the same: findings, counts,
// bytes hashed; valid, then with a flipped byte in a payload file. And a
// restic repository written by restic's own sftp: backend, checked through
// the SFTP store.
// Label integration (starts servers).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "services/worker/format_tasks.h"
#include "services/worker/formats/bagit.h"
#include "services/worker/formats/file_source.h"
#include "services/worker/formats/sumfile.h"
#include "services/worker/remote/s3_store.h"
#include "services/worker/remote/sftp_store.h"
#include "storage/hash.h"
#include "tests/integration/test_util.h"
#include "tests/services/worker/bag_builder.h"
#include "tests/support/random_bytes.h"
#include "tests/support/s3_server.h"
#include "tests/support/sshd_server.h"
#include "tests/support/temp_dir.h"

namespace vigil::formats {
namespace {

namespace fs = std::filesystem;

// Every finding of a report, one a line ("E " errors, "W " warnings).
template <typename Report>
std::string Findings(const Report& r) {
  std::string out;
  for (const auto& f : r.errors) out += "E " + f.ToString() + "\n";
  for (const auto& f : r.warnings) out += "W " + f.ToString() + "\n";
  return out;
}

// A bag ("bag/") and a directory with checksum files ("sums/") under a
// local directory, the reference read on disk, and a store that holds the
// same files.
class FormatsRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vigil::testing::BagBuilder bag(local_.path() + "/bag");
    bag.payload["data/a.txt"] = "first payload file\n";
    bag.payload["data/sub/b.bin"] = vigil::testing::Bytes((3 << 20) + 5, 21);
    bag.payload["data/empty"] = "";
    bag.Build();
    const std::string sums = local_.path() + "/sums";
    vigil::testing::WriteFile(sums + "/a.txt", "alpha");
    vigil::testing::WriteFile(sums + "/sub/b.bin", vigil::testing::Bytes((1 << 20) + 9, 22));
    std::string list;
    for (const char* f : {"a.txt", "sub/b.bin"}) {
      list += storage::HashBytes(storage::HashAlgorithm::kSha256,
                                 vigil::testing::ReadFile(sums + "/" + f))
                  .Hex() +
              "  " + f + "\n";
    }
    vigil::testing::WriteFile(sums + "/SHA256SUMS", list);
  }

  // Every regular file under the local directory, relative to it.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(local_.path())) {
      if (e.is_regular_file()) out.push_back(fs::relative(e.path(), local_.path()).string());
    }
    return out;
  }

  // Flips a byte in the middle of the payload files (bag and sums) on disk.
  void Damage() const {
    for (const char* rel : {"bag/data/sub/b.bin", "sums/sub/b.bin"}) {
      const std::string p = local_.path() + "/" + rel;
      std::string c = vigil::testing::ReadFile(p);
      c[c.size() / 2] ^= 0x01;
      vigil::testing::WriteFile(p, c);
    }
  }

  // The bag and the checksum file read from `store` (holding the local
  // files beneath `base`) give the reports they give on disk; returns the
  // store's reports' validity (bag, sums).
  std::pair<bool, bool> ExpectSameAsOnDisk(storage::Store& store, const std::string& base) {
    const int bag_fd = ::open((local_.path() + "/bag").c_str(), O_RDONLY | O_DIRECTORY);
    const int sums_fd = ::open((local_.path() + "/sums").c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_GE(bag_fd, 0);
    EXPECT_GE(sums_fd, 0);
    const BagReport disk_bag = ValidateBagAt(bag_fd, "bag");
    const SumReport disk_sums = VerifySumFileAt(sums_fd, "SHA256SUMS", "SHA256SUMS");
    ::close(bag_fd);
    ::close(sums_fd);

    StoreSource bag_src(store, storage::JoinStorePath(base, "bag"));
    const BagReport bag = ValidateBagFrom(bag_src, "bag");
    StoreSource sums_src(store, storage::JoinStorePath(base, "sums"));
    const SumReport sums = VerifySumFileFrom(sums_src, "SHA256SUMS", "SHA256SUMS");

    EXPECT_EQ(bag.store_error, "");
    EXPECT_EQ(sums.store_error, "");
    EXPECT_EQ(Findings(bag), Findings(disk_bag));
    EXPECT_EQ(bag.files_hashed, disk_bag.files_hashed);
    EXPECT_EQ(bag.bytes_hashed, disk_bag.bytes_hashed);
    EXPECT_EQ(bag.payload_files, disk_bag.payload_files);
    EXPECT_EQ(bag.payload_bytes, disk_bag.payload_bytes);
    EXPECT_EQ(bag.valid(), disk_bag.valid());
    EXPECT_EQ(Findings(sums), Findings(disk_sums));
    EXPECT_EQ(sums.ok, disk_sums.ok);
    EXPECT_EQ(sums.mismatched, disk_sums.mismatched);
    EXPECT_EQ(sums.files_read, disk_sums.files_read);
    EXPECT_EQ(sums.bytes_read, disk_sums.bytes_read);
    return {bag.valid(), sums.valid()};
  }

  vigil::testing::TempDir local_;
};

storage::RetryPolicy Quick() {
  storage::RetryPolicy p;
  p.attempts = 2;
  p.first_backoff = std::chrono::milliseconds(20);
  p.max_backoff = std::chrono::milliseconds(100);
  p.timeout = std::chrono::milliseconds(5000);
  return p;
}

TEST_F(FormatsRemoteTest, ABagAndChecksumFilesInAnS3BucketReadAsOnDisk) {
  vigil::testing::S3Server server({"bkt"});
  const auto config = server.Config("bkt", "sets");
  const auto creds = vigil::testing::S3Server::Credentials();
  auto put_all = [&] {
    for (const std::string& rel : Files()) {
      ASSERT_TRUE(
          worker::remote::PutS3ObjectForTest(config, creds, "sets/" + rel,
                                             vigil::testing::ReadFile(local_.path() + "/" + rel))
              .ok())
          << rel;
    }
  };
  put_all();
  auto store = worker::remote::OpenS3Store(config, creds, Quick());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ExpectSameAsOnDisk(**store, ""), std::make_pair(true, true));
  const uint64_t requests = (*store)->counters().requests.load();
  EXPECT_GT(requests, 0u);
  EXPECT_GT((*store)->counters().bytes_read.load(), 4u << 20);

  // The payload objects rewritten with a flipped byte: both invalid, the
  // same findings as on disk.
  Damage();
  put_all();
  EXPECT_EQ(ExpectSameAsOnDisk(**store, ""), std::make_pair(false, false));
}

TEST_F(FormatsRemoteTest, ABagAndChecksumFilesOnAnSftpServerReadAsOnDisk) {
  std::string error;
  auto sshd = vigil::testing::SshdServer::Start(&error);
  ASSERT_NE(sshd, nullptr) << error;
  worker::remote::SftpConfig c;
  c.host = "127.0.0.1";
  c.port = sshd->port();
  c.user = sshd->user();
  c.host_key = sshd->host_key();
  c.path = local_.path();  // the server serves the very files read on disk
  auto store = worker::remote::OpenSftpStore(c, {sshd->user_key_file()}, Quick());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ExpectSameAsOnDisk(**store, ""), std::make_pair(true, true));
  EXPECT_GT((*store)->counters().bytes_read.load(), 4u << 20);
  Damage();
  EXPECT_EQ(ExpectSameAsOnDisk(**store, ""), std::make_pair(false, false));
}

// restic's own sftp: backend (Debian's restic through Debian's ssh) writes
// a repository into a directory the sshd fixture serves; the worker's
// restic check (format_tasks.h, the same call a CHECK task makes) reads it
// through the SFTP store: valid, two snapshots; a byte flipped in a pack:
// invalid, naming the pack.
TEST(ResticSftpTest, ARepositoryWrittenByResticsSftpBackendIsCheckedOverSftp) {
  std::string error;
  auto sshd = vigil::testing::SshdServer::Start(&error);
  ASSERT_NE(sshd, nullptr) << error;
  vigil::testing::TempDir tmp;
  const std::string served = tmp.path() + "/site2", src = tmp.path() + "/src";
  vigil::testing::WriteFile(src + "/a.txt", "first file\n");
  vigil::testing::WriteFile(src + "/big.bin", vigil::testing::Bytes(2 << 20, 31));
  fs::create_directories(served);
  const std::string known = tmp.path() + "/known_hosts";
  vigil::testing::WriteFile(
      known, "[127.0.0.1]:" + std::to_string(sshd->port()) + " " + sshd->host_key() + "\n");
  const std::string target = sshd->user() + "@127.0.0.1";
  const std::string ssh = "ssh -F /dev/null -p " + std::to_string(sshd->port()) + " -i " +
                          sshd->user_key_file() + " -o IdentitiesOnly=yes -o BatchMode=yes" +
                          " -o UserKnownHostsFile=" + known + " -o StrictHostKeyChecking=yes " +
                          target + " -s sftp";
  auto restic = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "RESTIC_PASSWORD=pw",
                                     "RESTIC_CACHE_DIR=" + tmp.path() + "/cache",
                                     "restic",
                                     "-o",
                                     "sftp.command=" + ssh,
                                     "-r",
                                     "sftp:" + target + ":" + served + "/repo",
                                     "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    vigil::testing::RunResult r = vigil::testing::RunProcess(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  ASSERT_NO_FATAL_FAILURE(restic({"init"}));
  ASSERT_NO_FATAL_FAILURE(restic({"backup", src}));
  vigil::testing::WriteFile(src + "/b.bin", vigil::testing::Bytes(1 << 20, 32));
  ASSERT_NO_FATAL_FAILURE(restic({"backup", src}));
  // restic wrote through the SFTP server, not beside it.
  ASSERT_TRUE(fs::exists(served + "/repo/config"));
  EXPECT_NE(sshd->Log().find("Starting session: subsystem 'sftp'"), std::string::npos)
      << sshd->Log();

  worker::remote::SftpConfig c;
  c.host = "127.0.0.1";
  c.port = sshd->port();
  c.user = sshd->user();
  c.host_key = sshd->host_key();
  c.path = served;
  auto store = worker::remote::OpenSftpStore(c, {sshd->user_key_file()}, Quick());
  ASSERT_TRUE(store.ok()) << store.status();
  const v1::Task task;  // no known packs: every pack read
  worker::ResticTaskResult r = worker::CheckResticRepository(**store, "repo", "repo", "pw", task);
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.verdict.valid()) << r.verdict.DebugString();
  EXPECT_EQ(r.verdict.snapshots(), 2u);
  EXPECT_EQ(r.points.size(), 2u);
  EXPECT_GE(r.verdict.packs_read(), 2u);
  EXPECT_GT((*store)->counters().bytes_read.load(), 3u << 20);

  // A byte flipped in the largest pack on the server: invalid, named.
  std::pair<uint64_t, std::string> largest;
  for (const auto& e : fs::recursive_directory_iterator(served + "/repo/data")) {
    if (e.is_regular_file() && e.file_size() > largest.first) {
      largest = {e.file_size(), e.path().string()};
    }
  }
  ASSERT_FALSE(largest.second.empty());
  std::string pack = vigil::testing::ReadFile(largest.second);
  pack[pack.size() / 2] ^= 0x01;
  fs::permissions(largest.second, fs::perms::owner_write, fs::perm_options::add);
  vigil::testing::WriteFile(largest.second, pack);
  r = worker::CheckResticRepository(**store, "repo", "repo", "pw", task);
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.verdict.valid());
  std::string errors;
  for (const auto& e : r.verdict.errors()) errors += e + "\n";
  EXPECT_NE(errors.find(fs::path(largest.second).filename().string()), std::string::npos) << errors;
}

}  // namespace
}  // namespace vigil::formats
