// The verdict watcher: the transition rules on their own (fake clock), the
// backoff and routing helpers, and whole passes over a real coordinator
// (RocksDB, applied manifests, a check merged through the worker calls).
#include "services/coordinator/watcher.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "services/coordinator/alerts.h"
#include "services/coordinator/coordinator.h"
#include "storage/hash.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kH = 3600 * kS;

Observation Obs(const std::string& verdict, bool overdue = false, int64_t cadence = 0) {
  Observation o;
  o.tenant = "acme";
  o.asset = "fs";
  o.kind = "rpo";
  o.verdict = verdict;
  o.overdue = overdue;
  o.cadence_ns = cadence;
  o.summary = "summary " + verdict;
  return o;
}

// Feeds observations one after the other; returns the events raised ("-"
// for none) and keeps the record.
struct Subject {
  WatcherOptions options;
  std::optional<v1::VerdictRecord> rec;
  std::vector<v1::Transition> transitions;
  std::string Feed(const Observation& o, int64_t now) {
    Step st = Advance(rec ? &*rec : nullptr, o, now, options);
    rec = st.record;
    if (st.has_transition) transitions.push_back(st.transition);
    EXPECT_EQ(st.has_alert, !st.alert.event().empty());
    return st.has_alert ? st.alert.event() : "-";
  }
};

TEST(AdvanceTest, OneAlertPerTransitionAndRecovery) {
  Subject s;
  int64_t t = 1000 * kH;
  EXPECT_EQ(s.Feed(Obs("pass"), t), "-");  // first seen passing: nothing to say
  ASSERT_EQ(s.transitions.size(), 1u);
  EXPECT_EQ(s.transitions[0].from(), "");
  EXPECT_EQ(s.transitions[0].to(), "pass");
  EXPECT_EQ(s.Feed(Obs("pass"), t + 60 * kS), "-");
  EXPECT_EQ(s.transitions.size(), 1u);
  EXPECT_EQ(s.Feed(Obs("fail"), t + 120 * kS), "fail");
  EXPECT_EQ(s.rec->state(), "fail");
  EXPECT_EQ(s.rec->since_ns(), t + 120 * kS);
  // Still failing every minute for an hour: no storm.
  for (int i = 1; i <= 60; ++i) EXPECT_EQ(s.Feed(Obs("fail"), t + 120 * kS + i * 60 * kS), "-");
  EXPECT_EQ(s.transitions.size(), 2u);
  EXPECT_EQ(s.Feed(Obs("pass"), t + 2 * kH), "recovery");
  ASSERT_EQ(s.transitions.size(), 3u);
  EXPECT_EQ(s.transitions[2].from(), "fail");
  EXPECT_EQ(s.transitions[2].to(), "pass");
  EXPECT_FALSE(s.rec->incident());
}

TEST(AdvanceTest, ReminderAtMostEveryRenotifyPeriod) {
  Subject s;
  s.options.renotify_every_ns = 24 * kH;
  int64_t t = 1000 * kH;
  EXPECT_EQ(s.Feed(Obs("fail"), t), "fail");  // first seen failing: alerted
  EXPECT_EQ(s.Feed(Obs("fail"), t + 23 * kH), "-");
  EXPECT_EQ(s.Feed(Obs("fail"), t + 24 * kH), "reminder");
  EXPECT_EQ(s.Feed(Obs("fail"), t + 25 * kH), "-");
  EXPECT_EQ(s.Feed(Obs("fail"), t + 48 * kH), "reminder");
  EXPECT_EQ(s.transitions.size(), 1u);  // reminders are not transitions
  s.options.renotify_every_ns = 0;
  EXPECT_EQ(s.Feed(Obs("fail"), t + 100 * kH), "-");
}

TEST(AdvanceTest, UnknownPastItsCadenceIsSilence) {
  Subject s;
  int64_t t = 1000 * kH;
  EXPECT_EQ(s.Feed(Obs("unknown", false, 24 * kH), t), "-");
  EXPECT_EQ(s.Feed(Obs("unknown", false, 24 * kH), t + 24 * kH), "-");  // not past yet
  EXPECT_EQ(s.Feed(Obs("unknown", false, 24 * kH), t + 24 * kH + 1), "silent");
  EXPECT_EQ(s.rec->verdict(), "unknown");
  EXPECT_EQ(s.rec->verdict_since_ns(), t);
  // Back to a verdict: passing ends the incident.
  EXPECT_EQ(s.Feed(Obs("pass"), t + 30 * kH), "recovery");
  // unknown -> pass without an alert in between: no recovery to announce.
  Subject u;
  EXPECT_EQ(u.Feed(Obs("unknown", false, 24 * kH), t), "-");
  EXPECT_EQ(u.Feed(Obs("pass"), t + kH), "-");
}

TEST(AdvanceTest, OverdueIsSilenceButFailWins) {
  Subject s;
  int64_t t = 1000 * kH;
  EXPECT_EQ(s.Feed(Obs("pass"), t), "-");
  EXPECT_EQ(s.Feed(Obs("pass", true), t + kH), "silent");
  EXPECT_EQ(s.Feed(Obs("fail", true), t + 2 * kH), "fail");
  // fail -> unknown (not stuck yet) -> pass: still one incident, recovered.
  EXPECT_EQ(s.Feed(Obs("unknown", false, 24 * kH), t + 3 * kH), "-");
  EXPECT_EQ(s.Feed(Obs("pass"), t + 4 * kH), "recovery");
  EXPECT_EQ(s.transitions.back().from(), "unknown");
}

TEST(BackoffTest, DoublesUpToTheCapWithJitter) {
  const int64_t base = 2 * kS, cap = 600 * kS;
  EXPECT_GT(BackoffDelayNs(1, base, cap, 0.999999), base * 99 / 100);  // ~base
  EXPECT_LE(BackoffDelayNs(1, base, cap, 0.999999), base);
  EXPECT_EQ(BackoffDelayNs(1, base, cap, 0.0), base / 2);
  EXPECT_EQ(BackoffDelayNs(2, base, cap, 0.0), base);
  EXPECT_EQ(BackoffDelayNs(4, base, cap, 0.0), 4 * base);
  EXPECT_EQ(BackoffDelayNs(40, base, cap, 0.0), cap / 2);
  for (uint32_t a = 1; a < 64; ++a) {
    for (double r : {0.0, 0.3, 0.7, 0.99}) {
      int64_t d = BackoffDelayNs(a, base, cap, r);
      EXPECT_GE(d, std::min(cap, base) / 2);
      EXPECT_LE(d, cap);
      if (a > 1) {
        EXPECT_GE(BackoffDelayNs(a, base, cap, r), BackoffDelayNs(a - 1, base, cap, r));
      }
    }
  }
}

TEST(RouteTest, MspChannelsAlwaysContactOnRequest) {
  v1::AlertChannel all, only_other, mail;
  all.set_name("ops");
  all.set_webhook_url("http://x");
  only_other.set_name("other");
  only_other.set_webhook_url("http://y");
  only_other.add_tenants("globex");
  mail.set_name("mail");
  mail.add_email_to("ops@msp.example");
  mail.add_tenants("acme");
  v1::Alert a;
  a.set_tenant("acme");
  v1::Tenant t;
  t.set_name("acme");
  t.set_contact("it@acme.example");
  auto ds = Route(a, {all, only_other, mail}, &t, 5);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].channel(), "ops");
  EXPECT_EQ(ds[1].channel(), "mail");
  EXPECT_EQ(ds[1].contact(), "");
  t.set_alert_contact(true);
  ds = Route(a, {all, only_other, mail}, &t, 5);
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds[2].channel(), "mail");
  EXPECT_EQ(ds[2].contact(), "it@acme.example");
  EXPECT_EQ(ds[2].created_ns(), 5);
  // Worker alerts (no tenant): channels serving every tenant only.
  v1::Alert w;
  w.set_kind("worker");
  ds = Route(w, {all, only_other, mail}, nullptr, 5);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].channel(), "ops");
}

namespace manifests = vigil::testing::manifests;

class WatcherTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    // The common fixture; acme's contact alerted, an MSP webhook and mail.
    ApplyYaml(manifests::Join(
        {manifests::Location(),
         manifests::Tenant("acme", "UTC", "contact: it@acme.example\nalerts: {contact: true}\n"),
         manifests::AcmeFsContract(), R"(apiVersion: vigil/v1
kind: AlertChannel
name: ops-hook
webhook: http://127.0.0.1:9/hook
secret: ops-hmac
)",
         R"(apiVersion: vigil/v1
kind: AlertChannel
name: ops-mail
email: [ops@msp.example]
smtp: smtp://127.0.0.1:25
from: vigil@msp.example
)"}));
    RegisterWorker();
    options_.worker_quiet_ns = 0;  // workers: their own test
  }
  // A full check of fs-nas whose sync marker data.bin has mtime `mtime_ns`
  // (the mirror's point time): the worker's calls, merged.
  void Check(int64_t mtime_ns) {
    v1::Observation o = Obs("data.bin", "data");
    o.set_mtime_ns(mtime_ns);
    RunTask({}, {{o}});
  }
  std::vector<v1::Alert> Pass() {
    Watcher w(c_.get(), &clock_, options_);
    auto r = w.RunOnce();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<v1::Alert>{};
  }
  std::vector<v1::Delivery> Outbox() {
    auto d = LoadDeliveries(c_->catalogue().kv(), false);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : std::vector<v1::Delivery>{};
  }

  WatcherOptions options_;
};

TEST_F(WatcherTest, FailingRpoIsAlertedOnceRoutedAndRecorded) {
  const int64_t t0 = clock_.NowNs();
  Check(t0 - 48 * kH);  // newest point two days old: RPO 24h fails
  clock_.Advance(kS);
  std::vector<v1::Alert> raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  const v1::Alert a = raised[0];
  EXPECT_EQ(a.tenant(), "acme");
  EXPECT_EQ(a.asset(), "fs");
  EXPECT_EQ(a.kind(), "rpo");
  EXPECT_EQ(a.event(), "fail");
  EXPECT_EQ(a.to(), "fail");
  EXPECT_EQ(a.id().size(), 32u);
  EXPECT_FALSE(a.summary().empty());
  // MSP webhook, MSP mail, and the client's contact through the mail channel.
  std::vector<v1::Delivery> out = Outbox();
  ASSERT_EQ(out.size(), 3u);
  std::set<std::string> dest;
  for (const auto& d : out) {
    EXPECT_EQ(d.alert().id(), a.id());
    dest.insert(d.channel() + "|" + d.contact());
  }
  EXPECT_EQ(dest, (std::set<std::string>{"ops-hook|", "ops-mail|", "ops-mail|it@acme.example"}));

  // Passes every minute while it keeps failing: no new alert.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(60 * kS);
    EXPECT_TRUE(Pass().empty());
  }
  EXPECT_EQ(Outbox().size(), 3u);

  // A fresh backup: recovery, and the transitions list the incident.
  Check(clock_.NowNs() - kH);
  clock_.Advance(kS);
  raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].event(), "recovery");
  EXPECT_EQ(raised[0].from(), "fail");
  EXPECT_EQ(raised[0].to(), "pass");
  auto ts = LoadTransitions(c_->catalogue().kv(), "acme", t0, clock_.NowNs() + 1);
  ASSERT_TRUE(ts.ok()) << ts.status();
  ASSERT_EQ(ts->size(), 2u);
  EXPECT_EQ((*ts)[0].to(), "fail");
  EXPECT_EQ((*ts)[0].alert_id(), a.id());
  EXPECT_EQ((*ts)[1].from(), "fail");
  EXPECT_EQ((*ts)[1].to(), "pass");
  // The range is half-open and by time.
  auto none = LoadTransitions(c_->catalogue().kv(), "acme", t0, (*ts)[0].at_ns());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(WatcherTest, StateSurvivesAReopenNoRepeatAlert) {
  Check(clock_.NowNs() - 48 * kH);
  clock_.Advance(kS);
  ASSERT_EQ(Pass().size(), 1u);
  Open();
  clock_.Advance(60 * kS);
  EXPECT_TRUE(Pass().empty());
  options_.renotify_every_ns = kH;
  clock_.Advance(kH);
  auto raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].event(), "reminder");
}

TEST_F(WatcherTest, NeverCheckedIsSilentPastTheCadence) {
  EXPECT_TRUE(Pass().empty());  // unknown: no check yet
  clock_.Advance(24 * kH);      // the RPO's cadence
  EXPECT_TRUE(Pass().empty());
  clock_.Advance(kS);
  auto raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].event(), "silent");
  EXPECT_EQ(raised[0].from(), "unknown");
}

TEST_F(WatcherTest, OverdueCheckIsSilenceThenRecovers) {
  options_.overdue_grace_ns = kH;
  Check(clock_.NowNs() - kH);  // fresh: passing
  clock_.Advance(kS);
  EXPECT_TRUE(Pass().empty());
  // Inventory every min(RPO / 2, 24 h) = 12 h, plus the grace: 13 h
  // after the check.
  clock_.Advance(13 * kH - kS);
  EXPECT_TRUE(Pass().empty());
  clock_.Advance(kS);
  auto raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].event(), "silent");
  EXPECT_NE(raised[0].summary().find("check overdue"), std::string::npos) << raised[0].summary();
  // The last run as the verdicts date things: in the tenant's zone (UTC
  // here), to the minute, the zone named.
  EXPECT_NE(raised[0].summary().find(" UTC, due every "), std::string::npos) << raised[0].summary();
  Check(clock_.NowNs() - kH);
  clock_.Advance(kS);
  raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].event(), "recovery");
}

TEST_F(WatcherTest, LocationWithoutLiveWorkerIsSilentThenBack) {
  options_.worker_quiet_ns = 100 * kS;
  options_.overdue_grace_ns = 1000 * kH;     // only the workers here
  ASSERT_TRUE(c_->LeaseTask(worker_).ok());  // heard from now
  EXPECT_TRUE(Pass().empty());
  clock_.Advance(100 * kS);
  EXPECT_TRUE(Pass().empty());
  clock_.Advance(kS);
  auto raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].kind(), "worker");
  EXPECT_EQ(raised[0].asset(), "nas");
  EXPECT_EQ(raised[0].tenant(), "");
  EXPECT_EQ(raised[0].event(), "silent");
  EXPECT_NE(raised[0].summary().find(worker_), std::string::npos) << raised[0].summary();
  // Only the channels serving every tenant get worker alerts: the webhook
  // and the mail channel (both have no tenants list).
  EXPECT_EQ(Outbox().size(), 2u);
  // The worker restarts: a new registration (a new id) for the same
  // location. The location recovers; the dead id raises nothing.
  clock_.Advance(kS);
  v1::RegisterRequest reg;
  reg.set_site("office");
  reg.add_locations("nas");
  auto w2 = c_->Register(kEnrolToken, reg);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE(c_->LeaseTask(w2->worker_id()).ok());
  raised = Pass();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].event(), "recovery");
  EXPECT_EQ(raised[0].asset(), "nas");
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(60 * kS);
    ASSERT_TRUE(c_->LeaseTask(w2->worker_id()).ok());
    EXPECT_TRUE(Pass().empty());
  }
  auto ts = LoadTransitions(c_->catalogue().kv(), "", 0, clock_.NowNs() + 1);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->size(), 3u);  // first seen, silent, back
}

}  // namespace
}  // namespace vigil::coordinator
