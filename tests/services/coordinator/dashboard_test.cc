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

v1::Task FailedCheck(uint64_t id, const std::string& tenant, const std::string& set,
                     const std::string& asset, const std::string& error) {
  v1::Task t;
  t.set_id(id);
  t.set_state(v1::TASK_STATE_FAILED);
  t.set_attempt(3);
  t.set_finished_ns(500);
  t.mutable_backup_set()->set_tenant(tenant);
  t.mutable_backup_set()->set_name(set);
  t.mutable_backup_set()->set_asset(asset);
  for (uint32_t a = 1; a <= 3; ++a) {
    v1::TaskError* e = t.add_errors();
    e->set_attempt(a);
    e->set_worker_id("w-1");
    e->set_at_ns(100 * a);
    e->set_message(error + " (attempt " + std::to_string(a) + ")");
  }
  return t;
}

// A check whose every attempt failed is listed with its reason (the last
// attempt's error) and every error, in the grid's list and on its asset's
// row (ranked in trouble), until a later run of the same set succeeds.
TEST(DashboardTest, FailedChecksAreShownWithTheirReasonOnTheirRow) {
  v1::GetStatusResponse s;
  v1::TenantStatus* a = s.add_tenants();
  a->mutable_tenant()->set_name("acme");
  AddReadiness(a, "fs", "ready");
  AddCommitment(a, "fs", "rpo", "pass");
  AddReadiness(a, "mail", "ready");
  AddCommitment(a, "mail", "rpo", "pass");
  std::vector<v1::Task> tasks = {
      FailedCheck(3, "acme", "fs-a", "fs", "backup set directory '/x/caisse': No such file"),
      FailedCheck(4, "acme", "mail-a", "mail", "unreadable"),
  };
  // mail-a's failure is followed by a successful check: no longer shown.
  tasks.emplace_back().set_id(5);
  tasks.back().set_state(v1::TASK_STATE_DONE);
  *tasks.back().mutable_backup_set() = tasks[1].backup_set();
  auto j = nlohmann::json::parse(DashboardJson(s, 1000, tasks));
  ASSERT_EQ(j["failed"].size(), 1u) << j.dump(2);
  const auto& f = j["failed"][0];
  EXPECT_EQ(f["id"], 3);
  EXPECT_EQ(f["tenant"], "acme");
  EXPECT_EQ(f["backup_set"], "fs-a");
  EXPECT_EQ(f["state"], "failed");
  EXPECT_EQ(f["finished_ns"], 500);
  EXPECT_EQ(f["reason"], "backup set directory '/x/caisse': No such file (attempt 3)");
  ASSERT_EQ(f["errors"].size(), 3u);
  EXPECT_EQ(f["errors"][0]["message"],
            "backup set directory '/x/caisse': No such file (attempt 1)");
  // The row of fs, though every commitment passes, is in trouble and says why.
  EXPECT_EQ(j["rows"][0]["asset"], "fs");
  EXPECT_EQ(j["rows"][0]["rank"], 0);
  ASSERT_EQ(j["rows"][0]["failed"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["failed"][0]["reason"], f["reason"]);
  EXPECT_EQ(j["rows"][0]["failed"][0]["backup_set"], "fs-a");
  EXPECT_TRUE(j["rows"][1]["failed"].empty());
  EXPECT_EQ(j["rows"][1]["rank"], 3);
  // The tenant page lists it too.
  auto t = nlohmann::json::parse(TenantJson(s, "acme", 1000, 0, {}, tasks));
  ASSERT_EQ(t["failed"].size(), 1u);
  EXPECT_EQ(t["failed"][0]["reason"], f["reason"]);
}

// Times are shown in the tenant's zone: the page gets the zone's offsets
// and abbreviations over its window (a DST change inside it included), the
// ones the evaluator's summaries print.
TEST(DashboardTest, PagesCarryTheTenantsZone) {
  v1::GetStatusResponse s;
  v1::TenantStatus* a = s.add_tenants();
  a->mutable_tenant()->set_name("paris");
  a->mutable_tenant()->set_timezone("Europe/Paris");
  AddCommitment(a, "fs", "rpo", "pass");
  v1::TenantStatus* b = s.add_tenants();
  b->mutable_tenant()->set_name("nozone");
  AddCommitment(b, "fs", "rpo", "pass");
  // 2026-12-06 (CET); the window from 2026-09-07 (CEST) on.
  constexpr int64_t kNow = int64_t{1796'558'400} * 1'000'000'000;
  constexpr int64_t kFrom = kNow - int64_t{90} * 86400 * 1'000'000'000;
  auto t = nlohmann::json::parse(TenantJson(s, "paris", kNow, kFrom, {}, {}));
  EXPECT_EQ(t["zone"]["name"], "Europe/Paris");
  const auto& spans = t["zone"]["spans"];
  ASSERT_GE(spans.size(), 2u) << spans.dump();
  EXPECT_EQ(spans[0][0], kFrom);
  EXPECT_EQ(spans[0][1], 7200);
  EXPECT_EQ(spans[0][2], "CEST");
  // 2026-10-25 01:00 UTC: back to CET.
  EXPECT_EQ(spans[1][0], int64_t{1792'890'000} * 1'000'000'000);
  EXPECT_EQ(spans[1][1], 3600);
  EXPECT_EQ(spans[1][2], "CET");
  auto g = nlohmann::json::parse(DashboardJson(s, kNow));
  EXPECT_EQ(g["zones"]["paris"]["name"], "Europe/Paris");
  EXPECT_EQ(g["zones"]["nozone"]["name"], "UTC");
  EXPECT_EQ(g["zones"]["nozone"]["spans"][0][2], "UTC");
  // The page formats times from these, never in the viewer's zone.
  for (const char* viewer : {"toLocaleString", "toLocaleTimeString", "toLocaleDateString"}) {
    EXPECT_EQ(std::string(DashboardJs()).find(viewer), std::string::npos) << viewer;
  }
}

// A running task's progress: done out of total with a percentage and
// average rates, an unknown total as a null percentage, none while queued.
TEST(DashboardTest, RunningTasksCarryTheirProgress) {
  std::vector<v1::Task> tasks(3);
  for (int i = 0; i < 3; ++i) tasks[i].set_id(i + 1);
  tasks[0].set_state(v1::TASK_STATE_LEASED);
  v1::TaskProgress* p = tasks[0].mutable_progress();
  p->set_files_done(30);
  p->set_bytes_done(250);
  p->set_files_total(40);
  p->set_bytes_total(1000);
  p->set_started_ns(1'000'000'000);
  p->set_updated_ns(3'000'000'000);  // 2 s later
  tasks[1].set_state(v1::TASK_STATE_LEASED);
  tasks[1].mutable_progress()->set_files_done(7);
  tasks[1].mutable_progress()->set_bytes_done(70);  // no total, no start (a restart)
  tasks[2].set_state(v1::TASK_STATE_QUEUED);
  auto j = nlohmann::json::parse(DashboardJson(v1::GetStatusResponse(), 1, tasks));
  ASSERT_EQ(j["tasks"].size(), 3u);
  const auto& known = j["tasks"][0]["progress"];
  EXPECT_EQ(known["files_done"], 30);
  EXPECT_EQ(known["bytes_done"], 250);
  EXPECT_EQ(known["files_total"], 40);
  EXPECT_EQ(known["bytes_total"], 1000);
  EXPECT_DOUBLE_EQ(known["percent"].get<double>(), 25.0);  // of bytes, their total known
  EXPECT_DOUBLE_EQ(known["files_per_s"].get<double>(), 15.0);
  EXPECT_DOUBLE_EQ(known["bytes_per_s"].get<double>(), 125.0);
  EXPECT_EQ(known["started_ns"], 1'000'000'000);
  EXPECT_EQ(known["updated_ns"], 3'000'000'000);
  const auto& unknown = j["tasks"][1]["progress"];
  EXPECT_EQ(unknown["files_done"], 7);
  EXPECT_EQ(unknown["files_total"], 0);
  EXPECT_TRUE(unknown["percent"].is_null());
  EXPECT_EQ(unknown["bytes_per_s"], 0.0);
  EXPECT_TRUE(j["tasks"][2]["progress"].is_null());
  // An estimate passed: at most 100 %.
  p->set_bytes_done(1500);
  j = nlohmann::json::parse(DashboardJson(v1::GetStatusResponse(), 1, tasks));
  EXPECT_DOUBLE_EQ(j["tasks"][0]["progress"]["percent"].get<double>(), 100.0);
}

TEST(DashboardTest, TenantPageHasEvidenceHistoryAndOnlyItsTasks) {
  v1::GetStatusResponse s;
  v1::TenantStatus* a = s.add_tenants();
  a->mutable_tenant()->set_name("alpha");
  a->mutable_tenant()->set_display_name("Alpha & Co");
  AddReadiness(a, "fs", "not ready");
  AddCommitment(a, "fs", "integrity", "fail", 50);
  auto* ev = a->mutable_commitments(0)->add_evidence();
  ev->set_name("failures");
  ev->set_value("1");
  ev->set_basis("measured");
  s.add_tenants()->mutable_tenant()->set_name("beta");
  std::vector<v1::Transition> history(2);
  history[0].set_tenant("alpha");
  history[0].set_asset("fs");
  history[0].set_kind("integrity");
  history[0].set_to("pass");
  history[0].set_at_ns(10);
  history[1] = history[0];
  history[1].set_from("pass");
  history[1].set_to("fail");
  history[1].set_at_ns(20);
  history[1].set_alert_id("a1");
  std::vector<v1::Task> tasks(2);
  tasks[0].set_id(7);
  tasks[0].set_state(v1::TASK_STATE_LEASED);
  tasks[0].mutable_backup_set()->set_tenant("alpha");
  tasks[1].set_id(8);
  tasks[1].set_state(v1::TASK_STATE_QUEUED);
  tasks[1].mutable_backup_set()->set_tenant("beta");

  EXPECT_EQ(TenantJson(s, "gamma", 100, 0, history, tasks), "");
  auto j = nlohmann::json::parse(TenantJson(s, "alpha", 100, 5, history, tasks));
  EXPECT_EQ(j["display_name"], "Alpha & Co");
  EXPECT_EQ(j["from_ns"], 5);
  ASSERT_EQ(j["commitments"].size(), 1u);
  EXPECT_EQ(j["commitments"][0]["verdict"], "fail");
  EXPECT_TRUE(j["commitments"][0]["overdue"].get<bool>());
  EXPECT_EQ(j["commitments"][0]["evidence"][0]["basis"], "measured");
  ASSERT_EQ(j["history"].size(), 2u);
  EXPECT_EQ(j["history"][0]["from"], "");
  EXPECT_EQ(j["history"][1]["to"], "fail");
  EXPECT_TRUE(j["history"][1]["alerted"].get<bool>());
  EXPECT_FALSE(j["history"][0]["alerted"].get<bool>());
  EXPECT_TRUE(j["history"][0]["alert"].is_null());
  // No delivery record for alert a1: routing found no channel.
  EXPECT_EQ(j["history"][1]["alert"]["state"], "not sent");
  EXPECT_EQ(j["history"][1]["alert"]["reason"], "no alert channel serves it");
  ASSERT_EQ(j["tasks"].size(), 1u);
  EXPECT_EQ(j["tasks"][0]["id"], 7);
  EXPECT_EQ(j["readiness"][0]["readiness"], "not ready");
}

TEST(DashboardTest, TenantPageCarriesTheHistorySeries) {
  v1::GetStatusResponse s;
  v1::TenantStatus* a = s.add_tenants();
  a->mutable_tenant()->set_name("alpha");
  AddCommitment(a, "fs", "rpo", "pass");
  std::vector<HistorySeries> series(2);
  series[0].asset = "fs";
  series[0].kind = "rpo";
  series[0].metric = "rpo_age";
  series[0].has_limit = true;
  series[0].limit = 86400e9;
  series[0].points = {{10, 0}, {20, 10}, {20, 0}};
  series[0].samples = 7;
  series[0].definition = "age";
  series[1].asset = "fs";
  series[1].kind = "integrity";
  series[1].metric = "coverage";
  series[1].note = "sampled";
  auto j = nlohmann::json::parse(TenantJson(s, "alpha", 100, 5, {}, {}, series));
  ASSERT_EQ(j["series"].size(), 2u);
  EXPECT_EQ(j["series"][0]["unit"], "ns");
  EXPECT_EQ(j["series"][0]["limit"], 86400e9);
  EXPECT_EQ(j["series"][0]["points"], nlohmann::json::parse("[[10, 0.0], [20, 10.0], [20, 0.0]]"));
  EXPECT_EQ(j["series"][0]["samples"], 7);
  EXPECT_EQ(j["series"][0]["definition"], "age");
  EXPECT_EQ(j["series"][1]["unit"], "ratio");
  EXPECT_TRUE(j["series"][1]["limit"].is_null());
  EXPECT_EQ(j["series"][1]["note"], "sampled");
  EXPECT_TRUE(j["series"][1]["points"].empty());
  // Without series (no contract in force): an empty list, not a missing key.
  j = nlohmann::json::parse(TenantJson(s, "alpha", 100, 5, {}, {}));
  EXPECT_TRUE(j["series"].is_array() && j["series"].empty());
  // The page draws them (no library): the chart, its limit line and samples.
  const std::string js(DashboardJs());
  EXPECT_NE(js.find("function seriesChart"), std::string::npos);
  EXPECT_NE(js.find("class: 'limit'"), std::string::npos);
  EXPECT_NE(std::string(DashboardHtml()).find("id=\"tenant-series\""), std::string::npos);
}

TEST(DashboardTest, WorkersListTheirLeases) {
  std::vector<v1::WorkerRecord> workers(2);
  workers[0].set_id("w2");
  workers[0].set_site("s1");
  workers[0].add_locations("loc-a");
  workers[1].set_id("w1");
  std::vector<v1::Task> tasks(3);
  tasks[0].set_id(9);
  tasks[0].set_state(v1::TASK_STATE_LEASED);
  tasks[0].set_worker_id("w2");
  tasks[1].set_id(3);
  tasks[1].set_state(v1::TASK_STATE_LEASED);
  tasks[1].set_worker_id("w2");
  tasks[2].set_id(4);
  tasks[2].set_state(v1::TASK_STATE_DONE);
  tasks[2].set_worker_id("w1");  // done: not a lease
  auto j = nlohmann::json::parse(WorkersJson(workers, tasks, 1));
  ASSERT_EQ(j["workers"].size(), 2u);
  EXPECT_EQ(j["workers"][0]["id"], "w1");
  EXPECT_EQ(j["workers"][0]["leases"].size(), 0u);
  EXPECT_EQ(j["workers"][1]["site"], "s1");
  ASSERT_EQ(j["workers"][1]["leases"].size(), 2u);
  EXPECT_EQ(j["workers"][1]["leases"][0]["id"], 3);
}

// One delivery acknowledged, another given up: "partly sent", saying how
// many were given up and why; only the tenant's own deliveries count.
TEST(DashboardTest, AnAlertSentToOneChannelAndGivenUpOnAnotherIsPartlySent) {
  v1::GetStatusResponse s;
  s.add_tenants()->mutable_tenant()->set_name("alpha");
  std::vector<v1::Transition> history(1);
  history[0].set_tenant("alpha");
  history[0].set_to("fail");
  history[0].set_at_ns(20);
  history[0].set_alert_id("a1");
  std::vector<v1::Delivery> d(3);
  d[0].mutable_alert()->set_id("a1");
  d[0].mutable_alert()->set_tenant("alpha");
  d[0].set_channel("hook");
  d[0].set_attempts(1);
  d[0].set_delivered_ns(21);
  d[1] = d[0];
  d[1].set_channel("mail");
  d[1].set_delivered_ns(0);
  d[1].set_attempts(9);
  d[1].set_failed_ns(90);
  d[1].set_last_error("smtp refused");
  d[2] = d[1];  // another tenant's alert with the same id: not this one's
  d[2].mutable_alert()->set_tenant("beta");
  auto j = nlohmann::json::parse(TenantJson(s, "alpha", 100, 5, history, {}, {}, d));
  const nlohmann::json& a = j["history"][0]["alert"];
  EXPECT_EQ(a["state"], "partly sent") << a;
  EXPECT_EQ(a["reason"], "given up on 1 of 2 deliveries: smtp refused") << a;
  ASSERT_EQ(a["deliveries"].size(), 2u) << a;
  EXPECT_EQ(a["deliveries"][0]["state"], "sent");
  EXPECT_EQ(a["deliveries"][0]["sent_ns"], 21);
  EXPECT_EQ(a["deliveries"][1]["state"], "given up");
  EXPECT_EQ(a["deliveries"][1]["failed_ns"], 90);
  EXPECT_EQ(a["deliveries"][1]["next_attempt_ns"], 0);
  // Both acknowledged: sent.
  d[1].set_failed_ns(0);
  d[1].set_delivered_ns(95);
  j = nlohmann::json::parse(TenantJson(s, "alpha", 100, 5, history, {}, {}, d));
  EXPECT_EQ(j["history"][0]["alert"]["state"], "sent");
  EXPECT_EQ(j["history"][0]["alert"]["reason"], "");
}

}  // namespace
}  // namespace vigil::coordinator
