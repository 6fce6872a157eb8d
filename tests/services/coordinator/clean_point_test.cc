// The last clean restore point and the operator's acceptance, through the
// coordinator's domain calls (no gRPC): GetStatus's last_clean_* over the
// points' ransomware verdicts, `vigil status`'s text and JSON of them
// (services/cli/status_view.h), the dashboard's JSON, and AcceptPoint
// (refusals, the record written, later verdicts reset). The verdicts are
// written into the point records directly, as the signals would (their
// computation is tested with services/contracts/signals.h).
//
// Thread safety: a gtest fixture, used on the test's thread.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "services/cli/status_view.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/dashboard.h"
#include "services/coordinator/points.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kDay = 86400 * kS;
// Three daily points before the fake clock's start (2026-10-01 00:00 UTC):
// 2026-09-28, 09-29 and 09-30 at 22:00 UTC (midnight of the next day in
// Paris, CEST).
constexpr int64_t kT1 = vigil::testing::kFakeClockStart - 3 * kDay + 22 * 3600 * kS;
constexpr int64_t kT2 = kT1 + kDay;
constexpr int64_t kT3 = kT2 + kDay;

class CleanPointTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    v1::ApplyRequest req =
        SetRequest({.name = "snaps", .path = "acme/snaps", .layout = "rsnapshot"});
    req.mutable_tenants(0)->set_timezone("Europe/Paris");
    Apply(req);
    RegisterWorker();
    RunTask({{kT1, "daily.2"}, {kT2, "daily.1"}, {kT3, "daily.0"}},
            {{Obs(kT1, "a.docx", "1"), Obs(kT2, "a.docx", "1"), Obs(kT3, "a.docx", "1"),
              Obs(kT3, "b.docx.lockbit", "x")}});
  }
  // Writes `verdict` (and the .lockbit signal, computed against kT2, when
  // flagged) into the point's record.
  void SetVerdict(int64_t t, v1::PointVerdict verdict) {
    const bool flagged =
        verdict == v1::POINT_VERDICT_SUSPICIOUS || verdict == v1::POINT_VERDICT_ENCRYPTED;
    SetPointVerdict(
        "snaps", t, verdict,
        flagged ? std::vector<v1::PointSignal>{LockbitSignal()} : std::vector<v1::PointSignal>{},
        flagged ? kT2 : 0);
  }
  v1::PointRecord Record(int64_t t) {
    auto points = c_->Points("acme", "snaps");
    EXPECT_TRUE(points.ok()) << points.status();
    for (const auto& r : *points) {
      if (r.time_ns() == t) return r;
    }
    ADD_FAILURE() << "no point at " << t;
    return {};
  }
  v1::GetStatusResponse Status() {
    v1::GetStatusRequest req;
    req.set_tenant("acme");
    auto st = c_->GetStatus(req);
    EXPECT_TRUE(st.ok()) << st.status();
    return st.ok() ? *st : v1::GetStatusResponse();
  }
  static v1::AcceptPointRequest Accept(const std::string& point,
                                       const std::string& reason = "ERP upgrade, verified") {
    v1::AcceptPointRequest req;
    req.set_tenant("acme");
    req.set_backup_set("snaps");
    req.set_point(point);
    req.set_reason(reason);
    return req;
  }
  // PrintStatus's text.
  static std::string StatusText(const v1::GetStatusResponse& r) {
    ::testing::internal::CaptureStdout();
    cli::PrintStatus(r);
    return ::testing::internal::GetCapturedStdout();
  }
};

TEST_F(CleanPointTest, StatusNamesTheLastCleanPoint) {
  // Nothing examined yet (as points recorded before verdicts existed): no
  // clean point (not computed is not clean).
  for (int64_t t : {kT1, kT2, kT3}) SetVerdict(t, v1::POINT_VERDICT_UNSPECIFIED);
  v1::BackupSetStatus b = Status().tenants(0).backup_sets(0);
  EXPECT_EQ(b.last_clean_ns(), 0);
  EXPECT_EQ(b.last_clean_name(), "");
  std::string text = StatusText(Status());
  EXPECT_NE(text.find("newest point daily.0 not yet examined for ransomware signals"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("no clean point"), std::string::npos) << text;

  SetVerdict(kT1, v1::POINT_VERDICT_CLEAN);
  SetVerdict(kT2, v1::POINT_VERDICT_CLEAN);
  SetVerdict(kT3, v1::POINT_VERDICT_SUSPICIOUS);
  v1::GetStatusResponse st = Status();
  b = st.tenants(0).backup_sets(0);
  EXPECT_EQ(b.last_clean_ns(), kT2);
  EXPECT_EQ(b.last_clean_name(), "daily.1");

  text = StatusText(st);
  EXPECT_NE(text.find("newest point daily.0: suspicious\n"), std::string::npos) << text;
  EXPECT_NE(text.find("extension-changes: 1 file renamed to a new extension (.lockbit)"),
            std::string::npos)
      << text;
  // In the tenant's zone: 2026-09-30 00:00 in Paris.
  EXPECT_NE(text.find("last clean point: daily.1 (taken 2026-09-30 00:00 CEST)"), std::string::npos)
      << text;

  nlohmann::json j = nlohmann::json::parse(cli::StatusJson(st));
  const nlohmann::json& set = j["tenants"][0]["backup_sets"][0];
  EXPECT_EQ(set["last_clean_ns"], kT2);
  EXPECT_EQ(set["last_clean_name"], "daily.1");
  ASSERT_EQ(set["points"].size(), 3u);
  EXPECT_EQ(set["points"][0]["verdict"], "clean");
  EXPECT_EQ(set["points"][2]["verdict"], "suspicious");
  EXPECT_EQ(set["points"][2]["compared_with_ns"], kT2);
  EXPECT_EQ(set["points"][2]["signals"][0]["kind"], "extension-changes");
  EXPECT_EQ(set["points"][2]["signals"][0]["count"], 1);
  EXPECT_EQ(set["points"][2]["signals"][0]["examples"][0], "a.docx.lockbit");
  EXPECT_EQ(set["points"][2]["accepted_ns"], 0);

  // Encrypted, and an older point not examined: the clean one stays.
  SetVerdict(kT2, v1::POINT_VERDICT_UNSPECIFIED);
  SetVerdict(kT3, v1::POINT_VERDICT_ENCRYPTED);
  st = Status();
  EXPECT_EQ(st.tenants(0).backup_sets(0).last_clean_ns(), kT1);
  j = nlohmann::json::parse(cli::StatusJson(st));
  EXPECT_EQ(j["tenants"][0]["backup_sets"][0]["points"][1]["verdict"], "not-computed");
  EXPECT_EQ(j["tenants"][0]["backup_sets"][0]["points"][2]["verdict"], "encrypted");
}

TEST_F(CleanPointTest, DashboardShowsFlaggedPointsAndTheLastCleanPoint) {
  SetVerdict(kT1, v1::POINT_VERDICT_CLEAN);
  SetVerdict(kT2, v1::POINT_VERDICT_CLEAN);
  SetVerdict(kT3, v1::POINT_VERDICT_ENCRYPTED);
  // A contract, so that the grid has a row for the asset.
  v1::GetStatusResponse st = Status();
  v1::AssetReadiness* r = st.mutable_tenants(0)->add_readiness();
  r->set_asset("fs");
  r->set_readiness("ready");
  const int64_t now = clock_.NowNs();
  nlohmann::json d = nlohmann::json::parse(DashboardJson(st, now));
  ASSERT_EQ(d["signals"].size(), 1u) << d.dump(1);
  EXPECT_EQ(d["signals"][0]["tenant"], "acme");
  EXPECT_EQ(d["signals"][0]["backup_set"], "snaps");
  EXPECT_EQ(d["signals"][0]["point_name"], "daily.0");
  EXPECT_EQ(d["signals"][0]["point_ns"], kT3);
  EXPECT_EQ(d["signals"][0]["verdict"], "encrypted");
  EXPECT_EQ(d["signals"][0]["signals"][0]["kind"], "extension-changes");
  EXPECT_EQ(d["signals"][0]["signals"][0]["examples"][0], "a.docx.lockbit");
  EXPECT_EQ(d["signals"][0]["last_clean_name"], "daily.1");
  EXPECT_EQ(d["signals"][0]["last_clean_ns"], kT2);
  ASSERT_EQ(d["rows"].size(), 1u);
  EXPECT_EQ(d["rows"][0]["rank"], 0) << "a flagged point puts its row first";
  ASSERT_EQ(d["rows"][0]["flagged"].size(), 1u);
  EXPECT_EQ(d["rows"][0]["flagged"][0]["verdict"], "encrypted");
  EXPECT_EQ(d["rows"][0]["clean_points"][0]["last_clean_name"], "daily.1");
  EXPECT_EQ(d["rows"][0]["clean_points"][0]["newest_verdict"], "encrypted");

  nlohmann::json t = nlohmann::json::parse(TenantJson(st, "acme", now, now - kDay, {}, {}));
  ASSERT_EQ(t["signals"].size(), 1u);
  EXPECT_EQ(t["signals"][0]["point_name"], "daily.0");
  ASSERT_EQ(t["clean_points"].size(), 1u);
  EXPECT_EQ(t["clean_points"][0]["backup_set"], "snaps");
  EXPECT_EQ(t["clean_points"][0]["has_clean"], true);
  EXPECT_EQ(t["clean_points"][0]["last_clean_ns"], kT2);

  // Accepted: no longer flagged, and the last clean point.
  ASSERT_TRUE(c_->AcceptPoint(Accept("daily.0"), "ops").ok());
  st = Status();
  d = nlohmann::json::parse(DashboardJson(st, now));
  EXPECT_TRUE(d["signals"].empty()) << d.dump(1);
  t = nlohmann::json::parse(TenantJson(st, "acme", now, now - kDay, {}, {}));
  EXPECT_EQ(t["clean_points"][0]["last_clean_name"], "daily.0");
  EXPECT_EQ(t["clean_points"][0]["newest_verdict"], "accepted");
}

TEST_F(CleanPointTest, AcceptPointRefusesBadRequestsAndChangesNothing) {
  SetVerdict(kT1, v1::POINT_VERDICT_CLEAN);
  SetVerdict(kT2, v1::POINT_VERDICT_SUSPICIOUS);
  SetVerdict(kT3, v1::POINT_VERDICT_SUSPICIOUS);
  const v1::PointRecord before = Record(kT2);

  auto r = c_->AcceptPoint(Accept("daily.1", "  "), "ops");
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("'reason' is required"), std::string::npos);

  v1::AcceptPointRequest req = Accept("daily.1");
  req.set_tenant("nobody");
  r = c_->AcceptPoint(req, "ops");
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("unknown tenant 'nobody' (tenants: acme)"), std::string::npos)
      << r.status();

  req = Accept("daily.1");
  req.set_backup_set("other");
  r = c_->AcceptPoint(req, "ops");
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("no backup set 'other' (its backup sets: snaps)"),
            std::string::npos)
      << r.status();

  r = c_->AcceptPoint(Accept("daily.9"), "ops");
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("points, newest first: daily.0, daily.1, daily.2"),
            std::string::npos)
      << r.status();

  EXPECT_EQ(Record(kT2).SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(Record(kT3).verdict(), v1::POINT_VERDICT_SUSPICIOUS);
  EXPECT_EQ(Status().tenants(0).backup_sets(0).last_clean_ns(), kT1);
}

TEST_F(CleanPointTest, AcceptedPointIsTheLastCleanOneAndLaterVerdictsAreReset) {
  SetVerdict(kT1, v1::POINT_VERDICT_CLEAN);
  SetVerdict(kT2, v1::POINT_VERDICT_SUSPICIOUS);
  SetVerdict(kT3, v1::POINT_VERDICT_SUSPICIOUS);
  clock_.Advance(3600 * kS);
  // By time, as `vigil status --json` gives it.
  auto r = c_->AcceptPoint(Accept(std::to_string(kT2)), "nightly-ops");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->already_clean());
  EXPECT_EQ(r->reset(), 1u);
  const v1::PointRecord p = Record(kT2);
  EXPECT_EQ(p.accepted_by(), "nightly-ops");
  EXPECT_EQ(p.accepted_ns(), clock_.NowNs());
  EXPECT_EQ(p.accepted_reason(), "ERP upgrade, verified");
  EXPECT_EQ(p.verdict(), v1::POINT_VERDICT_SUSPICIOUS) << "the computed verdict stays";
  // The later point is judged again at once, against the accepted one (its
  // entries hold nothing suspicious: clean).
  EXPECT_EQ(Record(kT3).verdict(), v1::POINT_VERDICT_CLEAN);
  EXPECT_EQ(Record(kT3).compared_with_ns(), kT2);
  EXPECT_EQ(Record(kT1).verdict(), v1::POINT_VERDICT_CLEAN);

  v1::GetStatusResponse st = Status();
  EXPECT_EQ(st.tenants(0).backup_sets(0).last_clean_ns(), kT3);
  EXPECT_EQ(st.tenants(0).backup_sets(0).last_clean_name(), "daily.0");
  nlohmann::json j = nlohmann::json::parse(cli::StatusJson(st));
  const nlohmann::json& pj = j["tenants"][0]["backup_sets"][0]["points"][1];
  EXPECT_EQ(pj["accepted_by"], "nightly-ops");
  EXPECT_EQ(pj["accepted_reason"], "ERP upgrade, verified");
  EXPECT_EQ(pj["accepted_ns"], clock_.NowNs());

  // Again, and a point examined clean: nothing changes.
  const int64_t accepted_at = clock_.NowNs();
  clock_.Advance(kS);
  r = c_->AcceptPoint(Accept("daily.1", "again"), "someone");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->already_clean());
  EXPECT_EQ(Record(kT2).accepted_by(), "nightly-ops");
  EXPECT_EQ(Record(kT2).accepted_ns(), accepted_at);
  r = c_->AcceptPoint(Accept("daily.2"), "someone");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->already_clean());
  EXPECT_EQ(Record(kT1).accepted_ns(), 0);

  // A point not examined yet cannot be accepted.
  SetVerdict(kT3, v1::POINT_VERDICT_UNSPECIFIED);
  r = c_->AcceptPoint(Accept("daily.0"), "someone");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(Record(kT3).accepted_ns(), 0);
}

TEST_F(CleanPointTest, AcceptedByIsTheAdminTokensName) {
  coordinator_options_.admin_token_sha256 = TokenHash("bootstrap");
  Open();
  SetVerdict(kT2, v1::POINT_VERDICT_SUSPICIOUS);
  auto issue = [&](v1::TokenKind kind, const std::string& name) {
    v1::IssueTokenRequest req;
    req.set_kind(kind);
    req.set_name(name);
    if (kind == v1::TOKEN_KIND_TENANT) req.set_tenant("acme");
    auto t = c_->IssueToken(req);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token() : "";
  };
  auto by = c_->AdminIdentity(issue(v1::TOKEN_KIND_ADMIN, "nightly-ops"));
  ASSERT_TRUE(by.ok()) << by.status();
  EXPECT_EQ(*by, "nightly-ops");
  EXPECT_EQ(c_->AdminIdentity("bootstrap").value_or("?"), "admin");
  EXPECT_EQ(c_->AdminIdentity(issue(v1::TOKEN_KIND_ADMIN, "")).value_or("?"), "admin");
  auto tenant = c_->AdminIdentity(issue(v1::TOKEN_KIND_TENANT, "portal"));
  EXPECT_TRUE(absl::IsUnauthenticated(tenant.status())) << tenant.status();
  EXPECT_NE(tenant.status().message().find("got a tenant token"), std::string::npos);
  EXPECT_TRUE(absl::IsUnauthenticated(c_->AdminIdentity("").status()));

  auto r = c_->AcceptPoint(Accept("daily.1"), *by);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Record(kT2).accepted_by(), "nightly-ops");
}

}  // namespace
}  // namespace vigil::coordinator
