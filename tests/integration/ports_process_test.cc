// One port, one process: a `vigil coordinator` or `vigil worker` whose gRPC
// or HTTP port is already served exits 2 naming the port, instead of
// sharing it (SO_REUSEPORT would let the kernel split clients between two
// coordinators with two databases).
//
// The second process runs under timeout(1): were it to start listening, it
// would be stopped after a while and the test would see 124, not 2.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/cluster.h"

namespace vigil::testing {
namespace {

std::string PortOf(const std::string& addr) { return addr.substr(addr.rfind(':') + 1); }

class PortsProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    CoordinatorOptions o;
    o.http = true;
    ASSERT_TRUE(cluster_.StartCoordinator(o));
  }

  // `vigil ARGS` with at most 30 s to give up.
  RunResult Run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/timeout", "30", VigilBin()});
    return RunProcess(args);
  }

  // A second coordinator on its own data directory.
  RunResult SecondCoordinator(const std::string& listen, const std::string& http_listen) const {
    std::vector<std::string> args = {"coordinator", "--data", tmp_ / "second", "--listen", listen};
    if (!http_listen.empty()) {
      args.push_back("--http-listen");
      args.push_back(http_listen);
    }
    return Run(args);
  }
};

TEST_F(PortsProcessTest, ASecondCoordinatorOnATakenGrpcPortExits2NamingIt) {
  RunResult r = SecondCoordinator(cluster_.addr(), "");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("port " + PortOf(cluster_.addr()) + " is in use"), std::string::npos)
      << r.err;
  // The first one still answers, with its own database.
  EXPECT_FALSE(cluster_.Status().is_null());
}

TEST_F(PortsProcessTest, ASecondCoordinatorOnATakenHttpPortExits2NamingIt) {
  RunResult r = SecondCoordinator("127.0.0.1:0", cluster_.http());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("port " + PortOf(cluster_.http()) + " is in use"), std::string::npos)
      << r.err;
}

TEST_F(PortsProcessTest, AWorkerOnATakenHttpPortExits2NamingIt) {
  MakeDirs(tmp_ / "loc-a");
  RunResult r = Run({"worker", "--coordinator", cluster_.addr(), "--site", "s1", "--location",
                     "loc-a=" + (tmp_ / "loc-a"), "--token-file", cluster_.enrol_token_file(),
                     "--http-listen", cluster_.http()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("port " + PortOf(cluster_.http()) + " is in use"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace vigil::testing
