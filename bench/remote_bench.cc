// vigil_remote_bench: one worker CHECK task over a remote location (S3 or
// SFTP), run through the worker's own check path (services/worker/
// check_task.h RunCheck, the store opened by OpenLocationStore from a
// --secrets directory, as `vigil worker` does), without a coordinator: the
// observation batches go to a sink that counts them. What bench/remote/run
// times against restic and rclone (docs/BENCHMARKS.md, "Issue 18").
//
//   vigil_remote_bench --secrets DIR --location NAME --set-path PATH
//       [--format dir|restic] [--tenant T] [--set S]
//       (--s3 ENDPOINT BUCKET PREFIX | --sftp HOST PORT USER HOSTKEY_FILE ROOT)
//
// A "dir" set is walked and every file hashed (xxh3-128); a "restic" set is
// the repository verified with every pack read (no known packs: the task's
// read-data). Prints the worker's log lines, then one line:
//   result files=N bytes=B requests=R retries=T wall_s=W mib_s=M outcome=done|error:...
// (requests/retries/bytes from the store's counters, as the worker logs
// them). Exit status 0 when the task ended done, 1 otherwise, 2 for usage.
// Peak RSS: run it under /usr/bin/time -v.
//
// Thread safety: single-threaded driver (the task may use its own threads).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "services/worker/check_task.h"
#include "services/worker/remote/open_location.h"
#include "services/worker/task.h"
#include "vigil/v1/worker.pb.h"

namespace {

using namespace vigil;

// Takes every batch at once (no coordinator: nothing is stored).
class DiscardingSink : public worker::ObservationSink {
 public:
  worker::Outcome Send(const v1::ObservationBatch& batch) override {
    return {worker::Outcome::kDone, "", batch.seq()};
  }
  worker::Outcome Flush() override { return {worker::Outcome::kDone, "", 0}; }
  void Close() override {}
};

class BenchHost : public worker::TaskHost {
 public:
  const worker::WorkerOptions& options() const override { return options_; }
  bool stopped() override { return false; }
  void Sleep(int) override {}
  void Pause(std::chrono::nanoseconds) override {}
  void Log(const std::string& line) override {
    std::printf("log: %s\n", line.c_str());
    log += line + "\n";
  }
  std::unique_ptr<worker::ObservationSink> OpenStream(worker::Attempt*) override {
    return std::make_unique<DiscardingSink>();
  }

  worker::WorkerOptions options_;
  std::string log;
};

int Usage() {
  std::fprintf(
      stderr,
      "usage: vigil_remote_bench --secrets DIR --location NAME --set-path PATH\n"
      "         [--format dir|restic] [--tenant T] [--set S]\n"
      "         (--s3 ENDPOINT BUCKET PREFIX | --sftp HOST PORT USER HOSTKEY_FILE ROOT)\n");
  return 2;
}

std::string ReadLine(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  BenchHost host;
  v1::Task task;
  task.set_id(1);
  task.set_kind(v1::TASK_KIND_CHECK);
  v1::BackupSet* set = task.mutable_backup_set();
  set->set_tenant("bench");
  set->set_name("set");
  set->set_asset("bench");
  set->set_format("dir");
  v1::Location* loc = task.mutable_location();
  for (size_t i = 0; i < a.size(); ++i) {
    auto need = [&](size_t n) { return i + n < a.size(); };
    if (a[i] == "--secrets" && need(1)) {
      host.options_.secrets = a[++i];
    } else if (a[i] == "--location" && need(1)) {
      set->set_location(a[++i]);
    } else if (a[i] == "--set-path" && need(1)) {
      set->set_path(a[++i]);
    } else if (a[i] == "--format" && need(1)) {
      set->set_format(a[++i]);
    } else if (a[i] == "--tenant" && need(1)) {
      set->set_tenant(a[++i]);
    } else if (a[i] == "--set" && need(1)) {
      set->set_name(a[++i]);
    } else if (a[i] == "--s3" && need(3)) {
      loc->set_kind("s3");
      loc->mutable_s3()->set_endpoint(a[++i]);
      loc->mutable_s3()->set_bucket(a[++i]);
      loc->mutable_s3()->set_prefix(a[++i]);
    } else if (a[i] == "--sftp" && need(5)) {
      loc->set_kind("sftp");
      loc->mutable_sftp()->set_host(a[++i]);
      loc->mutable_sftp()->set_port(static_cast<uint32_t>(std::atoi(a[++i].c_str())));
      loc->mutable_sftp()->set_user(a[++i]);
      loc->mutable_sftp()->set_host_key(ReadLine(a[++i]));
      loc->mutable_sftp()->set_path(a[++i]);
    } else {
      return Usage();
    }
  }
  if (set->location().empty() || set->path().empty() || loc->kind().empty()) return Usage();
  if (set->format() == "restic") set->set_layout("restic-snapshots");
  loc->set_name(set->location());
  host.options_.locations[set->location()] = "";
  host.options_.open_store = [secrets = host.options_.secrets](const v1::Location& l) {
    return worker::remote::OpenLocationStore(l, secrets, storage::RetryPolicy{});
  };

  worker::Attempt attempt(task, 0);
  const auto t0 = std::chrono::steady_clock::now();
  worker::Outcome out = worker::RunCheck(&host, &attempt);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The store's counters, as the worker logged them ("N request(s), B
  // byte(s) read, R retry(ies)").
  uint64_t requests = 0, bytes = 0, retries = 0;
  std::smatch m;
  static const std::regex cost(R"((\d+) request\(s\), (\d+) byte\(s\) read, (\d+) retry)");
  if (std::regex_search(host.log, m, cost)) {
    requests = std::stoull(m[1]);
    bytes = std::stoull(m[2]);
    retries = std::stoull(m[3]);
  }
  std::string outcome = "done";
  if (out.kind != worker::Outcome::kDone) outcome = "error:" + out.error;
  for (const auto& v : out.verdicts) {
    if (v.valid()) continue;
    outcome = "invalid";
    for (int i = 0; i < v.errors_size() && i < 5; ++i) {
      std::printf("error: %s\n", v.errors(i).c_str());
    }
  }
  std::printf("result files=%" PRIu64 " bytes=%" PRIu64 " requests=%" PRIu64 " retries=%" PRIu64
              " wall_s=%.2f mib_s=%.1f outcome=%s\n",
              attempt.progress.files.load(), bytes, requests, retries, wall,
              wall > 0 ? static_cast<double>(bytes) / (1 << 20) / wall : 0.0, outcome.c_str());
  return outcome == "done" ? 0 : 1;
}
