// `vigil coordinator --https-listen` as a real process on loopback (port 0),
// with certificates made by deploy/make-certs.sh: the dashboard, /api/* and
// /metrics over HTTPS (server certificate verified against the CA, admin
// token required); plain HTTP then answers only /healthz and /readyz; TLS
// below 1.2 and bad certificate files are refused.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"

namespace vigil::testing {
namespace {

const std::string kDeploy = std::string(VIGIL_SOURCE_DIR) + "/deploy";

struct Reply {
  int status = -1;  // -1: no answer
  std::string body;
  httplib::Error error = httplib::Error::Success;
};

int Port(const std::string& addr) { return std::stoi(addr.substr(addr.rfind(':') + 1)); }

Reply Fetch(httplib::ClientImpl& c, const std::string& path, const std::string& token) {
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(10, 0);
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  auto r = c.Get(path.c_str(), h);
  if (!r) return {-1, "", r.error()};
  return {r->status, r->body, httplib::Error::Success};
}

// GET https://localhost:PORT/path, the server's certificate verified
// against `ca` (the certificates name localhost, not 127.0.0.1 alone).
Reply GetTls(const std::string& addr, const std::string& ca, const std::string& path,
             const std::string& token = "") {
  httplib::SSLClient c("localhost", Port(addr));
  c.set_ca_cert_path(ca.c_str());
  c.enable_server_certificate_verification(true);
  return Fetch(c, path, token);
}

// GET http://ADDR/path.
Reply GetPlain(const std::string& addr, const std::string& path, const std::string& token = "") {
  httplib::ClientImpl c(addr.substr(0, addr.rfind(':')), Port(addr));
  return Fetch(c, path, token);
}

class HttpsTest : public ClusterTest {
 protected:
  void SetUp() override {
    for (const char* dir : {"pki", "other"}) {
      RunResult r = RunProcess({kDeploy + "/make-certs.sh", tmp_ / dir, "localhost"});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    pki_ = tmp_ / "pki";
    ca_ = pki_ + "/ca.crt";
  }

  // Starts a coordinator with --https-listen (and --http-listen if `http`)
  // and `flags`; waits for its addresses.
  void StartCoordinator(const std::vector<std::string>& flags, bool http = false) {
    CoordinatorOptions o;
    o.enrol_token = false;
    o.metrics_refresh = "1s";
    o.http = http;
    o.https = true;
    o.flags = flags;
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    https_ = cluster_.https();
    token_ = cluster_.AdminToken();
  }

  // GETs `path` over HTTPS with the token until it is no longer 503 (the
  // first metrics refresh runs within a second).
  Reply GetTlsComputed(const std::string& path) {
    Reply r;
    WaitFor(
        [&] {
          r = GetTls(https_, ca_, path, token_);
          return r.status != 503;
        },
        std::chrono::seconds(10));
    return r;
  }

  RunResult OpenSslClient(const std::vector<std::string>& options) {
    std::vector<std::string> argv{"/usr/bin/openssl", "s_client", "-connect", https_,
                                  "-CAfile",          ca_};
    argv.insert(argv.end(), options.begin(), options.end());
    // s_client reads stdin until EOF; RunProcess gives it none.
    return RunProcess(argv);
  }

  std::string pki_, ca_, https_, token_;
};

TEST_F(HttpsTest, DashboardAndMetricsOnlyOverHttpsWithTheToken) {
  StartCoordinator(
      {"--https-cert", pki_ + "/coordinator.crt", "--https-key", pki_ + "/coordinator.key"},
      /*http=*/true);
  std::string http = cluster_.http();
  ASSERT_FALSE(http.empty()) << cluster_.coordinator().out();
  ASSERT_NE(http, https_);

  // HTTPS, certificate verified: everything, data behind the token.
  Reply metrics = GetTlsComputed("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body << " " << httplib::to_string(metrics.error);
  EXPECT_NE(metrics.body.find("vigil_build_info{"), std::string::npos) << metrics.body;
  Reply grid = GetTlsComputed("/api/dashboard");
  ASSERT_EQ(grid.status, 200) << grid.body;
  auto j = nlohmann::json::parse(grid.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << grid.body;
  EXPECT_TRUE(j["rows"].is_array()) << grid.body;
  Reply page = GetTls(https_, ca_, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/dashboard.js"), std::string::npos) << page.body;
  EXPECT_EQ(GetTls(https_, ca_, "/api/workers", token_).status, 200);
  EXPECT_EQ(GetTls(https_, ca_, "/healthz").status, 200);
  EXPECT_EQ(GetTls(https_, ca_, "/readyz").status, 200);
  // A missing or wrong token is refused over TLS too.
  Reply anon = GetTls(https_, ca_, "/metrics");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.body.find("vigil_"), std::string::npos);
  EXPECT_EQ(GetTls(https_, ca_, "/metrics", "vgl_wrong").status, 401);
  EXPECT_EQ(GetTls(https_, ca_, "/api/dashboard").status, 401);
  EXPECT_EQ(GetTls(https_, ca_, "/api/dashboard", token_ + "x").status, 401);
  EXPECT_EQ(GetTls(https_, ca_, "/api/tenant?name=acme", "vgl_wrong").status, 401);

  // A client trusting another CA does not get through the handshake.
  Reply stranger = GetTls(https_, tmp_ / "other/ca.crt", "/healthz");
  EXPECT_EQ(stranger.status, -1);
  EXPECT_EQ(stranger.error, httplib::Error::SSLServerVerification)
      << httplib::to_string(stranger.error);
  // Plain HTTP to the TLS port gets no HTTP answer.
  Reply clear = GetPlain(https_, "/healthz");
  EXPECT_EQ(clear.status, -1) << clear.body;
  EXPECT_EQ(GetPlain(https_, "/metrics", token_).status, -1);

  // The plain port: probes only, even with the token.
  EXPECT_EQ(GetPlain(http, "/healthz").status, 200);
  Reply ready = GetPlain(http, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, "ready\n");
  for (const char* path : {"/metrics", "/api/dashboard", "/api/workers", "/", "/dashboard.js"}) {
    Reply r = GetPlain(http, path, token_);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("vigil_"), std::string::npos) << path;
  }
  // A TLS connection to the plain port fails.
  EXPECT_EQ(GetTls(http, ca_, "/healthz").status, -1);
}

TEST_F(HttpsTest, TlsBelow12IsRefused) {
  StartCoordinator(
      {"--https-cert", pki_ + "/coordinator.crt", "--https-key", pki_ + "/coordinator.key"});
  RunResult ok = OpenSslClient({"-tls1_2", "-verify_return_error"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("Protocol  : TLSv1.2"), std::string::npos) << ok.out;
  // The client allows TLS 1.1 and its old ciphers: the server still says no.
  RunResult old = OpenSslClient({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  EXPECT_NE(old.exit_code, 0) << old.out << old.err;
  EXPECT_NE(old.err.find("protocol version"), std::string::npos) << old.err;
  RunResult tls10 = OpenSslClient({"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  EXPECT_NE(tls10.exit_code, 0) << tls10.out << tls10.err;
}

TEST_F(HttpsTest, UsesTheGrpcCertificateByDefault) {
  StartCoordinator(
      {"--tls-cert", pki_ + "/coordinator.crt", "--tls-key", pki_ + "/coordinator.key"});
  Reply metrics = GetTlsComputed("/metrics");
  EXPECT_EQ(metrics.status, 200) << metrics.body << " " << httplib::to_string(metrics.error);
  EXPECT_NE(cluster_.coordinator().out().find("certificate " + pki_ + "/coordinator.crt"),
            std::string::npos)
      << cluster_.coordinator().out();
}

TEST_F(HttpsTest, BadCertificateFilesStopTheCoordinatorBeforeItServes) {
  WriteFile(tmp_ / "garbage.key", "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n");
  const std::string cert = pki_ + "/coordinator.crt", key = pki_ + "/coordinator.key";
  struct Case {
    std::vector<std::string> flags;
    std::string flag, file;  // expected in the message
  };
  const std::vector<Case> cases = {
      // The key of another certificate.
      {{"--https-cert", cert, "--https-key", tmp_ / "other/coordinator.key"},
       "--https-key",
       tmp_ / "other/coordinator.key"},
      {{"--https-cert", cert, "--https-key", tmp_ / "garbage.key"},
       "--https-key",
       tmp_ / "garbage.key"},
      {{"--https-cert", cert, "--https-key", tmp_ / "missing.key"},
       "--https-key",
       tmp_ / "missing.key"},
      // A key where the certificate should be.
      {{"--https-cert", key, "--https-key", key}, "--https-cert", key},
      {{"--https-cert", tmp_ / "missing.crt", "--https-key", key},
       "--https-cert",
       tmp_ / "missing.crt"},
      // The gRPC pair as default, just as strictly checked.
      {{"--tls-cert", cert, "--tls-key", tmp_ / "other/coordinator.key"},
       "--tls-key",
       tmp_ / "other/coordinator.key"},
      // No certificate at all.
      {{}, "--https-listen", ""},
      {{"--https-cert", cert}, "--https-key", ""},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"coordinator", "--listen",       "127.0.0.1:0",
                                  "--data",      tmp_ / "data",    "--http-listen",
                                  "127.0.0.1:0", "--https-listen", "127.0.0.1:0"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    RunResult r = RunVigil(args);
    SCOPED_TRACE(c.flag + " " + c.file);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening on"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace vigil::testing
