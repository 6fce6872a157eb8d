// `vigil keys ...` and `vigil log verify` as a user runs them: the real
// binary, its exit codes and messages.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "services/common/signing.h"
#include "services/coordinator/check_log_writer.h"
#include "services/coordinator/proofs.h"
#include "services/proofs/proof_verify.h"
#include "storage/catalogue.h"
#include "storage/rocks_kv.h"
#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

RunResult Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), VigilBin());
  return RunProcess(args);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ProofCliTest, KeysInitRotateList) {
  TempDir tmp;
  std::string dir = tmp / "keys";
  RunResult init = Vigil({"keys", "init", "--dir", dir});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  struct stat st;
  ASSERT_EQ(::stat((dir + "/msp.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto ring1 = signing::KeyRing::Open(dir);
  ASSERT_TRUE(ring1.ok()) << ring1.status();
  EXPECT_NE(init.out.find(ring1->current().key_id), std::string::npos) << init.out;
  std::string key_before = Slurp(dir + "/msp.key");

  RunResult again = Vigil({"keys", "init", "--dir", dir});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find(dir + "/msp.key already exists"), std::string::npos) << again.err;
  EXPECT_EQ(Slurp(dir + "/msp.key"), key_before);

  auto old_sig = ring1->Sign("proof of october");
  ASSERT_TRUE(old_sig.ok());
  RunResult rotate = Vigil({"keys", "rotate", "--dir", dir});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  auto ring2 = signing::KeyRing::Open(dir);
  ASSERT_TRUE(ring2.ok());
  EXPECT_NE(ring2->current().key_id, ring1->current().key_id);
  EXPECT_TRUE(ring2->Verify("proof of october", *old_sig).ok());

  RunResult list = Vigil({"keys", "list", "--dir", dir});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(ring1->current().key_id), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(ring2->current().key_id + "  yes"), std::string::npos) << list.out;

  RunResult missing = Vigil({"keys", "list", "--dir", tmp / "none"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find(tmp / "none/msp.key"), std::string::npos) << missing.err;
}

TEST(ProofCliTest, KeysDefaultDirFollowsXdg) {
  TempDir tmp;
  RunResult r =
      RunProcess({"/usr/bin/env", "XDG_CONFIG_HOME=" + tmp.path(), VigilBin(), "keys", "init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st;
  EXPECT_EQ(::stat((tmp / "vigil/keys/msp.key").c_str(), &st), 0);
}

// A proof issued by main's code before the statement named last clean
// points (commit 5b8ca52, by the coordinator's MakeReport; kept in
// tests/services/coordinator/testdata/proof_v1) still verifies offline.
TEST(ProofVerifyCliTest, AProofIssuedBeforeLastCleanPointsStillVerifies) {
  const std::string dir =
      std::string(VIGIL_SOURCE_DIR) + "/tests/services/coordinator/testdata/proof_v1";
  ASSERT_EQ(Slurp(dir + "/acme-1.proof.json").find("last_clean"), std::string::npos);
  RunResult r = Vigil({"proof", "verify", dir + "/acme-1.proof.json", "--key", dir + "/msp.pub"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("last clean point"), std::string::npos) << r.out;
}

// The statement names each asset's last clean point, as its report's
// readiness does; `vigil proof verify` checks the two agree and shows them.
TEST(ProofVerifyCliTest, TheStatementNamesTheLastCleanPoints) {
  TempDir tmp;
  auto cat = storage::Catalogue::Open(tmp / "db");
  ASSERT_TRUE(cat.ok()) << cat.status();
  auto ring = signing::KeyRing::Init(tmp / "keys");
  ASSERT_TRUE(ring.ok()) << ring.status();
  const nlohmann::json clean = {{"backup_set", "fs-nas"},
                                {"name", "2026-10-03"},
                                {"time", "2026-10-03T02:00:00+00:00"},
                                {"time_ns", 1'790'996'400'000'000'000},
                                {"summary", "last clean point: fs-nas/2026-10-03 (taken ...)"}};
  nlohmann::json report = {
      {"format", "vigil.report/1"},
      {"tenant", {{"name", "acme"}, {"time_zone", "UTC"}}},
      {"period", {{"label", "2026-10"}}},
      {"backup_sets", nlohmann::json::array()},
      {"readiness", nlohmann::json::array({{{"asset", "fs"}, {"last_clean_point", clean}},
                                           {{"asset", "mail"}, {"last_clean_point", nullptr}},
                                           {{"asset", "old"}}})}};
  auto p = coordinator::IssueProof(**cat, *ring, "acme", report, 1'791'000'000'000'000'000);
  ASSERT_TRUE(p.ok()) << p.status();
  const nlohmann::json st = nlohmann::json::parse(p->statement);
  EXPECT_EQ(st["last_clean_points"],
            nlohmann::json::array({{{"asset", "fs"},
                                    {"point",
                                     {{"backup_set", "fs-nas"},
                                      {"name", "2026-10-03"},
                                      {"time", "2026-10-03T02:00:00+00:00"},
                                      {"time_ns", 1'790'996'400'000'000'000}}}},
                                   {{"asset", "mail"}, {"point", nullptr}}}))
      << st["last_clean_points"].dump();
  const std::string proof = tmp / "acme-1.proof.json";
  std::ofstream(proof, std::ios::binary) << p->statement;
  std::ofstream(proof + ".sig", std::ios::binary) << p->signature;
  RunResult r = Vigil({"proof", "verify", proof, "--key", tmp / "keys/msp.pub"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("last clean point of fs: fs-nas/2026-10-03 (2026-10-03T02:00:00+00:00)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("last clean point of mail: none"), std::string::npos) << r.out;

  // Signed, but naming another point than its report: refused.
  nlohmann::json forged = st;
  forged["last_clean_points"][0]["point"]["name"] = "2026-10-04";
  const std::string bytes = forged.dump();
  auto sig = ring->Sign(bytes);
  ASSERT_TRUE(sig.ok());
  std::ofstream(proof, std::ios::binary | std::ios::trunc) << bytes;
  std::ofstream(proof + ".sig", std::ios::binary | std::ios::trunc) << proofs::SignatureJson(*sig);
  r = Vigil({"proof", "verify", proof, "--key", tmp / "keys/msp.pub"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("statement: last_clean_points differ from the report's readiness"),
            std::string::npos)
      << r.out;
}

class LogVerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = storage::OpenRocksKv(tmp_ / "db");
    ASSERT_TRUE(kv.ok()) << kv.status();
    for (int i = 1; i <= 30; ++i) {
      ASSERT_TRUE(
          check_log::Append(**kv, "acme", "{\"n\":" + std::to_string(i) + "}", i * 1000).ok());
    }
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(check_log::Append(**kv, "beta", "{}", i).ok());
  }
  // Applies fn to the closed database, then closes it again.
  template <typename Fn>
  void Edit(Fn fn) {
    auto kv = storage::OpenRocksKv(tmp_ / "db");
    ASSERT_TRUE(kv.ok()) << kv.status();
    fn(**kv);
  }
  TempDir tmp_;
};

TEST_F(LogVerifyCliTest, IntactThenBroken) {
  RunResult ok = Vigil({"log", "verify", "--data", tmp_.path()});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("acme: intact, 30 records"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("beta: intact, 5 records"), std::string::npos) << ok.out;

  Edit([](storage::KvStore& kv) {
    std::string v;
    ASSERT_TRUE(kv.Get(storage::Space::kResults, check_log::LogKey("acme", 12), &v).ok());
    size_t pos = v.find("{\"n\":12}");
    ASSERT_NE(pos, std::string::npos);
    v[pos + 5] = '9';
    storage::KvBatch b;
    b.Put(storage::Space::kResults, check_log::LogKey("acme", 12), v);
    ASSERT_TRUE(kv.Write(b, {}).ok());
  });
  RunResult bad = Vigil({"log", "verify", "--data", tmp_.path()});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("acme: BROKEN"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("seq 12: hash mismatch"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("beta: intact"), std::string::npos) << bad.out;

  // Only the tenant asked for.
  RunResult beta = Vigil({"log", "verify", "--data", tmp_.path(), "beta"});
  EXPECT_EQ(beta.exit_code, 0) << beta.out << beta.err;
  EXPECT_EQ(beta.out.find("acme"), std::string::npos) << beta.out;

  Edit([](storage::KvStore& kv) {
    storage::KvBatch b;
    b.Delete(storage::Space::kResults, check_log::LogKey("beta", 3));
    ASSERT_TRUE(kv.Write(b, {}).ok());
  });
  RunResult gap = Vigil({"log", "verify", "--data", tmp_.path(), "beta"});
  EXPECT_EQ(gap.exit_code, 1);
  EXPECT_NE(gap.out.find("seq 3: gap in seq"), std::string::npos) << gap.out;
}

TEST_F(LogVerifyCliTest, UsageAndADatabaseInUse) {
  EXPECT_EQ(Vigil({"log", "verify"}).exit_code, 2);
  RunResult none = Vigil({"log", "verify", "--data", tmp_ / "nothing"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no coordinator database"), std::string::npos) << none.err;
  // While another opener (the coordinator) holds the database's lock: the
  // read-only open still reads it.
  auto kv = storage::OpenRocksKv(tmp_ / "db");
  ASSERT_TRUE(kv.ok());
  RunResult in_use = Vigil({"log", "verify", "--data", tmp_.path()});
  EXPECT_EQ(in_use.exit_code, 0) << in_use.out << in_use.err;
}

}  // namespace
}  // namespace vigil::testing
