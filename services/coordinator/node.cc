#include "services/coordinator/node.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "services/coordinator/executor.h"
#include "services/coordinator/jobs.h"
#include "services/coordinator/server.h"

namespace vigil::coordinator {
namespace {

// Writes a secret to `file` (mode 0600) durably: a temporary file synced,
// renamed into place, the directory synced. False (errno set) on error.
bool WriteSecretFile(const std::string& file, const std::string& secret) {
  const std::string tmp = file + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  std::string line = secret + "\n";
  bool ok = fchmod(fd, 0600) == 0 &&
            write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ok && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), file.c_str()) != 0) {
    const int saved = errno;
    unlink(tmp.c_str());
    errno = saved;
    return false;
  }
  std::string dir = std::filesystem::path(file).parent_path().string();
  int dfd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return false;
  ok = fsync(dfd) == 0;
  close(dfd);
  return ok;
}

}  // namespace

storage::StatusOr<std::unique_ptr<Node>> Node::Start(const NodeOptions& options, Failure* failure) {
  Failure ignored;
  std::unique_ptr<Node> node(new Node());
  if (storage::Status s = node->Init(options, failure != nullptr ? failure : &ignored); !s.ok()) {
    return s;  // ~Node stops what started
  }
  return node;
}

storage::Status Node::Init(const NodeOptions& options, Failure* failure) {
  *failure = Failure::kNode;
  auto c = Coordinator::Open(options.coordinator);
  if (!c.ok()) return c.status();
  coordinator_ = std::move(*c);
  executor_ = std::make_unique<Executor>(options.executor_threads);
  ServerOptions so;
  so.listen = options.listen;
  so.tls_cert_pem = options.tls_cert_pem;
  so.tls_key_pem = options.tls_key_pem;
  so.tls_client_ca_pem = options.tls_client_ca_pem;
  so.max_message_bytes = options.max_message_bytes;
  auto server = Server::Start(so, coordinator_.get(), executor_.get());
  if (!server.ok()) {
    *failure = Failure::kListen;
    return server.status();
  }
  server_ = std::move(*server);

  // Alerts: the outbox drains on its own thread; the watcher is a job.
  Clock* clock = options.coordinator.clock != nullptr ? options.coordinator.clock : &real_clock_;
  watcher_ = std::make_unique<Watcher>(coordinator_.get(), clock, options.watcher);
  deliverer_ = std::make_unique<Deliverer>(coordinator_->catalogue().kv(), clock, options.delivery);
  deliverer_->Start();
  const bool serve_http = !options.http.http_listen.empty() || !options.http.https_listen.empty();
  if (serve_http) {
    // Computed once before the endpoints serve, then by its job.
    metrics_ = std::make_unique<CoordinatorMetrics>(coordinator_.get(), options.metrics);
    (void)metrics_->Refresh();
  }
  // The jobs do disk work: they run on the executor, never on gRPC's threads.
  jobs_ = std::make_unique<Jobs>(
      [e = executor_.get()](std::function<void()> work) { e->Post(std::move(work)); });
  CoordinatorJobsOptions jo;
  jo.schedule_every_ms = options.schedule_every_ms;
  jo.watch_every_ms = options.watch_every_ms;
  jo.metrics_every_ms = std::max<int64_t>(options.metrics.refresh_ms, 100);
  AddCoordinatorJobs(jo, {coordinator_.get(), watcher_.get(), deliverer_.get(), metrics_.get()},
                     jobs_.get());
  jobs_->Start();

  if (serve_http) {
    auto http = HttpApi::Start(options.http, coordinator_.get(), metrics_.get());
    if (!http.ok()) {
      *failure = Failure::kListen;
      return http.status();
    }
    http_ = std::move(*http);
  }
  if (!options.first_enrol_token_file.empty()) {
    return IssueFirstEnrolToken(options.first_enrol_token_file);
  }
  return absl::OkStatus();
}

// The first-start enrolment token (docs/coordinator.md "Authentication"),
// like the admin token: one-time, written beside it.
storage::Status Node::IssueFirstEnrolToken(const std::string& file) {
  if (std::filesystem::exists(file)) return absl::OkStatus();
  auto first = coordinator_->IssueFirstEnrolToken("first start (DATA/enrol.token)");
  if (!first.ok()) {
    return absl::Status(first.status().code(), "cannot issue the first enrolment token: " +
                                                   std::string(first.status().message()));
  }
  if (!first->has_value()) return absl::OkStatus();
  if (!WriteSecretFile(file, (*first)->token())) {
    const std::string why = std::strerror(errno);
    const std::string id = (*first)->record().id();
    (void)coordinator_->RevokeToken(id);
    return absl::InternalError("cannot write the enrolment token to '" + file + "': " + why +
                               " (token " + id +
                               " revoked; issue one with `vigil token issue --kind enrol`)");
  }
  wrote_first_enrol_token_ = true;
  return absl::OkStatus();
}

Node::~Node() { Shutdown(); }

std::string Node::address() const { return server_ != nullptr ? server_->address() : ""; }
std::string Node::http_address() const { return http_ != nullptr ? http_->http_address() : ""; }
std::string Node::https_address() const { return http_ != nullptr ? http_->https_address() : ""; }

void Node::Shutdown() {
  {
    MutexLock lock(&shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (http_ != nullptr) http_->SetStopping();
  if (jobs_ != nullptr) jobs_->Stop();
  if (deliverer_ != nullptr) deliverer_->Stop();
  // The executor stays up until every gRPC handler is done: a reactor
  // finishes only once its queued work ran.
  if (server_ != nullptr) server_->Shutdown();
  executor_.reset();
  http_.reset();
}

}  // namespace vigil::coordinator
