// A worker (and the CLI) refused at the TLS handshake by a real mutual-TLS
// coordinator, with certificates from deploy/make-certs.sh: the log names
// the likely cause (a client certificate of another CA, the wrong --tls-ca,
// no TLS at all) instead of gRPC's "Socket closed", and the worker's retries
// back off past the 2 s of other errors (doubling, to 30 s).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <sstream>

#include "tests/integration/cluster.h"

namespace vigil::testing {
namespace {

const std::string kDeploy = std::string(VIGIL_SOURCE_DIR) + "/deploy";

class TlsRefusalTest : public ClusterTest {
 protected:
  void SetUp() override {
    // Two PKIs: the coordinator's, and another CA with a worker of its own.
    for (const char* dir : {"pki", "other"}) {
      RunResult r = RunProcess({kDeploy + "/make-certs.sh", tmp_ / dir, "localhost", "w1"});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    pki_ = tmp_ / "pki";
    other_ = tmp_ / "other";
    MakeDirs(tmp_ / "loc");
    CoordinatorOptions o;
    o.flags = {"--tls-cert",      pki_ + "/coordinator.crt", "--tls-key", pki_ + "/coordinator.key",
               "--tls-client-ca", pki_ + "/ca.crt"};
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    addr_ = cluster_.addr();
  }

  std::unique_ptr<BackgroundProcess> Worker(const std::string& log,
                                            const std::vector<std::string>& tls) {
    return cluster_.StartWorker(log, "loc-a=" + tmp_ / "loc", tls);
  }

  // The worker's "cannot register" lines so far.
  static std::vector<std::string> RegisterLines(const BackgroundProcess& w) {
    std::vector<std::string> lines;
    std::istringstream in(w.err());
    for (std::string l; std::getline(in, l);) {
      if (l.find("cannot register: ") != std::string::npos) lines.push_back(l);
    }
    return lines;
  }

  // The delay, in ms, of a "...; retrying in 1.6 s" line; -1 if none.
  static int RetryDelayMs(const std::string& line) {
    const std::string key = "; retrying in ";
    size_t at = line.rfind(key);
    if (at == std::string::npos) return -1;
    return static_cast<int>(std::stod(line.substr(at + key.size())) * 1000 + 0.5);
  }

  std::string pki_, other_, addr_;
};

TEST_F(TlsRefusalTest, ClientCertificateOfAnotherCaIsNamedAndRetriesBackOff) {
  // Signed by another CA: the coordinator ends the handshake (gRPC: "Socket
  // closed"), and retrying every 100 ms to 2 s never helps.
  auto w = Worker("rogue", {"--tls-ca", pki_ + "/ca.crt", "--tls-cert", other_ + "/worker-w1.crt",
                            "--tls-key", other_ + "/worker-w1.key"});
  // Poll the log until a retry is announced further out than the 2 s cap
  // of other errors (0.1 + 0.2 + ... + 1.6 = 3.1 s of retries before it).
  std::vector<std::string> lines;
  WaitFor(
      [&] {
        lines = RegisterLines(*w);
        return !lines.empty() && RetryDelayMs(lines.back()) > 2000;
      },
      std::chrono::seconds(30));
  ASSERT_FALSE(lines.empty()) << w->err();
  ASSERT_GT(RetryDelayMs(lines.back()), 2000) << w->err();
  // Every attempt names the cause and the flags to check ...
  for (const std::string& l : lines) {
    EXPECT_NE(l.find("cannot register: TLS handshake with " + addr_ +
                     " failed: the coordinator closed the connection: it probably refused the "
                     "client certificate (--tls-cert); the coordinator's --tls-client-ca must be "
                     "the CA that signed this client's --tls-cert"),
              std::string::npos)
        << l;
  }
  // ... and the delays double from 100 ms: six attempts (not the eight of a
  // 2 s cap) in the first 3.1 s.
  std::vector<int> delays;
  for (const std::string& l : lines) delays.push_back(RetryDelayMs(l));
  EXPECT_EQ(delays, (std::vector<int>{100, 200, 400, 800, 1600, 3200})) << w->err();
  EXPECT_EQ(w->err().find("registered ("), std::string::npos);
}

TEST_F(TlsRefusalTest, WrongCaAndPlaintextAreNamed) {
  // The coordinator's certificate checked against another CA.
  auto wrong_ca =
      Worker("wrong-ca", {"--tls-ca", other_ + "/ca.crt", "--tls-cert", pki_ + "/worker-w1.crt",
                          "--tls-key", pki_ + "/worker-w1.key"});
  // No TLS at all against a TLS port.
  auto plain = Worker("plain", {});
  ASSERT_TRUE(wrong_ca->WaitForOutput("cannot register: ")) << wrong_ca->err();
  ASSERT_TRUE(plain->WaitForOutput("cannot register: ")) << plain->err();
  EXPECT_NE(RegisterLines(*wrong_ca).at(0).find(
                "cannot register: TLS handshake with " + addr_ +
                " failed: the coordinator's certificate is not signed by the CA of --tls-ca"),
            std::string::npos)
      << wrong_ca->err();
  EXPECT_NE(RegisterLines(*plain).at(0).find("cannot register: the coordinator at " + addr_ +
                                             " closed the connection at once: it probably "
                                             "expects TLS (give --tls-ca"),
            std::string::npos)
      << plain->err();
  // The CLI says the same of its --tls-ca.
  RunResult r = Admin({"status", "--tls-ca", other_ + "/ca.crt"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(
      r.err.find("vigil: coordinator " + addr_ + ": UNAVAILABLE: TLS handshake with " + addr_ +
                 " failed: the coordinator's certificate is not signed by the CA "
                 "of --tls-ca"),
      std::string::npos)
      << r.err;
  // With the right files, the same worker gets through.
  auto good = Worker("good", {"--tls-ca", pki_ + "/ca.crt", "--tls-cert", pki_ + "/worker-w1.crt",
                              "--tls-key", pki_ + "/worker-w1.key"});
  EXPECT_TRUE(good->WaitForOutput("registered (")) << good->err();
}

}  // namespace
}  // namespace vigil::testing
