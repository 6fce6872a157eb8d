// `vigil point accept` and the clean-point lines of `vigil status` with the
// real binaries on loopback: a coordinator, a worker checking an rsnapshot
// set of two points, then the operator's commands and what they say (the
// refusals name the valid tenants and points; a tenant token is refused).
// Accepting a flagged point is tested at the coordinator's level
// (tests/services/coordinator/clean_point_test.cc), where verdicts can be
// set directly. Every port is 0.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr std::time_t kT0 = 1790000000;  // seconds: daily.1; daily.0 a day later

#define EXPECT_HAS(text, needle) \
  EXPECT_NE((text).find(needle), std::string::npos) << "no '" << (needle) << "' in:\n" << (text)

class PointAcceptProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    const std::string snaps = tmp_ / "loc/acme/snaps";
    for (int i = 0; i < 2; ++i) {
      const std::string d = snaps + "/daily." + std::to_string(1 - i);
      MakeDirs(d);
      WriteFile(d + "/report.docx", "quarterly report");
      // rsnapshot points are timed by their folder's mtime.
      std::filesystem::last_write_time(
          d, std::filesystem::file_time_type::clock::from_sys(
                 std::chrono::system_clock::from_time_t(kT0 + i * 86400)));
    }
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head("loc", "Europe/Paris") +
                  manifests::OneSet("fs", "snaps", "loc", "acme/snaps", {"layout: rsnapshot"}));
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + std::string(tmp_ / "loc"));
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
    RunResult r = cluster_.RunCheck("acme");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
  }
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(PointAcceptProcessTest, RefusalsNameWhatExistsAndStatusShowsTheCleanPoint) {
  // --reason is required, before anything is sent.
  RunResult r = Admin({"point", "accept", "acme", "snaps", "daily.0"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_HAS(r.err, "--reason");
  r = Admin({"point", "accept", "acme", "snaps", "daily.0", "--reason", " "});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_HAS(r.err, "--reason is required");

  r = Admin({"point", "accept", "acne", "snaps", "daily.0", "--reason", "upgrade"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_HAS(r.err, "unknown tenant 'acne' (tenants: acme)");
  EXPECT_HAS(r.err, "nothing accepted");
  r = Admin({"point", "accept", "acme", "snap", "daily.0", "--reason", "upgrade"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_HAS(r.err, "no backup set 'snap' (its backup sets: snaps)");
  r = Admin({"point", "accept", "acme", "snaps", "daily.7", "--reason", "upgrade"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_HAS(r.err, "no restore point 'daily.7'");
  EXPECT_HAS(r.err, "newest first: daily.0, daily.1");

  // An admin call: a tenant token is refused.
  r = Admin({"token", "issue", "--kind", "tenant", "--tenant", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteFile(tmp_ / "acme.token", r.out);
  r = cluster_.As(tmp_ / "acme.token",
                  {"point", "accept", "acme", "snaps", "daily.0", "--reason", "upgrade"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_HAS(r.err, "tenant token");

  r = Admin({"point", "accept", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "last clean point");
  EXPECT_HAS(r.out, "--reason");

  // Nothing accepted: no point has accepted_* set.
  nlohmann::json set = BackupSet(cluster_.Status("acme"), "snaps");
  ASSERT_EQ(set["points"].size(), 2u) << set.dump(1);
  for (const auto& p : set["points"]) {
    EXPECT_EQ(p["accepted_ns"], 0) << p.dump();
    const std::string v = p["verdict"];
    EXPECT_TRUE(v == "clean" || v == "suspicious" || v == "encrypted" || v == "not-computed") << v;
    EXPECT_TRUE(p["signals"].is_array());
  }
  EXPECT_TRUE(set["last_clean_ns"].is_number()) << set.dump(1);
  // The human status says which point to restore, or that there is none.
  r = Admin({"status", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (set["last_clean_ns"] == 0) {
    EXPECT_HAS(r.out, "no clean point");
  } else {
    EXPECT_HAS(r.out, "last clean point: " + set["last_clean_name"].get<std::string>());
  }
}

}  // namespace
}  // namespace vigil::testing
