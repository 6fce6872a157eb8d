// The worker's observation stream against a scripted coordinator (a real
// gRPC server in this process speaking WorkerGateway; only its answers are
// scripted): a stream the coordinator ends after acknowledging batches the
// worker has not read yet, a coordinator that stops answering while the
// lease is lost, and a coordinator that keeps the lease but refuses every
// batch. In each case the task must end or go on, never hang.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/worker/worker.h"
#include "tests/integration/test_util.h"
#include "vigil/v1/worker.grpc.pb.h"

namespace vigil::worker {
namespace {

using ObserveStream = grpc::ServerReaderWriter<v1::Ack, v1::ObservationBatch>;
using std::chrono::milliseconds;

class ScriptedCoordinator final : public v1::WorkerGateway::Service {
 public:
  // How the n-th Observe call (1-based) behaves.
  std::function<grpc::Status(grpc::ServerContext*, ObserveStream*, int)> observe;
  uint32_t ttl_ms = 1000;
  std::atomic<bool> lease_lost{false};

  grpc::Status Register(grpc::ServerContext*, const v1::RegisterRequest*,
                        v1::RegisterResponse* resp) override {
    resp->set_worker_id("w1");
    resp->set_credential("secret");
    resp->set_lease_ttl_ms(ttl_ms);
    return grpc::Status::OK;
  }
  grpc::Status LeaseTask(grpc::ServerContext*, const v1::LeaseTaskRequest*,
                         v1::LeaseTaskResponse* resp) override {
    std::lock_guard lock(mu_);
    ++lease_calls_;
    if (lost_at_lease_call_ == 0 && lease_lost) lost_at_lease_call_ = lease_calls_;
    cv_.notify_all();
    if (leased_) return grpc::Status::OK;
    leased_ = true;
    v1::Task* t = resp->mutable_task();
    t->set_id(7);
    t->set_attempt(1);
    t->set_kind(v1::TASK_KIND_CHECK);
    t->mutable_backup_set()->set_tenant("acme");
    t->mutable_backup_set()->set_name("fs");
    t->mutable_backup_set()->set_location("loc");
    t->mutable_backup_set()->set_path("set");
    return grpc::Status::OK;
  }
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse*) override {
    if (lease_lost) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "lease lost");
    return grpc::Status::OK;
  }
  grpc::Status Observe(grpc::ServerContext* ctx, ObserveStream* stream) override {
    int n;
    {
      std::lock_guard lock(mu_);
      n = ++observe_calls_;
    }
    return observe(ctx, stream, n);
  }
  grpc::Status CompleteTask(grpc::ServerContext*, const v1::CompleteTaskRequest* req,
                            v1::CompleteTaskResponse*) override {
    std::lock_guard lock(mu_);
    completed_ = true;
    complete_ = *req;
    cv_.notify_all();
    return grpc::Status::OK;
  }
  grpc::Status ReleaseTask(grpc::ServerContext*, const v1::ReleaseTaskRequest*,
                           v1::ReleaseTaskResponse*) override {
    std::lock_guard lock(mu_);
    ++releases_;
    return grpc::Status::OK;
  }

  // Stores and acknowledges one batch (acks are cumulative).
  bool StoreAndAck(ObserveStream* stream, const v1::ObservationBatch& b) {
    {
      std::lock_guard lock(mu_);
      stored_.insert(b.seq());
    }
    v1::Ack ack;
    ack.set_seq(b.seq());
    return stream->Write(ack);
  }
  // Reads batches and acknowledges each at once until the worker is done.
  grpc::Status Normal(ObserveStream* stream) {
    for (v1::ObservationBatch b; stream->Read(&b);) {
      if (!StoreAndAck(stream, b)) break;
    }
    return grpc::Status::OK;
  }

  // Waits until CompleteTask came; its request, or nullopt at the deadline.
  std::optional<v1::CompleteTaskRequest> WaitComplete(int timeout_ms) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, milliseconds(timeout_ms), [&] { return completed_; })) {
      return std::nullopt;
    }
    return complete_;
  }
  // Waits until a LeaseTask call came after the lease was lost: the task's
  // thread ended (capacity 1: the worker leases only with a free slot).
  bool WaitLeaseAfterLoss(int timeout_ms) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, milliseconds(timeout_ms), [&] {
      return lost_at_lease_call_ != 0 && lease_calls_ > lost_at_lease_call_;
    });
  }
  std::set<uint64_t> stored() {
    std::lock_guard lock(mu_);
    return stored_;
  }
  int observe_calls() {
    std::lock_guard lock(mu_);
    return observe_calls_;
  }
  int releases() {
    std::lock_guard lock(mu_);
    return releases_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool leased_ = false;
  int lease_calls_ = 0, lost_at_lease_call_ = 0, observe_calls_ = 0, releases_ = 0;
  bool completed_ = false;
  v1::CompleteTaskRequest complete_;
  std::set<uint64_t> stored_;
};

class WorkerStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 12; ++i) {
      testing::WriteFile(tmp_ / ("loc/set/d/f" + std::to_string(i)),
                         "content " + std::to_string(i));
    }
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + milliseconds(500));
    if (worker_) worker_->Stop();
    if (!run_.joinable()) return;
    MutexLock lock(&run_mu_);
    if (run_cv_.WaitFor(&run_mu_, milliseconds(15000),
                        [this]() REQUIRES(run_mu_) { return ran_; })) {
      lock.Unlock();
      run_.join();
      return;
    }
    // A worker stuck in a gRPC call for good: report it, and leave it be
    // (joining would hang the test binary).
    ADD_FAILURE() << "the worker did not stop within 15 s of Stop()";
    run_.detach();
    (void)worker_.release();
  }

  void Start(int batch_delay_ms) {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&fake_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    WorkerOptions o;
    o.coordinator = "127.0.0.1:" + std::to_string(port);
    o.site = "s1";
    o.locations["loc"] = tmp_ / "loc";
    o.batch_size = 1;
    o.test_batch_delay_ms = batch_delay_ms;
    auto w = Worker::Create(o);
    ASSERT_TRUE(w.ok()) << w.status();
    worker_ = std::move(*w);
    run_ = std::thread([this] {
      (void)worker_->Run();
      MutexLock lock(&run_mu_);
      ran_ = true;
      run_cv_.SignalAll();
    });
  }

  testing::TempDir tmp_;
  ScriptedCoordinator fake_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Worker> worker_;
  std::thread run_;
  Mutex run_mu_;
  CondVar run_cv_;
  bool ran_ GUARDED_BY(run_mu_) = false;  // Run() returned
};

// The coordinator acknowledges batches the worker has not read yet (it
// reads acks only once its window is full), then ends the call refusing the
// next batch, as it does while its disk is full. The worker must read those
// acks before Finish (which otherwise waits for ever), reconnect, resend
// what is unacknowledged, and complete.
TEST_F(WorkerStreamTest, EndedStreamIsDrainedBeforeFinishAndResumed) {
  fake_.observe = [this](grpc::ServerContext*, ObserveStream* stream, int call) {
    if (call > 1) return fake_.Normal(stream);
    v1::ObservationBatch b;
    std::vector<v1::ObservationBatch> got;
    while (got.size() < 3 && stream->Read(&b)) got.push_back(b);
    for (const auto& g : got) fake_.StoreAndAck(stream, g);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "database writes failing (no space) in /data/db: 0.0 MiB free");
  };
  fake_.ttl_ms = 3000;
  Start(/*batch_delay_ms=*/50);
  auto done = fake_.WaitComplete(20000);
  ASSERT_TRUE(done.has_value()) << "the task did not complete within 20 s (stuck in Finish?)";
  EXPECT_TRUE(done->error().empty()) << done->error();
  std::set<uint64_t> want;
  for (uint64_t s = 1; s <= done->final_seq(); ++s) want.insert(s);
  EXPECT_EQ(fake_.stored(), want) << "final_seq " << done->final_seq();
  EXPECT_GE(done->final_seq(), 12u);
  EXPECT_GE(fake_.observe_calls(), 2);
}

// The coordinator reads batches and never answers; the lease is then lost
// (heartbeats refused). The worker must give the task up, not wait for an
// ack for ever.
TEST_F(WorkerStreamTest, LostLeaseEndsAStreamTheCoordinatorNoLongerAnswers) {
  std::atomic<int> read{0};
  fake_.observe = [&read](grpc::ServerContext*, ObserveStream* stream, int) {
    for (v1::ObservationBatch b; stream->Read(&b);) ++read;
    return grpc::Status::OK;
  };
  fake_.ttl_ms = 600;
  Start(/*batch_delay_ms=*/0);
  for (int i = 0; i < 200 && read.load() < 8; ++i) std::this_thread::sleep_for(milliseconds(50));
  ASSERT_GE(read.load(), 8) << "the worker did not fill its window";
  fake_.lease_lost = true;
  EXPECT_TRUE(fake_.WaitLeaseAfterLoss(15000))
      << "the task did not end within 15 s of its lease being lost (blocked in Read?)";
  EXPECT_FALSE(fake_.WaitComplete(0).has_value());
  EXPECT_EQ(fake_.releases(), 0);  // a lost lease is not handed back
}

// Heartbeats succeed but every batch is refused (retryably): heartbeats
// alone must not keep the task for ever. After ten lease TTLs without an
// acknowledged batch the attempt ends with an error saying so.
TEST_F(WorkerStreamTest, NoProgressWhileTheLeaseLivesEndsTheAttemptWithAnError) {
  fake_.observe = [](grpc::ServerContext*, ObserveStream* stream, int) {
    v1::ObservationBatch b;
    stream->Read(&b);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "batch store unavailable");
  };
  fake_.ttl_ms = 300;
  Start(/*batch_delay_ms=*/0);
  auto done = fake_.WaitComplete(20000);
  ASSERT_TRUE(done.has_value()) << "the attempt did not end within 20 s";
  EXPECT_NE(done->error().find("no observation batch acknowledged for"), std::string::npos)
      << done->error();
  EXPECT_NE(done->error().find("batch store unavailable"), std::string::npos) << done->error();
  EXPECT_TRUE(fake_.stored().empty());
}

}  // namespace
}  // namespace vigil::worker
