// The plain-HTTP endpoints of real `vigil coordinator` and `vigil worker`
// processes on loopback (port 0): /healthz, /readyz, and a /metrics that
// Prometheus' own `promtool check metrics` accepts after a real check.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/integration/http_get.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

constexpr int kFiles = 12;

using Reply = HttpReply;

// GET with a raw Authorization header value.
Reply GetAuthorized(const std::string& addr, const std::string& path,
                    const std::string& authorization) {
  return HttpGet(addr, path, authorization);
}

// GET http://ADDR/path with an optional bearer token.
Reply Get(const std::string& addr, const std::string& path, const std::string& token = "") {
  return HttpGet(addr, path, token.empty() ? "" : "Bearer " + token);
}

// The value of the sample `series` (name with labels, exactly as rendered),
// or -1 if absent.
double Sample(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::stod(text.substr(at + series.size() + 1));
    }
    at += series.size();
  }
  return -1;
}

class OpsHttpTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc-a";
    for (int i = 0; i < kFiles; ++i) {
      std::string body = "file " + std::to_string(i) + std::string(100 * i, 'q');
      WriteFile(root_ + "/acme/fs/f" + std::to_string(i), body);
      bytes_ += body.size();
    }
    WriteFile(tmp_ / "acme.yaml",
              manifests::Head() + manifests::ImmutableFs() + manifests::kRpoAndIntegrity);
    CoordinatorOptions o;
    o.http = true;
    o.metrics_refresh = "1s";
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    http_ = cluster_.http();
    token_ = cluster_.AdminToken();
  }

  std::unique_ptr<BackgroundProcess> StartWorker() {
    return cluster_.StartWorker("worker", "loc-a=" + root_, {"--http-listen", "127.0.0.1:0"});
  }
  // Scrapes until `series` reaches `value` (the refresh runs every second).
  std::string ScrapeUntil(const std::string& series, double value) {
    std::string text;
    const bool reached = WaitFor(
        [&] {
          Reply r = Get(http_, "/metrics", token_);
          EXPECT_EQ(r.status, 200) << r.body;
          text = r.body;
          return Sample(text, series) == value;
        },
        std::chrono::seconds(10));
    if (reached) return text;
    ADD_FAILURE() << series << " never reached " << value << " in:\n" << text;
    return text;
  }

  std::string root_, http_, token_;
  uint64_t bytes_ = 0;
};

TEST_F(OpsHttpTest, MetricsPassPromtoolAfterARealCheck) {
  EXPECT_EQ(Get(http_, "/healthz").status, 200);
  EXPECT_EQ(Get(http_, "/healthz").body, "ok\n");
  Reply ready = Get(http_, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  // The metrics name tenants: the admin token is required.
  Reply anon = Get(http_, "/metrics");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.body.find("vigil_"), std::string::npos);
  EXPECT_EQ(Get(http_, "/metrics", "vgl_wrong").status, 401);
  EXPECT_EQ(Get(http_, "/nothing-here").status, 404);

  auto worker = StartWorker();
  RunResult r = Admin({"apply", "-f", tmp_ / "acme.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string text = ScrapeUntil("vigil_check_runs_total", 1);
  EXPECT_EQ(Sample(text, "vigil_check_runs_failed_total"), 0);
  EXPECT_EQ(Sample(text, "vigil_verified_entries_total"), kFiles);
  EXPECT_EQ(Sample(text, "vigil_verified_bytes_total{location=\"loc-a\"}"),
            static_cast<double>(bytes_));
  EXPECT_EQ(Sample(text, "vigil_tasks{kind=\"check\",state=\"done\"}"), 1);
  EXPECT_EQ(Sample(text, "vigil_tasks{kind=\"check\",state=\"queued\"}"), 0);

  // A damaged file: the next check run fails and the finding is counted.
  WriteFile(root_ + "/acme/fs/f3", "tampered");
  r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  text = ScrapeUntil("vigil_check_runs_total", 2);
  EXPECT_EQ(Sample(text, "vigil_check_runs_failed_total"), 1);
  EXPECT_EQ(Sample(text, "vigil_findings_total{finding=\"modified\"}"), 1);
  EXPECT_EQ(Sample(text, "vigil_verified_entries_total"), 2 * kFiles);
  // Each commitment of the contract has exactly one verdict state set.
  for (const char* kind : {"rpo", "integrity"}) {
    double sum = 0;
    for (const char* v : {"pass", "fail", "unknown"}) {
      std::string series = std::string("vigil_commitment_verdict{asset=\"fs\",kind=\"") + kind +
                           "\",tenant=\"acme\",verdict=\"" + v + "\"}";
      double x = Sample(text, series);
      EXPECT_TRUE(x == 0 || x == 1) << series << " in\n" << text;
      sum += x;
    }
    EXPECT_EQ(sum, 1) << kind;
  }
  EXPECT_EQ(Sample(text, "vigil_catalogue_entries{tenant=\"acme\"}"), kFiles);
  RunResult version = RunVigil({"--version"});
  std::string v = version.out.substr(version.out.find(' ') + 1);
  while (!v.empty() && v.back() == '\n') v.pop_back();
  EXPECT_EQ(Sample(text, "vigil_build_info{version=\"" + v + "\"}"), 1) << text;

  // The dashboard: the page carries no data and needs no token; its grid
  // does, and shows the damaged asset's integrity as failing, first.
  Reply page = Get(http_, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/dashboard.js"), std::string::npos);
  EXPECT_EQ(page.body.find("acme"), std::string::npos);
  EXPECT_EQ(Get(http_, "/dashboard.js").status, 200);
  EXPECT_EQ(Get(http_, "/api/dashboard").status, 401);
  Reply grid = Get(http_, "/api/dashboard", token_);
  ASSERT_EQ(grid.status, 200) << grid.body;
  auto j = nlohmann::json::parse(grid.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << grid.body;
  ASSERT_EQ(j["rows"].size(), 1u) << grid.body;
  EXPECT_EQ(j["rows"][0]["tenant"], "acme");
  EXPECT_EQ(j["rows"][0]["asset"], "fs");
  EXPECT_EQ(j["rows"][0]["cells"]["integrity"]["verdict"], "fail") << grid.body;
  EXPECT_EQ(j["rows"][0]["rank"], 0);
  // The tenant page's data and the workers list, behind the same token.
  EXPECT_EQ(Get(http_, "/api/tenant?name=acme").status, 401);
  EXPECT_EQ(Get(http_, "/api/workers").status, 401);
  EXPECT_EQ(Get(http_, "/api/tenant", token_).status, 400);
  EXPECT_EQ(Get(http_, "/api/tenant?name=nobody", token_).status, 404);
  Reply tenant = Get(http_, "/api/tenant?name=acme", token_);
  ASSERT_EQ(tenant.status, 200) << tenant.body;
  auto t = nlohmann::json::parse(tenant.body, nullptr, false);
  ASSERT_FALSE(t.is_discarded()) << tenant.body;
  EXPECT_EQ(t["tenant"], "acme");
  EXPECT_EQ(t["commitments"].size(), 2u) << tenant.body;
  // The numeric history: one series per commitment, with samples since the
  // first check (the set is a mirror: dated by its newest file).
  ASSERT_EQ(t["series"].size(), 2u) << tenant.body;
  EXPECT_EQ(t["series"][0]["metric"], "rpo_age") << tenant.body;
  EXPECT_FALSE(t["series"][0]["points"].empty()) << tenant.body;
  EXPECT_EQ(t["series"][1]["metric"], "coverage") << tenant.body;
  EXPECT_EQ(t["series"][1]["limit"], 1.0) << tenant.body;
  Reply workers = Get(http_, "/api/workers", token_);
  ASSERT_EQ(workers.status, 200) << workers.body;
  auto w = nlohmann::json::parse(workers.body, nullptr, false);
  ASSERT_EQ(w["workers"].size(), 1u) << workers.body;
  EXPECT_EQ(w["workers"][0]["site"], "s1");
  EXPECT_EQ(Sample(text,
                   "vigil_commitment_verdict{asset=\"fs\",kind=\"integrity\",tenant=\"acme\","
                   "verdict=\"fail\"}"),
            1);

  // Prometheus' own linter on the live exposition.
  WriteFile(tmp_ / "metrics.txt", text);
  RunResult lint =
      RunProcess({"/bin/sh", "-c", "promtool check metrics < '" + (tmp_ / "metrics.txt") + "'"});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err << "\n" << text;
  EXPECT_EQ(lint.out + lint.err, "");
}

// RFC 7235: the auth scheme is case-insensitive ("Bearer" only was
// accepted); another scheme is still refused.
TEST_F(OpsHttpTest, TheBearerSchemeIsCaseInsensitive) {
  for (const std::string scheme : {"bearer ", "BEARER ", "bEaReR  "}) {
    SCOPED_TRACE(scheme);
    Reply r;
    WaitFor(  // 503 until the first refresh computed the metrics
        [&] {
          r = GetAuthorized(http_, "/metrics", scheme + token_);
          return r.status != 503;
        },
        std::chrono::seconds(30));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("vigil_"), std::string::npos);
  }
  for (const std::string& refused : {"Basic " + token_, "Bearer" + token_, token_}) {
    EXPECT_EQ(GetAuthorized(http_, "/metrics", refused).status, 401) << refused;
  }
  // A tenant page for ".." is a bad request, not a lookup.
  Reply dots = GetAuthorized(http_, "/api/tenant?name=..", "bearer " + token_);
  EXPECT_EQ(dots.status, 400) << dots.body;
  EXPECT_NE(dots.body.find("not '.' or '..'"), std::string::npos) << dots.body;
}

TEST_F(OpsHttpTest, WorkerIsReadyOnlyOnceRegisteredAndItsLocationsReadable) {
  // A coordinator that does not answer (stopped): the worker serves its
  // probes but cannot register.
  cluster_.coordinator().Signal(SIGSTOP);
  auto worker = StartWorker();
  std::string whttp = worker->WaitForLine("http listening on ");
  ASSERT_FALSE(whttp.empty()) << worker->err();
  EXPECT_EQ(Get(whttp, "/healthz").status, 200);
  Reply r = Get(whttp, "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("not registered"), std::string::npos) << r.body;
  EXPECT_EQ(Get(whttp, "/metrics").status, 404);  // metrics live on the coordinator

  cluster_.coordinator().Signal(SIGCONT);
  WaitFor(
      [&] {
        r = Get(whttp, "/readyz");
        return r.status == 200;
      },
      std::chrono::seconds(20));
  EXPECT_EQ(r.status, 200) << r.body << worker->err();
  EXPECT_EQ(r.body, "ready\n");

  // The location's root goes away (an unmounted share): not ready, with
  // the location named, not its path.
  std::filesystem::rename(root_, root_ + ".away");
  r = Get(whttp, "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("location 'loc-a'"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(root_), std::string::npos) << r.body;
  std::filesystem::rename(root_ + ".away", root_);
  EXPECT_EQ(Get(whttp, "/readyz").status, 200);
}

TEST_F(OpsHttpTest, BadHttpListenIsAUsageError) {
  RunResult r = RunVigil({"coordinator", "--listen", "127.0.0.1:0", "--data", tmp_ / "data2",
                          "--http-listen", "127.0.0.1:notaport"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--http-listen"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vigil::testing
