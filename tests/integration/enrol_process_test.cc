// Secure by default (issue 13), with real processes: a fresh coordinator
// writes a one-time enrolment token to DATA/enrol.token and refuses a worker
// without one; a worker is bound to its site (a site-bound token, a location
// of another site, a restart under another site are refused); a coordinator
// on a non-loopback address without TLS does not start unless --insecure.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

class EnrolProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "root";
    WriteFile(root_ + "/acme/fs/a.txt", "alpha");
    WriteFile(
        tmp_ / "m.yaml",
        manifests::Join({manifests::Location("loc-a", "s1"), manifests::Location("loc-b", "s2"),
                         manifests::Tenant("acme"),
                         manifests::Contract("acme") + manifests::OneSet() + manifests::kRpo24h}));
  }
  // A coordinator given the cluster's reusable enrolment token, or none
  // (then it writes a one-time DATA/enrol.token).
  void StartCoordinator(bool enrol_token) {
    CoordinatorOptions o;
    o.enrol_token = enrol_token;
    ASSERT_TRUE(cluster_.StartCoordinator(o));
  }
  std::unique_ptr<BackgroundProcess> Worker(const std::string& site,
                                            const std::vector<std::string>& extra) {
    std::vector<std::string> flags{"--site", site};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return cluster_.StartBareWorker("worker" + std::to_string(++workers_), flags);
  }
  nlohmann::json Tokens() {
    RunResult r = Admin({"token", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false)["tokens"];
  }

  std::string root_;
  int workers_ = 0;
};

// First start: DATA/enrol.token (0600), announced and listed; a worker
// without a token is refused and told where one comes from; the file's
// token enrols exactly one worker; a restart issues no other.
TEST_F(EnrolProcessTest, AFreshCoordinatorWritesAOneTimeEnrolmentToken) {
  StartCoordinator(false);
  const std::string file = tmp_ / "data/enrol.token";
  BackgroundProcess* coord = &cluster_.coordinator();
  EXPECT_TRUE(coord->WaitForOutput("enrolment token in " + file)) << coord->out();
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0) << coord->out() << coord->err();
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = ReadFile(file);
  nlohmann::json tokens = Tokens();
  ASSERT_EQ(tokens.size(), 1u) << tokens.dump();
  EXPECT_EQ(tokens[0]["kind"], "enrol");
  EXPECT_EQ(tokens[0]["used_by"], "");
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "m.yaml"}).exit_code, 0);

  // No token: refused at once (status 3), saying where a token comes from.
  auto none = Worker("s1", {"--location", "loc-a=" + root_});
  EXPECT_EQ(none->Wait(), 3) << none->err();
  EXPECT_NE(none->err().find("Register without enrolment token"), std::string::npos) << none->err();
  EXPECT_NE(none->err().find("DATA/enrol.token"), std::string::npos) << none->err();
  EXPECT_NE(none->err().find("vigil token issue --kind enrol"), std::string::npos) << none->err();
  EXPECT_NE(none->err().find("no --token-file"), std::string::npos) << none->err();

  auto w = Worker("s1", {"--location", "loc-a=" + root_, "--token-file", file});
  ASSERT_TRUE(w->WaitForOutput("registered")) << w->err();
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto again = Worker("s1", {"--location", "loc-a=" + root_, "--token-file", file});
  EXPECT_EQ(again->Wait(), 3) << again->err();
  EXPECT_NE(again->err().find("already used"), std::string::npos) << again->err();

  coord->Signal(SIGTERM);
  EXPECT_EQ(coord->Wait(), 0);
  StartCoordinator(false);
  coord = &cluster_.coordinator();
  EXPECT_EQ(ReadFile(file), token);
  EXPECT_EQ(coord->out().find("enrolment token in"), std::string::npos) << coord->out();
  tokens = Tokens();
  ASSERT_EQ(tokens.size(), 1u) << tokens.dump();
  EXPECT_NE(tokens[0]["used_by"], "");
}

// A worker is bound to its site: a token issued for s1 does not enrol a
// worker of s2; a worker of s2 cannot claim loc-a (declared for s1); a
// worker enrolled for s1 cannot come back as s2.
TEST_F(EnrolProcessTest, AWorkerIsBoundToItsSite) {
  StartCoordinator(true);
  ASSERT_EQ(Admin({"apply", "-f", tmp_ / "m.yaml"}).exit_code, 0);
  RunResult r = Admin({"token", "issue", "--kind", "enrol", "--site", "s1", "--name", "s1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("for site s1"), std::string::npos) << r.err;
  WriteFile(tmp_ / "s1.tok", r.out);

  auto wrong_site = Worker("s2", {"--location", "loc-b=" + root_, "--token-file", tmp_ / "s1.tok"});
  EXPECT_EQ(wrong_site->Wait(), 3) << wrong_site->err();
  EXPECT_NE(wrong_site->err().find("issued for site 's1', not 's2'"), std::string::npos)
      << wrong_site->err();
  EXPECT_EQ(Tokens()[0]["used_by"], "");  // refused: the token is not spent

  auto claim = Worker("s2", {"--location", "loc-a=" + root_, "--location", "loc-b=" + root_,
                             "--token-file", WorkerTokenFile(tmp_)});
  EXPECT_EQ(claim->Wait(), 3) << claim->err();
  EXPECT_NE(claim->err().find("location 'loc-a' is declared for site 's1', not 's2'"),
            std::string::npos)
      << claim->err();

  // Enrolled for s1 (state kept), restarted as s2: refused, told to enrol again.
  const std::string state = tmp_ / "state";
  auto w = Worker("s1", {"--location", "loc-a=" + root_, "--token-file", tmp_ / "s1.tok",
                         "--state-dir", state});
  ASSERT_TRUE(w->WaitForOutput("credential stored")) << w->err();
  w->Signal(SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->err();
  auto moved = Worker("s2", {"--location", "loc-b=" + root_, "--token-file", WorkerTokenFile(tmp_),
                             "--state-dir", state});
  EXPECT_EQ(moved->Wait(), 3) << moved->err();
  EXPECT_NE(moved->err().find("enrolled for site 's1', not 's2'"), std::string::npos)
      << moved->err();
  EXPECT_NE(moved->err().find("enrol again"), std::string::npos) << moved->err();

  // The s1 worker does the work; a location not declared yet is logged.
  w = Worker("s1", {"--location", "loc-a=" + root_, "--location", "loc-new=" + root_, "--state-dir",
                    state});
  ASSERT_TRUE(w->WaitForOutput("resumed with the credential")) << w->err();
  EXPECT_TRUE(
      w->WaitForOutput("location loc-new is not declared (vigil apply a Location with "
                       "site: s1)"))
      << w->err();
  r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// Runs `vigil coordinator` with `args` on a fresh data directory; returns
// its exit code (-SIGKILL if it was still serving after 10 s).
int CoordinatorExit(const TempDir& tmp, const std::string& name, std::vector<std::string> args,
                    std::string* err) {
  std::vector<std::string> argv{VigilBin(), "coordinator", "--data", tmp / name};
  argv.insert(argv.end(), args.begin(), args.end());
  BackgroundProcess p(argv, tmp / name);
  int rc = p.Wait(10000);
  *err = p.err();
  return rc;
}

TEST(InsecureListenTest, NonLoopbackPlaintextDoesNotStartWithoutInsecure) {
  TempDir tmp;
  std::string err;
  EXPECT_EQ(CoordinatorExit(tmp, "a", {"--listen", "0.0.0.0:0"}, &err), 2) << err;
  EXPECT_NE(err.find("--listen 0.0.0.0:0 is not a loopback address and has no TLS"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("--tls-cert"), std::string::npos) << err;
  EXPECT_NE(err.find("--insecure"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "a/admin.token"));  // nothing created
  EXPECT_EQ(CoordinatorExit(tmp, "b", {"--listen", "[::]:0"}, &err), 2) << err;
  // The dashboard in clear on a non-loopback address: the same.
  EXPECT_EQ(
      CoordinatorExit(tmp, "c", {"--listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0"}, &err), 2)
      << err;
  EXPECT_NE(err.find("--https-listen"), std::string::npos) << err;
  // vigil dev serves in clear: loopback only.
  RunResult dev = RunVigil({"dev", "--once", "--listen", "0.0.0.0:0", "--data", tmp / "dev"});
  EXPECT_EQ(dev.exit_code, 2) << dev.out << dev.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "dev"));

  // --insecure says so: it starts, and warns.
  BackgroundProcess insecure(
      {VigilBin(), "coordinator", "--data", tmp / "d", "--listen", "0.0.0.0:0", "--insecure"},
      tmp / "d");
  EXPECT_FALSE(insecure.WaitForLine("listening on ").empty()) << insecure.err();
  EXPECT_NE(insecure.err().find("warning: --insecure"), std::string::npos) << insecure.err();
  insecure.Signal(SIGTERM);
  EXPECT_EQ(insecure.Wait(), 0);

  // With TLS it starts on any address; a plain port serving probes only too.
  RunResult certs = RunProcess(
      {std::string(VIGIL_SOURCE_DIR) + "/deploy/make-certs.sh", tmp / "pki", "localhost"});
  ASSERT_EQ(certs.exit_code, 0) << certs.err;
  BackgroundProcess tls(
      {VigilBin(), "coordinator", "--data", tmp / "e", "--listen", "0.0.0.0:0", "--tls-cert",
       tmp / "pki/coordinator.crt", "--tls-key", tmp / "pki/coordinator.key", "--http-listen",
       "0.0.0.0:0", "--https-listen", "127.0.0.1:0"},
      tmp / "e");
  EXPECT_FALSE(tls.WaitForLine("listening on ").empty()) << tls.err();
  EXPECT_EQ(tls.err().find("warning"), std::string::npos) << tls.err();
  tls.Signal(SIGTERM);
  EXPECT_EQ(tls.Wait(), 0);
}

}  // namespace
}  // namespace vigil::testing
