// The gRPC layer in-process: health, reflection, the TenantPortal stub, the
// mapping of domain errors to gRPC codes, and the Observe stream's window.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <utility>

#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/node.h"
#include "services/coordinator/records.h"
#include "storage/hash.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/temp_dir.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/tenant.grpc.pb.h"
#include "vigil/v1/worker.grpc.pb.h"

namespace vigil::coordinator {
namespace {

std::string ToString(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NodeOptions o;
    o.listen = "127.0.0.1:0";
    o.coordinator.data_dir = tmp_ / "db";
    o.coordinator.admin_token_sha256 = TokenHash("tok");
    auto s = Node::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override { server_.reset(); }

  // Enrols a worker of site office serving nas over gRPC.
  void Register(v1::WorkerGateway::Stub* stub, v1::RegisterResponse* reg) {
    v1::IssueTokenRequest enrol;
    enrol.set_kind(v1::TOKEN_KIND_ENROL);
    auto token = server_->coordinator().IssueToken(enrol);
    ASSERT_TRUE(token.ok()) << token.status();
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token->token());
    v1::RegisterRequest req;
    req.set_site("office");
    req.add_locations("nas");
    ASSERT_TRUE(stub->Register(&ctx, req, reg).ok());
  }
  // A worker call's credentials and a 30 s deadline.
  static void Prepare(const v1::RegisterResponse& reg, grpc::ClientContext* ctx) {
    ctx->AddMetadata("authorization", "Bearer " + reg.credential());
    ctx->AddMetadata("vigil-worker-id", reg.worker_id());
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  }
  // A LeaseTask call with `wait_ms` (long poll): what it answered and how
  // long it took. `ctx`: a context the caller prepared (to cancel it, or
  // with its own deadline); null: one of Prepare's.
  struct Lease {
    grpc::Status status;
    v1::LeaseTaskResponse resp;
    std::chrono::steady_clock::duration took{};
  };
  static Lease LeaseWithWait(v1::WorkerGateway::Stub* stub, const v1::RegisterResponse& reg,
                             uint32_t wait_ms, grpc::ClientContext* ctx = nullptr) {
    grpc::ClientContext own;
    if (ctx == nullptr) {
      Prepare(reg, &own);
      ctx = &own;
    }
    v1::LeaseTaskRequest req;
    req.set_wait_ms(wait_ms);
    Lease l;
    const auto t0 = std::chrono::steady_clock::now();
    l.status = stub->LeaseTask(ctx, req, &l.resp);
    l.took = std::chrono::steady_clock::now() - t0;
    return l;
  }
  // When the coordinator last saw the worker (a call it answered or holds).
  int64_t LastSeen(const v1::RegisterResponse& reg) {
    return server_->coordinator().WorkersLastSeen()[reg.worker_id()];
  }
  // Waits (up to 10 s) until the coordinator saw the worker after `since`:
  // a call made since then reached it (and is held, if it found nothing).
  void WaitSeenAfter(const v1::RegisterResponse& reg, int64_t since) {
    for (int i = 0; i < 1000 && LastSeen(reg) == since; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_NE(LastSeen(reg), since) << "the LeaseTask call never reached the coordinator";
  }

  vigil::testing::TempDir tmp_;
  std::unique_ptr<Node> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerTest, HealthServiceAnswersServing) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty(std::string(""));  // HealthCheckRequest{service: ""} is empty
  grpc::ByteBuffer req(&empty, 1), resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ToString(resp), std::string("\x08\x01", 2));  // status: SERVING
}

TEST_F(ServerTest, ReflectionListsTheServices) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  ASSERT_NE(call, nullptr);
  void* tag;
  bool ok;
  auto step = [&](intptr_t want) {
    ASSERT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), want);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  std::string list_services("\x3a\x00", 2);  // ServerReflectionRequest{list_services: ""}
  grpc::Slice slice(list_services);
  grpc::ByteBuffer req(&slice, 1), resp;
  call->Write(req, reinterpret_cast<void*>(2));
  step(2);
  call->Read(&resp, reinterpret_cast<void*>(3));
  step(3);
  ASSERT_TRUE(ok);
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::string names = ToString(resp);
  EXPECT_NE(names.find("vigil.v1.Admin"), std::string::npos);
  EXPECT_NE(names.find("vigil.v1.WorkerGateway"), std::string::npos);
  EXPECT_NE(names.find("vigil.v1.TenantPortal"), std::string::npos);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ServerTest, TenantPortalNeedsATenantToken) {
  auto stub = v1::TenantPortal::NewStub(channel_);
  {
    grpc::ClientContext ctx;  // no token
    v1::ProofFile resp;
    EXPECT_EQ(stub->GetReport(&ctx, v1::GetReportRequest(), &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");  // the admin token is not a tenant's
    v1::ListProofsResponse resp;
    EXPECT_EQ(stub->ListReports(&ctx, v1::ListReportsRequest(), &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(ServerTest, DomainErrorsBecomeTheirGrpcCodes) {
  auto stub = v1::Admin::NewStub(channel_);
  v1::GetStatusRequest req;
  req.set_tenant("nobody");
  v1::GetStatusResponse resp;
  {
    grpc::ClientContext ctx;  // no token
    EXPECT_EQ(stub->GetStatus(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");
    grpc::Status s = stub->GetStatus(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("nobody"), std::string::npos);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");
    v1::ApplyRequest bad;
    bad.add_tenants()->set_name("has space");
    v1::ApplyResponse r;
    EXPECT_EQ(stub->Apply(&ctx, bad, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(ServerTest, AcceptPointNeedsTheAdminTokenAndAReason) {
  auto stub = v1::Admin::NewStub(channel_);
  v1::AcceptPointRequest req;
  req.set_tenant("acme");
  req.set_backup_set("snaps");
  req.set_point("daily.0");
  v1::AcceptPointResponse resp;
  {
    grpc::ClientContext ctx;  // no token
    req.set_reason("upgrade");
    EXPECT_EQ(stub->AcceptPoint(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");
    req.set_reason("");
    grpc::Status s = stub->AcceptPoint(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("'reason' is required"), std::string::npos);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");
    req.set_reason("upgrade");
    grpc::Status s = stub->AcceptPoint(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("unknown tenant 'acme'"), std::string::npos);
  }
}

// RFC 7235: the auth scheme is case-insensitive. "bearer tok" was refused.
TEST_F(ServerTest, TheBearerSchemeIsCaseInsensitive) {
  auto stub = v1::Admin::NewStub(channel_);
  v1::GetStatusRequest req;
  req.set_tenant("nobody");
  v1::GetStatusResponse resp;
  for (const char* value : {"Bearer tok", "bearer tok", "BEARER tok", "bEaReR   tok "}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", value);
    // Authenticated: the call runs and finds no such tenant.
    EXPECT_EQ(stub->GetStatus(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND) << value;
  }
  for (const char* value : {"Basic tok", "Bearertok", "tok", "bearer", "bearer x tok"}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", value);
    EXPECT_EQ(stub->GetStatus(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << value;
  }
  // The raw structured Apply refuses "." and ".." as names (the YAML
  // parser always did).
  for (const char* name : {".", ".."}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "bearer tok");
    v1::ApplyRequest apply;
    apply.add_tenants()->set_name(name);
    v1::ApplyResponse r;
    grpc::Status s = stub->Apply(&ctx, apply, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_NE(s.error_message().find("not '.' or '..'"), std::string::npos) << s.error_message();
  }
}

// A worker sends a window of batches without waiting for acks; the third
// of five is bad. The two before it are stored and acknowledged, the stream
// ends with the bad batch's error, nothing from it on is stored. A new
// stream resending 1..2 (acknowledged again, not stored twice) and the
// corrected rest completes the task with every entry counted once.
TEST_F(ServerTest, ObserveWindowStoresUpToTheFirstBadBatch) {
  Coordinator& c = server_->coordinator();
  ASSERT_TRUE(c.Apply(CoordinatorFixture::SetRequest()).ok());
  v1::RunCheckRequest rc;
  rc.set_tenant("acme");
  ASSERT_TRUE(c.RunCheck(rc).ok());

  auto stub = v1::WorkerGateway::NewStub(channel_);
  v1::RegisterResponse reg;
  ASSERT_NO_FATAL_FAILURE(Register(stub.get(), &reg));
  auto prepare = [&](grpc::ClientContext* ctx) { Prepare(reg, ctx); };
  v1::LeaseTaskResponse lease;
  {
    grpc::ClientContext ctx;
    prepare(&ctx);
    ASSERT_TRUE(stub->LeaseTask(&ctx, {}, &lease).ok());
    ASSERT_TRUE(lease.has_task());
  }
  const v1::Task& task = lease.task();
  constexpr int kPerBatch = 100;
  auto batch = [&](uint64_t seq, bool bad) {
    std::vector<v1::Observation> obs;
    for (int i = 0; i < kPerBatch; ++i) {
      char path[32];
      std::snprintf(path, sizeof path, "d/f%03d-%03d", static_cast<int>(seq), i);
      obs.push_back(CoordinatorFixture::Obs(bad && i == 7 ? "../escape" : path,
                                            std::string(path) + " content"));
    }
    return CoordinatorFixture::Batch(task, seq, obs);
  };
  {
    grpc::ClientContext ctx;
    prepare(&ctx);
    auto rw = stub->Observe(&ctx);
    for (uint64_t seq = 1; seq <= 5; ++seq) {
      if (!rw->Write(batch(seq, seq == 3))) break;  // the server may stop reading after 3
    }
    rw->WritesDone();
    uint64_t last = 0;
    v1::Ack ack;
    while (rw->Read(&ack)) last = ack.seq();
    grpc::Status s = rw->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("../escape"), std::string::npos) << s.error_message();
    EXPECT_EQ(last, 2u);
  }
  auto acked = LastAcked(c.catalogue().kv(), task.id(), task.attempt());
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 2u);
  {
    grpc::ClientContext ctx;
    prepare(&ctx);
    auto rw = stub->Observe(&ctx);
    for (uint64_t seq = 1; seq <= 5; ++seq) ASSERT_TRUE(rw->Write(batch(seq, false)));
    rw->WritesDone();
    uint64_t last = 0;
    v1::Ack ack;
    while (rw->Read(&ack)) last = ack.seq();
    grpc::Status s = rw->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(last, 5u);
  }
  v1::CompleteTaskResponse done;
  {
    grpc::ClientContext ctx;
    prepare(&ctx);
    v1::CompleteTaskRequest req;
    req.set_task_id(task.id());
    req.set_attempt(task.attempt());
    req.set_final_seq(5);
    grpc::Status s = stub->CompleteTask(&ctx, req, &done);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(done.task().state(), v1::TASK_STATE_DONE);
  EXPECT_EQ(done.task().entries(), 5u * kPerBatch);
  EXPECT_EQ(done.task().counts().added(), 5u * kPerBatch);
}

// Long poll: a LeaseTask call with wait_ms, made while nothing is queued,
// is held and answered with the task queued meanwhile, long before its wait
// is over; a call finding nothing answers empty once its wait is over; a
// call without wait_ms answers at once.
TEST_F(ServerTest, AHeldLeaseTaskGetsTheTaskQueuedMeanwhile) {
  Coordinator& c = server_->coordinator();
  ASSERT_TRUE(c.Apply(CoordinatorFixture::SetRequest()).ok());
  auto stub = v1::WorkerGateway::NewStub(channel_);
  v1::RegisterResponse reg;
  ASSERT_NO_FATAL_FAILURE(Register(stub.get(), &reg));
  Lease at_once = LeaseWithWait(stub.get(), reg, 0);
  EXPECT_TRUE(at_once.status.ok()) << at_once.status.error_message();
  EXPECT_LT(at_once.took, std::chrono::seconds(5));
  EXPECT_FALSE(at_once.resp.has_task());
  Lease waited = LeaseWithWait(stub.get(), reg, 300);
  EXPECT_TRUE(waited.status.ok()) << waited.status.error_message();
  EXPECT_GE(waited.took, std::chrono::milliseconds(300));  // held its wait
  EXPECT_FALSE(waited.resp.has_task());

  // Held for up to 10 s; the check is queued once the call is held.
  const int64_t seen = LastSeen(reg);
  auto held =
      std::async(std::launch::async, [&] { return LeaseWithWait(stub.get(), reg, 10'000); });
  ASSERT_NO_FATAL_FAILURE(WaitSeenAfter(reg, seen));
  v1::RunCheckRequest rc;
  rc.set_tenant("acme");
  auto queued = c.RunCheck(rc);
  ASSERT_TRUE(queued.ok()) << queued.status();
  ASSERT_EQ(queued->task_ids_size(), 1);
  Lease got = held.get();
  EXPECT_TRUE(got.status.ok()) << got.status.error_message();
  ASSERT_TRUE(got.resp.has_task());
  EXPECT_EQ(got.resp.task().id(), queued->task_ids(0));
  // Woken by the queueing: a call answered at its deadline would take 10 s.
  EXPECT_LT(got.took, std::chrono::seconds(8));
}

// Shutting the server down answers a held call at once (empty), instead of
// waiting out the call's wait.
TEST_F(ServerTest, ShutdownAnswersAHeldLeaseTask) {
  ASSERT_TRUE(server_->coordinator().Apply(CoordinatorFixture::SetRequest()).ok());
  auto stub = v1::WorkerGateway::NewStub(channel_);
  v1::RegisterResponse reg;
  ASSERT_NO_FATAL_FAILURE(Register(stub.get(), &reg));
  const int64_t seen = LastSeen(reg);
  auto held =
      std::async(std::launch::async, [&] { return LeaseWithWait(stub.get(), reg, 10'000); });
  ASSERT_NO_FATAL_FAILURE(WaitSeenAfter(reg, seen));
  const auto t0 = std::chrono::steady_clock::now();
  server_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
  Lease got = held.get();
  EXPECT_TRUE(got.status.ok()) << got.status.error_message();
  EXPECT_FALSE(got.resp.has_task());
}

// A task queued for a location declared for another site waits; the held
// call of a worker of the right site gets it as soon as an apply declares
// the location for that site, not at the end of its wait.
TEST_F(ServerTest, AnApplyWakesAHeldLeaseTask) {
  Coordinator& c = server_->coordinator();
  auto stub = v1::WorkerGateway::NewStub(channel_);
  v1::RegisterResponse reg;  // office, claiming nas (not declared yet)
  ASSERT_NO_FATAL_FAILURE(Register(stub.get(), &reg));
  ASSERT_TRUE(c.Apply(CoordinatorFixture::SetRequest({.site = "paris"})).ok());
  v1::RunCheckRequest rc;
  rc.set_tenant("acme");
  auto queued = c.RunCheck(rc);
  ASSERT_TRUE(queued.ok()) << queued.status();
  ASSERT_EQ(queued->task_ids_size(), 1);
  const int64_t seen = LastSeen(reg);
  auto held =
      std::async(std::launch::async, [&] { return LeaseWithWait(stub.get(), reg, 10'000); });
  ASSERT_NO_FATAL_FAILURE(WaitSeenAfter(reg, seen));
  ASSERT_TRUE(c.Apply(CoordinatorFixture::SetRequest()).ok());  // nas now at office
  Lease got = held.get();
  EXPECT_TRUE(got.status.ok()) << got.status.error_message();
  ASSERT_TRUE(got.resp.has_task());
  EXPECT_EQ(got.resp.task().id(), queued->task_ids(0));
  EXPECT_LT(got.took, std::chrono::seconds(8));  // woken, not at its 10 s
}

// A held call is answered before its client gives up (its deadline, less
// a second), and one whose client went away gets no task: the next caller
// does.
TEST_F(ServerTest, AHeldLeaseTaskNeverOutlivesItsClient) {
  Coordinator& c = server_->coordinator();
  ASSERT_TRUE(c.Apply(CoordinatorFixture::SetRequest()).ok());
  auto stub = v1::WorkerGateway::NewStub(channel_);
  v1::RegisterResponse reg;
  ASSERT_NO_FATAL_FAILURE(Register(stub.get(), &reg));
  {
    grpc::ClientContext ctx;
    Prepare(reg, &ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    Lease got = LeaseWithWait(stub.get(), reg, 10'000, &ctx);
    EXPECT_TRUE(got.status.ok()) << got.status.error_message();  // not DEADLINE_EXCEEDED
    EXPECT_FALSE(got.resp.has_task());
  }
  // A held call cancelled by its client (a worker stopping), then a task.
  grpc::ClientContext held_ctx;
  Prepare(reg, &held_ctx);
  const int64_t seen = LastSeen(reg);
  auto held = std::async(std::launch::async,
                         [&] { return LeaseWithWait(stub.get(), reg, 10'000, &held_ctx); });
  ASSERT_NO_FATAL_FAILURE(WaitSeenAfter(reg, seen));
  held_ctx.TryCancel();
  EXPECT_EQ(held.get().status.error_code(), grpc::StatusCode::CANCELLED);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the cancel reaches the server
  v1::RunCheckRequest rc;
  rc.set_tenant("acme");
  auto queued = c.RunCheck(rc);
  ASSERT_TRUE(queued.ok()) << queued.status();
  Lease next = LeaseWithWait(stub.get(), reg, 0);
  ASSERT_TRUE(next.status.ok()) << next.status.error_message();
  ASSERT_TRUE(next.resp.has_task()) << "the task went to the cancelled call";
  EXPECT_EQ(next.resp.task().id(), queued->task_ids(0));
}

// The forged-verdict attack (issue 13): a script that reaches the port
// registers without any enrolment credential, leases the check of a set
// whose file was corrupted on disk, streams the original digests and
// completes it. On a fresh coordinator (no fixed worker token, no enrol
// token issued yet) every step is refused: no worker record is written,
// the task stays queued at attempt 0, nothing is staged or merged.
TEST_F(ServerTest, AScriptWithoutEnrolmentCannotRegisterLeaseOrComplete) {
  Coordinator& c = server_->coordinator();
  ASSERT_TRUE(c.Apply(CoordinatorFixture::SetRequest()).ok());
  v1::RunCheckRequest rc;
  rc.set_tenant("acme");
  auto queued = c.RunCheck(rc);
  ASSERT_TRUE(queued.ok()) << queued.status();
  ASSERT_EQ(queued->task_ids_size(), 1);
  const uint64_t task_id = queued->task_ids(0);

  auto stub = v1::WorkerGateway::NewStub(channel_);
  v1::RegisterRequest req;
  req.set_site("office");
  req.add_locations("nas");
  // No token, a malformed one, a well-formed one never issued.
  for (const std::string& bearer :
       {std::string(), std::string("Bearer guess"),
        std::string("Bearer 0123456789abcdef.") + std::string(64, 'a')}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!bearer.empty()) ctx.AddMetadata("authorization", bearer);
    v1::RegisterResponse reg;
    grpc::Status s = stub->Register(&ctx, req, &reg);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << bearer << ": " << s.error_message();
    EXPECT_TRUE(reg.worker_id().empty() && reg.credential().empty());
    // The refusal says where a credential comes from.
    EXPECT_NE(s.error_message().find("DATA/enrol.token"), std::string::npos) << s.error_message();
    EXPECT_NE(s.error_message().find("vigil token issue --kind enrol"), std::string::npos);
  }
  // Guessing a worker id and credential gets nothing further.
  auto forged = [&](grpc::ClientContext* ctx) {
    ctx->AddMetadata("authorization", "Bearer " + std::string(64, '0'));
    ctx->AddMetadata("vigil-worker-id", "w1");
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  };
  {
    grpc::ClientContext ctx;
    forged(&ctx);
    v1::LeaseTaskResponse lease;
    EXPECT_EQ(stub->LeaseTask(&ctx, {}, &lease).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_FALSE(lease.has_task());
  }
  {
    grpc::ClientContext ctx;
    forged(&ctx);
    auto rw = stub->Observe(&ctx);
    v1::ObservationBatch batch;
    batch.set_task_id(task_id);
    batch.set_attempt(1);
    batch.set_seq(1);
    *batch.add_observations() = CoordinatorFixture::Obs("a.txt", "alpha");
    (void)rw->Write(batch);
    rw->WritesDone();
    v1::Ack ack;
    EXPECT_FALSE(rw->Read(&ack));
    EXPECT_EQ(rw->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    forged(&ctx);
    v1::CompleteTaskRequest done;
    done.set_task_id(task_id);
    done.set_attempt(1);
    done.set_final_seq(1);
    v1::CompleteTaskResponse resp;
    EXPECT_EQ(stub->CompleteTask(&ctx, done, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // Nothing changed: no worker, the task queued and never leased, nothing staged.
  auto workers = LoadRecords<v1::WorkerRecord>(c.catalogue().kv(), keys::kWorkerPrefix, "worker");
  ASSERT_TRUE(workers.ok()) << workers.status();
  EXPECT_TRUE(workers->empty());
  std::optional<v1::Task> t = c.leases().Get(task_id);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(t->attempt(), 0u);
  auto acked = LastAcked(c.catalogue().kv(), task_id, 1);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 0u);
}

}  // namespace
}  // namespace vigil::coordinator
