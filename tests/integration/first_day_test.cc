// docs/first-day.md as a test, and what a location without a worker looks
// like through the real binary (issue 16).
//
// FirstDayGuideTest runs the guide's own commands: every fenced block whose
// info string is `sh first-day` is taken from the guide, in order, and run
// as one bash script (set -euo pipefail) against real processes, so the
// guide cannot drift from what works. Only what one machine and a test
// need is changed, each rule listed in Rewrite() below:
//   - `sudo ` is dropped (the test's own user runs everything);
//   - /var/lib/vigil, /etc/vigil, /srv/, /var/cache/, /tmp/ live under a
//     scratch root ($ROOT), deploy/ is the source tree's;
//   - listeners bind 127.0.0.1:0; a command the guide puts in the
//     background (a trailing `&`) has its output in $ROOT/bgN.{out,err},
//     and the script waits for the addresses it prints ("listening on",
//     "http listening on", "https listening on") and keeps each port in
//     P<the guide's port> (7400 -> $P7400), which every later
//     coord.example.net:PORT / localhost:PORT uses;
//   - $EDITOR (the guide's "edit the example") drops the example's
//     maintenance windows: a test may run at any hour, and inside a window
//     `check run` is refused (ServingProcessTest.MaintenanceWindow and
//     coordinator_serving_test cover that rule).
// The script must exit 0 and end with a valid proof (`vigil proof verify`
// prints VALID); `vigil apply` must not warn of a location no worker
// serves (the guide's workers serve the example contract's locations).
//
// ServingProcessTest: apply --dry-run and apply warn of a location without
// a worker, check run says so at once and --wait exits 4 without sitting
// until its timeout, status (human and --json) shows `waiting: ...`, and a
// manual check inside a maintenance window is refused without --force.
//
// Single-threaded gtest; every process is a child of the test (the
// script's background processes are killed by its EXIT trap, and the
// whole script runs under `timeout`).

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/integration/test_util.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

// The blocks of `markdown` fenced as ```sh first-day, in order.
std::vector<std::string> FirstDayBlocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream in(markdown);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```sh first-day") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return blocks;
}

// One logical command line (backslash continuations joined) rewritten for
// one machine and a test (the rules in the header comment). `bg` counts
// the background commands.
std::string Rewrite(std::string line, int* bg) {
  line = std::regex_replace(line, std::regex(R"(\bsudo )"), "");
  line = std::regex_replace(
      line, std::regex(R"((^|[\s=(])(/var/lib/vigil|/etc/vigil|/srv/|/var/cache/|/tmp/))"),
      "$1$$ROOT$2");
  line = std::regex_replace(line, std::regex(R"((^|\s)deploy/)"), "$1$$SRC/deploy/");
  // Listeners: port 0, the guide's port remembered for the wait below.
  std::vector<std::string> waits;
  std::smatch m;
  const std::regex listen(R"(--(listen|http-listen|https-listen) (0\.0\.0\.0|127\.0\.0\.1):(\d+))");
  std::string rest = line, out;
  while (std::regex_search(rest, m, listen)) {
    const std::string kind = m[1] == "listen"        ? "listening on"
                             : m[1] == "http-listen" ? "http listening on"
                                                     : "https listening on";
    waits.push_back("'" + kind + "' " + m[3].str());
    out += m.prefix().str() + "--" + m[1].str() + " 127.0.0.1:0";
    rest = m.suffix().str();
  }
  line = out + rest;
  line = std::regex_replace(line, std::regex(R"((coord\.example\.net|localhost):(\d+))"),
                            "localhost:$${P$2}");
  // A background command: its output to files, then its addresses.
  const std::regex background(R"(^(.*\S)\s*&\s*$)");
  if (std::regex_match(line, m, background)) {
    const std::string n = std::to_string(++*bg);
    line = m[1].str() + " >\"$ROOT/bg" + n + ".out\" 2>\"$ROOT/bg" + n + ".err\" &";
    for (const std::string& w : waits) line += "\nfirst_day_started \"$ROOT/bg" + n + ".out\" " + w;
  }
  return line;
}

// The script: the test's prelude, then every block's lines rewritten.
std::string FirstDayScript(const std::vector<std::string>& blocks) {
  std::string script = R"(set -euo pipefail
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait || true; }
trap cleanup EXIT
# Waits (10 s at most) for FILE's line "KIND 127.0.0.1:PORT"; sets P<GUIDE_PORT>=PORT.
first_day_started() {
  local file=$1 kind=$2 guide_port=$3 addr=""
  for _ in $(seq 100); do
    addr=$(grep -m1 "^$kind " "$file" | sed "s/^$kind //") || true
    [[ -n $addr ]] && break
    sleep 0.1
  done
  [[ -n $addr ]] || { echo "no '$kind' line in $file" >&2; cat "${file%.out}.err" >&2; exit 1; }
  printf -v "P$guide_port" '%s' "${addr##*:}"
}
)";
  int bg = 0;
  for (const std::string& block : blocks) {
    std::istringstream in(block);
    std::string line, logical;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\\') {
        logical += line.substr(0, line.size() - 1);
        continue;
      }
      logical += line;
      script += "echo '+ " + std::regex_replace(logical, std::regex("'"), "'\\''") + "'\n";
      script += Rewrite(logical, &bg) + "\n";
      logical.clear();
    }
  }
  return script;
}

TEST(FirstDayGuideTest, RunsAsWrittenToAVerifiedProof) {
  TempDir tmp;
  const std::string guide = ReadFile(std::string(VIGIL_SOURCE_DIR) + "/docs/first-day.md");
  const std::vector<std::string> blocks = FirstDayBlocks(guide);
  ASSERT_GE(blocks.size(), 8u) << "the guide's `sh first-day` blocks are gone";
  const std::string root = tmp / "root", home = tmp / "home";
  for (const char* d : {"/var/lib", "/etc", "/srv", "/var/cache", "/tmp"}) MakeDirs(root + d);
  MakeDirs(home);
  // The "edit": the example's maintenance windows out (see the header).
  WriteFile(tmp / "editor",
            "#!/bin/sh\nexec sed -i '/^maintenanceWindows:/,/^---/{/^---/!d}' \"$1\"\n");
  const std::string script = FirstDayScript(blocks);
  WriteFile(tmp / "first-day.sh", script);
  const std::string bin = VigilBin().substr(0, VigilBin().rfind('/'));
  RunResult r = RunProcess({"/usr/bin/env", "ROOT=" + root, std::string("SRC=") + VIGIL_SOURCE_DIR,
                            "PATH=" + bin + ":/usr/bin:/bin", "EDITOR=sh " + tmp / "editor",
                            "HOME=" + home, "/usr/bin/timeout", "-k", "5", "120", "/bin/bash", "-c",
                            "cd \"$HOME\" && source \"$1\"", "first-day", tmp / "first-day.sh"});
  const std::string all =
      "script " + tmp / "first-day.sh" + "\n--- stdout\n" + r.out + "\n--- stderr\n" + r.err;
  ASSERT_EQ(r.exit_code, 0) << all;
  EXPECT_NE(r.out.find("VALID martin-"), std::string::npos) << all;
  EXPECT_EQ(r.out.find("INVALID"), std::string::npos) << all;
  // The guide's workers serve the contract's locations: nothing to warn of.
  EXPECT_EQ(r.err.find("no worker serves"), std::string::npos) << all;
  // The check found the sample the guide made, in both locations, and the
  // example contract holds on it: no commitment fails, and after the
  // drill every asset's readiness rests on one.
  EXPECT_NE(r.out.find("martin-associes/fileserver-nas: done, 1 added"), std::string::npos) << all;
  EXPECT_NE(r.out.find("martin-associes/fileserver-vault: done, 1 added"), std::string::npos)
      << all;
  EXPECT_EQ(r.out.find(" fail "), std::string::npos) << all;
  EXPECT_EQ(r.out.find("never drilled"), std::string::npos) << all;
}

// A location nas (site s1, UTC) and acme's set fs-a on it; `more` lines
// after site: (windows).
std::string Manifest(const std::string& more = "") {
  return manifests::Join({manifests::Location("nas", "s1", more), manifests::Tenant("acme"),
                          manifests::Contract("acme") + manifests::OneSet("fs", "fs-a", "nas")});
}

class ServingProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    WriteFile(tmp_ / "data/acme/fs/a.txt", "a");
    ASSERT_TRUE(cluster_.StartCoordinator());
  }
};

TEST_F(ServingProcessTest, NoWorkerIsSaidByApplyCheckRunAndStatus) {
  WriteFile(tmp_ / "acme.yaml", Manifest());
  const std::string hint = "start one with: vigil worker --site s1 --location nas=PATH";
  RunResult dry = Admin({"apply", "-f", tmp_ / "acme.yaml", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.err.find("warning: location nas (site s1): no worker serves it; its checks wait "
                         "until one does: " +
                         hint),
            std::string::npos)
      << dry.err;
  RunResult applied = Admin({"apply", "-f", tmp_ / "acme.yaml"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.err.find("no worker serves it"), std::string::npos) << applied.err;

  // A worker of the site, for another location (the guide's old mismatch).
  auto w = cluster_.StartWorker("w", "nas-paris=" + tmp_ / "data");
  ASSERT_TRUE(w->WaitForOutput("registered (site")) << w->out() << w->err();
  const auto start = std::chrono::steady_clock::now();
  RunResult run = cluster_.RunCheck("acme", {}, 300);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(run.exit_code, 4) << run.out << run.err;
  EXPECT_LT(took, std::chrono::seconds(60)) << "--wait sat until its timeout";
  EXPECT_NE(run.err.find("stopping in 15 s unless a worker for them registers"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("warning: location nas (site s1): no worker serves it"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("is waiting: no worker serves nas (site s1)"), std::string::npos)
      << run.err;

  RunResult human = Admin({"status", "acme"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("queued (attempt 0), waiting: no worker serves nas (site s1)"),
            std::string::npos)
      << human.out;
  nlohmann::json j = cluster_.Status("acme");
  EXPECT_EQ(BackupSet(j, "fs-a")["last_task"].value("waiting", ""),
            "no worker serves nas (site s1)")
      << j.dump(2);

  // The right worker: the queued task runs, nothing waits any more.
  auto right = cluster_.StartWorker("right", "nas=" + tmp_ / "data");
  ASSERT_TRUE(right->WaitForOutput("registered (site")) << right->out() << right->err();
  RunResult ok = cluster_.RunCheck("acme", {}, 60);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.err.find("no worker serves"), std::string::npos) << ok.err;
}

TEST_F(ServingProcessTest, MaintenanceWindowNeedsForce) {
  // A window from an hour ago to an hour from now, every day, UTC.
  std::time_t now = std::time(nullptr) - 3600;
  std::tm utc{};
  gmtime_r(&now, &utc);
  char start[8];
  std::snprintf(start, sizeof start, "%02d:%02d", utc.tm_hour, utc.tm_min);
  WriteFile(tmp_ / "acme.yaml",
            Manifest(std::string("maintenanceWindows:\n  - days: daily\n    start: \"") + start +
                     "\"\n    duration: 2h\n"));
  ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  auto w = cluster_.StartWorker("w", "nas=" + tmp_ / "data");
  ASSERT_TRUE(w->WaitForOutput("registered (site")) << w->out() << w->err();
  RunResult refused = cluster_.RunCheck("acme", {}, 60);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("location nas is inside a maintenance window until "),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("pass --force to read it anyway"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out.find("queued"), std::string::npos) << refused.out;

  RunResult forced = cluster_.RunCheck("acme", {"--force"}, 60);
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_NE(forced.err.find("warning: location nas is inside a maintenance window until "),
            std::string::npos)
      << forced.err;
  EXPECT_NE(forced.err.find("reading it anyway (--force)"), std::string::npos) << forced.err;
}

}  // namespace
}  // namespace vigil::testing
