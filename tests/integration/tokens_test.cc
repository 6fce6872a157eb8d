// `vigil token` and the tenant portal with real processes on loopback: an
// issued admin token works like the bootstrap one, a tenant token reads only
// its tenant and nothing of the Admin service, a revoked or rotated-out token
// is refused, an enrolment token registers one worker only.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil {
namespace {

namespace manifests = testing::manifests;
using testing::ReadFile;
using testing::RunResult;
using testing::WriteFile;

class TokensTest : public testing::ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "root";
    WriteFile(root_ + "/acme/fs/a.txt", "a");
    WriteFile(root_ + "/globex/fs/b.txt", "b");
    std::string yaml = manifests::Location("loc-a", "s1");
    for (const std::string t : {"acme", "globex"}) {
      yaml += "---\n" + manifests::Tenant(t) + "---\n" + manifests::Contract(t) +
              manifests::OneSet("fs", "fs-a", "loc-a", t + "/fs") + manifests::kRpo24h;
    }
    WriteFile(tmp_ / "m.yaml", yaml);
    ASSERT_TRUE(cluster_.StartCoordinator());
    ASSERT_TRUE(cluster_.Apply(tmp_ / "m.yaml"));
  }
  RunResult As(const std::string& token_file, std::vector<std::string> args) {
    return cluster_.As(token_file, std::move(args));
  }
  // Issues a token and writes it to a file; returns the file.
  std::string Issue(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {"token", "issue", "--name", name});
    RunResult r = Admin(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string file = tmp_ / (name + ".tok");
    WriteFile(file, r.out);
    return file;
  }
  std::string IdOf(const std::string& name) {
    RunResult r = Admin({"token", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);  // outlives the loop
    for (const auto& t : j["tokens"]) {
      if (t["name"] == name && t["revoked"] == "") return t["id"];
    }
    ADD_FAILURE() << "no token named " << name << ": " << r.out;
    return "";
  }

  std::string root_;
};

TEST_F(TokensTest, IssuedAdminTokenWorksUntilRevoked) {
  std::string ops = Issue("ops", {"--kind", "admin", "--expires-in", "30d"});
  EXPECT_EQ(As(ops, {"status", "--json"}).exit_code, 0);
  RunResult list = Admin({"token", "list", "--json"});
  nlohmann::json t = nlohmann::json::parse(list.out)["tokens"][0];
  EXPECT_EQ(t["kind"], "admin");
  EXPECT_NE(t["expires"], "");
  // Nothing secret is listed.
  EXPECT_EQ(list.out.find(ReadFile(ops).substr(17, 20)), std::string::npos);
  ASSERT_EQ(Admin({"token", "revoke", IdOf("ops")}).exit_code, 0);
  RunResult r = As(ops, {"status"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("UNAUTHENTICATED"), std::string::npos) << r.err;
}

TEST_F(TokensTest, TenantTokenReadsOnlyItsTenant) {
  std::string portal = Issue("acme-portal", {"--kind", "tenant", "--tenant", "acme"});
  RunResult r = As(portal, {"portal", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tenants"].size(), 1u);
  EXPECT_EQ(j["tenants"][0]["name"], "acme");
  EXPECT_EQ(r.out.find("globex"), std::string::npos) << r.out;
  // Not an admin token: every Admin call is refused, nothing changes.
  r = As(portal, {"status", "globex"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("UNAUTHENTICATED"), std::string::npos) << r.err;
  r = As(portal, {"check", "run", "acme"});
  EXPECT_EQ(r.exit_code, 3);
  r = As(portal, {"token", "issue", "--kind", "admin"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(Admin({"token", "list", "--json"}).out)["tokens"].size(), 1u);
  // And the admin token is no tenant token.
  r = Admin({"portal", "status"});
  EXPECT_EQ(r.exit_code, 3);
  // A token for an unknown tenant is not issued.
  r = Admin({"token", "issue", "--kind", "tenant", "--tenant", "initech"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
}

TEST_F(TokensTest, RotationReplacesTheToken) {
  std::string old = Issue("acme-portal", {"--kind", "tenant", "--tenant", "acme"});
  std::string id = IdOf("acme-portal");
  RunResult r = Admin({"token", "rotate", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string fresh = tmp_ / "fresh.tok";
  WriteFile(fresh, r.out);
  EXPECT_NE(r.err.find("replacing " + id), std::string::npos) << r.err;
  EXPECT_EQ(As(old, {"portal", "status"}).exit_code, 3);
  EXPECT_EQ(As(fresh, {"portal", "status"}).exit_code, 0);
  // A revoked token cannot be rotated.
  r = Admin({"token", "rotate", id});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("FAILED_PRECONDITION"), std::string::npos) << r.err;
}

TEST_F(TokensTest, EnrolmentTokenRegistersOneWorker) {
  std::string enrol = Issue("site-office", {"--kind", "enrol"});
  auto worker = [&](const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> flags = {"--site", "s1", "--location", "loc-a=" + root_};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return cluster_.StartBareWorker(name, flags);
  };
  auto w1 = worker("w1", {"--token-file", enrol});
  ASSERT_TRUE(w1->WaitForOutput("registered")) << w1->err();
  // The same token again: used up. No token: enrolment is now required.
  auto w2 = worker("w2", {"--token-file", enrol});
  EXPECT_NE(w2->Wait(), 0);
  EXPECT_NE(w2->err().find("used"), std::string::npos) << w2->err();
  auto w3 = worker("w3", {});
  EXPECT_NE(w3->Wait(), 0);
  EXPECT_NE(w3->err().find("without enrolment token"), std::string::npos) << w3->err();
  // The registered worker does work.
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  RunResult list = Admin({"token", "list"});
  EXPECT_NE(list.out.find("used by w"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace vigil
