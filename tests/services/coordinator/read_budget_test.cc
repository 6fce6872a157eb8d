// A location's daily read budget (`readBudget`, docs/remote.md "Cost") at
// the coordinator: the ledger of spend over a rolling 24 h (ReadLedger, on
// the fake clock), the lease gate that defers a task at a spent location and
// leases it once the window rolls (also across a restart), the reason status
// gives, what a filesystem location's check records as spent, Apply's
// warning when the budget cannot keep reverifyWithin, and the integrity
// finding in status. In process, no gRPC.
//
// Thread safety: gtest tests, one thread each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/contracts/model.h"
#include "services/contracts/parse.h"
#include "services/contracts/proto_bridge.h"
#include "services/contracts/schedule.h"
#include "services/coordinator/read_ledger.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

namespace manifests = vigil::testing::manifests;
using ::testing::HasSubstr;

constexpr int64_t kHour = contracts::kHourNs;

// A DONE task of acme's set `set` at `location` that spent `bytes` and
// `requests`, finished at `at`.
v1::Task Spent(uint64_t id, const std::string& location, const std::string& set, int64_t at,
               uint64_t bytes, uint64_t requests) {
  v1::Task t;
  t.set_id(id);
  t.set_state(v1::TASK_STATE_DONE);
  t.set_finished_ns(at);
  t.mutable_backup_set()->set_tenant("acme");
  t.mutable_backup_set()->set_name(set);
  t.mutable_backup_set()->set_location(location);
  t.mutable_store_usage()->set_bytes_read(bytes);
  t.mutable_store_usage()->set_requests(requests);
  return t;
}

v1::ReadBudget Budget(uint64_t bytes, uint64_t requests = 0) {
  v1::ReadBudget b;
  b.set_bytes_per_day(bytes);
  b.set_requests_per_day(requests);
  return b;
}

TEST(ReadLedgerTest, SpendRollsOffAfter24Hours) {
  vigil::testing::FakeClock clock;
  ReadLedger ledger;
  const int64_t t0 = clock.NowNs();
  ledger.Add(Spent(1, "vault", "a", t0, 600, 10));
  clock.Advance(6 * kHour);
  ledger.Add(Spent(2, "vault", "b", clock.NowNs(), 300, 5));
  ledger.Add(Spent(2, "vault", "b", clock.NowNs(), 300, 5));  // the same task: counted once
  ledger.Add(Spent(3, "nas", "c", clock.NowNs(), 7, 0));      // another location
  EXPECT_EQ(ledger.SpentAt("vault", clock.NowNs()).bytes, 900u);
  EXPECT_EQ(ledger.SpentAt("vault", clock.NowNs()).requests, 15u);
  clock.Set(t0 + 24 * kHour);  // the first is 24 h old: out of the window
  EXPECT_EQ(ledger.SpentAt("vault", clock.NowNs()).bytes, 300u);
  clock.Set(t0 + 30 * kHour);
  EXPECT_EQ(ledger.SpentAt("vault", clock.NowNs()).bytes, 0u);
  EXPECT_EQ(ledger.SpentAt("nas", clock.NowNs()).bytes, 0u);
}

TEST(ReadLedgerTest, DecidesBySpendEstimateAndTheEmptyWindow) {
  vigil::testing::FakeClock clock;
  ReadLedger ledger;
  const int64_t t0 = clock.NowNs();
  v1::Task next = Spent(9, "vault", "a", 0, 0, 0);
  next.set_state(v1::TASK_STATE_QUEUED);
  // Nothing spent: leased, even with an estimate above the whole budget.
  ledger.Add(Spent(1, "vault", "a", t0 - 25 * kHour, 5000, 1));  // the estimate, out of the window
  EXPECT_TRUE(ledger.Decide(next, Budget(1000), {}, t0).admit);
  // 400 spent, the set's last check read 5000: it would pass the budget.
  ledger.Add(Spent(2, "vault", "b", t0, 400, 1));
  ReadLedger::Decision d = ledger.Decide(next, Budget(1000), {}, t0 + kHour);
  EXPECT_FALSE(d.admit);
  EXPECT_THAT(d.why, HasSubstr("read budget of vault: 400 B of 1000 B (bytesPerDay) spent in the "
                               "last 24 h and this check would take about 4.9 KiB"));
  EXPECT_EQ(d.next_ns, t0 + 24 * kHour);  // then the window is empty
  EXPECT_THAT(d.why, HasSubstr("next check after " + FormatTimeUtc(t0 + 24 * kHour)));
  EXPECT_TRUE(ledger.Decide(next, Budget(1000), {}, t0 + 24 * kHour).admit);
  // Requests: a budget of 1 request a day is spent by the check of b.
  v1::Task small = Spent(10, "vault", "c", 0, 0, 0);
  d = ledger.Decide(small, Budget(0, 1), {}, t0 + kHour);
  EXPECT_FALSE(d.admit);
  EXPECT_THAT(d.why, HasSubstr("read budget of vault spent: 1 of 1 requests (requestsPerDay)"));
  EXPECT_TRUE(ledger.Decide(small, Budget(0, 2), {}, t0 + kHour).admit);
  // A task leased there counts with its estimate.
  v1::Task running = Spent(11, "vault", "b", 0, 0, 0);
  running.set_state(v1::TASK_STATE_LEASED);
  EXPECT_TRUE(ledger.Decide(small, Budget(1000), {}, t0 + kHour).admit);
  EXPECT_FALSE(ledger.Decide(small, Budget(700), {&running}, t0 + kHour).admit);
  // Rebuilt from the task records (a restart): the same decision.
  ReadLedger again;
  again.Rebuild(
      {Spent(2, "vault", "b", t0, 400, 1), Spent(1, "vault", "a", t0 - 25 * kHour, 5000, 1)});
  EXPECT_FALSE(again.Decide(next, Budget(1000), {}, t0 + kHour).admit);
}

// A set at location nas with a daily read budget of `budget` (YAML).
class ReadBudgetTest : public CoordinatorFixture {
 protected:
  void SetUp() override { Open(); }
  void ApplyBudget(const std::string& budget, const std::string& commitments = manifests::kRpo24h) {
    ApplyYaml(Manifest(budget, commitments));
  }
  static std::string Manifest(const std::string& budget, const std::string& commitments) {
    return manifests::Join(
        {manifests::Location("nas", "office", "readBudget: " + budget + "\n"), manifests::Tenant(),
         manifests::Contract("acme", "assets:\n" +
                                         manifests::Asset("fs", {manifests::BackupSet(
                                                                    "fs-nas", "nas", "acme/fs")}) +
                                         commitments)});
  }
  // One check of acme end to end whose worker reports `usage` (none when
  // requests and bytes are both 0: a filesystem location).
  v1::Task CheckSpending(uint64_t bytes, uint64_t requests,
                         const std::string& content = "0123456789") {
    v1::Task t = RunAndLease();
    EXPECT_NE(t.id(), 0u);
    EXPECT_TRUE(c_->Observe(worker_, Batch(t, 1, {Obs("a.bin", content)})).ok());
    v1::CompleteTaskRequest done = Done(t, 1);
    if (bytes > 0 || requests > 0) {
      done.mutable_store_usage()->set_bytes_read(bytes);
      done.mutable_store_usage()->set_requests(requests);
      done.mutable_store_usage()->set_retries(1);
    }
    auto r = c_->CompleteTask(worker_, done);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->task() : v1::Task();
  }
  // Queues a check of acme, EXPECTs the worker (seen by its lease call)
  // is not leased it; returns the waiting reason status gives it.
  std::string QueueAndWaiting() {
    v1::RunCheckRequest req;
    req.set_tenant("acme");
    auto q = c_->RunCheck(req);
    EXPECT_TRUE(q.ok()) << q.status();
    EXPECT_FALSE(Leases());
    return WaitingOfQueued();
  }
  std::string WaitingOfQueued() {
    for (const v1::Task& t : c_->TasksWithWaiting()) {
      if (t.state() == v1::TASK_STATE_QUEUED) return t.waiting();
    }
    return "(no queued task)";
  }
  bool Leases() {
    auto l = c_->LeaseTask(worker_);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() && l->has_task();
  }
};

TEST_F(ReadBudgetTest, ASpentLocationDefersItsTaskUntilTheWindowRolls) {
  ApplyBudget("{bytesPerDay: 1000}");
  RegisterWorker();
  // The first check: nothing spent yet, so it runs, and reads more than
  // the day's budget.
  const v1::Task first = CheckSpending(1500, 12);
  ASSERT_TRUE(first.has_store_usage());
  EXPECT_EQ(first.store_usage().bytes_read(), 1500u);
  EXPECT_EQ(first.store_usage().requests(), 12u);
  EXPECT_EQ(first.store_usage().retries(), 1u);
  // The next is queued but not leased, and says why.
  clock_.Advance(kHour);
  EXPECT_THAT(QueueAndWaiting(),
              HasSubstr("read budget of nas spent: 1.5 KiB of 1000 B (bytesPerDay) in the last "
                        "24 h; next check after " +
                        FormatTimeUtc(first.finished_ns() + ReadLedger::kWindowNs)));
  // A restart: the ledger is rebuilt from the task records.
  Open();
  EXPECT_FALSE(Leases());
  EXPECT_THAT(WaitingOfQueued(), HasSubstr("read budget of nas spent"));
  // Just before 24 h after the first check finished: still spent.
  clock_.Set(first.finished_ns() + ReadLedger::kWindowNs - 1);
  EXPECT_FALSE(Leases());
  // Then the window is empty again.
  clock_.Set(first.finished_ns() + ReadLedger::kWindowNs);
  EXPECT_TRUE(Leases());
}

TEST_F(ReadBudgetTest, ATaskTheBudgetCannotHoldWaitsForItsEstimate) {
  ApplyBudget("{bytesPerDay: 1000, requestsPerDay: 100}");
  RegisterWorker();
  CheckSpending(600, 3);  // its next check should read about as much
  clock_.Advance(kHour);
  EXPECT_THAT(QueueAndWaiting(),
              HasSubstr("read budget of nas: 600 B of 1000 B (bytesPerDay) spent in the last "
                        "24 h and this check would take about 600 B"));
}

TEST_F(ReadBudgetTest, AFilesystemCheckSpendsTheBytesItReadAndNoRequest) {
  ApplyBudget("{bytesPerDay: 15}");
  RegisterWorker();
  const v1::Task done = CheckSpending(0, 0, std::string(10, 'x'));  // no store_usage reported
  ASSERT_TRUE(done.has_store_usage());
  EXPECT_EQ(done.store_usage().bytes_read(), done.bytes_read());
  EXPECT_EQ(done.store_usage().bytes_read(), 10u);
  EXPECT_EQ(done.store_usage().requests(), 0u);
  // 10 of 15 spent, and the next would read 10 again.
  clock_.Advance(kHour);
  EXPECT_THAT(QueueAndWaiting(), HasSubstr("read budget of nas: 10 B of 15 B"));
}

TEST_F(ReadBudgetTest, ApplyWarnsWhenTheBudgetCannotKeepReverifyWithin) {
  const std::string commitments = "commitments:\n  - integrity: {reverifyWithin: 2d}\n";
  v1::ApplyRequest req;
  v1::ManifestFile* f = req.add_files();
  f->set_name("acme.yaml");
  f->set_text(Manifest("{bytesPerDay: 100}", commitments));
  // Before the first check the size is not known: said so.
  auto first = c_->Apply(req);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_GE(first->warnings_size(), 1);
  EXPECT_THAT(first->warnings(), ::testing::Contains(HasSubstr(
                                     "backup set acme/fs-nas at nas (readBudget 100 B/day): size "
                                     "unknown until its first check")));
  RegisterWorker();
  CheckSpending(0, 0, std::string(500, 'x'));  // 500 B: 250 B/day over 2 d
  auto again = c_->Apply(req);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(again->warnings(),
              ::testing::ElementsAre(HasSubstr(
                  "backup set acme/fs-nas at nas: reverifyWithin 2d needs 250 B/day over 500 B; "
                  "readBudget allows 100 B/day: full pass in 5 d")));
  // A budget that holds it: no warning.
  f->set_text(Manifest("{bytesPerDay: 250}", commitments));
  auto fits = c_->Apply(req);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->warnings_size(), 0);
}

TEST_F(ReadBudgetTest, StatusSaysTheBudgetMakesIntegrityUnreachable) {
  ApplyBudget("{bytesPerDay: 100}", "commitments:\n  - integrity: {reverifyWithin: 2d}\n");
  RegisterWorker();
  CheckSpending(0, 0, std::string(500, 'x'));  // every entry re-read just now
  const v1::TenantStatus st = AcmeStatus();
  const v1::CommitmentStatus* integrity = nullptr;
  for (const auto& c : st.commitments()) {
    if (c.kind() == "integrity") integrity = &c;
  }
  ASSERT_NE(integrity, nullptr);
  // Not a pass: the budget cannot re-read it within the period.
  EXPECT_EQ(integrity->verdict(), "unknown");
  EXPECT_THAT(
      integrity->summary(),
      HasSubstr("readBudget of nas makes it unreachable for fs-nas: reverifyWithin 2d "
                "needs 250 B/day over 500 B; readBudget allows 100 B/day: full pass in 5 d"));
  bool evidence = false;
  for (const auto& e : integrity->evidence()) evidence |= e.name() == "read_budget fs-nas";
  EXPECT_TRUE(evidence);
}

// The budget travels as Location.read_budget and back; a location without
// one has none (its record is unchanged by the field's existence).
TEST(ReadBudgetProtoTest, TheBridgeKeepsItBothWays) {
  contracts::Manifest m;
  ASSERT_TRUE(
      contracts::ParseManifest(
          {{"x.yaml", manifests::Join({manifests::Location("vault", "office",
                                                           "readBudget: {bytesPerDay: 20GiB, "
                                                           "requestsPerDay: 50000}\n"),
                                       manifests::Location("nas")})}},
          {}, &m)
          .ok());
  ASSERT_EQ(m.locations.size(), 2u);
  v1::Location p;
  contracts::ToProto(m.locations[0], &p);
  ASSERT_TRUE(p.has_read_budget());
  EXPECT_EQ(p.read_budget().bytes_per_day(), 20ULL << 30);
  EXPECT_EQ(p.read_budget().requests_per_day(), 50'000u);
  v1::Location wire;
  ASSERT_TRUE(wire.ParseFromString(p.SerializeAsString()));
  const contracts::Location back = contracts::FromProto(wire);
  EXPECT_EQ(back.read_bytes_per_day, 20ULL << 30);
  EXPECT_EQ(back.read_requests_per_day, 50'000u);
  v1::Location none;
  contracts::ToProto(m.locations[1], &none);
  EXPECT_FALSE(none.has_read_budget());
  EXPECT_EQ(contracts::FromProto(none).read_bytes_per_day, 0u);
}

TEST(JudgeReadBudgetTest, TheIssuesExample) {
  contracts::Location loc;
  loc.read_bytes_per_day = 20ULL << 30;  // 20 GiB/day
  contracts::ReadBudgetCoverage c =
      contracts::JudgeReadBudget(loc, 3ULL << 40, 30 * contracts::kDayNs);  // 3 TiB in 30 d
  EXPECT_FALSE(c.reachable);
  EXPECT_EQ(c.text,
            "reverifyWithin 30d needs 102.4 GiB/day over 3.0 TiB; readBudget allows 20.0 GiB/day: "
            "full pass in 154 d");
  EXPECT_TRUE(contracts::JudgeReadBudget(loc, 600ULL << 30, 30 * contracts::kDayNs).reachable);
  EXPECT_FALSE(contracts::JudgeReadBudget(loc, std::nullopt, 30 * contracts::kDayNs).size_known);
  EXPECT_FALSE(contracts::JudgeReadBudget(contracts::Location{}, 1, 1).applies);
}

}  // namespace
}  // namespace vigil::coordinator
