// gRPC glue only: requests are handed to the Coordinator on the executor,
// statuses are converted in ToGrpc(). No logic lives here.
#include "services/coordinator/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/common/text.h"
#include "services/coordinator/lease_waiters.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/tenant.grpc.pb.h"
#include "vigil/v1/worker.grpc.pb.h"

namespace vigil::coordinator {
namespace {

// The one place where absl codes become gRPC codes. Both follow the
// canonical code list (google.rpc.Code), so the numbers agree; unknown
// values become UNKNOWN.
grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  int code = static_cast<int>(s.code());
  if (code < 0 || code > 16) code = grpc::StatusCode::UNKNOWN;
  return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(s.message()));
}

std::string Metadata(grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// The call's "authorization: Bearer TOKEN" (scheme in any case).
std::string BearerToken(grpc::CallbackServerContext* ctx) {
  return vigil::BearerToken(Metadata(ctx, "authorization"));
}

// A unary call's result into its response.
template <typename T>
absl::Status Assign(absl::StatusOr<T> r, T* out) {
  if (!r.ok()) return r.status();
  *out = std::move(*r);
  return absl::OkStatus();
}

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(Coordinator* c, Executor* e) : c_(c), e_(e) {}

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx, const v1::ApplyRequest* req,
                                  v1::ApplyResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->Apply(*req), resp); });
  }
  grpc::ServerUnaryReactor* RunCheck(grpc::CallbackServerContext* ctx,
                                     const v1::RunCheckRequest* req,
                                     v1::RunCheckResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->RunCheck(*req), resp); });
  }
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::GetStatusRequest* req,
                                      v1::GetStatusResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->GetStatus(*req), resp); });
  }
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* ctx, const v1::BackupRequest* req,
                                   v1::BackupResponse*) override {
    return Run(ctx, [=, this] { return c_->Backup(*req); });
  }
  grpc::ServerUnaryReactor* IssueToken(grpc::CallbackServerContext* ctx,
                                       const v1::IssueTokenRequest* req,
                                       v1::IssueTokenResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->IssueToken(*req), resp); });
  }
  grpc::ServerUnaryReactor* ListTokens(grpc::CallbackServerContext* ctx,
                                       const v1::ListTokensRequest*,
                                       v1::ListTokensResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->ListTokens(), resp); });
  }
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* ctx,
                                        const v1::RevokeTokenRequest* req,
                                        v1::RevokeTokenResponse*) override {
    return Run(ctx, [=, this] { return c_->RevokeToken(req->id()); });
  }
  grpc::ServerUnaryReactor* RotateToken(grpc::CallbackServerContext* ctx,
                                        const v1::RotateTokenRequest* req,
                                        v1::IssueTokenResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->RotateToken(req->id()), resp); });
  }
  grpc::ServerUnaryReactor* MakeReport(grpc::CallbackServerContext* ctx,
                                       const v1::MakeReportRequest* req,
                                       v1::ProofFile* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->MakeReport(*req), resp); });
  }
  grpc::ServerUnaryReactor* ListProofs(grpc::CallbackServerContext* ctx,
                                       const v1::ListProofsRequest* req,
                                       v1::ListProofsResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->ListTenantProofs(req->tenant()), resp); });
  }
  grpc::ServerUnaryReactor* GetProof(grpc::CallbackServerContext* ctx,
                                     const v1::GetProofRequest* req, v1::ProofFile* resp) override {
    return Run(ctx, [=, this] {
      return Assign(c_->GetProof(req->tenant(), req->seq(), req->period()), resp);
    });
  }
  grpc::ServerUnaryReactor* GetInclusionProof(grpc::CallbackServerContext* ctx,
                                              const v1::GetInclusionProofRequest* req,
                                              v1::GetInclusionProofResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->GetInclusionProof(*req), resp); });
  }
  grpc::ServerUnaryReactor* OffboardTenant(grpc::CallbackServerContext* ctx,
                                           const v1::OffboardTenantRequest* req,
                                           v1::OffboardTenantResponse* resp) override {
    return Run(ctx, [=, this] { return Assign(c_->OffboardTenant(*req), resp); });
  }
  // Needs who accepts (the admin token's name): authenticates itself.
  grpc::ServerUnaryReactor* AcceptPoint(grpc::CallbackServerContext* ctx,
                                        const v1::AcceptPointRequest* req,
                                        v1::AcceptPointResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    std::string token = BearerToken(ctx);
    e_->Post([this, reactor, token, req, resp] {
      auto by = c_->AdminIdentity(token);
      absl::Status s = by.ok() ? Assign(c_->AcceptPoint(*req, *by), resp) : by.status();
      reactor->Finish(ToGrpc(s));
    });
    return reactor;
  }

 private:
  template <typename Fn>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, Fn fn) {
    auto* reactor = ctx->DefaultReactor();
    std::string token = BearerToken(ctx);
    e_->Post([this, reactor, token, fn] {
      absl::Status s = c_->CheckAdminToken(token);
      if (s.ok()) s = fn();
      reactor->Finish(ToGrpc(s));
    });
    return reactor;
  }
  Coordinator* c_;
  Executor* e_;
};

// One Observe stream. Batches are read ahead of the one being stored (up to
// kReadAhead waiting), and whatever is waiting when the executor gets to it
// is staged in one synced write (Coordinator::ObserveBatches), then
// acknowledged with one Ack for the last seq of the group (acks are
// cumulative). A worker keeping several batches unacknowledged thus pays one
// fsync per group instead of one per batch. At most one read, one write and
// one executor task are outstanding at any time.
class ObserveReactor final : public grpc::ServerBidiReactor<v1::ObservationBatch, v1::Ack> {
 public:
  static constexpr size_t kReadAhead = 16;

  ObserveReactor(Coordinator* c, Executor* e, std::string worker, std::string credential)
      : c_(c), e_(e), worker_(std::move(worker)) {
    e_->Post([this, credential] {
      absl::Status s = c_->AuthenticateWorker(worker_, credential);
      if (!s.ok()) return Finish(ToGrpc(s));
      {
        MutexLock lock(&mu_);
        reading_ = true;
      }
      StartRead(&in_);
    });
  }
  void OnReadDone(bool ok) override {
    bool read = false, work = false;
    std::optional<grpc::Status> finish;
    {
      MutexLock lock(&mu_);
      reading_ = false;
      if (!ok) {
        reads_done_ = true;  // the worker closed its side (or the call ended)
      } else if (!failed_) {
        pending_.push_back(std::move(in_));
        in_.Clear();
        read = pending_.size() < kReadAhead;
        reading_ = read;
        if (!working_) work = working_ = true;
      }
      finish = MaybeFinishLocked();
    }
    if (read) StartRead(&in_);
    if (work) e_->Post([this] { Work(); });
    if (finish) Finish(*finish);
  }
  void OnWriteDone(bool ok) override {
    bool write = false;
    std::optional<grpc::Status> finish;
    {
      MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        Fail(grpc::Status(grpc::StatusCode::CANCELLED, "ack not delivered"));
      } else {
        write = NextAckLocked();
      }
      finish = MaybeFinishLocked();
    }
    if (write) StartWrite(&ack_);
    if (finish) Finish(*finish);
  }
  void OnDone() override { delete this; }

 private:
  // On the executor: stores what is waiting, then acknowledges it.
  void Work() {
    while (true) {
      std::vector<v1::ObservationBatch> batches;
      bool read = false;
      {
        MutexLock lock(&mu_);
        batches.swap(pending_);
        if (!reading_ && !reads_done_ && !failed_) read = reading_ = true;  // room again
      }
      if (read) StartRead(&in_);
      std::vector<const v1::ObservationBatch*> ptrs;
      for (const auto& b : batches) ptrs.push_back(&b);
      Coordinator::ObserveResult r = c_->ObserveBatches(worker_, ptrs);
      bool write = false, more = false;
      std::optional<grpc::Status> finish;
      {
        MutexLock lock(&mu_);
        if (r.acked > to_ack_) to_ack_ = r.acked;
        if (!r.status.ok()) Fail(ToGrpc(r.status));  // after acking what was stored
        write = NextAckLocked();
        more = !pending_.empty() && !failed_;
        if (!more) {
          working_ = false;  // from here OnReadDone may post a new Work
          finish = MaybeFinishLocked();
        }
      }
      if (write) StartWrite(&ack_);
      if (finish) Finish(*finish);  // may delete this: nothing after it
      if (!more) return;
    }
  }
  // Starts the write of a newer ack if none is in flight.
  bool NextAckLocked() REQUIRES(mu_) {
    if (writing_ || to_ack_ <= sent_ack_ || finished_) return false;
    ack_.set_seq(to_ack_);
    sent_ack_ = to_ack_;
    writing_ = true;
    return true;
  }
  void Fail(grpc::Status s) REQUIRES(mu_) {
    if (failed_) return;
    failed_ = true;
    status_ = std::move(s);
    pending_.clear();
  }
  // The status to finish with, once nothing is in flight but (maybe) a read.
  std::optional<grpc::Status> MaybeFinishLocked() REQUIRES(mu_) {
    if (finished_ || working_ || writing_) return std::nullopt;
    if (!failed_ && !(reads_done_ && pending_.empty())) return std::nullopt;
    finished_ = true;
    return failed_ ? status_ : grpc::Status::OK;
  }

  Coordinator* c_;
  Executor* e_;
  std::string worker_;
  v1::ObservationBatch in_;  // the read in flight
  v1::Ack ack_;              // the write in flight
  Mutex mu_;
  std::vector<v1::ObservationBatch> pending_ GUARDED_BY(mu_);  // read, not yet stored
  bool reading_ GUARDED_BY(mu_) = false;
  bool reads_done_ GUARDED_BY(mu_) = false;
  bool working_ GUARDED_BY(mu_) = false;
  bool writing_ GUARDED_BY(mu_) = false;
  bool failed_ GUARDED_BY(mu_) = false;
  bool finished_ GUARDED_BY(mu_) = false;
  uint64_t to_ack_ GUARDED_BY(mu_) = 0;
  uint64_t sent_ack_ GUARDED_BY(mu_) = 0;
  grpc::Status status_ GUARDED_BY(mu_);
};

class WorkerService final : public v1::WorkerGateway::CallbackService {
 public:
  WorkerService(Coordinator* c, Executor* e, bool require_client_cert)
      : c_(c), e_(e), require_client_cert_(require_client_cert) {
    c_->SetTaskQueuedHook([this](const std::string& location) {
      if (location.empty()) {
        waiters_.Wake();
      } else {
        waiters_.Wake(location);
      }
    });
  }
  ~WorkerService() override { StopWaiting(); }
  // Answers every held LeaseTask call now and holds no more (shutdown).
  void StopWaiting() {
    c_->SetTaskQueuedHook({});
    waiters_.Stop();
  }

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const v1::RegisterRequest* req,
                                     v1::RegisterResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (grpc::Status cs = CheckClientCert(ctx); !cs.ok()) {
      reactor->Finish(cs);
      return reactor;
    }
    std::string token = BearerToken(ctx);
    e_->Post([=, this] {
      auto r = c_->Register(token, *req);
      if (r.ok()) *resp = std::move(*r);
      reactor->Finish(ToGrpc(r.status()));
    });
    return reactor;
  }
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* ctx, const v1::RegisterRequest* req,
                                   v1::RegisterResponse* resp) override {
    return Run(ctx, resp, [=, this](const std::string& w) { return c_->Resume(w, *req); });
  }
  // Long poll (lease_waiters.h): with wait_ms, a call that finds nothing to
  // lease is held until a task is queued or its wait is over.
  grpc::ServerUnaryReactor* LeaseTask(grpc::CallbackServerContext* ctx,
                                      const v1::LeaseTaskRequest* req,
                                      v1::LeaseTaskResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (grpc::Status cs = CheckClientCert(ctx); !cs.ok()) {
      reactor->Finish(cs);
      return reactor;
    }
    // At most kMaxLeaseWaitMs, half the lease TTL (an idle worker is seen
    // at every try: LiveLocations, the watcher's worker silence), and 1 s
    // less than the client waits: a call is never answered after its
    // client gave up.
    int64_t wait_ms =
        std::min<int64_t>({req->wait_ms(), kMaxLeaseWaitMs, c_->lease_ttl_ns() / 2'000'000});
    const auto client_left = std::chrono::duration_cast<std::chrono::milliseconds>(
        ctx->deadline() - std::chrono::system_clock::now());
    wait_ms = std::max<int64_t>(0, std::min<int64_t>(wait_ms, client_left.count() - 1000));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    Lease lease{ctx, reactor, resp, Metadata(ctx, "vigil-worker-id"), deadline};
    const std::string credential = BearerToken(ctx);
    e_->Post([this, lease, credential] {
      absl::Status s = c_->AuthenticateWorker(lease.worker, credential);
      if (!s.ok()) return lease.reactor->Finish(ToGrpc(s));
      TryLease(lease);
    });
    return reactor;
  }
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override {
    return Run(ctx, resp, [=, this](const std::string& w) { return c_->Heartbeat(w, *req); });
  }
  grpc::ServerUnaryReactor* CompleteTask(grpc::CallbackServerContext* ctx,
                                         const v1::CompleteTaskRequest* req,
                                         v1::CompleteTaskResponse* resp) override {
    return Run(ctx, resp, [=, this](const std::string& w) { return c_->CompleteTask(w, *req); });
  }
  grpc::ServerUnaryReactor* ReleaseTask(grpc::CallbackServerContext* ctx,
                                        const v1::ReleaseTaskRequest* req,
                                        v1::ReleaseTaskResponse* resp) override {
    return Run(ctx, resp,
               [=, this](const std::string& w) -> absl::StatusOr<v1::ReleaseTaskResponse> {
                 absl::Status s = c_->ReleaseTask(w, *req);
                 if (!s.ok()) return s;
                 return v1::ReleaseTaskResponse();
               });
  }
  grpc::ServerBidiReactor<v1::ObservationBatch, v1::Ack>* Observe(
      grpc::CallbackServerContext* ctx) override {
    std::string credential = BearerToken(ctx);
    if (!CheckClientCert(ctx).ok()) credential.clear();  // refused as unauthenticated
    return new ObserveReactor(c_, e_, Metadata(ctx, "vigil-worker-id"), credential);
  }

 private:
  // With mutual TLS, a worker must present a client certificate the
  // handshake verified against the client CA.
  grpc::Status CheckClientCert(grpc::CallbackServerContext* ctx) {
    if (!require_client_cert_) return grpc::Status::OK;
    auto auth = ctx->auth_context();
    if (auth != nullptr && auth->IsPeerAuthenticated()) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "worker calls need a client certificate signed by the coordinator's "
                        "client CA");
  }

  static constexpr uint32_t kMaxLeaseWaitMs = 10'000;  // worker.proto LeaseTaskRequest
  // A LeaseTask call in progress (authenticated).
  struct Lease {
    grpc::CallbackServerContext* ctx;
    grpc::ServerUnaryReactor* reactor;
    v1::LeaseTaskResponse* resp;
    std::string worker;
    LeaseWaiters::Deadline deadline;
  };
  // On the executor: leases, or parks the call until a task is queued, its
  // deadline, or shutdown (then answers with no task).
  void TryLease(const Lease& lease) {
    // A client gone (stopped, crashed, disconnected) while its call was
    // held: no task is leased to it (it would wait a lease TTL for nobody).
    if (lease.ctx->IsCancelled()) {
      return lease.reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
    const uint64_t generation = waiters_.Generation();
    std::set<std::string> served;
    auto r = c_->LeaseTask(lease.worker, &served);
    if (!r.ok()) return lease.reactor->Finish(ToGrpc(r.status()));
    const bool parks = !r->has_task() && std::chrono::steady_clock::now() < lease.deadline &&
                       !lease.ctx->IsCancelled();
    // Woken by a task queued (or a lease ended) at a location it serves, or
    // by an applied change.
    if (parks && waiters_.Park(generation, lease.deadline, std::move(served),
                               [this, lease] { e_->Post([this, lease] { TryLease(lease); }); })) {
      return;
    }
    *lease.resp = std::move(*r);
    lease.reactor->Finish(grpc::Status::OK);
  }

  // Authenticates the worker, then runs fn(worker_id) on the executor.
  template <typename Resp, typename Fn>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, Resp* resp, Fn fn) {
    auto* reactor = ctx->DefaultReactor();
    if (grpc::Status cs = CheckClientCert(ctx); !cs.ok()) {
      reactor->Finish(cs);
      return reactor;
    }
    std::string worker = Metadata(ctx, "vigil-worker-id");
    std::string credential = BearerToken(ctx);
    e_->Post([=, this] {
      absl::Status s = c_->AuthenticateWorker(worker, credential);
      if (s.ok()) {
        auto r = fn(worker);
        if (r.ok()) {
          *resp = std::move(*r);
        } else {
          s = r.status();
        }
      }
      reactor->Finish(ToGrpc(s));
    });
    return reactor;
  }
  Coordinator* c_;
  Executor* e_;
  bool require_client_cert_;
  LeaseWaiters waiters_;
};

// The tenant of every call is the token's: a request cannot name another.
class TenantService final : public v1::TenantPortal::CallbackService {
 public:
  TenantService(Coordinator* c, Executor* e) : c_(c), e_(e) {}

  grpc::ServerUnaryReactor* ListReports(grpc::CallbackServerContext* ctx,
                                        const v1::ListReportsRequest*,
                                        v1::ListProofsResponse* resp) override {
    return AsTenant(ctx, [=, this](const std::string& tenant) {
      return Assign(c_->ListTenantProofs(tenant), resp);
    });
  }
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* ctx,
                                      const v1::GetReportRequest* req,
                                      v1::ProofFile* resp) override {
    return AsTenant(ctx, [=, this](const std::string& tenant) {
      return Assign(c_->GetProof(tenant, req->seq(), req->period()), resp);
    });
  }

  // The tenant is the token's: a request cannot name another one.
  grpc::ServerUnaryReactor* GetMyStatus(grpc::CallbackServerContext* ctx,
                                        const v1::GetMyStatusRequest*,
                                        v1::TenantStatus* resp) override {
    auto* reactor = ctx->DefaultReactor();
    std::string token = BearerToken(ctx);
    e_->Post([this, reactor, token, resp] {
      auto tenant = c_->AuthenticateTenant(token);
      if (!tenant.ok()) return reactor->Finish(ToGrpc(tenant.status()));
      v1::GetStatusRequest req;
      req.set_tenant(*tenant);
      auto st = c_->GetStatus(req);
      if (!st.ok()) return reactor->Finish(ToGrpc(st.status()));
      if (st->tenants_size() == 1) *resp = st->tenants(0);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

 private:
  template <typename Fn>
  grpc::ServerUnaryReactor* AsTenant(grpc::CallbackServerContext* ctx, Fn fn) {
    auto* reactor = ctx->DefaultReactor();
    std::string token = BearerToken(ctx);
    e_->Post([this, reactor, token, fn] {
      auto tenant = c_->AuthenticateTenant(token);
      reactor->Finish(ToGrpc(tenant.ok() ? fn(*tenant) : tenant.status()));
    });
    return reactor;
  }
  Coordinator* c_;
  Executor* e_;
};

class ServerImpl final : public Server {
 public:
  ~ServerImpl() override { Shutdown(); }

  absl::Status Init(const ServerOptions& options, Coordinator* c, Executor* executor) {
    admin_ = std::make_unique<AdminService>(c, executor);
    const bool tls = !options.tls_cert_pem.empty() || !options.tls_key_pem.empty();
    const bool mtls = !options.tls_client_ca_pem.empty();
    if (mtls && !tls) {
      return absl::InvalidArgumentError("a client CA (mutual TLS) needs a server certificate");
    }
    worker_ = std::make_unique<WorkerService>(c, executor, mtls);
    tenant_ = std::make_unique<TenantService>(c, executor);

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
    if (tls) {
      grpc::SslServerCredentialsOptions ssl(mtls ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
      ssl.pem_root_certs = options.tls_client_ca_pem;
      ssl.pem_key_cert_pairs.push_back({options.tls_key_pem, options.tls_cert_pem});
      creds = grpc::SslServerCredentials(ssl);
    }
    builder.AddListeningPort(options.listen, creds, &port);
    // gRPC sets SO_REUSEPORT by default: a second coordinator could then
    // listen on this port too, and clients would be split between two
    // databases. Without it, a port in use fails here.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(options.max_message_bytes);
    builder.RegisterService(admin_.get());
    builder.RegisterService(worker_.get());
    builder.RegisterService(tenant_.get());
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port == 0) {
      const std::string port_text = options.listen.substr(options.listen.rfind(':') + 1);
      return absl::UnavailableError("cannot listen on '" + options.listen + "': port " + port_text +
                                    " is in use, or the address is not one of this machine's");
    }
    std::string host = options.listen.substr(0, options.listen.rfind(':'));
    address_ = host + ":" + std::to_string(port);
    return absl::OkStatus();
  }

  std::string address() const override { return address_; }

  void Shutdown() override {
    MutexLock lock(&shutdown_mu_);
    if (server_ == nullptr) return;
    // The executor stays up until every handler is done: a reactor finishes
    // only once its queued work ran.
    worker_->StopWaiting();  // held LeaseTask calls answer now
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    server_.reset();
  }

 private:
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<WorkerService> worker_;
  std::unique_ptr<TenantService> tenant_;
  Mutex shutdown_mu_;  // one Shutdown at a time
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace

storage::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                         Coordinator* c, Executor* executor) {
  auto s = std::make_unique<ServerImpl>();
  if (absl::Status st = s->Init(options, c, executor); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace vigil::coordinator
