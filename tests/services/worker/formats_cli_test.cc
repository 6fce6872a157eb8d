// `vigil verify --format bagit|sumfile` as a user runs it: the real binary
// ($VIGIL_BIN), its exit codes, stdout, stderr and JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/hash.h"
#include "tests/integration/test_util.h"
#include "tests/services/worker/bag_builder.h"

namespace vigil::testing {
namespace {

using json = nlohmann::json;

class FormatsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bag_.payload["data/a.txt"] = "alpha\n";
    bag_.payload["data/b/c.bin"] = std::string(5000, 'c');
    bag_.Build();
  }
  RunResult Vigil(std::vector<std::string> args) {
    args.insert(args.begin(), {VigilBin(), "verify"});
    return RunProcess(args);
  }
  static json Parse(const std::string& out) {
    json j = json::parse(out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << out;
    return j;
  }

  TempDir dir_;
  BagBuilder bag_{dir_ / "bag"};
};

TEST_F(FormatsCliTest, ValidBagExitsZero) {
  RunResult r = Vigil({"--format", "bagit", bag_.root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Result: OK, valid bag"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BagIt 1.0 (UTF-8)"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(FormatsCliTest, InvalidBagExitsOneWithErrorsOnStdout) {
  WriteFile(bag_.Path("data/a.txt"), "alphA\n");
  RunResult r = Vigil({"--format", "bagit", bag_.root});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("manifest-sha256.txt:1: digest mismatch for data/a.txt"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Result: INVALID, 2 errors"), std::string::npos) << r.out;
}

TEST_F(FormatsCliTest, WarningsGoToStderr) {
  ASSERT_EQ(::unlink(bag_.Path("data/b/c.bin").c_str()), 0);
  WriteFile(bag_.Path("fetch.txt"), "https://example.org/c.bin 5000 data/b/c.bin\n");
  RunResult r = Vigil({"--format", "bagit", bag_.root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: fetch.txt:1: data/b/c.bin is absent"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("warning:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("incomplete"), std::string::npos) << r.out;
}

TEST_F(FormatsCliTest, BagJson) {
  ::unlink(bag_.Path("data/a.txt").c_str());
  RunResult r = Vigil({"--format", "bagit", "--json", bag_.root});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  json j = Parse(r.out);
  EXPECT_EQ(j["format"], "bagit");
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["algorithms"], json({"sha256", "sha512"}));
  EXPECT_EQ(j["payload"]["files"], 1);
  EXPECT_EQ(j["bagging_date"], "2024-06-01");
  EXPECT_EQ(j["payload_oxum"]["streams"], 2);
  ASSERT_TRUE(j["errors"].is_array());
  bool found = false;
  for (const auto& e : j["errors"]) {
    if (e["code"] == "missing" && e["file"] == "manifest-sha256.txt" && e["line"] == 1 &&
        e["path"] == "data/a.txt") {
      found = true;
    }
  }
  EXPECT_TRUE(found) << j["errors"].dump(2);
}

TEST_F(FormatsCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Vigil({"--format", "bagit", dir_ / "nonexistent"}).exit_code, 2);
  EXPECT_EQ(Vigil({"--format", "bagit", bag_.Path("bagit.txt")}).exit_code, 2);
  RunResult r = Vigil({"--format", "bagit", "--catalogue", dir_ / "cat", bag_.root});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--catalogue applies to --format dir only"), std::string::npos) << r.err;
  EXPECT_EQ(Vigil({"--format", "bagit", "--mutable", bag_.root}).exit_code, 2);
  EXPECT_EQ(Vigil({"--format", "tarball", bag_.root}).exit_code, 2);
  EXPECT_EQ(Vigil({"--format", "sumfile", bag_.root}).exit_code, 2);  // a directory
  EXPECT_EQ(Vigil({"--format", "sumfile", dir_ / "SHA256SUMS"}).exit_code, 2);
}

TEST_F(FormatsCliTest, NotABagExitsOne) {
  MakeDirs(dir_ / "plain");
  RunResult r = Vigil({"--format", "bagit", dir_ / "plain"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("bagit.txt: missing"), std::string::npos) << r.out;
}

TEST_F(FormatsCliTest, Sumfile) {
  std::string sums =
      storage::HashBytes(storage::HashAlgorithm::kSha256, "alpha\n").Hex() + "  data/a.txt\n" +
      storage::HashBytes(storage::HashAlgorithm::kSha256, "x").Hex() + "  data/b/c.bin\n";
  WriteFile(bag_.Path("SHA256SUMS"), sums);
  RunResult r = Vigil({"--format", "sumfile", bag_.Path("SHA256SUMS")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(bag_.Path("SHA256SUMS") + ":2: digest mismatch for data/b/c.bin"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Result: FAILED"), std::string::npos) << r.out;

  WriteFile(bag_.Path("SHA256SUMS"), sums.substr(0, sums.find('\n') + 1));
  r = Vigil({"--format", "sumfile", bag_.Path("SHA256SUMS")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Result: OK"), std::string::npos) << r.out;

  WriteFile(bag_.Path("SHA256SUMS"), sums + "garbage line\n");
  r = Vigil({"--format", "sumfile", "--json", bag_.Path("SHA256SUMS")});
  EXPECT_EQ(r.exit_code, 1);
  json j = Parse(r.out);
  EXPECT_EQ(j["format"], "sumfile");
  EXPECT_EQ(j["summary"]["ok"], 1);
  EXPECT_EQ(j["summary"]["mismatched"], 1);
  EXPECT_EQ(j["summary"]["malformed"], 1);
  EXPECT_EQ(j["errors"][0]["code"], "sum_malformed");
  EXPECT_EQ(j["errors"][0]["line"], 3);
}

TEST_F(FormatsCliTest, HelpMentionsFormats) {
  RunResult r = Vigil({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--format"), std::string::npos);
  EXPECT_NE(r.out.find("bagit validates a BagIt bag"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vigil::testing
