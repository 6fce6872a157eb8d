#include "services/coordinator/dashboard.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigil::coordinator {
namespace {

void AddCommitment(v1::TenantStatus* t, const std::string& asset, const std::string& kind,
                   const std::string& verdict, int64_t next_check_ns = 0) {
  auto* c = t->add_commitments();
  c->set_asset(asset);
  c->set_kind(kind);
  c->set_verdict(verdict);
  c->set_summary(kind + " of " + asset + " is " + verdict);
  c->set_next_check_ns(next_check_ns);
}

void AddReadiness(v1::TenantStatus* t, const std::string& asset, const std::string& readiness) {
  auto* r = t->add_readiness();
  r->set_asset(asset);
  r->set_readiness(readiness);
  if (readiness != "ready") r->add_reasons("because");
}

TEST(DashboardTest, RowsInTroubleComeFirstAndReadinessIsKept) {
  constexpr int64_t kNow = 1'000'000;
  v1::GetStatusResponse s;
  v1::TenantStatus* a = s.add_tenants();
  a->mutable_tenant()->set_name("alpha");
  AddReadiness(a, "fs", "ready");
  AddCommitment(a, "fs", "rpo", "pass");
  AddCommitment(a, "fs", "integrity", "pass");
  AddReadiness(a, "mail", "at risk");
  AddCommitment(a, "mail", "rpo", "unknown");
  v1::TenantStatus* b = s.add_tenants();
  b->mutable_tenant()->set_name("beta");
  AddReadiness(b, "db", "ready");
  AddCommitment(b, "db", "restore_drill", "pass", kNow - 1);  // overdue
  AddReadiness(b, "erp", "not ready");
  AddCommitment(b, "erp", "integrity", "fail");
  AddCommitment(b, "erp", "rpo", "pass", kNow + 1);

  auto j = nlohmann::json::parse(DashboardJson(s, kNow));
  std::vector<std::string> order;
  for (const auto& r : j["rows"]) {
    order.push_back(r["tenant"].get<std::string>() + "/" + r["asset"].get<std::string>());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"beta/erp", "beta/db", "alpha/mail", "alpha/fs"}));
  EXPECT_EQ(j["rows"][0]["rank"], 0);
  EXPECT_EQ(j["rows"][0]["readiness"], "not ready");
  EXPECT_EQ(j["rows"][0]["reasons"][0], "because");
  EXPECT_EQ(j["rows"][0]["cells"]["integrity"]["verdict"], "fail");
  EXPECT_EQ(j["rows"][0]["cells"]["rpo"]["overdue"], false);
  EXPECT_EQ(j["rows"][1]["cells"]["restore_drill"]["overdue"], true);
  EXPECT_EQ(j["rows"][3]["rank"], 3);
  // Columns: the kinds present, in the contract's order.
  EXPECT_EQ(j["kinds"], nlohmann::json({"rpo", "integrity", "restore_drill"}));
  EXPECT_EQ(j["counts"]["pass"], 4);
  EXPECT_EQ(j["counts"]["fail"], 1);
  EXPECT_EQ(j["counts"]["unknown"], 1);
}

TEST(DashboardTest, NamesAreDataNotMarkupAndTheEmptyStatusIsValid) {
  v1::GetStatusResponse s;
  auto j = nlohmann::json::parse(DashboardJson(s, 1));
  EXPECT_TRUE(j["rows"].empty());
  v1::TenantStatus* t = s.add_tenants();
  t->mutable_tenant()->set_name("<img src=x onerror=alert(1)>");
  AddCommitment(t, "a\"b", "rpo", "pass");
  j = nlohmann::json::parse(DashboardJson(s, 1));
  EXPECT_EQ(j["rows"][0]["tenant"], "<img src=x onerror=alert(1)>");
  EXPECT_EQ(j["rows"][0]["asset"], "a\"b");
  // The page renders with textContent only.
  EXPECT_EQ(std::string(DashboardJs()).find("innerHTML"), std::string::npos);
  EXPECT_NE(std::string(DashboardHtml()).find("/dashboard.js"), std::string::npos);
}

TEST(DashboardTest, TasksInProgressAreListedWithTheirWorker) {
  std::vector<v1::Task> tasks(3);
  tasks[0].set_id(9);
  tasks[0].set_state(v1::TASK_STATE_LEASED);
  tasks[0].set_worker_id("w-1");
  tasks[0].set_attempt(2);
  tasks[0].set_lease_expires_ns(77);
  tasks[0].mutable_backup_set()->set_tenant("acme");
  tasks[0].mutable_backup_set()->set_name("fs-a");
  tasks[1].set_id(4);
  tasks[1].set_state(v1::TASK_STATE_QUEUED);
  tasks[1].set_kind(v1::TASK_KIND_DRILL);
  tasks[2].set_id(2);
  tasks[2].set_state(v1::TASK_STATE_DONE);
  auto j = nlohmann::json::parse(DashboardJson(v1::GetStatusResponse(), 1, tasks));
  ASSERT_EQ(j["tasks"].size(), 2u);  // the done one is not in progress
  EXPECT_EQ(j["tasks"][0]["id"], 4);
  EXPECT_EQ(j["tasks"][0]["state"], "queued");
  EXPECT_EQ(j["tasks"][0]["kind"], "drill");
  EXPECT_EQ(j["tasks"][1]["id"], 9);
  EXPECT_EQ(j["tasks"][1]["state"], "leased");
  EXPECT_EQ(j["tasks"][1]["worker"], "w-1");
  EXPECT_EQ(j["tasks"][1]["attempt"], 2);
  EXPECT_EQ(j["tasks"][1]["lease_expires_ns"], 77);
  EXPECT_EQ(j["tasks"][1]["tenant"], "acme");
  EXPECT_EQ(j["tasks"][1]["backup_set"], "fs-a");
}

}  // namespace
}  // namespace vigil::coordinator
