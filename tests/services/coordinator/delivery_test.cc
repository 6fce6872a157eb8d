// Alert delivery with real receivers on loopback: a webhook receiver
// (cpp-httplib, port 0) that checks the HMAC itself and answers 500 once; a
// dead receiver (closed port) and a hanging one (never answers) that do not
// hold up a check; a real SMTP server (python3-aiosmtpd) receiving the mail.
// The outbox is the coordinator's RocksDB; the clock is fake, so backoff is
// stepped, not slept.
#include "services/coordinator/delivery.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "services/coordinator/alerts.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/dashboard.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/watcher.h"
#include "storage/hash.h"
#include "tests/integration/test_util.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"
#include "tests/support/wait.h"
#include "tests/support/webhook.h"

namespace vigil::coordinator {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kH = 3600 * kS;
constexpr const char* kKey = "s3cret-hmac-key";

using vigil::testing::HmacSha256Hex;
using vigil::testing::LoopbackPort;

struct Received {
  std::string body, timestamp, signature, alert_id;
};

// A webhook receiver on loopback: answers `fail_first` requests with 500,
// then 200.
class Receiver {
 public:
  explicit Receiver(int fail_first) : fail_first_(fail_first) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      got_.push_back({req.body, req.get_header_value("X-Vigil-Timestamp"),
                      req.get_header_value("X-Vigil-Signature"),
                      req.get_header_value("X-Vigil-Alert-Id")});
      res.status = static_cast<int>(got_.size()) <= fail_first_ ? 500 : 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens already; stop() works once the loop runs.
    if (!testing::WaitFor([this] { return server_.is_running(); }, std::chrono::seconds(10),
                          std::chrono::milliseconds(2))) {
      ADD_FAILURE() << "the webhook receiver did not start";
    }
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<Received> got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  int fail_first_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Received> got_;
};

class DeliveryTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    testing::WriteFile(tmp_ / "secrets/hook-key", std::string(kKey) + "\n");
    testing::WriteFile(tmp_ / "secrets/smtp-pass", "pw\n");
    Open();
    options_.secrets_dir = tmp_ / "secrets";
    options_.base_backoff_ns = 2 * kS;
    options_.max_backoff_ns = 60 * kS;
    options_.max_age_ns = kH;
    options_.timeout_ms = 10000;
  }
  void ApplyChannel(const v1::AlertChannel& ch) {
    v1::ApplyRequest req;
    *req.add_alert_channels() = ch;
    auto r = c_->Apply(req);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  static v1::AlertChannel Hook(int port) {
    v1::AlertChannel ch;
    ch.set_name("ops-hook");
    ch.set_webhook_url("http://127.0.0.1:" + std::to_string(port) + "/hook");
    ch.set_secret("hook-key");
    return ch;
  }
  static v1::Alert FailAlert() {
    v1::Alert a;
    a.set_id("0123456789abcdef0123456789abcdef");
    a.set_tenant("acme");
    a.set_asset("fileserver");
    a.set_kind("rpo");
    a.set_event("fail");
    a.set_from("pass");
    a.set_to("fail");
    a.set_at_ns(1'790'812'800LL * kS);
    a.set_summary("newest good restore point is 2 d old; promised 24 h");
    auto* e = a.add_evidence();
    e->set_name("newest point");
    e->set_value("2026-09-29T00:00:00Z");
    e->set_basis("measured");
    return a;
  }
  // Puts the alert's deliveries (routed to every applied channel) in the
  // outbox, as the watcher does.
  void Enqueue(const v1::Alert& a, const v1::Tenant* tenant = nullptr) {
    auto channels = LoadAlertChannels(c_->catalogue().kv());
    ASSERT_TRUE(channels.ok());
    storage::KvBatch b;
    for (const auto& d : Route(a, *channels, tenant, clock_.NowNs())) {
      b.Put(storage::Space::kMeta, DeliveryKey(d, false), d.SerializeAsString());
    }
    ASSERT_TRUE(c_->catalogue().kv()->Write(b, {.sync = true}).ok());
  }
  std::vector<v1::Delivery> Pending() {
    auto d = LoadDeliveries(c_->catalogue().kv(), false);
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : std::vector<v1::Delivery>{};
  }
  std::vector<v1::Delivery> Sent() {
    auto d = LoadDeliveries(c_->catalogue().kv(), true);
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : std::vector<v1::Delivery>{};
  }

  // Starts tests/integration/smtp_sink.py on a port it binds itself; it
  // stores each mail it takes in tmp_/mail. `more`: its further arguments
  // ("user:password": AUTH required). Its address goes to smtp_addr_;
  // ASSERTs it started.
  void StartSmtpSink(const std::vector<std::string>& more = {}) {
    std::filesystem::create_directories(tmp_ / "mail");
    std::vector<std::string> argv = {
        "/usr/bin/python3", std::string(VIGIL_SOURCE_DIR) + "/tests/integration/smtp_sink.py",
        tmp_ / "mail"};
    argv.insert(argv.end(), more.begin(), more.end());
    smtp_ = std::make_unique<testing::BackgroundProcess>(argv, tmp_ / "smtp");
    smtp_addr_ = smtp_->WaitForLine("listening on ");
    ASSERT_FALSE(smtp_addr_.empty()) << smtp_->err();
  }
  // The mails the sink has stored, in no particular order.
  std::vector<std::string> Mails() {
    std::vector<std::string> mails;
    for (const auto& e : std::filesystem::directory_iterator(tmp_ / "mail")) {
      if (e.path().extension() == ".eml") mails.push_back(testing::ReadFile(e.path().string()));
    }
    return mails;
  }

  DeliveryOptions options_;
  std::unique_ptr<testing::BackgroundProcess> smtp_;
  std::string smtp_addr_;
};

TEST_F(DeliveryTest, SignedWebhookRetriedAfterA500) {
  Receiver rx(/*fail_first=*/1);
  ApplyChannel(Hook(rx.port()));
  Enqueue(FailAlert());
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  auto n = d.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  ASSERT_EQ(rx.got().size(), 1u);
  std::vector<v1::Delivery> pending = Pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts(), 1u);
  EXPECT_NE(pending[0].last_error().find("500"), std::string::npos) << pending[0].last_error();
  EXPECT_GT(pending[0].next_attempt_ns(), clock_.NowNs());
  // Not yet due: nothing sent.
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(rx.got().size(), 1u);
  clock_.Advance(2 * kS);  // the first backoff is at most the base
  n = d.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  std::vector<Received> got = rx.got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(Pending().empty());
  ASSERT_EQ(Sent().size(), 1u);
  EXPECT_NE(Sent()[0].delivered_ns(), 0);
  EXPECT_EQ(Sent()[0].attempts(), 2u);
  for (const Received& r : got) {
    EXPECT_EQ(r.signature, "sha256=" + HmacSha256Hex(kKey, r.timestamp + "." + r.body));
    EXPECT_NE(r.signature, "sha256=" + HmacSha256Hex("another key", r.timestamp + "." + r.body));
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["id"], "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(r.alert_id, j["id"]);
    EXPECT_EQ(j["tenant"], "acme");
    EXPECT_EQ(j["asset"], "fileserver");
    EXPECT_EQ(j["kind"], "rpo");
    EXPECT_EQ(j["event"], "fail");
    EXPECT_EQ(j["from"], "pass");
    EXPECT_EQ(j["to"], "fail");
    EXPECT_EQ(j["at"], "2026-10-01T00:00:00.000000000Z");
    EXPECT_EQ(j["evidence"][0]["name"], "newest point");
    EXPECT_EQ(std::stoll(r.timestamp), clock_.NowNs() / kS - (&r == &got[0] ? 2 : 0));
  }
  // Delivered once acknowledged: a further pass sends nothing.
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(rx.got().size(), 2u);
}

TEST_F(DeliveryTest, DeadReceiverBacksOffThenGivesUp) {
  LoopbackPort dead(LoopbackPort::Kind::kRefusing);
  ApplyChannel(Hook(dead.port()));
  Enqueue(FailAlert());
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  int64_t last_next = 0;
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(d.RunOnce().ok());
    std::vector<v1::Delivery> p = Pending();
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].attempts(), static_cast<uint32_t>(i));
    EXPECT_FALSE(p[0].last_error().empty());
    int64_t wait = p[0].next_attempt_ns() - clock_.NowNs();
    EXPECT_GE(wait, options_.base_backoff_ns * (1LL << (i - 1)) / 2);
    EXPECT_LE(wait, options_.base_backoff_ns * (1LL << (i - 1)));
    EXPECT_GT(p[0].next_attempt_ns(), last_next);
    last_next = p[0].next_attempt_ns();
    clock_.Set(p[0].next_attempt_ns());
  }
  // Past the max age: given up, kept as failed.
  clock_.Advance(options_.max_age_ns);
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_TRUE(Pending().empty());
  ASSERT_EQ(Sent().size(), 1u);
  EXPECT_NE(Sent()[0].failed_ns(), 0);
  EXPECT_EQ(Sent()[0].delivered_ns(), 0);
}

TEST_F(DeliveryTest, ADeadChannelIsTriedOncePerPassOthersStillDelivered) {
  Receiver rx(0);
  LoopbackPort dead(LoopbackPort::Kind::kRefusing);
  ApplyChannel(Hook(dead.port()));  // "ops-hook": dead
  v1::AlertChannel live = Hook(rx.port());
  live.set_name("zz-live");
  ApplyChannel(live);
  for (int i = 0; i < 3; ++i) {
    v1::Alert a = FailAlert();
    a.set_id(std::string(31, '0') + std::to_string(i));
    Enqueue(a);
    clock_.Advance(1);
  }
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  auto n = d.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);  // every alert reached the live channel
  EXPECT_EQ(rx.got().size(), 3u);
  std::vector<v1::Delivery> p = Pending();
  ASSERT_EQ(p.size(), 3u);
  uint32_t attempts = 0;
  for (const auto& x : p) {
    EXPECT_EQ(x.channel(), "ops-hook");
    attempts += x.attempts();
  }
  EXPECT_EQ(attempts, 1u);  // the dead channel: one try in this pass
}

TEST_F(DeliveryTest, MissingSecretIsAnErrorOnTheDelivery) {
  Receiver rx(0);
  v1::AlertChannel ch = Hook(rx.port());
  ch.set_secret("no-such-file");
  ApplyChannel(ch);
  Enqueue(FailAlert());
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_TRUE(rx.got().empty());  // never sent unsigned
  ASSERT_EQ(Pending().size(), 1u);
  EXPECT_NE(Pending()[0].last_error().find("no-such-file"), std::string::npos);
}

// A receiver that takes the connection and never answers holds the
// delivery thread, not the checks: a whole check runs and is judged while
// the alert waits.
TEST_F(DeliveryTest, HangingReceiverDoesNotHoldUpACheck) {
  LoopbackPort hanging(LoopbackPort::Kind::kHanging);  // connections queue, never accepted
  ApplyChannel(Hook(hanging.port()));
  ApplyYaml(vigil::testing::manifests::AcmeFsRpo24h());
  RegisterWorker();
  auto check = [&](int64_t mtime) {  // the mirror's sync marker (manifests.h)
    v1::Observation o = Obs("data.bin", "x");
    o.set_mtime_ns(mtime);
    RunTask({}, {{o}});
  };
  WatcherOptions wo;
  wo.worker_quiet_ns = 0;
  Watcher watcher(c_.get(), &clock_, wo);
  check(clock_.NowNs() - 48 * kH);
  clock_.Advance(kS);
  auto raised = watcher.RunOnce();
  ASSERT_TRUE(raised.ok());
  ASSERT_EQ(raised->size(), 1u);
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  d.Start();
  d.Wake();
  // The delivery thread is now stuck in the hanging POST (up to
  // timeout_ms); the check and the next judgement go through meanwhile.
  check(clock_.NowNs() - kH);
  clock_.Advance(kS);
  raised = watcher.RunOnce();
  ASSERT_TRUE(raised.ok());
  ASSERT_EQ(raised->size(), 1u);
  EXPECT_EQ((*raised)[0].event(), "recovery");
  // ...while the first alert is still waiting for its receiver.
  bool waiting = false;
  for (const auto& p : Pending()) waiting |= p.alert().event() == "fail" && p.delivered_ns() == 0;
  EXPECT_TRUE(waiting);
  EXPECT_TRUE(Sent().empty());
  hanging.Close();  // the POST fails now; Stop() joins the thread
  d.Stop();
}

TEST_F(DeliveryTest, MailReachesARealSmtpServer) {
  ASSERT_NO_FATAL_FAILURE(StartSmtpSink());
  v1::AlertChannel ch;
  ch.set_name("ops-mail");
  ch.add_email_to("ops@msp.example");
  ch.add_email_to("noc@msp.example");
  ch.set_smtp_url("smtp://" + smtp_addr_);
  ch.set_from("vigil@msp.example");
  ApplyChannel(ch);
  v1::Tenant t;
  t.set_name("acme");
  t.set_contact("it@acme.example");
  t.set_alert_contact(true);
  Enqueue(FailAlert(), &t);
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  auto n = d.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2) << (Pending().empty() ? "" : Pending()[0].last_error());
  std::vector<std::string> mails = Mails();
  ASSERT_EQ(mails.size(), 2u);
  std::sort(mails.begin(), mails.end(), [](const std::string& a, const std::string& b) {
    return a.find("it@acme.example") < b.find("it@acme.example");
  });
  int to_msp = 0, to_client = 0;
  for (const std::string& m : mails) {
    EXPECT_NE(m.find("X-Envelope-From: vigil@msp.example"), std::string::npos) << m;
    EXPECT_NE(m.find("Subject: [Vigil] acme: fileserver RPO failing\r\n"), std::string::npos) << m;
    EXPECT_NE(m.find("newest good restore point is 2 d old"), std::string::npos) << m;
    EXPECT_NE(m.find("0123456789abcdef0123456789abcdef"), std::string::npos) << m;
    if (m.find("X-Envelope-To: ops@msp.example,noc@msp.example\r\n") != std::string::npos) ++to_msp;
    if (m.find("X-Envelope-To: it@acme.example\r\n") != std::string::npos) {
      ++to_client;
      EXPECT_EQ(m.find("ops@msp.example"), std::string::npos) << "the client sees no MSP address";
    }
  }
  EXPECT_EQ(to_msp, 1);
  EXPECT_EQ(to_client, 1);
  EXPECT_TRUE(Pending().empty());
}

TEST_F(DeliveryTest, MailWithSmtpAuthNeverInClearWhenStarttlsIsRequired) {
  ASSERT_NO_FATAL_FAILURE(StartSmtpSink({"vigil:pw"}));
  v1::AlertChannel ch;
  ch.set_name("ops-mail");
  ch.add_email_to("ops@msp.example");
  ch.set_smtp_url("smtp://" + smtp_addr_);
  ch.set_from("vigil@msp.example");
  ch.set_smtp_user("vigil");
  ch.set_password_secret("smtp-pass");  // "pw\n" in the secrets directory
  v1::Delivery d;
  *d.mutable_alert() = FailAlert();
  d.set_channel("ops-mail");
  Deliverer deliverer(c_->catalogue().kv(), &clock_, options_);
  storage::Status s = deliverer.Send(d, ch);
  ASSERT_TRUE(s.ok()) << s;
  // A wrong password is refused by the server: an error, nothing sent.
  testing::WriteFile(tmp_ / "secrets/wrong-pass", "nope\n");
  ch.set_password_secret("wrong-pass");
  s = deliverer.Send(d, ch);
  EXPECT_FALSE(s.ok());
  // STARTTLS required and the server has none: not sent in clear.
  ch.set_password_secret("smtp-pass");
  ch.set_starttls(true);
  s = deliverer.Send(d, ch);
  EXPECT_FALSE(s.ok());
  const std::vector<std::string> mails = Mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].find("X-Auth-Login: vigil\r\n"), std::string::npos) << mails[0];
  EXPECT_NE(mails[0].find("Subject: [Vigil] acme: fileserver RPO failing"), std::string::npos);
}

// The tenant page's history says what became of each alert, from the
// delivery records (not from "an alert was raised"): not sent when no
// channel serves it; pending with attempts, next attempt and last error
// while the receiver fails; sent, when and to which channel, once it
// answered; not sent once given up. The records survive a restart.
TEST_F(DeliveryTest, RansomwareAlertOncePerPointWithItsSignalsAndTheLastCleanPoint) {
  v1::ApplyRequest req = SetRequest({.name = "snaps", .path = "acme/snaps", .layout = "rsnapshot"});
  req.mutable_tenants(0)->set_timezone("Europe/Paris");
  Apply(req);
  RegisterWorker();
  const int64_t t1 = clock_.NowNs() - 48 * kH, t2 = t1 + 24 * kH;
  RunTask({{t1, "daily.1"}, {t2, "daily.0"}}, {{Obs(t1, "a.docx", "1"), Obs(t2, "a.docx", "1")}});
  SetPointVerdict("snaps", t1, v1::POINT_VERDICT_CLEAN);
  SetPointVerdict("snaps", t2, v1::POINT_VERDICT_SUSPICIOUS, {LockbitSignal()}, t1);
  Receiver rx(0);
  ApplyChannel(Hook(rx.port()));
  WatcherOptions wo;
  wo.worker_quiet_ns = 0;
  Watcher watcher(c_.get(), &clock_, wo);
  auto raised = watcher.RunOnce();
  ASSERT_TRUE(raised.ok()) << raised.status();
  ASSERT_EQ(raised->size(), 1u);
  EXPECT_EQ((*raised)[0].kind(), "ransomware");
  EXPECT_EQ((*raised)[0].event(), "suspicious");
  // Not again on the next passes, nor after a restart.
  clock_.Advance(kH);
  raised = watcher.RunOnce();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_TRUE(raised->empty());
  Open();
  Watcher again(c_.get(), &clock_, wo);
  raised = again.RunOnce();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_TRUE(raised->empty());

  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  ASSERT_TRUE(d.RunOnce().ok());
  std::vector<Received> got = rx.got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].signature,
            "sha256=" + HmacSha256Hex(kKey, got[0].timestamp + "." + got[0].body));
  auto j = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(j["tenant"], "acme");
  EXPECT_EQ(j["asset"], "fs");
  EXPECT_EQ(j["kind"], "ransomware");
  EXPECT_EQ(j["event"], "suspicious");
  EXPECT_EQ(j["to"], "suspicious");
  EXPECT_EQ(j["point"]["backup_set"], "snaps");
  EXPECT_EQ(j["point"]["name"], "daily.0");
  EXPECT_EQ(j["point"]["time_ns"], t2);
  EXPECT_EQ(j["point"]["verdict"], "suspicious");
  EXPECT_EQ(j["point"]["compared_with_ns"], t1);
  ASSERT_EQ(j["point"]["signals"].size(), 1u);
  EXPECT_EQ(j["point"]["signals"][0]["kind"], "extension-changes");
  EXPECT_EQ(j["point"]["signals"][0]["message"],
            "1 file renamed to a new extension (.lockbit); threshold 1");
  EXPECT_EQ(j["point"]["signals"][0]["count"], 1);
  EXPECT_EQ(j["point"]["signals"][0]["threshold"], 1);
  EXPECT_EQ(j["point"]["signals"][0]["examples"][0], "a.docx.lockbit");
  EXPECT_EQ(j["last_clean_point"]["name"], "daily.1");
  EXPECT_EQ(j["last_clean_point"]["time_ns"], t1);
  EXPECT_NE(j["summary"].get<std::string>().find("last clean point: daily.1"), std::string::npos)
      << j["summary"];

  // Turning encrypted is alerted once more, then not again.
  SetPointVerdict("snaps", t2, v1::POINT_VERDICT_ENCRYPTED, {LockbitSignal()}, t1);
  raised = again.RunOnce();
  ASSERT_TRUE(raised.ok()) << raised.status();
  ASSERT_EQ(raised->size(), 1u);
  EXPECT_EQ((*raised)[0].event(), "encrypted");
  EXPECT_EQ((*raised)[0].from(), "suspicious");
  raised = again.RunOnce();
  ASSERT_TRUE(raised.ok());
  EXPECT_TRUE(raised->empty());
}

TEST_F(DeliveryTest, TheTenantPageSaysWhatBecameOfEachAlert) {
  ApplyYaml(vigil::testing::manifests::AcmeFsRpo24h());
  RegisterWorker();
  WatcherOptions wo;
  wo.worker_quiet_ns = 0;
  Watcher watcher(c_.get(), &clock_, wo);
  const int64_t start = clock_.NowNs();
  // Runs a check whose newest file is `age` old, then a watcher pass that
  // must raise one alert.
  auto judge = [&](int64_t age) {
    v1::Observation o = Obs("data.bin", "x");
    o.set_mtime_ns(clock_.NowNs() - age);
    RunTask({}, {{o}});
    clock_.Advance(kS);
    auto raised = watcher.RunOnce();
    ASSERT_TRUE(raised.ok()) << raised.status();
    ASSERT_EQ(raised->size(), 1u);
  };
  // The alert rows of the page, oldest first, as /api/tenant builds them.
  auto alerts = [&] {
    v1::GetStatusResponse s;
    s.add_tenants()->mutable_tenant()->set_name("acme");
    const int64_t now = clock_.NowNs();
    auto t = LoadTransitions(c_->catalogue().kv(), "acme", start, now + 1);
    auto d = LoadDeliveriesCreated(c_->catalogue().kv(), start, now + 1);
    EXPECT_TRUE(t.ok() && d.ok());
    nlohmann::json out = nlohmann::json::array();
    if (!t.ok() || !d.ok()) return out;
    auto j = nlohmann::json::parse(TenantJson(s, "acme", now, start, *t, {}, {}, *d));
    for (const auto& h : j["history"]) {
      if (h["alerted"].get<bool>()) out.push_back(h["alert"]);
    }
    return out;
  };

  // 1. No channel applied: raised, logged, never sent.
  judge(48 * kH);
  nlohmann::json a = alerts();
  ASSERT_EQ(a.size(), 1u) << a;
  EXPECT_EQ(a[0]["state"], "not sent") << a;
  EXPECT_EQ(a[0]["reason"], "no alert channel serves it") << a;
  EXPECT_TRUE(a[0]["deliveries"].empty()) << a;

  // 2. A channel whose receiver answers 500 once: pending, then sent.
  Receiver rx(1);
  ApplyChannel(Hook(rx.port()));
  judge(kH);  // recovery
  Deliverer d(c_->catalogue().kv(), &clock_, options_);
  ASSERT_TRUE(d.RunOnce().ok());
  a = alerts();
  ASSERT_EQ(a.size(), 2u) << a;
  EXPECT_EQ(a[0]["state"], "not sent") << a;  // still: a channel applied later changes nothing
  EXPECT_EQ(a[1]["state"], "pending") << a;
  ASSERT_EQ(a[1]["deliveries"].size(), 1u) << a;
  const nlohmann::json& p = a[1]["deliveries"][0];
  EXPECT_EQ(p["channel"], "ops-hook");
  EXPECT_EQ(p["state"], "pending");
  EXPECT_EQ(p["attempts"], 1);
  EXPECT_GT(p["next_attempt_ns"].get<int64_t>(), clock_.NowNs());
  EXPECT_NE(p["last_error"].get<std::string>().find("HTTP 500"), std::string::npos) << p;
  EXPECT_EQ(p["sent_ns"], 0);
  clock_.Set(p["next_attempt_ns"].get<int64_t>());
  const int64_t sent_at = clock_.NowNs();
  ASSERT_TRUE(d.RunOnce().ok());
  ASSERT_EQ(rx.got().size(), 2u);
  a = alerts();
  EXPECT_EQ(a[1]["state"], "sent") << a;
  EXPECT_EQ(a[1]["reason"], "") << a;
  EXPECT_EQ(a[1]["deliveries"][0]["state"], "sent") << a;
  EXPECT_EQ(a[1]["deliveries"][0]["channel"], "ops-hook") << a;
  EXPECT_EQ(a[1]["deliveries"][0]["sent_ns"], sent_at) << a;
  EXPECT_EQ(a[1]["deliveries"][0]["attempts"], 2) << a;

  // 3. The receiver is gone: retried until --alert-max-age, then given up.
  LoopbackPort dead(LoopbackPort::Kind::kRefusing);
  ApplyChannel(Hook(dead.port()));
  judge(48 * kH);  // fail again
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(alerts()[2]["state"], "pending");
  clock_.Advance(options_.max_age_ns);
  ASSERT_TRUE(d.RunOnce().ok());
  a = alerts();
  ASSERT_EQ(a.size(), 3u) << a;
  EXPECT_EQ(a[2]["state"], "not sent") << a;
  EXPECT_NE(a[2]["reason"].get<std::string>().find("given up"), std::string::npos) << a;
  EXPECT_EQ(a[2]["deliveries"][0]["state"], "given up") << a;
  EXPECT_EQ(a[2]["deliveries"][0]["attempts"], 2) << a;
  EXPECT_NE(a[2]["deliveries"][0]["failed_ns"], 0) << a;

  // A restart keeps all of it: the records are in RocksDB.
  const nlohmann::json before = alerts();
  Open();
  EXPECT_EQ(alerts(), before);
}

}  // namespace
}  // namespace vigil::coordinator
