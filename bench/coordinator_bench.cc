// Coordinator benchmarks (issue 3, item 8): observation ingest over loopback
// gRPC, task dispatch, and the coordinator's RSS with a large database.
//
//   vigil_coordinator_bench ingest   --data DIR [--workers 1] [--entries 2000000]
//                                    [--batch 4096] [--window 8] [--passes 1]
//   vigil_coordinator_bench dispatch --data DIR [--workers 4] [--tasks 20000] [--sets 200]
//   vigil_coordinator_bench rss      --data DIR --vigil BIN [--tenants 10000]
//                                    [--entries 20000000] [--skip-setup | --setup-only]
//                                    [--no-full-status]
//
// ingest and dispatch start a real coordinator in this process (Coordinator +
// gRPC server on 127.0.0.1:0, data in DIR, which is wiped first); the bench
// clients are threads with their own channel each, speaking the WorkerGateway
// protocol (Register, LeaseTask, Observe with seq and acks, CompleteTask).
// Observation batches are built before the clock starts, so the figures
// measure the coordinator, not file reading or message building.
//
// --executor-threads N sets the in-process coordinator's executor size.
//
// rss writes the catalogue directly through storage/ (Catalogue::Writer, the
// writer the coordinator's merge uses) in a setup phase, applies the tenants
// through the domain API, then starts the real `vigil coordinator` process on
// that data, drives a mix of calls at it over gRPC and reports its VmHWM.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/synth.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/node.h"
#include "storage/catalogue.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/worker.grpc.pb.h"

extern char** environ;

namespace vigil::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "vigil_coordinator_bench: %s\n", what.c_str());
  std::exit(1);
}
void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error_message());
}
void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + std::string(s.message()));
}

struct Args {
  std::map<std::string, std::string> kv;
  std::string Str(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  uint64_t Num(const std::string& k, uint64_t def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::stoull(it->second);
  }
  bool Has(const std::string& k) const { return kv.count(k) > 0; }
};

// Peak and current RSS of a process, KiB, from /proc/PID/status.
std::pair<long, long> Rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long hwm = 0, rss = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stol(line.substr(6));
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
  }
  return {hwm, rss};
}

// The coordinator's fixed worker enrolment token (workers must enrol).
constexpr std::string_view kBenchEnrolToken = "bench-enrol-token";

// A bench worker: its own channel (own HTTP/2 connection), registered.
class BenchWorker {
 public:
  BenchWorker(const std::string& address, const std::string& location) {
    grpc::ChannelArguments ca;
    ca.SetMaxReceiveMessageSize(64 << 20);
    ca.SetInt("bench.unique", rand());  // a channel per worker, not a shared subchannel
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), ca);
    stub_ = v1::WorkerGateway::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + std::string(kBenchEnrolToken));
    v1::RegisterRequest req;
    req.set_site("bench");
    req.add_locations(location);
    v1::RegisterResponse resp;
    Check(stub_->Register(&ctx, req, &resp), "Register");
    id_ = resp.worker_id();
    credential_ = resp.credential();
  }
  void Prepare(grpc::ClientContext* ctx) {
    ctx->AddMetadata("authorization", "Bearer " + credential_);
    ctx->AddMetadata("vigil-worker-id", id_);
  }
  // nullopt when nothing is queued.
  std::optional<v1::Task> Lease() {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    v1::LeaseTaskResponse resp;
    Check(stub_->LeaseTask(&ctx, {}, &resp), "LeaseTask");
    if (!resp.has_task()) return std::nullopt;
    return resp.task();
  }
  // Heartbeats `t` every 5 s until the returned guard is destroyed, as the
  // real worker does (every TTL / 3) while it streams and completes.
  class Heartbeats {
   public:
    Heartbeats(BenchWorker* w, const v1::Task& t)
        : thread_([this, w, t] {
            std::unique_lock lock(mu_);
            while (!cv_.wait_for(lock, std::chrono::seconds(5), [this] { return done_; })) {
              grpc::ClientContext ctx;
              w->Prepare(&ctx);
              v1::HeartbeatRequest req;
              req.set_task_id(t.id());
              req.set_attempt(t.attempt());
              v1::HeartbeatResponse resp;
              Check(w->stub_->Heartbeat(&ctx, req, &resp), "Heartbeat");
            }
          }) {}
    ~Heartbeats() {
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
  };

  v1::Task Complete(const v1::Task& t, uint64_t final_seq) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    v1::CompleteTaskRequest req;
    req.set_task_id(t.id());
    req.set_attempt(t.attempt());
    req.set_final_seq(final_seq);
    v1::CompleteTaskResponse resp;
    Check(stub_->CompleteTask(&ctx, req, &resp), "CompleteTask");
    return resp.task();
  }
  // Streams `batches` (seq already set) keeping up to `window` unacknowledged.
  void Stream(const std::vector<v1::ObservationBatch>& batches, int window) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    auto rw = stub_->Observe(&ctx);
    uint64_t acked = 0;
    size_t sent = 0;
    v1::Ack ack;
    while (acked < batches.size()) {
      while (sent < batches.size() && sent - acked < static_cast<size_t>(window)) {
        if (!rw->Write(batches[sent])) Check(rw->Finish(), "Observe write");
        ++sent;
      }
      if (!rw->Read(&ack)) Check(rw->Finish(), "Observe read");
      if (ack.seq() > acked) acked = ack.seq();
    }
    rw->WritesDone();
    Check(rw->Finish(), "Observe");
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkerGateway::Stub> stub_;
  std::string id_, credential_;
};

std::unique_ptr<v1::Admin::Stub> AdminStub(const std::string& address) {
  return v1::Admin::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

// Batches of `per_batch` observations of entries [0, n) of one task.
std::vector<v1::ObservationBatch> MakeBatches(const v1::Task& t, uint64_t n, int per_batch) {
  std::vector<v1::ObservationBatch> out;
  storage::Observation o;
  for (uint64_t i = 0; i < n;) {
    v1::ObservationBatch& b = out.emplace_back();
    b.set_task_id(t.id());
    b.set_attempt(t.attempt());
    b.set_seq(out.size());
    for (int k = 0; k < per_batch && i < n; ++k, ++i) {
      FillObservation(i, 0, &o);
      v1::Observation* p = b.add_observations();
      p->set_path(PathOf(i));
      p->set_type(v1::ENTRY_TYPE_FILE);
      p->set_size(o.size);
      p->set_mtime_ns(o.mtime_ns);
      p->set_digest_algorithm(static_cast<uint32_t>(o.digest.algorithm()));
      p->set_digest(std::string(o.digest.view()));
    }
  }
  return out;
}

int g_executor_threads = 0;  // --executor-threads; 0 = the server's default

std::unique_ptr<coordinator::Node> StartServer(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  coordinator::NodeOptions o;
  o.listen = "127.0.0.1:0";
  o.coordinator.data_dir = dir + "/db";
  o.coordinator.enrol_token_sha256 = coordinator::TokenHash(kBenchEnrolToken);
  if (g_executor_threads > 0) o.executor_threads = g_executor_threads;
  std::printf("coordinator: %d executor threads\n", o.executor_threads);
  auto s = coordinator::Node::Start(o);
  Check(s.status(), "start coordinator");
  return std::move(*s);
}

// One location "nas", tenant "bench", `sets` mirror backup sets.
void ApplySets(coordinator::Coordinator& c, int sets) {
  v1::ApplyRequest req;
  auto* l = req.add_locations();
  l->set_name("nas");
  l->set_site("bench");
  req.add_tenants()->set_name("bench");
  for (int i = 0; i < sets; ++i) {
    auto* b = req.add_backup_sets();
    b->set_tenant("bench");
    b->set_asset("fs");
    b->set_name("set-" + std::to_string(i));
    b->set_location("nas");
    b->set_path("bench/" + std::to_string(i));
  }
  Check(c.Apply(req).status(), "Apply");
}

int Ingest(const Args& a) {
  const int workers = static_cast<int>(a.Num("workers", 1));
  const uint64_t entries = a.Num("entries", 2'000'000);
  const int per_batch = static_cast<int>(a.Num("batch", 4096));
  const int window = static_cast<int>(a.Num("window", 8));
  const int passes = static_cast<int>(a.Num("passes", 1));
  auto server = StartServer(a.Str("data"));
  ApplySets(server->coordinator(), workers);
  std::vector<std::unique_ptr<BenchWorker>> ws;
  for (int i = 0; i < workers; ++i) {
    ws.push_back(std::make_unique<BenchWorker>(server->address(), "nas"));
  }
  const uint64_t per_worker = entries / workers;
  std::printf("ingest: %d worker(s), %llu entries each, %d per batch, window %d\n", workers,
              static_cast<unsigned long long>(per_worker), per_batch, window);
  // Pass 1 adds every entry; later passes find them unchanged (a re-check).
  for (int pass = 1; pass <= passes; ++pass) {
    v1::RunCheckRequest rc;
    rc.set_tenant("bench");
    Check(server->coordinator().RunCheck(rc).status(), "RunCheck");
    std::vector<v1::Task> tasks;
    std::vector<std::vector<v1::ObservationBatch>> batches;
    for (int i = 0; i < workers; ++i) {
      auto t = ws[i]->Lease();
      if (!t) Die("no task to lease");
      tasks.push_back(*t);
      batches.push_back(MakeBatches(*t, per_worker, per_batch));
    }
    auto t0 = Clock::now();
    std::vector<double> stream_end(workers), complete_end(workers);
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
      threads.emplace_back([&, i] {
        BenchWorker::Heartbeats hb(ws[i].get(), tasks[i]);
        ws[i]->Stream(batches[i], window);
        stream_end[i] = Seconds(t0, Clock::now());
        v1::Task done = ws[i]->Complete(tasks[i], batches[i].size());
        complete_end[i] = Seconds(t0, Clock::now());
        const uint64_t want = pass == 1 ? done.counts().added() : done.counts().unchanged();
        if (done.state() != v1::TASK_STATE_DONE || want != per_worker) {
          Die("task " + std::to_string(done.id()) + " not done with every entry " +
              (pass == 1 ? "added: " : "unchanged: ") + done.ShortDebugString());
        }
      });
    }
    for (auto& t : threads) t.join();
    const double streamed = *std::max_element(stream_end.begin(), stream_end.end());
    const double completed = *std::max_element(complete_end.begin(), complete_end.end());
    const double total = static_cast<double>(per_worker * workers);
    double merge = 0;
    for (int i = 0; i < workers; ++i) merge = std::max(merge, complete_end[i] - stream_end[i]);
    std::printf("pass %d (%s):\n", pass, pass == 1 ? "new entries" : "entries unchanged");
    std::printf("  streamed (every batch acknowledged = synced): %.2f s, %.0f entries/s\n",
                streamed, total / streamed);
    std::printf(
        "  completed (merged into the catalogue):        %.2f s, %.0f entries/s end to end\n",
        completed, total / completed);
    std::printf("  merge alone (slowest CompleteTask):           %.2f s\n", merge);
  }
  auto [hwm, rss] = Rss(getpid());
  std::printf("  bench process (coordinator + clients + prebuilt batches) VmHWM %ld MiB\n",
              hwm / 1024);
  server->Shutdown();
  return 0;
}

int Dispatch(const Args& a) {
  const int workers = static_cast<int>(a.Num("workers", 4));
  const uint64_t want = a.Num("tasks", 20'000);
  const int sets = static_cast<int>(a.Num("sets", 200));
  auto server = StartServer(a.Str("data"));
  ApplySets(server->coordinator(), sets);
  auto q0 = Clock::now();
  uint64_t queued = 0;
  v1::RunCheckRequest rc;
  rc.set_tenant("bench");
  while (queued < want) {
    auto r = server->coordinator().RunCheck(rc);
    Check(r.status(), "RunCheck");
    queued += r->task_ids_size();
  }
  std::printf("dispatch: %llu tasks queued (%d sets x %llu RunCheck) in %.2f s; %d worker(s)\n",
              static_cast<unsigned long long>(queued), sets,
              static_cast<unsigned long long>(queued / sets), Seconds(q0, Clock::now()), workers);
  std::vector<std::unique_ptr<BenchWorker>> ws;
  for (int i = 0; i < workers; ++i) {
    ws.push_back(std::make_unique<BenchWorker>(server->address(), "nas"));
  }
  std::atomic<uint64_t> done{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&, i] {
      while (auto t = ws[i]->Lease()) {
        v1::Task d = ws[i]->Complete(*t, 0);
        if (d.state() != v1::TASK_STATE_DONE) Die("task not done: " + d.ShortDebugString());
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = Seconds(t0, Clock::now());
  if (done != queued) Die("only " + std::to_string(done.load()) + " tasks done");
  std::printf("  %llu tasks leased and completed in %.2f s: %.0f tasks/s\n",
              static_cast<unsigned long long>(queued), s, static_cast<double>(queued) / s);
  server->Shutdown();
  return 0;
}

// ---- rss ----------------------------------------------------------------

std::string TenantName(int i) {
  char b[32];
  std::snprintf(b, sizeof b, "tenant-%05d", i);
  return b;
}

// Applies `tenants` tenants with one mirror set each on location "nas", and
// writes `entries` catalogue entries spread evenly over their sets (point 0).
void SetupRss(const std::string& dir, int tenants, uint64_t entries) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto t0 = Clock::now();
  {
    coordinator::CoordinatorOptions o;
    o.data_dir = dir + "/db";
    auto c = coordinator::Coordinator::Open(o);
    Check(c.status(), "open coordinator");
    for (int first = 0; first < tenants; first += 1000) {
      v1::ApplyRequest req;
      if (first == 0) {
        auto* l = req.add_locations();
        l->set_name("nas");
        l->set_site("bench");
      }
      for (int i = first; i < std::min(tenants, first + 1000); ++i) {
        auto* t = req.add_tenants();
        t->set_name(TenantName(i));
        t->set_timezone("Europe/Paris");
        auto* b = req.add_backup_sets();
        b->set_tenant(TenantName(i));
        b->set_asset("fs");
        b->set_name("fs-nas");
        b->set_location("nas");
        b->set_path("clients/" + TenantName(i));
      }
      Check((*c)->Apply(req).status(), "Apply");
    }
    std::printf("rss setup: %d tenants applied in %.1f s\n", tenants, Seconds(t0, Clock::now()));
    auto t1 = Clock::now();
    const uint64_t per = entries / tenants;
    storage::EntryRecord r;
    for (int i = 0; i < tenants; ++i) {
      storage::Catalogue::Writer w(&(*c)->catalogue(), {TenantName(i), "fs-nas", 0});
      uint64_t bytes = 0;
      for (uint64_t k = 0; k < per; ++k) {
        FillRecord(k, &r);
        bytes += r.size;
        Check(w.PutEntry(PathOf(k), r), "PutEntry");
      }
      // The set's restore-point record, as a merge leaves it (status reads
      // the entries of every present point).
      v1::PointRecord p;
      p.set_time_ns(0);
      p.set_first_seen_ns(kBaseTimeNs);
      p.set_last_checked_ns(kBaseTimeNs);
      p.set_last_verified_ns(kBaseTimeNs);
      p.set_files(per);
      p.set_bytes(bytes);
      p.set_plausibility_checked(true);
      w.PutMeta(coordinator::keys::Point(TenantName(i), "fs-nas", 0), p.SerializeAsString());
      Check(w.Commit(/*sync=*/false), "Commit");
    }
    Check((*c)->catalogue().kv()->Sync(), "sync");
    std::printf(
        "rss setup: %llu catalogue entries and %d point records written through "
        "storage/ in %.1f s\n",
        static_cast<unsigned long long>(per * tenants), tenants, Seconds(t1, Clock::now()));
  }
}

int RssMode(const Args& a) {
  const std::string dir = a.Str("data");
  const int tenants = static_cast<int>(a.Num("tenants", 10'000));
  const uint64_t entries = a.Num("entries", 20'000'000);
  const std::string vigil = a.Str("vigil");
  if (vigil.empty()) Die("--vigil BIN is required");
  if (!a.Has("skip-setup")) SetupRss(dir, tenants, entries);
  if (a.Has("setup-only")) return 0;

  // The real coordinator process; its stdout goes to a file we read.
  const std::string out = dir + "/coordinator.out";
  const std::string enrol = dir + "/bench-enrol.token";  // the bench workers' (BenchWorker)
  std::ofstream(enrol) << kBenchEnrolToken << "\n";
  std::vector<std::string> argv_s = {
      vigil, "coordinator", "--listen", "127.0.0.1:0", "--data", dir, "--worker-token-file", enrol};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  auto t0 = Clock::now();
  if (posix_spawn(&pid, vigil.c_str(), &fa, nullptr, argv.data(), environ) != 0) {
    Die("cannot start " + vigil);
  }
  std::string address;
  for (int i = 0; i < 600 && address.empty(); ++i) {
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("listening on ", 0) == 0) address = line.substr(13);
    }
    if (address.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (address.empty()) Die("coordinator did not start");
  std::printf("coordinator pid %d listening on %s after %.1f s; VmHWM %ld MiB\n", pid,
              address.c_str(), Seconds(t0, Clock::now()), Rss(pid).first / 1024);
  std::string token;
  std::ifstream(dir + "/admin.token") >> token;
  auto admin = AdminStub(address);
  auto call = [&](auto method, const auto& req, auto* resp, const char* what) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    Check(((*admin).*method)(&ctx, req, resp), what);
  };

  // The mix: status of single tenants, a check of 20 tenants run by 2
  // workers (lease, stream their entries again, complete: a merge over
  // existing entries), status of every tenant.
  auto m0 = Clock::now();
  for (int i = 0; i < 200; ++i) {
    v1::GetStatusRequest req;
    req.set_tenant(TenantName((i * 7919) % tenants));
    v1::GetStatusResponse resp;
    call(&v1::Admin::Stub::GetStatus, req, &resp, "GetStatus");
  }
  std::printf("  200 single-tenant status calls: %.2f s; VmHWM %ld MiB\n",
              Seconds(m0, Clock::now()), Rss(pid).first / 1024);
  const uint64_t per = entries / tenants;
  auto c0 = Clock::now();
  for (int i = 0; i < 20; ++i) {
    v1::RunCheckRequest req;
    req.set_tenant(TenantName(i * (tenants / 20)));
    v1::RunCheckResponse resp;
    call(&v1::Admin::Stub::RunCheck, req, &resp, "RunCheck");
  }
  std::vector<std::thread> threads;
  std::atomic<uint64_t> merged{0};
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&] {
      BenchWorker bw(address, "nas");
      while (auto t = bw.Lease()) {
        BenchWorker::Heartbeats hb(&bw, *t);
        auto batches = MakeBatches(*t, per, 4096);
        bw.Stream(batches, 8);
        v1::Task d = bw.Complete(*t, batches.size());
        if (d.counts().unchanged() != per) Die("merge did not find the entries unchanged");
        merged += per;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("  20 tasks of %llu entries ingested and merged: %.2f s; VmHWM %ld MiB\n",
              static_cast<unsigned long long>(per), Seconds(c0, Clock::now()),
              Rss(pid).first / 1024);
  if (!a.Has("no-full-status")) {
    auto s0 = Clock::now();
    v1::GetStatusResponse resp;
    call(&v1::Admin::Stub::GetStatus, v1::GetStatusRequest(), &resp, "GetStatus all");
    std::printf("  status of all %d tenants: %.2f s; VmHWM %ld MiB\n", resp.tenants_size(),
                Seconds(s0, Clock::now()), Rss(pid).first / 1024);
  }
  auto [hwm, rss] = Rss(pid);
  std::printf("coordinator peak RSS (VmHWM) %ld MiB, current %ld MiB\n", hwm / 1024, rss / 1024);
  kill(pid, SIGTERM);
  int st;
  waitpid(pid, &st, 0);
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  using namespace vigil::bench;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ingest|dispatch|rss --data DIR [options]\n", argv[0]);
    return 2;
  }
  Args a;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) Die("unexpected argument '" + k + "'");
    k = k.substr(2);
    if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
      a.kv[k] = argv[++i];
    } else {
      a.kv[k] = "1";
    }
  }
  if (a.Str("data").empty()) Die("--data DIR is required (use a big disk, e.g. /work/benchdata)");
  g_executor_threads = static_cast<int>(a.Num("executor-threads", 0));
  std::string mode = argv[1];
  if (mode == "ingest") return Ingest(a);
  if (mode == "dispatch") return Dispatch(a);
  if (mode == "rss") return RssMode(a);
  Die("unknown mode '" + mode + "'");
}
