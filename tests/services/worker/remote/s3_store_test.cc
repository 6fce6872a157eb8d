// The S3 store (services/worker/remote/s3_store.h) against a real S3 server
// on loopback that checks SigV4 signatures (tests/support/s3_server.h), and
// against small stand-ins for what that server will not do on demand: a
// server that never answers, one that answers 503 before the real answer,
// one that answers a listing that is not XML.
#include "services/worker/remote/s3_store.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/s3_server.h"
#include "tests/support/store_testing.h"
#include "tests/support/webhook.h"

namespace vigil::worker::remote {
namespace {

using storage::StoreEntry;
using storage::StoreEntryType;
using testing::S3Server;

using testing::ListAll;
using testing::Md5Hex;

storage::RetryPolicy ShortPolicy(int attempts) {
  storage::RetryPolicy p;
  p.attempts = attempts;
  p.first_backoff = std::chrono::milliseconds(10);
  p.max_backoff = std::chrono::milliseconds(20);
  p.timeout = std::chrono::milliseconds(1000);
  return p;
}

TEST(S3StoreTest, OpenRefusesAnUnusableLocationAndNamesTheField) {
  S3Credentials creds{"AK", "SECRETVALUE", ""};
  S3Config c;
  c.endpoint = "ftp://host";
  c.bucket = "b";
  auto s = OpenS3Store(c, creds, {});
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("endpoint"), std::string::npos);
  c.endpoint = "http://host:9000/path";
  EXPECT_EQ(OpenS3Store(c, creds, {}).status().code(), absl::StatusCode::kInvalidArgument);
  c.endpoint = "http://host:9000";
  c.bucket = "";
  EXPECT_EQ(OpenS3Store(c, creds, {}).status().code(), absl::StatusCode::kInvalidArgument);
  c.bucket = "b";
  c.prefix = "a/../b";
  EXPECT_EQ(OpenS3Store(c, creds, {}).status().code(), absl::StatusCode::kInvalidArgument);
  c.prefix = "a/b";
  auto bad_creds = OpenS3Store(c, S3Credentials{"AK", "", ""}, {});
  EXPECT_EQ(bad_creds.status().code(), absl::StatusCode::kInvalidArgument);
  auto ok = OpenS3Store(c, creds, {});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->Describe(), "s3://host:9000/b/a/b");
}

class S3StoreServerTest : public ::testing::Test {
 protected:
  S3StoreServerTest() : server_({"bkt"}) {}

  void Put(const std::string& key, const std::string& body) {
    const auto s = PutS3ObjectForTest(server_.Config("bkt"), S3Server::Credentials(), key, body);
    ASSERT_TRUE(s.ok()) << s;
  }
  std::unique_ptr<storage::Store> Open(const std::string& prefix = "root",
                                       S3StoreOptionsForTest options = {}) {
    auto s = OpenS3StoreForTest(server_.Config("bkt", prefix), S3Server::Credentials(),
                                ShortPolicy(3), options);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  S3Server server_;
};

TEST_F(S3StoreServerTest, ListStatAndReadASmallTree) {
  std::string bin;
  for (int i = 0; i < 1000; ++i) bin.push_back(static_cast<char>(i * 7));
  Put("root/plain.txt", "hello");
  Put("root/empty", "");
  Put("root/dir with space/a+b=c.txt", "plus equals");
  Put("root/dir with space/\xC3\xBCnicode \xE2\x9C\x93.txt", "utf8");
  Put("root/nested/", "");  // a directory marker
  Put("root/nested/deep/x.bin", bin);
  Put("other/outside.txt", "not under the prefix");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), "s3://127.0.0.1:" + std::to_string(server_.port()) + "/bkt/root");

  auto root = ListAll(*store, "");
  ASSERT_EQ(root.size(), 4u);
  EXPECT_EQ(root["plain.txt"].type, StoreEntryType::kFile);
  EXPECT_EQ(root["plain.txt"].size, 5u);
  EXPECT_EQ(root["plain.txt"].etag, Md5Hex("hello"));
  EXPECT_GT(root["plain.txt"].mtime_ns, 1600000000LL * 1000000000);
  EXPECT_EQ(root["empty"].size, 0u);
  EXPECT_EQ(root["dir with space"].type, StoreEntryType::kDirectory);
  EXPECT_EQ(root["nested"].type, StoreEntryType::kDirectory);

  auto spaced = ListAll(*store, "dir with space");
  ASSERT_EQ(spaced.size(), 2u);
  EXPECT_EQ(spaced["a+b=c.txt"].size, 11u);
  EXPECT_EQ(spaced["\xC3\xBCnicode \xE2\x9C\x93.txt"].size, 4u);
  auto nested = ListAll(*store, "nested");  // the marker "nested/" is no child
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(nested["deep"].type, StoreEntryType::kDirectory);
  EXPECT_EQ(ListAll(*store, "nested/deep").size(), 1u);

  const auto missing = store->List("missing", [](StoreEntry&&) { return true; });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  EXPECT_NE(missing.message().find(store->Describe()), std::string::npos) << missing;
  const auto file = store->List("plain.txt", [](StoreEntry&&) { return true; });
  EXPECT_EQ(file.code(), absl::StatusCode::kFailedPrecondition) << file;

  auto st = store->Stat("dir with space/a+b=c.txt");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->type, StoreEntryType::kFile);
  EXPECT_EQ(st->size, 11u);
  EXPECT_EQ(st->etag, Md5Hex("plus equals"));
  EXPECT_EQ(st->mtime_ns % 1000000000, 0);
  EXPECT_GT(st->mtime_ns, 1600000000LL * 1000000000);
  auto sd = store->Stat("nested/deep");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->type, StoreEntryType::kDirectory);
  const auto sr = store->Stat("");
  ASSERT_TRUE(sr.ok()) << sr.status();
  EXPECT_EQ(sr->type, StoreEntryType::kDirectory);
  const auto nf = store->Stat("nope.txt");
  EXPECT_EQ(nf.status().code(), absl::StatusCode::kNotFound) << nf.status();
  EXPECT_NE(nf.status().message().find("root/nope.txt"), std::string::npos) << nf.status();

  const uint64_t read_before = store->counters().bytes_read.load();
  std::string buf(1000, '\0');
  auto n = store->ReadAt("nested/deep/x.bin", 0, buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1000u);
  EXPECT_EQ(buf, bin);
  n = store->ReadAt("nested/deep/x.bin", 100, buf.data(), 10);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(std::string(buf.data(), 10), bin.substr(100, 10));
  n = store->ReadAt("nested/deep/x.bin", 995, buf.data(), 100);  // the end
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(std::string(buf.data(), 5), bin.substr(995));
  n = store->ReadAt("nested/deep/x.bin", 1000, buf.data(), 10);  // at the end
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  n = store->ReadAt("nested/deep/x.bin", 5000, buf.data(), 10);  // past it
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  n = store->ReadAt("empty", 0, buf.data(), 10);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  n = store->ReadAt("dir with space/\xC3\xBCnicode \xE2\x9C\x93.txt", 0, buf.data(), 10);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(std::string(buf.data(), *n), "utf8");
  EXPECT_EQ(store->counters().bytes_read.load() - read_before, 1000u + 10 + 5 + 4);
  const auto gone = store->ReadAt("gone.bin", 0, buf.data(), 10);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_GT(store->counters().requests.load(), 10u);
  EXPECT_EQ(store->counters().retries.load(), 0u);
}

TEST_F(S3StoreServerTest, ListsHundredsOfKeysAPageAtATime) {
  std::set<std::string> want;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "k" + std::to_string(i);
    Put("root/many/" + name, std::to_string(i));
    want.insert(name);
  }
  Put("root/many/sub/x", "x");
  want.insert("sub");
  std::atomic<size_t> peak{0};
  auto store = Open("root", S3StoreOptionsForTest{7, &peak});
  ASSERT_NE(store, nullptr);
  std::set<std::string> got;
  const auto l = store->List("many", [&](StoreEntry&& e) {
    EXPECT_TRUE(got.insert(e.name).second) << e.name;
    return true;
  });
  ASSERT_TRUE(l.ok()) << l;
  EXPECT_EQ(got, want);
  // 301 entries, 7 a page: 43 requests, never more than one page held.
  EXPECT_EQ(store->counters().requests.load(), 43u);
  EXPECT_GT(peak.load(), 0u);
  EXPECT_LE(peak.load(), 7u);

  // Stopping early stops the requests too.
  const uint64_t before = store->counters().requests.load();
  int seen = 0;
  ASSERT_TRUE(store->List("many", [&](StoreEntry&&) { return ++seen < 10; }).ok());
  EXPECT_EQ(seen, 10);
  EXPECT_EQ(store->counters().requests.load() - before, 2u);
}

TEST_F(S3StoreServerTest, SeveralThreadsReadAtOnce) {
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    bodies.push_back(std::string(20000 + i, static_cast<char>('a' + i)));
    Put("root/t" + std::to_string(i), bodies.back());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string path = "t" + std::to_string(i);
      for (int round = 0; round < 5; ++round) {
        std::string buf(bodies[i].size() + 10, '\0');
        auto n = store->ReadAt(path, 0, buf.data(), buf.size());
        auto st = store->Stat(path);
        if (n.ok() && *n == bodies[i].size() && buf.substr(0, *n) == bodies[i] && st.ok() &&
            st->size == bodies[i].size()) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 20);
  EXPECT_EQ(store->counters().requests.load(), 40u);
  EXPECT_EQ(store->counters().bytes_read.load(), 5u * (20000 + 20001 + 20002 + 20003));
}

TEST_F(S3StoreServerTest, AWrongSecretIsPermissionDeniedAndTheSecretIsNotShown) {
  Put("root/a", "a");
  S3Credentials creds = S3Server::Credentials();
  creds.secret_access_key = "WRONG-SECRET-XYZ";
  auto store = OpenS3Store(server_.Config("bkt", "root"), creds, ShortPolicy(3));
  ASSERT_TRUE(store.ok());
  const auto l = (*store)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(l.code(), absl::StatusCode::kPermissionDenied) << l;
  EXPECT_NE(l.message().find("SignatureDoesNotMatch"), std::string::npos) << l;
  EXPECT_NE(l.message().find((*store)->Describe()), std::string::npos) << l;
  EXPECT_EQ(l.message().find("WRONG-SECRET-XYZ"), std::string::npos) << l;
  const auto st = (*store)->Stat("a");  // HEAD has no body: the listing names the code
  ASSERT_EQ(st.status().code(), absl::StatusCode::kPermissionDenied) << st.status();
  EXPECT_NE(st.status().message().find("SignatureDoesNotMatch"), std::string::npos);
  char buf[4];
  const auto r = (*store)->ReadAt("a", 0, buf, 1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_EQ((*store)->counters().retries.load(), 0u);

  creds.access_key_id = "NOBODY";
  auto stranger = OpenS3Store(server_.Config("bkt", "root"), creds, ShortPolicy(3));
  ASSERT_TRUE(stranger.ok());
  const auto s = (*stranger)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_NE(s.message().find("InvalidAccessKeyId"), std::string::npos) << s;
}

// The raw request seam a test sets a bucket up with (the Ceph test: a
// bucket with Object Lock): a bucket made by a signed PUT is then usable.
TEST_F(S3StoreServerTest, ATestMakesABucketWithASignedRequest) {
  S3TestRequest make;
  make.method = "PUT";
  std::string error;
  auto code = S3RequestForTest(server_.Config("made"), S3Server::Credentials(), make, &error);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 200) << error;
  ASSERT_TRUE(PutS3ObjectForTest(server_.Config("made"), S3Server::Credentials(), "a/b", "x").ok());
  auto store = OpenS3Store(server_.Config("made", "a"), S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(store.ok());
  auto e = (*store)->Stat("b");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->size, 1u);
  S3TestRequest lock;
  lock.query = {{"object-lock", ""}};
  code = S3RequestForTest(server_.Config("made"), S3Server::Credentials(), lock, &error);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 501);
  EXPECT_NE(error.find("NotImplemented"), std::string::npos) << error;
}

TEST_F(S3StoreServerTest, AMissingBucketIsFailedPrecondition) {
  auto store =
      OpenS3Store(server_.Config("nobucket", "root"), S3Server::Credentials(), ShortPolicy(3));
  ASSERT_TRUE(store.ok());
  const auto l = (*store)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(l.code(), absl::StatusCode::kFailedPrecondition) << l;
  EXPECT_NE(l.message().find("bucket nobucket does not exist at " + server_.endpoint()),
            std::string::npos)
      << l;
  EXPECT_EQ((*store)->Stat("x").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->Stat("").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(S3StoreStandInTest, AServerThatNeverAnswersIsUnavailableAfterTheRetries) {
  testing::LoopbackPort hanging(testing::LoopbackPort::Kind::kHanging);
  S3Config c;
  c.endpoint = "http://127.0.0.1:" + std::to_string(hanging.port());
  c.bucket = "bkt";
  auto store = OpenS3Store(c, S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(store.ok());
  const auto start = std::chrono::steady_clock::now();
  const auto l = (*store)->List("", [](StoreEntry&&) { return true; });
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(l.code(), absl::StatusCode::kUnavailable) << l;
  EXPECT_NE(l.message().find("after 2 attempts"), std::string::npos) << l;
  EXPECT_NE(l.message().find((*store)->Describe()), std::string::npos) << l;
  EXPECT_EQ((*store)->counters().requests.load(), 2u);
  EXPECT_EQ((*store)->counters().retries.load(), 1u);
  // Two stalls of the 1 s timeout, not curl's default of forever.
  EXPECT_GE(took, std::chrono::milliseconds(1500));
  EXPECT_LT(took, std::chrono::seconds(15));
}

// A stand-in S3 endpoint for the bucket "bkt": answers its first `fail_first`
// requests with 503 SlowDown, then `body` with status 200.
class StandIn {
 public:
  // `cert`/`key`: serve HTTPS with them (PEM files) instead of HTTP.
  StandIn(int fail_first, std::string body, const std::string& cert = "",
          const std::string& key = "")
      : server_(cert.empty() ? std::make_unique<httplib::Server>()
                             : std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str())),
        scheme_(cert.empty() ? "http" : "https"),
        fail_first_(fail_first),
        body_(std::move(body)) {
    server_->Get("/(bkt)?", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        hosts_.push_back(req.get_header_value("Host") + " " + req.path);
      }
      if (seen_.fetch_add(1) < fail_first_) {
        res.status = 503;
        res.set_content(
            "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
            "<Message>Please reduce your request rate.</Message></Error>",
            "application/xml");
        return;
      }
      res.status = 200;
      res.set_content(body_, "application/xml");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    if (!testing::WaitFor([this] { return server_->is_running(); }, std::chrono::seconds(10),
                          std::chrono::milliseconds(2))) {
      ADD_FAILURE() << "the stand-in did not start";
    }
  }
  ~StandIn() {
    server_->stop();
    thread_.join();
  }
  S3Config Config() const {
    S3Config c;
    c.endpoint = scheme_ + "://127.0.0.1:" + std::to_string(port_);
    c.bucket = "bkt";
    return c;
  }
  int seen() const { return seen_.load(); }
  int port() const { return port_; }
  // "HOST PATH" of each request.
  std::vector<std::string> hosts() {
    std::lock_guard lock(mu_);
    return hosts_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> hosts_;
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_;
  int port_ = 0;
  std::thread thread_;
  int fail_first_;
  std::string body_;
  std::atomic<int> seen_{0};
};

TEST(S3StoreStandInTest, TwoSlowDownsThenTheAnswerIsASuccessWithTwoRetries) {
  StandIn s(2,
            "<ListBucketResult><IsTruncated>false</IsTruncated>"
            "<Contents><Key>f.txt</Key><Size>3</Size>"
            "<ChecksumSHA256>LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=</ChecksumSHA256>"
            "</Contents></ListBucketResult>");
  auto store = OpenS3Store(s.Config(), S3Server::Credentials(), ShortPolicy(5));
  ASSERT_TRUE(store.ok());
  std::vector<StoreEntry> got;
  const auto l = (*store)->List("", [&](StoreEntry&& e) {
    got.push_back(std::move(e));
    return true;
  });
  ASSERT_TRUE(l.ok()) << l;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "f.txt");
  EXPECT_EQ(got[0].size, 3u);
  EXPECT_EQ(got[0].checksum_sha256.size(), 32u);
  EXPECT_EQ((*store)->counters().retries.load(), 2u);
  EXPECT_EQ((*store)->counters().requests.load(), 3u);
  EXPECT_EQ(s.seen(), 3);

  // Fewer attempts than failures: Unavailable naming the S3 code.
  StandIn again(2, "<ListBucketResult/>");
  auto impatient = OpenS3Store(again.Config(), S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(impatient.ok());
  const auto u = (*impatient)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(u.code(), absl::StatusCode::kUnavailable) << u;
  EXPECT_NE(u.message().find("503 SlowDown"), std::string::npos) << u;
}

TEST(S3StoreStandInTest, VirtualHostAddressingPutsTheBucketInTheHostName) {
  StandIn s(
      0, "<ListBucketResult><Contents><Key>d/f</Key><Size>1</Size></Contents></ListBucketResult>");
  S3Config c = s.Config();
  c.endpoint = "http://localhost:" + std::to_string(s.port());  // *.localhost is loopback
  c.virtual_host = true;
  c.prefix = "d";
  auto store = OpenS3Store(c, S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Describe(), "s3://localhost:" + std::to_string(s.port()) + "/bkt/d");
  int n = 0;
  const auto l = (*store)->List("", [&](StoreEntry&& e) {
    EXPECT_EQ(e.name, "f");
    ++n;
    return true;
  });
  ASSERT_TRUE(l.ok()) << l;
  EXPECT_EQ(n, 1);
  EXPECT_EQ(s.hosts(),
            std::vector<std::string>{"bkt.localhost:" + std::to_string(s.port()) + " /"});
}

TEST(S3StoreStandInTest, HttpsTrustsTheCaFileAndRefusesAnUntrustedCertificate) {
  testing::TempDir certs;
  const testing::RunResult made = testing::RunProcess(
      {std::string(VIGIL_SOURCE_DIR) + "/deploy/make-certs.sh", certs.path(), "localhost"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  StandIn s(0,
            "<ListBucketResult><Contents><Key>f</Key><Size>1</Size></Contents></ListBucketResult>",
            certs.path() + "/coordinator.crt", certs.path() + "/coordinator.key");
  S3Config c = s.Config();
  ASSERT_EQ(c.endpoint.rfind("https://", 0), 0u);
  c.ca_file = certs.path() + "/ca.crt";
  auto trusted = OpenS3Store(c, S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(trusted.ok());
  int n = 0;
  const auto l = (*trusted)->List("", [&](StoreEntry&&) { return ++n > 0; });
  ASSERT_TRUE(l.ok()) << l;
  EXPECT_EQ(n, 1);

  c.ca_file = "";  // the system's CAs do not know the test CA
  auto untrusted = OpenS3Store(c, S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(untrusted.ok());
  const auto u = (*untrusted)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(u.code(), absl::StatusCode::kFailedPrecondition) << u;
  EXPECT_NE(u.message().find((*untrusted)->Describe()), std::string::npos) << u;
  EXPECT_EQ((*untrusted)->counters().retries.load(), 0u);  // not transient: no retry
}

TEST(S3StoreStandInTest, AListingThatIsNotXmlIsDataLossNamingTheRequestAndByte) {
  StandIn s(0, "<ListBucketResult><Contents><Key>a</Key></Contents><oops></ListBucketResult>");
  auto store = OpenS3Store(s.Config(), S3Server::Credentials(), ShortPolicy(3));
  ASSERT_TRUE(store.ok());
  const auto l = (*store)->List("", [](StoreEntry&&) { return true; });
  ASSERT_EQ(l.code(), absl::StatusCode::kDataLoss) << l;
  EXPECT_NE(l.message().find("ListObjectsV2 of prefix '' (page 1)"), std::string::npos) << l;
  EXPECT_NE(l.message().find("not XML at byte 59: mismatched tag"), std::string::npos) << l;
  EXPECT_EQ((*store)->counters().retries.load(), 0u);
}

// What a bucket says of itself and of an object, from a stand-in that
// answers as AWS documents: versioning and Object Lock with a default
// retention, an object's lock headers on HEAD; then a bucket whose
// versioning may not be read (403: not measured, why) and that has no
// Object Lock configuration (404 ObjectLockConfigurationNotFoundError: off).
TEST(S3StoreStandInTest, FactsAndAnObjectsRetentionAsTheBucketSaysThem) {
  std::atomic<bool> locked{true};
  httplib::Server server;
  server.Get("/bkt", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("versioning")) {
      if (!locked) {
        res.status = 403;
        res.set_content("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                        "application/xml");
        return;
      }
      res.set_content(
          "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
          "<Status>Enabled</Status></VersioningConfiguration>",
          "application/xml");
    } else if (req.has_param("object-lock")) {
      if (!locked) {
        res.status = 404;
        res.set_content(
            "<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>Object Lock "
            "configuration does not exist for this bucket</Message></Error>",
            "application/xml");
        return;
      }
      res.set_content(
          "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
          "<DefaultRetention><Mode>COMPLIANCE</Mode><Years>1</Years></DefaultRetention></Rule>"
          "</ObjectLockConfiguration>",
          "application/xml");
    } else {
      res.status = 400;
    }
  });
  server.Get("/bkt/obj", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"5d41402abc4b2a76b9719d911017c592\"");
    res.set_header("x-amz-object-lock-mode", "COMPLIANCE");
    res.set_header("x-amz-object-lock-retain-until-date", "2100-01-01T00:00:00.000Z");
    res.set_header("x-amz-object-lock-legal-hold", "ON");
    res.set_content("hello", "application/octet-stream");
  });
  // Encrypted objects, whose ETag is not the MD5 of their content (AWS's
  // "Checking object integrity": SSE-KMS, SSE-C); SSE-S3 (AES256) keeps it.
  server.Get("/bkt/kms", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"0123456789abcdef0123456789abcdef\"");
    res.set_header("x-amz-server-side-encryption", "aws:kms");
    res.set_content("hello", "application/octet-stream");
  });
  server.Get("/bkt/ssec", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"0123456789abcdef0123456789abcdef\"");
    res.set_header("x-amz-server-side-encryption-customer-algorithm", "AES256");
    res.set_content("hello", "application/octet-stream");
  });
  server.Get("/bkt/sse-s3", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"5d41402abc4b2a76b9719d911017c592\"");
    res.set_header("x-amz-server-side-encryption", "AES256");
    res.set_content("hello", "application/octet-stream");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  ASSERT_TRUE(testing::WaitFor([&] { return server.is_running(); }, std::chrono::seconds(10),
                               std::chrono::milliseconds(2)));
  S3Config c;
  c.endpoint = "http://127.0.0.1:" + std::to_string(port);
  c.bucket = "bkt";
  auto store = OpenS3Store(c, S3Server::Credentials(), ShortPolicy(2));
  ASSERT_TRUE(store.ok()) << store.status();
  for (const auto& [key, not_md5] : std::vector<std::pair<std::string, bool>>{
           {"kms", true}, {"ssec", true}, {"sse-s3", false}, {"obj", false}}) {
    auto o = (*store)->Stat(key);
    ASSERT_TRUE(o.ok()) << key << ": " << o.status();
    EXPECT_EQ(o->etag_not_md5, not_md5) << key;
  }
  storage::StoreFacts f = (*store)->Facts();
  EXPECT_EQ(f.versioning, storage::StoreFact::kOn);
  EXPECT_EQ(f.versioning_status, "Enabled");
  EXPECT_EQ(f.object_lock, storage::StoreFact::kOn);
  EXPECT_EQ(f.default_mode, "COMPLIANCE");
  EXPECT_EQ(f.default_years, 1u);
  EXPECT_EQ(f.default_days, 0u);
  auto e = (*store)->Stat("obj");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->lock_known);
  EXPECT_EQ(e->lock_mode, "COMPLIANCE");
  EXPECT_EQ(e->lock_until_ns, int64_t{4102444800} * 1'000'000'000);
  EXPECT_TRUE(e->legal_hold);
  EXPECT_EQ(e->etag, "5d41402abc4b2a76b9719d911017c592");

  locked = false;
  f = (*store)->Facts();
  EXPECT_EQ(f.versioning, storage::StoreFact::kUnknown);
  EXPECT_EQ(f.versioning_unknown, "s3://127.0.0.1:" + std::to_string(port) +
                                      "/bkt: not allowed to ask (GetBucketVersioning: HTTP 403 "
                                      "AccessDenied: Access Denied)");
  EXPECT_EQ(f.object_lock, storage::StoreFact::kOff);
  EXPECT_EQ(f.object_lock_unknown, "");
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace vigil::worker::remote
