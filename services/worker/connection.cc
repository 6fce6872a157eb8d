// The worker's connection to its coordinator (connection.h).
#include "services/worker/connection.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace vigil::worker {
namespace {

using std::chrono::milliseconds;

// gRPC's own reconnection: its backoff (x1.6, +-20% jitter) capped so that
// two attempts are never more than kRetryMaxMs apart.
constexpr int kGrpcMaxBackoffMs = kRetryMaxMs * 4 / 5;
// gRPC's minimum connect timeout (its default): see Connection().
constexpr int kConnectTimeoutMs = 20000;

// What Register and Resume say of this worker: its site, the locations it
// serves and how many tasks it runs at once.
v1::RegisterRequest RegisterRequestOf(const WorkerOptions& o) {
  v1::RegisterRequest req;
  req.set_site(o.site);
  for (const auto& [name, root] : o.locations) req.add_locations(name);
  req.set_capacity(o.capacity);
  return req;
}

}  // namespace

bool Retryable(grpc::StatusCode c) {
  return c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::DEADLINE_EXCEEDED ||
         c == grpc::StatusCode::CANCELLED || c == grpc::StatusCode::UNKNOWN ||
         c == grpc::StatusCode::INTERNAL || c == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

Connection::Connection(const WorkerOptions& options) : o_(options) {
  grpc::ChannelArguments args;
  // Reconnecting after a coordinator restart (docs/coordinator.md,
  // "Reconnection"): gRPC's connection attempts back off like the
  // worker's own retries, from kRetryInitialMs, x1.6 per failure, to
  // kGrpcMaxBackoffMs (gRPC adds +-20% jitter: at most 1.92 s between
  // two attempts, within the documented 2 s; gRPC's default grows to two
  // minutes). In gRPC 1.51 GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is not a
  // backoff at all but the minimum connect timeout (a connection attempt,
  // TLS handshake included, may take that long): a refused connection
  // fails at once whatever it is, so it is set to gRPC's own 20 s, never
  // shortened, lest a slow handshake (a distant site, a loaded host)
  // fail forever. What bounds the reconnection is WatchChannel(): it keeps
  // a thread polling the channel, without which gRPC notices a connection
  // attempt's outcome only at its 5 s backup poll (measured on loopback:
  // 5.0-6.8 s from the restarted coordinator's listen() to the worker's
  // connection, RPCs failing with "Connection refused" meanwhile; with
  // it, 0.8-1.7 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kRetryInitialMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kGrpcMaxBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kConnectTimeoutMs);
  args.SetMaxReceiveMessageSize(16 << 20);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!o_.tls_ca_pem.empty() || !o_.tls_cert_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = o_.tls_ca_pem;
    ssl.pem_private_key = o_.tls_key_pem;
    ssl.pem_cert_chain = o_.tls_cert_pem;
    creds = grpc::SslCredentials(ssl);
  }
  channel_ = grpc::CreateCustomChannel(o_.coordinator, creds, args);
  stub_ = v1::WorkerGateway::NewStub(channel_);
}

std::string Connection::WorkerId() {
  MutexLock lock(&id_mu_);
  return worker_id_;
}

std::string Connection::StateFile() const { return o_.state_dir + "/" + kStateFileName; }

grpc::Status Connection::Register() {
  grpc::ClientContext ctx;
  if (!o_.enrol_token.empty()) ctx.AddMetadata("authorization", "Bearer " + o_.enrol_token);
  ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(10000));
  v1::RegisterRequest req = RegisterRequestOf(o_);
  v1::RegisterResponse resp;
  grpc::Status s = stub_->Register(&ctx, req, &resp);
  if (s.ok()) {
    {
      MutexLock lock(&id_mu_);
      worker_id_ = resp.worker_id();
      registered_ = true;
      credential_ = resp.credential();
    }
    ttl_ms_ = resp.lease_ttl_ms() > 0 ? resp.lease_ttl_ms() : 30000;
    Log("registered (site " + o_.site + ", lease TTL " + std::to_string(ttl_ms_.load()) + " ms)");
    for (const auto& w : resp.warnings()) Log("warning: " + w);
    if (!o_.state_dir.empty()) {
      storage::Status saved = SaveWorkerState(o_.state_dir, {resp.worker_id(), resp.credential()});
      // The credential still works in memory; only a restart would need
      // a new enrolment. Loud, but no reason to stop checking now.
      Log(saved.ok() ? "credential stored in " + StateFile()
                     : "ERROR: cannot store the credential (" + std::string(saved.message()) +
                           "): a restart will need a new enrolment token");
    }
  }
  return s;
}

grpc::Status Connection::Resume(const WorkerState& stored) {
  {
    MutexLock lock(&id_mu_);
    worker_id_ = stored.worker_id;
    credential_ = stored.credential;
  }
  grpc::ClientContext ctx;
  Prepare(&ctx, 10000);
  v1::RegisterRequest req = RegisterRequestOf(o_);
  v1::RegisterResponse resp;
  grpc::Status s = stub_->Resume(&ctx, req, &resp);
  MutexLock lock(&id_mu_);
  if (!s.ok()) {
    worker_id_.clear();
    credential_.clear();
    return s;
  }
  registered_ = true;
  ttl_ms_ = resp.lease_ttl_ms() > 0 ? resp.lease_ttl_ms() : 30000;
  if (o_.verbose) {
    std::fprintf(stderr,
                 "worker %s: resumed with the credential in %s (site %s, lease TTL %u ms)\n",
                 worker_id_.c_str(), StateFile().c_str(), o_.site.c_str(), ttl_ms_.load());
    for (const auto& w : resp.warnings()) {
      std::fprintf(stderr, "worker %s: warning: %s\n", worker_id_.c_str(), w.c_str());
    }
  }
  return s;
}

void Connection::Forget() {
  MutexLock lock(&id_mu_);
  worker_id_.clear();
  registered_ = false;
}

void Connection::Prepare(grpc::ClientContext* ctx, int deadline_ms) {
  std::string id, credential;
  {
    MutexLock lock(&id_mu_);
    id = worker_id_;
    credential = credential_;
  }
  ctx->AddMetadata("authorization", "Bearer " + credential);
  ctx->AddMetadata("vigil-worker-id", id);
  if (deadline_ms > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + milliseconds(deadline_ms));
  }
}

ConnectFailure Connection::ConnectFailureOf(const grpc::Status& s) const {
  return DescribeConnectFailure(o_.coordinator, s.error_message(),
                                {!o_.tls_ca_pem.empty() || !o_.tls_cert_pem.empty(),
                                 !o_.tls_ca_pem.empty(), !o_.tls_cert_pem.empty()});
}

std::string Connection::DescribeConnectError(const grpc::Status& s, int retry_in_ms) const {
  ConnectFailure f = ConnectFailureOf(s);
  if (f.text.empty()) return s.error_message();
  char delay[32];
  std::snprintf(delay, sizeof delay, "%.1f s", retry_in_ms / 1000.0);
  return f.text + "; retrying in " + delay;
}

int Connection::NextBackoffMs(int ms, const grpc::Status& s) const {
  return std::min(ms * 2, ConnectFailureOf(s).handshake ? 30000 : kRetryMaxMs);
}

void Connection::Log(const std::string& line) {
  if (o_.verbose) {
    const std::string id = WorkerId();
    std::fprintf(stderr, "worker %s: %s\n", id.empty() ? "-" : id.c_str(), line.c_str());
  }
}

void Connection::WatchChannel(const std::function<bool()>& stopped,
                              const std::function<void()>& on_ready) {
  grpc_connectivity_state last = GRPC_CHANNEL_IDLE;
  while (!stopped()) {
    const grpc_connectivity_state s = channel_->GetState(/*try_to_connect=*/true);
    if (s == GRPC_CHANNEL_READY && last != GRPC_CHANNEL_READY) on_ready();
    last = s;
    channel_->WaitForStateChange(s, std::chrono::system_clock::now() + milliseconds(250));
  }
}

}  // namespace vigil::worker
