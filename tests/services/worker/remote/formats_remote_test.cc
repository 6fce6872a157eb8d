// The BagIt and checksum-file readers (formats/bagit.h, sumfile.h) over the
// real remote stores: the same bag and the same checksum files, once on
// disk (the descriptor path, DirSource) and once in a bucket of the
// loopback S3 server (tests/support/s3_server.h) or a directory served by a
// real sshd (tests/support/sshd_server.h), read through
// formats::StoreSource. The reports must be the same: findings, counts,
// bytes hashed; valid, then with a flipped byte in a payload file.
// Label integration (starts servers).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace vigil::formats
