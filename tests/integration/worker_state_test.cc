// A worker's state directory with real processes on loopback: a worker
// enrolled with a one-time token keeps its id across a SIGKILL (and across
// a coordinator restart too), a corrupt state file stops the worker with an
// error naming the file, and a state directory the coordinator does not
// know falls back to enrolment (refused when the token was used).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <regex>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil {
namespace {

using testing::BackgroundProcess;
using testing::MakeDirs;
using testing::ReadFile;
using testing::RunResult;
using testing::WriteFile;
namespace manifests = testing::manifests;

class WorkerStateProcessTest : public testing::ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "root";
    WriteFile(root_ + "/acme/fs/a.txt", "a");
    WriteFile(tmp_ / "m.yaml", manifests::Head() + manifests::OneSet() + manifests::kRpo24h);
    StartCoordinator();
    ASSERT_TRUE(cluster_.Apply(tmp_ / "m.yaml"));
  }
  // A coordinator with no enrolment token of its own: workers enrol with
  // tokens the test issues.
  void StartCoordinator(const std::string& ttl = "5s") {
    testing::CoordinatorOptions o;
    o.enrol_token = false;
    o.lease_ttl = ttl;
    ASSERT_TRUE(cluster_.StartCoordinator(o));
  }
  std::string IssueEnrol(const std::string& name) {
    RunResult r = Admin({"token", "issue", "--kind", "enrol", "--name", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string file = tmp_ / (name + ".tok");
    WriteFile(file, r.out);
    return file;
  }
  std::unique_ptr<BackgroundProcess> Worker(const std::string& state_dir,
                                            const std::string& token_file,
                                            const std::vector<std::string>& extra = {}) {
    std::vector<std::string> flags{"--state-dir", state_dir, "--token-file", token_file};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return cluster_.StartWorker("worker" + std::to_string(++workers_), "loc-a=" + root_, flags);
  }
  // The worker id in the first "worker ID: <what>" log line.
  static std::string IdIn(const std::string& err, const std::string& what) {
    std::smatch m;
    std::regex re("worker (w[0-9]+): " + what);
    return std::regex_search(err, m, re) ? m[1].str() : "";
  }
  void CheckCompletes() {
    RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  std::string root_;
  int workers_ = 0;
};

TEST_F(WorkerStateProcessTest, OneTimeTokenWorkerResumesAfterSigkill) {
  const std::string state = tmp_ / "state", token = IssueEnrol("paris");
  auto w = Worker(state, token);
  ASSERT_TRUE(w->WaitForOutput("credential stored")) << w->err();
  const std::string id = IdIn(w->err(), "registered");
  ASSERT_FALSE(id.empty()) << w->err();
  struct stat st {};
  ASSERT_EQ(stat((tmp_ / "state/worker-state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  CheckCompletes();
  w->Signal(SIGKILL);
  EXPECT_EQ(w->Wait(), -SIGKILL);

  w = Worker(state, token);  // the token is used up: only the state lets it in
  ASSERT_TRUE(w->WaitForOutput("resumed with the credential")) << w->err();
  EXPECT_EQ(IdIn(w->err(), "resumed"), id) << w->err();
  CheckCompletes();
  EXPECT_EQ(w->err().find("registered"), std::string::npos) << w->err();
}

TEST_F(WorkerStateProcessTest, ResumesAfterWorkerAndCoordinatorRestart) {
  const std::string state = tmp_ / "state", token = IssueEnrol("paris");
  auto w = Worker(state, token);
  ASSERT_TRUE(w->WaitForOutput("credential stored")) << w->err();
  const std::string id = IdIn(w->err(), "registered");
  CheckCompletes();
  w->Signal(SIGKILL);
  EXPECT_EQ(w->Wait(), -SIGKILL);
  cluster_.coordinator().Signal(SIGKILL);
  EXPECT_EQ(cluster_.coordinator().Wait(), -SIGKILL);
  ASSERT_TRUE(cluster_.RestartCoordinator());  // same data, same port

  w = Worker(state, token);
  ASSERT_TRUE(w->WaitForOutput("resumed with the credential")) << w->err();
  EXPECT_EQ(IdIn(w->err(), "resumed"), id) << w->err();
  CheckCompletes();
}

TEST_F(WorkerStateProcessTest, CorruptStateFileStopsTheWorkerAndSpendsNoToken) {
  const std::string state = tmp_ / "state", token = IssueEnrol("paris");
  MakeDirs(state);
  WriteFile(state + "/worker-state", "vigil-worker-state 1\nworker_id w1\ncredential 0123\n");
  auto w = Worker(state, token);
  EXPECT_EQ(w->Wait(), 2);
  EXPECT_NE(w->err().find(state + "/worker-state': line 3 (byte 45): field 'credential'"),
            std::string::npos)
      << w->err();
  EXPECT_NE(w->err().find("fix or delete the file"), std::string::npos) << w->err();
  RunResult list = Admin({"token", "list"});
  EXPECT_EQ(list.out.find("used by"), std::string::npos) << list.out;
}

TEST_F(WorkerStateProcessTest, UnknownCredentialFallsBackToEnrolment) {
  const std::string token = IssueEnrol("paris");
  auto first = Worker(tmp_ / "state-a", token);  // uses the one-time token
  ASSERT_TRUE(first->WaitForOutput("credential stored")) << first->err();

  // A state directory from another coordinator: the same id, another secret.
  const std::string foreign = tmp_ / "state-b";
  MakeDirs(foreign);
  WriteFile(foreign + "/worker-state", "vigil-worker-state 1\nworker_id " +
                                           IdIn(first->err(), "registered") + "\ncredential " +
                                           std::string(64, 'e') + "\n");
  auto w = Worker(foreign, token);
  EXPECT_NE(w->Wait(), 0);
  EXPECT_NE(w->err().find("refused the stored credential"), std::string::npos) << w->err();
  EXPECT_NE(w->err().find("registering again with the enrolment token"), std::string::npos)
      << w->err();
  EXPECT_NE(w->err().find("was already used"), std::string::npos) << w->err();

  // With a fresh token it enrols and replaces the file.
  w = Worker(foreign, IssueEnrol("paris-2"));
  ASSERT_TRUE(w->WaitForOutput("credential stored")) << w->err();
  const std::string id = IdIn(w->err(), "registered");
  EXPECT_NE(ReadFile(foreign + "/worker-state").find("worker_id " + id + "\n"), std::string::npos);
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(), 0);
  CheckCompletes();
}

// Killed mid-task with a long lease: the restarted worker's Resume hands
// the task back at once, so the check completes well before the 60 s lease
// would have expired.
TEST_F(WorkerStateProcessTest, ResumeHandsBackTheLeaseOfTheKilledWorker) {
  for (int i = 0; i < 20; ++i) WriteFile(root_ + "/acme/fs/f" + std::to_string(i), "x");
  cluster_.coordinator().Signal(SIGTERM);  // again with a long lease TTL, same data
  cluster_.coordinator().Wait();
  StartCoordinator("60s");
  const std::string state = tmp_ / "state", token = IssueEnrol("paris");
  const std::vector<std::string> slow = {"--batch-size", "2", "--test-batch-delay-ms", "300"};
  auto w = Worker(state, token, slow);
  ASSERT_TRUE(w->WaitForOutput("credential stored")) << w->err();
  ASSERT_EQ(Admin({"check", "run", "acme"}).exit_code, 0);
  ASSERT_TRUE(w->WaitForOutput("leased task")) << w->err();
  w->Signal(SIGKILL);
  EXPECT_EQ(w->Wait(), -SIGKILL);

  w = Worker(state, token);
  ASSERT_TRUE(w->WaitForOutput("resumed with the credential")) << w->err();
  const auto start = std::chrono::steady_clock::now();
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "30"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << w->err();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_NE(w->err().find("leased task"), std::string::npos) << w->err();
}

}  // namespace
}  // namespace vigil
