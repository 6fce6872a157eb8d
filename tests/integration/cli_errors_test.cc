// The mistakes a new user makes with the real `vigil` binary, and what it
// says: each message must name the address or the token's source and the
// next step (docs/operations.md "When a command fails"). Connection (nothing
// listening, the HTTP port, a TLS coordinator without --tls-ca), tokens
// (none, an admin token given to `portal`, a tenant token given to an admin
// command, VIGIL_TOKEN holding a path), a refused worker, a mistyped flag,
// and the help texts. Every process is real, every port 0; the environment
// of each run is explicit (env -u ...), not the test runner's.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

const std::string kDeploy = std::string(VIGIL_SOURCE_DIR) + "/deploy";

// `vigil ARGS` with none of the client variables of the test's environment,
// and `env` (NAME=VALUE) set.
RunResult Vigil(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {"/usr/bin/env",     "-u", "VIGIL_TOKEN",  "-u",
                                   "VIGIL_TOKEN_FILE", "-u", "VIGIL_TLS_CA", "-u",
                                   "VIGIL_COORDINATOR"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(VigilBin());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

#define EXPECT_HAS(text, needle) \
  EXPECT_NE((text).find(needle), std::string::npos) << "no '" << (needle) << "' in:\n" << (text)

class CliErrorsTest : public ClusterTest {
 protected:
  void SetUp() override {
    MakeDirs(tmp_ / "root/acme/fs");
    WriteFile(tmp_ / "m.yaml",
              manifests::Join({manifests::Location("loc-a", "s1"), manifests::Tenant("acme"),
                               manifests::Contract("acme") +
                                   manifests::OneSet("fs", "fs-a", "loc-a", "acme/fs") +
                                   manifests::kRpo24h}));
  }
  // A tenant token of acme, in a file.
  std::string TenantToken() {
    RunResult r = Admin({"token", "issue", "--kind", "tenant", "--tenant", "acme"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    WriteFile(tmp_ / "acme.token", r.out);
    return tmp_ / "acme.token";
  }
};

TEST_F(CliErrorsTest, ConnectionRefusedNamesTheAddressAndHowToChooseIt) {
  // A socket bound to a port 0 but not listening: connecting to it is
  // refused, and no other process can take the port meanwhile.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const std::string addr = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));

  RunResult r = Vigil({"portal", "status"}, {"VIGIL_COORDINATOR=" + addr});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err, "nothing accepts connections at " + addr + " (connection refused)");
  EXPECT_HAS(r.err,
             "the address came from $VIGIL_COORDINATOR: give the coordinator's gRPC "
             "address with --coordinator HOST:PORT or VIGIL_COORDINATOR=HOST:PORT");
  r = Vigil({"status", "--coordinator", addr});
  EXPECT_HAS(r.err, "the address came from --coordinator");
  close(fd);
}

TEST_F(CliErrorsTest, TheHttpPortIsNamedAsSuch) {
  CoordinatorOptions o;
  o.http = true;
  ASSERT_TRUE(cluster_.StartCoordinator(o));
  RunResult r = Vigil(
      {"status", "--coordinator", cluster_.http(), "--token-file", cluster_.admin_token_file()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err, cluster_.http() +
                        " answers HTTP/1.1, not gRPC: it looks like the "
                        "coordinator's HTTP port (--http-listen");
  EXPECT_HAS(r.err, "connect to its gRPC port instead (its --listen");
  // With TLS on the client's side: OpenSSL's "wrong version number" is
  // named too, and gRPC's own log line is not printed.
  RunProcess({kDeploy + "/make-certs.sh", tmp_ / "pki", "localhost", "w1"});
  r = Vigil({"status", "--coordinator", cluster_.http(), "--token-file",
             cluster_.admin_token_file(), "--tls-ca", tmp_ / "pki/ca.crt"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err, "or this is its plain HTTP port (--http-listen) and not its gRPC port");
  EXPECT_EQ(r.err.find("ssl_transport_security"), std::string::npos) << r.err;
}

TEST_F(CliErrorsTest, ATlsCoordinatorWithoutCaSaysToGiveIt) {
  RunResult pki = RunProcess({kDeploy + "/make-certs.sh", tmp_ / "pki", "localhost", "w1"});
  ASSERT_EQ(pki.exit_code, 0) << pki.err;
  CoordinatorOptions o;
  o.flags = {"--tls-cert", tmp_ / "pki/coordinator.crt", "--tls-key", tmp_ / "pki/coordinator.key"};
  ASSERT_TRUE(cluster_.StartCoordinator(o));
  RunResult r = Vigil(
      {"status", "--coordinator", cluster_.addr(), "--token-file", cluster_.admin_token_file()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err, "it probably expects TLS (give --tls-ca");
  EXPECT_HAS(r.err,
             "give the CA that signed the coordinator's certificate with --tls-ca FILE or "
             "VIGIL_TLS_CA");
}

TEST_F(CliErrorsTest, TokenErrorsSayWhichTokenWasExpectedGivenAndFromWhere) {
  ASSERT_TRUE(cluster_.StartCoordinator());
  ASSERT_TRUE(cluster_.Apply(tmp_ / "m.yaml"));
  const std::string addr = cluster_.addr();
  const std::string admin = cluster_.admin_token_file();
  const std::string tenant = TenantToken();

  // No token at all: every way to give one.
  RunResult r = Vigil({"status", "--coordinator", addr});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err,
             "no token given: this command takes the admin token: the coordinator's "
             "DATA/admin.token");
  EXPECT_HAS(r.err,
             "--token-file PATH or VIGIL_TOKEN_FILE=PATH, or the token itself in "
             "VIGIL_TOKEN");

  // The admin token given to `portal`.
  r = Vigil({"portal", "status", "--coordinator", addr, "--token-file", admin});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err, "expected a tenant token, got the coordinator's admin token");
  EXPECT_HAS(r.err, "the token came from --token-file " + admin +
                        "; portal commands take a client's tenant token");

  // A tenant token given to an admin command, from VIGIL_TOKEN_FILE, then
  // from VIGIL_TOKEN.
  r = Vigil({"status", "--coordinator", addr}, {"VIGIL_TOKEN_FILE=" + tenant});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_HAS(r.err, "expected an admin token, got a tenant token (id ");
  EXPECT_HAS(r.err, "tenant 'acme'");
  EXPECT_HAS(r.err, "the token came from $VIGIL_TOKEN_FILE " + tenant +
                        "; this command takes the admin token");
  std::string token = ReadFile(tenant);
  token.pop_back();  // the newline
  r = Vigil({"status", "--coordinator", addr}, {"VIGIL_TOKEN=" + token});
  EXPECT_HAS(r.err, "the token came from $VIGIL_TOKEN;");

  // VIGIL_TOKEN holding a path (what older help texts suggested).
  r = Vigil({"status", "--coordinator", addr}, {"VIGIL_TOKEN=" + admin});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "$VIGIL_TOKEN holds the token itself, and '" + admin +
                        "' looks like a file: set VIGIL_TOKEN_FILE=" + admin);

  // The right tokens, each way.
  EXPECT_EQ(Vigil({"status", "--coordinator", addr}, {"VIGIL_TOKEN_FILE=" + admin}).exit_code, 0);
  EXPECT_EQ(Vigil({"portal", "status", "--coordinator", addr}, {"VIGIL_TOKEN=" + token}).exit_code,
            0);

  // `token list` has a header row.
  r = Admin({"token", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ID  ", 0), 0u) << r.out;
  EXPECT_HAS(r.out, "KIND");
  EXPECT_HAS(r.out, "TENANT/SITE");
}

TEST_F(CliErrorsTest, ARefusedWorkerSaysWhyAndHandsBackNothing) {
  CoordinatorOptions o;
  o.enrol_token = false;
  ASSERT_TRUE(cluster_.StartCoordinator(o));
  WriteFile(tmp_ / "bad.token", "0123456789abcdef.00\n");
  auto w = cluster_.StartBareWorker("w", {"--site", "s1", "--location", "loc-a=" + tmp_ / "root",
                                          "--token-file", tmp_ / "bad.token"});
  EXPECT_EQ(w->Wait(), 3);
  EXPECT_HAS(w->err(), "vigil worker: registration refused: ");
  EXPECT_HAS(w->err(), "DATA/enrol.token");
  EXPECT_EQ(w->err().find("handing back leases"), std::string::npos) << w->err();
  // The admin token given as enrolment token is named as such.
  auto admin =
      cluster_.StartBareWorker("admin", {"--site", "s1", "--location", "loc-a=" + tmp_ / "root",
                                         "--token-file", cluster_.admin_token_file()});
  EXPECT_EQ(admin->Wait(), 3);
  EXPECT_HAS(admin->err(),
             "registration refused: enrolment refused: expected an enrol token, got the "
             "coordinator's admin token");
}

// A remote location (type s3 / sftp) is served with `--location NAME`: its
// address comes from the contract, its credentials from --secrets.
TEST_F(CliErrorsTest, ARemoteLocationIsServedByItsNameAlone) {
  ASSERT_TRUE(cluster_.StartCoordinator());
  const std::string file = tmp_ / "vault.yaml";
  WriteFile(file, manifests::Join(
                      {manifests::Location("vault", "s1",
                                           "type: s3\ns3:\n  endpoint: https://s3.example.net\n"
                                           "  bucket: acme-offsite\n"),
                       manifests::Tenant(),
                       manifests::Contract(
                           "acme", "assets:\n" +
                                       manifests::Asset("fs", {manifests::BackupSet("fs-a", "vault",
                                                                                    "acme/fs")}) +
                                       manifests::kRpo24h)}));
  RunResult applied = Admin({"apply", "-f", file});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_HAS(applied.out, "+ location vault (s3://acme-offsite at https://s3.example.net)");
  EXPECT_HAS(applied.err, "vigil worker --site s1 --location vault --secrets DIR (DIR/vault.s3");

  RunResult bad =
      Vigil({"worker", "--coordinator", "127.0.0.1:1", "--site", "s1", "--location", "vault/x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_HAS(bad.err,
             "vigil worker: --location 'vault/x' must be NAME=PATH (a directory on this "
             "machine) or NAME (a remote location: type s3 or sftp)");
  EXPECT_EQ(
      Vigil({"worker", "--coordinator", "127.0.0.1:1", "--site", "s1", "--location", "vault="})
          .exit_code,
      2);
  EXPECT_HAS(Vigil({"worker", "--help"}).out, "NAME alone: a remote location");

  // Accepted, registered, and serving it: the coordinator no longer warns.
  auto w = cluster_.StartWorker("w", "vault");
  EXPECT_TRUE(WaitFor([&] {
    RunResult again = Admin({"apply", "-f", file});
    return again.exit_code == 0 && again.err.find("no worker serves it") == std::string::npos;
  })) << w->err();
}

TEST_F(CliErrorsTest, AWrongFlagNamesTheCommandItsHelpAndTheClosestOption) {
  RunResult r = Vigil({"check", "run", "acme", "--timout", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "vigil check run: unknown option '--timout' (did you mean --timeout?)");
  EXPECT_HAS(r.err, "Run 'vigil check run --help' for its options.");
  r = Vigil({"status", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "vigil status: unknown option '--bogus'\n");
  r = Vigil({"stauts"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "vigil: unexpected argument 'stauts' (did you mean status?)");
  // `proof include` takes TENANT like every command about one tenant, and
  // still accepts --tenant; without either it says what is missing.
  r = Vigil({"proof", "include", "--backup-set", "fs-a", "--path", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "vigil proof include: TENANT is required");
  ASSERT_TRUE(cluster_.StartCoordinator());
  for (const std::vector<std::string>& tenant :
       {std::vector<std::string>{"acme"}, std::vector<std::string>{"--tenant", "acme"}}) {
    std::vector<std::string> args = {"proof", "include", "--backup-set", "fs-a", "--path", "a"};
    args.insert(args.begin() + 2, tenant.begin(), tenant.end());
    r = Admin(args);
    // Parsed, sent, and answered by the coordinator (no proof yet).
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_HAS(r.err, "vigil: coordinator ");
  }
}

TEST_F(CliErrorsTest, HelpTextsAreAccurateAndClean) {
  RunResult verify = Vigil({"verify", "--help"});
  EXPECT_HAS(verify.out, "--no-progress ");
  EXPECT_EQ(verify.out.find("{false}"), std::string::npos) << verify.out;
  // A leaf command does not send to "vigil COMMAND --help"; a group does,
  // to its own.
  EXPECT_EQ(Vigil({"check", "run", "--help"}).out.find("Run 'vigil"), std::string::npos);
  EXPECT_HAS(Vigil({"check", "--help"}).out, "Run 'vigil check COMMAND --help'");
  EXPECT_HAS(Vigil({"--help"}).out, "Run 'vigil COMMAND --help'");
  // The token story, exactly.
  RunResult portal = Vigil({"portal", "status", "--help"});
  EXPECT_EQ(portal.out.find("admin token"), std::string::npos) << portal.out;
  EXPECT_HAS(portal.out, "tenant token");
  for (const RunResult& h : {portal, Vigil({"status", "--help"})}) {
    EXPECT_HAS(h.out, "$VIGIL_TOKEN_FILE, else the token itself in $VIGIL_TOKEN");
  }
  EXPECT_HAS(Vigil({"status", "--help"}).out, "DATA/admin.token");
  // The key directory's default is said once.
  RunResult keys = Vigil({"keys", "init", "--help"});
  EXPECT_EQ(CountOf(keys.out, "$XDG_CONFIG_HOME/vigil/keys"), 1u) << keys.out;
  // proof include: TENANT positional, --tenant not shown.
  RunResult include = Vigil({"proof", "include", "--help"});
  EXPECT_HAS(include.out, "TENANT");
  EXPECT_EQ(include.out.find("--tenant"), std::string::npos) << include.out;
}

}  // namespace
}  // namespace vigil::testing
