// The S3 store (services/worker/remote/s3_store.h) against Ceph's object
// gateway, a real S3 implementation (Debian's radosgw 16.2 on a one-node
// cluster on loopback, tests/support/ceph_rgw.h): listing (a directory
// holding only directories is a common prefix, as on AWS), stat with the
// ETag, ranged reads, a refused secret and an unknown key, a missing
// bucket. Then what the gateway says about a bucket and an object read back
// with plain signed requests: versioning, the Object Lock configuration
// and an object's retention (the facts the store-evidence code measures),
// and that the retention is enforced (a locked version cannot be deleted).
//
// Each test starts its own cluster (~5 s): ctest runs every test in a
// process of its own.
#include "tests/support/ceph_rgw.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "services/worker/remote/s3_store.h"
#include "tests/support/store_testing.h"

namespace vigil::worker::remote {
namespace {

using storage::StoreEntry;
using storage::StoreEntryType;
using testing::CephRgw;

using testing::ListAll;
using testing::Md5Hex;

storage::RetryPolicy ShortPolicy() {
  storage::RetryPolicy p;
  p.attempts = 3;
  p.first_backoff = std::chrono::milliseconds(10);
  p.max_backoff = std::chrono::milliseconds(20);
  p.timeout = std::chrono::milliseconds(10000);
  return p;
}

class CephRgwTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    rgw_ = CephRgw::Start(&error);
    ASSERT_NE(rgw_, nullptr) << error;
    // In the test's output: how long the cluster took to start.
    std::cout << "ceph start-up: " << rgw_->startup_report() << "\n";
    RecordProperty("ceph_startup_seconds", std::to_string(rgw_->startup_seconds()));
  }
  void TearDown() override {
    if (HasFailure() && rgw_ != nullptr) std::cout << rgw_->Logs();
  }

  std::string Header(const CephRgw::Reply& r, const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? "" : it->second;
  }

  std::unique_ptr<CephRgw> rgw_;
};

TEST_F(CephRgwTest, TheS3StoreListsStatsAndReadsRangesAndNamesRefusals) {
  ASSERT_TRUE(rgw_->CreateBucket("vigil-data").ok());
  std::string bin;
  for (int i = 0; i < 100000; ++i) bin.push_back(static_cast<char>(i * 7 + i / 256));
  const auto put = [&](const std::string& key, const std::string& body) {
    // Through the product's own signer (s3_store.cc), then read back by it.
    const auto s = PutS3ObjectForTest(rgw_->Config("vigil-data"), rgw_->Credentials(), key, body);
    ASSERT_TRUE(s.ok()) << s;
  };
  ASSERT_NO_FATAL_FAILURE(put("root/plain.txt", "hello"));
  ASSERT_NO_FATAL_FAILURE(put("root/empty", ""));
  ASSERT_NO_FATAL_FAILURE(put("root/dir with space/a+b=c.txt", "plus equals"));
  // data/ holds only directories: still listed as one (a common prefix).
  ASSERT_NO_FATAL_FAILURE(put("root/data/00/pack.bin", bin));
  ASSERT_NO_FATAL_FAILURE(put("other/outside.txt", "not under the prefix"));

  auto opened = OpenS3Store(rgw_->Config("vigil-data", "root"), rgw_->Credentials(), ShortPolicy());
  ASSERT_TRUE(opened.ok()) << opened.status();
  storage::Store& store = **opened;
  EXPECT_EQ(store.Describe(),
            "s3://127.0.0.1:" + std::to_string(rgw_->port()) + "/vigil-data/root");

  auto root = ListAll(store, "");
  ASSERT_EQ(root.size(), 4u);
  EXPECT_EQ(root["plain.txt"].type, StoreEntryType::kFile);
  EXPECT_EQ(root["plain.txt"].size, 5u);
  EXPECT_EQ(root["plain.txt"].etag, Md5Hex("hello"));
  EXPECT_GT(root["plain.txt"].mtime_ns, 1600000000LL * 1000000000);
  EXPECT_EQ(root["empty"].size, 0u);
  EXPECT_EQ(root["dir with space"].type, StoreEntryType::kDirectory);
  EXPECT_EQ(root["data"].type, StoreEntryType::kDirectory);
  auto data = ListAll(store, "data");
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data["00"].type, StoreEntryType::kDirectory);

  auto st = store.Stat("data/00/pack.bin");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->size, bin.size());
  EXPECT_EQ(st->etag, Md5Hex(bin));
  const auto nf = store.Stat("nope.txt");
  EXPECT_EQ(nf.status().code(), absl::StatusCode::kNotFound) << nf.status();

  const uint64_t read_before = store.counters().bytes_read.load();
  std::string buf(1000, '\0');
  auto n = store.ReadAt("data/00/pack.bin", 54321, buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1000u);
  EXPECT_EQ(buf, bin.substr(54321, 1000));
  n = store.ReadAt("data/00/pack.bin", bin.size() - 10, buf.data(), 100);  // the end
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(std::string(buf.data(), *n), bin.substr(bin.size() - 10));
  n = store.ReadAt("empty", 0, buf.data(), 10);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(store.counters().bytes_read.load() - read_before, 1010u);
  EXPECT_EQ(store.counters().retries.load(), 0u);

  // A wrong secret: radosgw checks the signature.
  S3Credentials wrong = rgw_->Credentials();
  wrong.secret_access_key = "WRONG-SECRET-XYZ";
  auto refused = OpenS3Store(rgw_->Config("vigil-data", "root"), wrong, ShortPolicy());
  ASSERT_TRUE(refused.ok());
  const auto l = (*refused)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(l.code(), absl::StatusCode::kPermissionDenied) << l;
  EXPECT_NE(l.message().find("SignatureDoesNotMatch"), std::string::npos) << l;
  EXPECT_EQ(l.message().find("WRONG-SECRET-XYZ"), std::string::npos) << l;
  EXPECT_EQ((*refused)->ReadAt("plain.txt", 0, buf.data(), 1).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*refused)->counters().retries.load(), 0u);
  // A key the gateway does not know.
  wrong.access_key_id = "NOBODYNOBODYNOBODY00";
  auto stranger = OpenS3Store(rgw_->Config("vigil-data", "root"), wrong, ShortPolicy());
  ASSERT_TRUE(stranger.ok());
  const auto s = (*stranger)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_NE(s.message().find("InvalidAccessKeyId"), std::string::npos) << s;

  // A bucket that does not exist.
  auto missing =
      OpenS3Store(rgw_->Config("no-such-bucket", "root"), rgw_->Credentials(), ShortPolicy());
  ASSERT_TRUE(missing.ok());
  const auto m = (*missing)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(m.code(), absl::StatusCode::kFailedPrecondition) << m;
  EXPECT_NE(m.message().find("bucket no-such-bucket does not exist at " + rgw_->endpoint()),
            std::string::npos)
      << m;
  EXPECT_EQ((*missing)->Stat("x").status().code(), absl::StatusCode::kFailedPrecondition);

  // The gateway gone: Unavailable after the retries.
  rgw_->Stop();
  const auto gone = store.List("", [](StoreEntry&&) { return true; });
  EXPECT_EQ(gone.code(), absl::StatusCode::kUnavailable) << gone;
  EXPECT_EQ(store.counters().retries.load(), 2u);
}

TEST_F(CephRgwTest, VersioningObjectLockAndRetentionReadBackAndEnforced) {
  // A plain bucket: no versioning, no Object Lock configuration.
  ASSERT_TRUE(rgw_->CreateBucket("plain-bucket").ok());
  CephRgw::Reply r = rgw_->Send({.bucket = "plain-bucket", .query = {{"versioning", ""}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.body.find("<Status>"), std::string::npos) << r.body;
  r = rgw_->Send({.bucket = "plain-bucket", .query = {{"object-lock", ""}}});
  EXPECT_EQ(r.code, 404) << r.body;
  EXPECT_NE(r.body.find("ObjectLockConfigurationNotFoundError"), std::string::npos) << r.body;

  // Versioned only.
  ASSERT_TRUE(rgw_->CreateBucket("versioned-bucket", {.versioned = true}).ok());
  r = rgw_->Send({.bucket = "versioned-bucket", .query = {{"versioning", ""}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_NE(r.body.find("<Status>Enabled</Status>"), std::string::npos) << r.body;

  // Object Lock (versioning comes with it), a default GOVERNANCE rule of
  // 1 day, and an object kept in COMPLIANCE mode until 2035.
  ASSERT_TRUE(rgw_->CreateBucket("locked-bucket", {.object_lock = true}).ok());
  auto s = rgw_->PutObjectLockConfiguration("locked-bucket", "GOVERNANCE", 1);
  ASSERT_TRUE(s.ok()) << s;
  std::string version;
  s = rgw_->PutObject("locked-bucket", "repo/config", "restic config",
                      {.lock_mode = "COMPLIANCE", .retain_until = "2035-01-01T00:00:00Z"},
                      &version);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(version.empty());
  std::string default_version;
  s = rgw_->PutObject("locked-bucket", "repo/keys/k1", "key", {}, &default_version);
  ASSERT_TRUE(s.ok()) << s;

  r = rgw_->Send({.bucket = "locked-bucket", .query = {{"versioning", ""}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_NE(r.body.find("<Status>Enabled</Status>"), std::string::npos) << r.body;
  r = rgw_->Send({.bucket = "locked-bucket", .query = {{"object-lock", ""}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_NE(r.body.find("<ObjectLockEnabled>Enabled</ObjectLockEnabled>"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<Mode>GOVERNANCE</Mode>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<Days>1</Days>"), std::string::npos) << r.body;

  r = rgw_->Send({.method = "HEAD", .bucket = "locked-bucket", .key = "repo/config"});
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(Header(r, "x-amz-object-lock-mode"), "COMPLIANCE");
  EXPECT_EQ(Header(r, "x-amz-object-lock-retain-until-date").substr(0, 19), "2035-01-01T00:00:00");
  EXPECT_EQ(Header(r, "x-amz-version-id"), version);
  r = rgw_->Send({.bucket = "locked-bucket", .key = "repo/config", .query = {{"retention", ""}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_NE(r.body.find("<Mode>COMPLIANCE</Mode>"), std::string::npos) << r.body;
  // The bucket's default rule applied to an object written without one.
  r = rgw_->Send({.method = "HEAD", .bucket = "locked-bucket", .key = "repo/keys/k1"});
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(Header(r, "x-amz-object-lock-mode"), "GOVERNANCE");
  EXPECT_FALSE(Header(r, "x-amz-object-lock-retain-until-date").empty());

  // Retention set afterwards on an existing object, in a bucket with Object
  // Lock but no default rule (where a GOVERNANCE default applies, changing
  // the mode needs the bypass permission: S3's rule, kept by radosgw).
  ASSERT_TRUE(rgw_->CreateBucket("locked-no-rule", {.object_lock = true}).ok());
  s = rgw_->PutObject("locked-no-rule", "repo/data/00/p", "pack");
  ASSERT_TRUE(s.ok()) << s;
  r = rgw_->Send({.method = "HEAD", .bucket = "locked-no-rule", .key = "repo/data/00/p"});
  EXPECT_EQ(Header(r, "x-amz-object-lock-mode"), "");
  s = rgw_->PutObjectRetention("locked-no-rule", "repo/data/00/p", "COMPLIANCE",
                               "2031-06-30T00:00:00Z");
  ASSERT_TRUE(s.ok()) << s;
  r = rgw_->Send({.method = "HEAD", .bucket = "locked-no-rule", .key = "repo/data/00/p"});
  EXPECT_EQ(Header(r, "x-amz-object-lock-mode"), "COMPLIANCE");
  EXPECT_EQ(Header(r, "x-amz-object-lock-retain-until-date").substr(0, 10), "2031-06-30");
  s = rgw_->PutObjectRetention("locked-bucket", "repo/keys/k1", "COMPLIANCE",
                               "2031-06-30T00:00:00Z");
  EXPECT_NE(s.message().find("without governance bypass"), std::string::npos) << s;

  // Enforced: the locked version cannot be deleted; the signature is
  // checked on these requests too.
  r = rgw_->Send({.method = "DELETE",
                  .bucket = "locked-bucket",
                  .key = "repo/config",
                  .query = {{"versionId", version}}});
  EXPECT_EQ(r.code, 403) << r.body;
  EXPECT_NE(r.body.find("AccessDenied"), std::string::npos) << r.body;
  S3Credentials wrong = rgw_->Credentials();
  wrong.secret_access_key = "not-the-secret";
  r = rgw_->Send({.bucket = "locked-bucket", .query = {{"object-lock", ""}}}, wrong);
  EXPECT_EQ(r.code, 403) << r.body;
  EXPECT_NE(r.body.find("SignatureDoesNotMatch"), std::string::npos) << r.body;
}

// What Vigil's S3 store measures of a real gateway (the facts the worker
// turns into StoreEvidence, docs/remote.md "What the store says"): a plain
// bucket says versioning off and Object Lock off (radosgw's 404
// ObjectLockConfigurationNotFoundError); a versioned one, versioning on;
// an Object Lock bucket, both on with its default rule; and per object,
// its retention from HEAD (a default rule applied, an explicit COMPLIANCE
// date, none in a bucket without Object Lock), and the listing's ETag the
// MD5 of the content (single-part uploads).
TEST_F(CephRgwTest, TheS3StoreMeasuresVersioningObjectLockAndRetentionAsRadosgwSaysThem) {
  ASSERT_TRUE(rgw_->CreateBucket("plain").ok());
  ASSERT_TRUE(rgw_->CreateBucket("versioned", {.versioned = true}).ok());
  ASSERT_TRUE(rgw_->CreateBucket("locked", {.object_lock = true}).ok());
  auto s = rgw_->PutObjectLockConfiguration("locked", "GOVERNANCE", 1);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(rgw_->PutObject("plain", "fs/a.txt", "alpha\n").ok());
  ASSERT_TRUE(rgw_->PutObject("locked", "fs/default.txt", "by the default rule\n").ok());
  s = rgw_->PutObject("locked", "fs/kept.txt", "kept until 2035\n",
                      {.lock_mode = "COMPLIANCE", .retain_until = "2035-01-01T00:00:00Z"});
  ASSERT_TRUE(s.ok()) << s;

  auto open = [&](const std::string& bucket) {
    auto store = OpenS3Store(rgw_->Config(bucket), rgw_->Credentials(), ShortPolicy());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  };
  auto plain = open("plain");
  auto versioned = open("versioned");
  auto locked = open("locked");
  ASSERT_TRUE(plain && versioned && locked);

  storage::StoreFacts f = plain->Facts();
  EXPECT_EQ(f.versioning, storage::StoreFact::kOff) << f.versioning_unknown;
  EXPECT_EQ(f.object_lock, storage::StoreFact::kOff) << f.object_lock_unknown;
  f = versioned->Facts();
  EXPECT_EQ(f.versioning, storage::StoreFact::kOn) << f.versioning_unknown;
  EXPECT_EQ(f.versioning_status, "Enabled");
  EXPECT_EQ(f.object_lock, storage::StoreFact::kOff) << f.object_lock_unknown;
  f = locked->Facts();
  EXPECT_EQ(f.versioning, storage::StoreFact::kOn) << f.versioning_unknown;
  EXPECT_EQ(f.object_lock, storage::StoreFact::kOn) << f.object_lock_unknown;
  EXPECT_EQ(f.default_mode, "GOVERNANCE");
  EXPECT_EQ(f.default_days, 1u);
  EXPECT_EQ(f.default_years, 0u);

  auto kept = locked->Stat("fs/kept.txt");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_TRUE(kept->lock_known);
  EXPECT_EQ(kept->lock_mode, "COMPLIANCE");
  EXPECT_EQ(kept->lock_until_ns, int64_t{2051222400} * 1'000'000'000);  // 2035-01-01T00:00:00Z
  EXPECT_FALSE(kept->legal_hold);
  auto by_default = locked->Stat("fs/default.txt");
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  EXPECT_EQ(by_default->lock_mode, "GOVERNANCE");
  EXPECT_GT(by_default->lock_until_ns, 0);
  auto unlocked = plain->Stat("fs/a.txt");
  ASSERT_TRUE(unlocked.ok()) << unlocked.status();
  EXPECT_TRUE(unlocked->lock_known);  // the store answered: no retention
  EXPECT_EQ(unlocked->lock_mode, "");
  EXPECT_EQ(unlocked->lock_until_ns, 0);

  std::map<std::string, StoreEntry> listed = ListAll(*plain, "fs");
  ASSERT_EQ(listed.count("a.txt"), 1u);
  EXPECT_EQ(listed["a.txt"].etag, Md5Hex("alpha\n"));
}

}  // namespace
}  // namespace vigil::worker::remote
