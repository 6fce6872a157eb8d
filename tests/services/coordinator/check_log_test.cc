#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <thread>
#include <vector>

#include "services/coordinator/check_log_writer.h"
#include "storage/rocks_kv.h"
#include "tests/support/temp_dir.h"

namespace vigil::check_log {
namespace {

using storage::Space;
using storage::Status;

class CheckLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = storage::OpenRocksKv(tmp_ / "db");
    ASSERT_TRUE(kv.ok()) << kv.status();
    kv_ = *std::move(kv);
  }
  void TearDown() override { kv_.reset(); }

  void AppendN(std::string_view tenant, int n) {
    for (int i = 1; i <= n; ++i) {
      auto h = Append(*kv_, tenant, "{\"check\":" + std::to_string(i) + ",\"verdict\":\"pass\"}",
                      1'700'000'000'000'000'000 + i);
      ASSERT_TRUE(h.ok()) << h.status();
    }
  }
  std::string Get(const std::string& key) {
    std::string v;
    EXPECT_TRUE(kv_->Get(Space::kResults, key, &v).ok()) << key;
    return v;
  }
  void Put(const std::string& key, const std::string& value) {
    storage::KvBatch b;
    b.Put(Space::kResults, key, value);
    ASSERT_TRUE(kv_->Write(b, {}).ok());
  }
  void Delete(const std::string& key) {
    storage::KvBatch b;
    b.Delete(Space::kResults, key);
    ASSERT_TRUE(kv_->Write(b, {}).ok());
  }
  std::string VerifyError(std::string_view tenant) {
    Status s = Verify(*kv_, tenant);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    return std::string(s.message());
  }

  vigil::testing::TempDir tmp_;
  std::unique_ptr<storage::KvStore> kv_;
};

std::string Sha256(std::string_view data) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Hex(std::string_view s) {
  std::string out;
  char b[3];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

// The record bytes, written out byte by byte from the documented format, and
// hashed independently.
TEST_F(CheckLogTest, RecordBytesAndChainMatchTheDocumentedFormat) {
  auto h1 = Append(*kv_, "acme", "{}", 258);
  ASSERT_TRUE(h1.ok());
  std::string rec1 = std::string("\x01", 1) + std::string("\0\0\0\x04", 4) + "acme" +
                     std::string("\0\0\0\0\0\0\0\x01", 8) + std::string("\0\0\0\0\0\0\x01\x02", 8) +
                     std::string(32, '\0') + std::string("\0\0\0\x02", 4) + "{}";
  EXPECT_EQ(h1->seq, 1u);
  EXPECT_EQ(HashHex(h1->hash), Hex(Sha256(rec1)));
  EXPECT_EQ(Get(LogKey("acme", 1)), rec1 + Sha256(rec1));
  EXPECT_EQ(LogKey("acme", 1), std::string("log/acme\0\x01\0\0\0\0\0\0\0\x01", 18));
  EXPECT_EQ(HeadKey("acme"), std::string("head/acme\0\x01", 11));

  auto h2 = Append(*kv_, "acme", "x", -1);
  ASSERT_TRUE(h2.ok());
  std::string rec2 = std::string("\x01", 1) + std::string("\0\0\0\x04", 4) + "acme" +
                     std::string("\0\0\0\0\0\0\0\x02", 8) + std::string(8, '\xff') + Sha256(rec1) +
                     std::string("\0\0\0\x01", 4) + "x";
  EXPECT_EQ(HashHex(h2->hash), Hex(Sha256(rec2)));
  EXPECT_EQ(Get(HeadKey("acme")), std::string("\0\0\0\0\0\0\0\x02", 8) + Sha256(rec2));
}

TEST_F(CheckLogTest, AppendHundredVerifies) {
  auto empty = Head(*kv_, "acme");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->seq, 0u);
  EXPECT_TRUE(Verify(*kv_, "acme").ok());  // an empty log is intact

  AppendN("acme", 100);
  LogHead verified;
  Status s = Verify(*kv_, "acme", &verified);
  ASSERT_TRUE(s.ok()) << s;
  auto head = Head(*kv_, "acme");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 100u);
  EXPECT_EQ(verified.seq, 100u);
  EXPECT_EQ(verified.hash, head->hash);

  int n = 0;
  ASSERT_TRUE(Scan(*kv_, "acme", [&](const LogRecord& r, const Hash&) {
                ++n;
                EXPECT_EQ(r.seq, static_cast<uint64_t>(n));
                EXPECT_EQ(r.payload, "{\"check\":" + std::to_string(n) + ",\"verdict\":\"pass\"}");
                return true;
              }).ok());
  EXPECT_EQ(n, 100);
}

TEST_F(CheckLogTest, EditedPayloadByteIsNamed) {
  AppendN("acme", 100);
  std::string v = Get(LogKey("acme", 37));
  size_t pos = v.find("pass");
  ASSERT_NE(pos, std::string::npos);
  v[pos] = 'f';  // "pass" -> "fass"
  Put(LogKey("acme", 37), v);
  std::string err = VerifyError("acme");
  EXPECT_NE(err.find("seq 37"), std::string::npos) << err;
  EXPECT_NE(err.find("hash mismatch"), std::string::npos) << err;
}

// Rewriting a record *and* its stored hash is caught by the next link.
TEST_F(CheckLogTest, RehashedRecordBreaksTheNextLink) {
  AppendN("acme", 10);
  std::string v = Get(LogKey("acme", 4));
  LogRecord r;
  ASSERT_TRUE(DecodeRecord(std::string_view(v).substr(0, v.size() - 32), &r).ok());
  r.payload = "{\"verdict\":\"pass\",\"forged\":true}";
  std::string bytes = EncodeRecord(r);
  Hash h = RecordHash(bytes);
  Put(LogKey("acme", 4), bytes + std::string(h.begin(), h.end()));
  std::string err = VerifyError("acme");
  EXPECT_NE(err.find("seq 5"), std::string::npos) << err;
  EXPECT_NE(err.find("prev link broken"), std::string::npos) << err;
}

TEST_F(CheckLogTest, DeletedMiddleRecordIsAGap) {
  AppendN("acme", 100);
  Delete(LogKey("acme", 50));
  std::string err = VerifyError("acme");
  EXPECT_NE(err.find("seq 50"), std::string::npos) << err;
  EXPECT_NE(err.find("gap"), std::string::npos) << err;
}

TEST_F(CheckLogTest, DeletedLastRecordsAreCaughtByTheHead) {
  AppendN("acme", 20);
  Delete(LogKey("acme", 20));
  Delete(LogKey("acme", 19));
  std::string err = VerifyError("acme");
  EXPECT_NE(err.find("seq 19"), std::string::npos) << err;
  EXPECT_NE(err.find("gap"), std::string::npos) << err;
  Delete(HeadKey("acme"));
  err = VerifyError("acme");
  EXPECT_NE(err.find("head record missing"), std::string::npos) << err;
}

TEST_F(CheckLogTest, ReorderedRecordsBreakTheLink) {
  AppendN("acme", 100);
  std::string a = Get(LogKey("acme", 60)), b = Get(LogKey("acme", 61));
  Put(LogKey("acme", 60), b);
  Put(LogKey("acme", 61), a);
  std::string err = VerifyError("acme");
  EXPECT_NE(err.find("seq 60"), std::string::npos) << err;
  EXPECT_NE(err.find("link broken"), std::string::npos) << err;
}

TEST_F(CheckLogTest, TenantsAreSeparate) {
  AppendN("acme", 5);
  AppendN(std::string("acme\0x", 6), 3);  // a NUL in a name does not merge ranges
  AppendN("beta", 2);
  ASSERT_TRUE(Verify(*kv_, "acme").ok());
  ASSERT_TRUE(Verify(*kv_, std::string("acme\0x", 6)).ok());
  EXPECT_EQ(Head(*kv_, "beta")->seq, 2u);
  auto tenants = Tenants(*kv_);
  ASSERT_TRUE(tenants.ok());
  EXPECT_EQ(*tenants, (std::vector<std::string>{"acme", std::string("acme\0x", 6), "beta"}));

  // A record copied from another tenant's log is caught.
  Put(LogKey("beta", 1), Get(LogKey("acme", 1)));
  std::string err = VerifyError("beta");
  EXPECT_NE(err.find("seq 1"), std::string::npos) << err;
  EXPECT_TRUE(Verify(*kv_, "acme").ok());
}

TEST_F(CheckLogTest, ScanStartsAtTheSeqAsked) {
  AppendN("acme", 10);
  AppendN("acmf", 2);  // the next tenant's range is not read into
  auto seqs_from = [&](uint64_t first) {
    std::vector<uint64_t> seqs;
    Status s = Scan(
        *kv_, "acme",
        [&](const LogRecord& r, const Hash&) {
          seqs.push_back(r.seq);
          return true;
        },
        first);
    EXPECT_TRUE(s.ok()) << s;
    return seqs;
  };
  EXPECT_EQ(seqs_from(1).size(), 10u);
  EXPECT_EQ(seqs_from(8), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_TRUE(seqs_from(11).empty());
}

TEST_F(CheckLogTest, ConcurrentAppendsStayChained) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto h = Append(*kv_, "acme", "{\"t\":" + std::to_string(t) + "}", i);
        EXPECT_TRUE(h.ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  LogHead head;
  Status s = Verify(*kv_, "acme", &head);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(head.seq, 100u);
}

TEST_F(CheckLogTest, DecodeRejectsGarbage) {
  LogRecord r{"t", 3, 5, {}, "payload"};
  std::string good = EncodeRecord(r);
  LogRecord out;
  ASSERT_TRUE(DecodeRecord(good, &out).ok());
  EXPECT_EQ(out.payload, "payload");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeRecord(good.substr(0, cut), &out).ok()) << cut;
  }
  EXPECT_FALSE(DecodeRecord(good + "x", &out).ok());
  std::string v2 = good;
  v2[0] = 2;
  EXPECT_FALSE(DecodeRecord(v2, &out).ok());
}

}  // namespace
}  // namespace vigil::check_log
