#include "services/cli/serve_commands.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "services/cli/admin_commands.h"
#include "services/cli/exit_codes.h"
#include "services/cli/worker_http.h"
#include "services/common/http_server.h"
#include "services/common/signing.h"
#include "services/common/text.h"
#include "services/contracts/model.h"
#include "services/coordinator/node.h"
#include "services/worker/remote/open_location.h"
#include "services/worker/worker.h"
#include "storage/hex.h"

namespace vigil::cli {
namespace {

// Blocks SIGINT/SIGTERM in this thread (and threads started after), so that
// WaitForSignal() can take them synchronously.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForSignal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

bool ReadToken(const std::string& file, std::string* token) {
  std::ifstream f(file);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *token = ss.str();
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r')) token->pop_back();
  return !token->empty();
}

std::string RandomToken() {
  unsigned char raw[24];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, raw, sizeof raw) : -1;
  if (fd >= 0) close(fd);
  if (n != static_cast<ssize_t>(sizeof raw)) return "";
  return "vgl_" + storage::HexEncode({reinterpret_cast<const char*>(raw), sizeof raw});
}

// Reads the admin token from `file`, creating it with a random token if
// it does not exist.
bool LoadOrCreateToken(const std::string& file, bool create, std::string* token) {
  if (ReadToken(file, token)) return true;
  if (!create || std::filesystem::exists(file)) return false;
  *token = RandomToken();
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || token->empty()) return false;
  std::string line = *token + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = fsync(fd) == 0 && ok;
  close(fd);
  return ok;
}

// True if the host of a listen address ("HOST:PORT", "[V6]:PORT",
// "unix:PATH") is a loopback one: localhost, 127.0.0.0/8, ::1, ::ffff:127.x,
// a Unix socket. Anything else (0.0.0.0, ::, a host name, an empty host)
// may be reached from the network.
bool IsLoopbackAddress(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0 || listen.rfind("unix-abstract:", 0) == 0) return true;
  std::string host;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos) return false;
    host = listen.substr(1, close - 1);
  } else {
    size_t colon = listen.rfind(':');
    host = colon == std::string::npos ? listen : listen.substr(0, colon);
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "localhost") return true;
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
  }
  return false;
}

// Reads a PEM file named by an option; false (after saying so) on error.
bool ReadPem(const char* cmd, const char* option, const std::string& file, std::string* out) {
  if (file.empty()) return true;
  std::ifstream f(file);
  std::stringstream ss;
  if (f) ss << f.rdbuf();
  *out = ss.str();
  if (!f || out->find("-----BEGIN") == std::string::npos) {
    std::fprintf(stderr, "vigil %s: %s '%s' is not a readable PEM file\n", cmd, option,
                 file.c_str());
    return false;
  }
  return true;
}

}  // namespace

int RunCoordinator(const CoordinatorArgs& args) {
  std::string err;
  // Secure by default: nothing reachable from the network in clear unless
  // --insecure says so (docs/operations.md, "Transport"). Checked first:
  // a refusal creates nothing.
  const bool grpc_in_clear = args.tls_cert_file.empty() && !IsLoopbackAddress(args.listen);
  const bool http_in_clear = !args.http_listen.empty() && args.https_listen.empty() &&
                             !IsLoopbackAddress(args.http_listen);
  if (grpc_in_clear && !args.insecure) {
    std::fprintf(stderr,
                 "vigil coordinator: --listen %s is not a loopback address and has no TLS: "
                 "enrolment tokens, worker credentials, the admin token and every verdict would "
                 "cross the network in clear. Give --tls-cert and --tls-key (deploy/make-certs.sh "
                 "makes them; docs/first-day.md), or listen on 127.0.0.1, or add --insecure to "
                 "accept plaintext\n",
                 args.listen.c_str());
    return kExitUsage;
  }
  if (http_in_clear && !args.insecure) {
    std::fprintf(stderr,
                 "vigil coordinator: --http-listen %s is not a loopback address and, without "
                 "--https-listen, serves the dashboard, /api/* and /metrics with the admin token "
                 "in clear. Give --https-listen (--http-listen then serves only /healthz and "
                 "/readyz), or listen on 127.0.0.1, or add --insecure to accept plaintext\n",
                 args.http_listen.c_str());
    return kExitUsage;
  }
  if (grpc_in_clear || http_in_clear) {
    std::fprintf(stderr,
                 "vigil coordinator: warning: --insecure: %s%s%s in clear on a non-loopback "
                 "address\n",
                 grpc_in_clear ? "gRPC (tokens, credentials, verdicts)" : "",
                 grpc_in_clear && http_in_clear ? " and " : "",
                 http_in_clear ? "HTTP (dashboard, /api/*, /metrics)" : "");
  }
  auto ttl = ParseDuration(args.lease_ttl, &err);
  if (!ttl || *ttl <= 0) {
    std::fprintf(stderr, "vigil coordinator: --lease-ttl '%s': %s\n", args.lease_ttl.c_str(),
                 err.empty() ? "must be positive" : err.c_str());
    return kExitUsage;
  }
  if (args.max_attempts < 1) {
    std::fprintf(stderr, "vigil coordinator: --max-attempts must be at least 1\n");
    return kExitUsage;
  }
  std::error_code ec;
  std::filesystem::create_directories(args.data, ec);
  if (ec) {
    std::fprintf(stderr, "vigil coordinator: cannot create --data '%s': %s\n", args.data.c_str(),
                 ec.message().c_str());
    return kExitUsage;
  }
  coordinator::NodeOptions o;
  o.listen = args.listen;
  o.coordinator.data_dir = args.data + "/db";
  o.coordinator.lease.ttl_ns = *ttl;
  o.coordinator.lease.max_attempts = static_cast<uint32_t>(args.max_attempts);
  if (args.schedule_every != "0") {
    auto every = ParseDuration(args.schedule_every, &err);
    if (!every) {
      std::fprintf(stderr, "vigil coordinator: --schedule-every '%s': %s\n",
                   args.schedule_every.c_str(), err.c_str());
      return kExitUsage;
    }
    o.schedule_every_ms = *every / 1'000'000;
  }
  std::string token_file =
      args.admin_token_file.empty() ? args.data + "/admin.token" : args.admin_token_file;
  std::string token;
  if (!LoadOrCreateToken(token_file, args.admin_token_file.empty(), &token)) {
    std::fprintf(stderr, "vigil coordinator: cannot read the admin token from '%s'\n",
                 token_file.c_str());
    return kExitUsage;
  }
  o.coordinator.admin_token_sha256 = coordinator::TokenHash(token);
  token.assign(token.size(), '\0');
  o.coordinator.keys_dir = args.keys_dir;
  o.coordinator.msp_name = args.msp_name;
  if (!ReadPem("coordinator", "--tls-cert", args.tls_cert_file, &o.tls_cert_pem) ||
      !ReadPem("coordinator", "--tls-key", args.tls_key_file, &o.tls_key_pem) ||
      !ReadPem("coordinator", "--tls-client-ca", args.tls_client_ca_file, &o.tls_client_ca_pem)) {
    return kExitUsage;
  }
  if (o.tls_cert_pem.empty() != o.tls_key_pem.empty()) {
    std::fprintf(stderr, "vigil coordinator: --tls-cert and --tls-key go together\n");
    return kExitUsage;
  }
  if (!o.tls_client_ca_pem.empty() && o.tls_cert_pem.empty()) {
    std::fprintf(stderr, "vigil coordinator: --tls-client-ca needs --tls-cert and --tls-key\n");
    return kExitUsage;
  }
  // HTTPS: its own certificate, else the gRPC one. Checked now, before
  // anything listens.
  coordinator::HttpApiOptions& ho = o.http;
  ho.http_listen = args.http_listen;
  ho.https_listen = args.https_listen;
  if (args.https_cert_file.empty() != args.https_key_file.empty()) {
    std::fprintf(stderr, "vigil coordinator: --https-cert and --https-key go together\n");
    return kExitUsage;
  }
  if (!args.https_listen.empty()) {
    if (!args.https_cert_file.empty()) {
      ho.tls = {args.https_cert_file, args.https_key_file, "--https-cert", "--https-key"};
    } else if (!args.tls_cert_file.empty()) {
      ho.tls = {args.tls_cert_file, args.tls_key_file, "--tls-cert", "--tls-key"};
    } else {
      std::fprintf(stderr,
                   "vigil coordinator: --https-listen needs a certificate: --https-cert and "
                   "--https-key, or --tls-cert and --tls-key\n");
      return kExitUsage;
    }
    if (absl::Status st = http::CheckTlsFiles(ho.tls); !st.ok()) {
      std::fprintf(stderr, "vigil coordinator: %s\n", std::string(st.message()).c_str());
      return kExitUsage;
    }
  } else if (!args.https_cert_file.empty()) {
    std::fprintf(stderr, "vigil coordinator: --https-cert and --https-key need --https-listen\n");
    return kExitUsage;
  }
  if (!args.worker_token_file.empty()) {
    std::string enrol;
    if (!ReadToken(args.worker_token_file, &enrol)) {
      std::fprintf(stderr, "vigil coordinator: cannot read the worker token from '%s'\n",
                   args.worker_token_file.c_str());
      return kExitUsage;
    }
    o.coordinator.enrol_token_sha256 = coordinator::TokenHash(enrol);
  }
  coordinator::MetricsOptions& mo = o.metrics;
  mo.version = VIGIL_VERSION;
  auto refresh = ParseDuration(args.metrics_refresh, &err);
  if (!refresh || *refresh < 1'000'000'000) {
    std::fprintf(stderr, "vigil coordinator: --metrics-refresh '%s': %s\n",
                 args.metrics_refresh.c_str(), err.empty() ? "must be at least 1s" : err.c_str());
    return kExitUsage;
  }
  mo.refresh_ms = *refresh / 1'000'000;
  sigset_t signals = BlockStopSignals();
  // Alerts: durations "0" turn a feature off.
  {
    auto duration = [&](const char* option, const std::string& text, int64_t* out) {
      if (text == "0") {
        *out = 0;
        return true;
      }
      auto d = ParseDuration(text, &err);
      if (!d) {
        std::fprintf(stderr, "vigil coordinator: %s '%s': %s\n", option, text.c_str(), err.c_str());
        return false;
      }
      *out = *d;
      return true;
    };
    int64_t watch = 0;
    o.watcher.worker_quiet_ns = 10 * (*ttl / 3);
    if (!duration("--watch-every", args.watch_every, &watch) ||
        !duration("--renotify-every", args.renotify_every, &o.watcher.renotify_every_ns) ||
        !duration("--overdue-grace", args.overdue_grace, &o.watcher.overdue_grace_ns) ||
        (!args.worker_quiet.empty() &&
         !duration("--worker-quiet", args.worker_quiet, &o.watcher.worker_quiet_ns)) ||
        !duration("--alert-max-age", args.alert_max_age, &o.delivery.max_age_ns) ||
        !duration("--free-gone-points-after", args.free_gone_points_after,
                  &o.coordinator.free_gone_points_after_ns)) {
      return kExitUsage;
    }
    o.watch_every_ms = watch / 1'000'000;
    if (!args.secrets_dir.empty() && !std::filesystem::is_directory(args.secrets_dir)) {
      std::fprintf(stderr, "vigil coordinator: --secrets '%s' is not a directory\n",
                   args.secrets_dir.c_str());
      return kExitUsage;
    }
    o.delivery.secrets_dir = args.secrets_dir;
  }
  // The first-start enrolment token (docs/coordinator.md "Authentication"),
  // like the admin token: one-time, written beside it, unless the fixed
  // --worker-token-file is given.
  const std::string enrol_file = args.data + "/enrol.token";
  if (args.worker_token_file.empty()) o.first_enrol_token_file = enrol_file;
  coordinator::Node::Failure failure = coordinator::Node::Failure::kNode;
  auto node = coordinator::Node::Start(o, &failure);
  if (!node.ok()) {
    std::fprintf(stderr, "vigil coordinator: %s\n", std::string(node.status().message()).c_str());
    return failure == coordinator::Node::Failure::kListen ? kExitUsage : kExitFailure;
  }
  std::string enrol_note;
  if ((*node)->wrote_first_enrol_token()) {
    enrol_note = "enrolment token in " + enrol_file +
                 " (one-time: it enrols one worker; more with `vigil token issue --kind enrol`)";
  }
  if (enrol_note.empty()) {
    enrol_note = args.worker_token_file.empty()
                     ? "worker enrolment: one-time tokens (`vigil token issue --kind enrol`)"
                     : "worker enrolment: the token in " + args.worker_token_file +
                           ", or one-time tokens (`vigil token issue --kind enrol`)";
  }
  std::printf("listening on %s\n", (*node)->address().c_str());
  if (!(*node)->http_address().empty()) {
    std::printf("http listening on %s\n", (*node)->http_address().c_str());
  }
  if (!(*node)->https_address().empty()) {
    std::printf("https listening on %s\n", (*node)->https_address().c_str());
    std::printf("https: /metrics, the dashboard and /api/* (certificate %s)%s\n",
                ho.tls.cert_file.c_str(),
                (*node)->http_address().empty() ? "" : "; http: /healthz and /readyz only");
  }
  std::printf("transport: %s\n", o.tls_cert_pem.empty()
                                     ? (grpc_in_clear ? "plaintext (--insecure)"
                                                      : "plaintext (no --tls-cert; loopback)")
                                 : o.tls_client_ca_pem.empty() ? "TLS"
                                                               : "TLS, mutual TLS for workers");
  std::printf("admin token in %s\n", token_file.c_str());
  std::printf("%s\n", enrol_note.c_str());
  std::fflush(stdout);
  int sig = WaitForSignal(signals);
  std::fprintf(stderr, "vigil coordinator: %s, shutting down\n", strsignal(sig));
  (*node)->Shutdown();
  return 0;
}

int RunWorker(const WorkerArgs& args) {
  // Before any thread exists (gRPC starts some when the channel is made):
  // a thread without the mask would take SIGTERM and die without handing
  // the lease back.
  sigset_t signals = BlockStopSignals();
  worker::WorkerOptions o;
  o.coordinator = args.coordinator;
  o.site = args.site;
  o.batch_size = args.batch_size;
  o.test_batch_delay_ms = args.test_batch_delay_ms;
  o.capacity = args.capacity;
  o.listing_cache_bytes = size_t{args.listing_cache_mb} << 20;
  for (const auto& l : args.locations) {
    // NAME=PATH: a directory here; NAME alone: a remote location (s3,
    // sftp), root "" (worker.h).
    size_t eq = l.find('=');
    if (eq == 0 || (eq != std::string::npos && eq + 1 == l.size()) ||
        (eq == std::string::npos && !contracts::IsValidName(l))) {
      std::fprintf(stderr,
                   "vigil worker: --location '%s' must be NAME=PATH (a directory on this machine) "
                   "or NAME (a remote location: type s3 or sftp)\n",
                   l.c_str());
      return kExitUsage;
    }
    std::string name = l.substr(0, eq), root = eq == std::string::npos ? "" : l.substr(eq + 1);
    if (o.locations.count(name) != 0) {
      std::fprintf(stderr, "vigil worker: --location '%s' is given twice\n", name.c_str());
      return kExitUsage;
    }
    o.locations[name] = root;
  }
  if (!args.token_file.empty() && !ReadToken(args.token_file, &o.enrol_token)) {
    std::fprintf(stderr, "vigil worker: cannot read --token-file '%s'\n", args.token_file.c_str());
    return kExitUsage;
  }
  if (!ReadPem("worker", "--tls-ca", args.tls_ca_file, &o.tls_ca_pem) ||
      !ReadPem("worker", "--tls-cert", args.tls_cert_file, &o.tls_cert_pem) ||
      !ReadPem("worker", "--tls-key", args.tls_key_file, &o.tls_key_pem)) {
    return kExitUsage;
  }
  o.state_dir = args.state_dir;
  if (const char* env = std::getenv("STATE_DIRECTORY"); o.state_dir.empty() && env != nullptr) {
    o.state_dir = std::string(env).substr(0, std::string_view(env).find(':'));
  }
  if (o.state_dir.empty()) {
    std::fprintf(stderr,
                 "vigil worker: no --state-dir: the credential is kept in memory only, so every "
                 "start registers again (a one-time enrolment token covers one start)\n");
  }
  o.secrets = args.secrets;
  if (!args.secrets.empty()) {
    struct stat st {};
    if (stat(args.secrets.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::fprintf(stderr, "vigil worker: --secrets '%s' is not a directory\n",
                   args.secrets.c_str());
      return kExitUsage;
    }
    if ((st.st_mode & 077) != 0) {
      std::fprintf(stderr,
                   "vigil worker: warning: --secrets '%s' is accessible to other users "
                   "(mode %03o; chmod 700 it)\n",
                   args.secrets.c_str(), static_cast<unsigned>(st.st_mode & 0777));
    }
  }
  if (!args.scratch.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.scratch, ec);
    o.scratch = args.scratch;
  }
  // A remote location's store: its address from the task, its credentials
  // from --secrets (services/worker/remote/open_location.h).
  o.open_store = [secrets = args.secrets](const v1::Location& l) {
    return worker::remote::OpenLocationStore(l, secrets, storage::RetryPolicy{});
  };
  auto w = worker::Worker::Create(o);
  if (!w.ok()) {
    std::fprintf(stderr, "vigil worker: %s\n", std::string(w.status().message()).c_str());
    return kExitUsage;
  }
  std::unique_ptr<http::Server> http;
  if (!args.http_listen.empty()) {
    auto h = StartWorkerHttp(args.http_listen, w->get(), o.locations);
    if (!h.ok()) {
      std::fprintf(stderr, "vigil worker: --http-listen: %s\n",
                   std::string(h.status().message()).c_str());
      return kExitUsage;
    }
    http = std::move(*h);
    std::printf("http listening on %s\n", http->address().c_str());
    std::fflush(stdout);
  }
  // Set when Run() ended on its own: the stopper's wake-up is then ours,
  // with no lease to hand back.
  std::atomic<bool> refused{false};
  std::thread stopper([&] {
    int sig = WaitForSignal(signals);
    if (!refused.load()) {
      std::fprintf(stderr, "vigil worker: %s, handing back leases\n", strsignal(sig));
    }
    (*w)->Stop();
  });
  absl::Status s = (*w)->Run();
  // Run() ended on its own (refused registration): wake the stopper up.
  if (!s.ok()) {
    std::fprintf(stderr, "vigil worker: %s; stopping\n", std::string(s.message()).c_str());
    refused.store(true);
    kill(getpid(), SIGTERM);
  }
  stopper.join();
  return s.ok() ? 0 : kExitFailure;
}

namespace {

void WriteSample(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
}

// The absolute path of the running binary ("" if unknown).
std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

// `s` quoted for a POSIX shell when it needs it.
std::string ShellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./:=+,@%") == std::string::npos) {
    return s;
  }
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string DefaultExamples() {
  if (std::string self = SelfPath(); !self.empty()) {
    // build/bin/vigil -> <source>/deploy/examples when built in-tree.
    for (auto p = std::filesystem::path(self).parent_path(); p.has_parent_path() && p != "/";
         p = p.parent_path()) {
      if (std::filesystem::exists(p / "deploy/examples/dev.yaml")) return p / "deploy/examples";
    }
  }
  return "deploy/examples";
}

}  // namespace

int RunDev(const DevArgs& args) {
  if (!IsLoopbackAddress(args.listen)) {
    std::fprintf(stderr,
                 "vigil dev: --listen %s is not a loopback address: vigil dev serves in clear, "
                 "for one machine (run `vigil coordinator` with --tls-cert and --tls-key to serve "
                 "a network)\n",
                 args.listen.c_str());
    return kExitUsage;
  }
  std::string data = args.data;
  if (data.empty()) {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t != nullptr ? t : "/tmp") + "/vigil-dev.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "vigil dev: cannot create a data directory\n");
      return kExitFailure;
    }
    data = tmpl;
  }
  std::string examples = args.examples.empty() ? DefaultExamples() : args.examples;
  std::string yaml = examples + "/dev.yaml";
  if (!std::filesystem::exists(yaml)) {
    std::fprintf(stderr, "vigil dev: '%s' not found (use --examples DIR)\n", yaml.c_str());
    return kExitUsage;
  }
  // Sample backups for the example law firm, on two locations.
  std::filesystem::path office = std::filesystem::path(data) / "locations/nas-office";
  std::filesystem::path offsite = std::filesystem::path(data) / "locations/offsite-vault";
  if (!std::filesystem::exists(office)) {
    for (int i = 0; i < 20; ++i) {
      std::string name = "dossier-" + std::to_string(2000 + i) + ".pdf";
      std::string body = "client file " + std::to_string(i) + std::string(1000 + 97 * i, 'x');
      WriteSample(office / "dupont-avocats/fileserver/clients" / name, body);
      WriteSample(offsite / "dupont-avocats/fileserver-copy/clients" / name, body);
    }
    WriteSample(office / "dupont-avocats/mail/archive-2026.mbox", "From: greffe@example\n");
    WriteSample(offsite / "dupont-avocats/fileserver-copy/README", "offsite copy\n");
  }

  std::string token;
  if (!LoadOrCreateToken(data + "/admin.token", true, &token)) {
    std::fprintf(stderr, "vigil dev: cannot create the admin token\n");
    return kExitFailure;
  }
  sigset_t signals = BlockStopSignals();
  coordinator::NodeOptions so;
  so.listen = args.listen;
  so.coordinator.data_dir = data + "/db";
  so.coordinator.admin_token_sha256 = coordinator::TokenHash(token);
  // A signing key of its own, so that reports and proofs work out of the box.
  so.coordinator.keys_dir = data + "/keys";
  if (!std::filesystem::exists(so.coordinator.keys_dir + "/msp.key")) {
    auto ring = signing::KeyRing::Init(so.coordinator.keys_dir);
    if (!ring.ok()) {
      std::fprintf(stderr, "vigil dev: %s\n", std::string(ring.status().message()).c_str());
      return kExitFailure;
    }
  }
  so.coordinator.msp_name = "Vigil dev";
  // The dashboard on loopback, beside the gRPC port (its own free port);
  // verdicts recomputed every 2 s and the watcher's history every 10 s, so
  // that the page follows the demo.
  so.http.http_listen = args.listen.substr(0, args.listen.rfind(':')) + ":0";
  so.metrics.version = VIGIL_VERSION;
  so.metrics.refresh_ms = 2'000;
  so.watch_every_ms = 10'000;
  auto node = coordinator::Node::Start(so);
  if (!node.ok()) {
    std::fprintf(stderr, "vigil dev: %s\n", std::string(node.status().message()).c_str());
    return kExitFailure;
  }
  std::string address = (*node)->address();
  std::vector<std::unique_ptr<worker::Worker>> workers;
  std::vector<std::thread> threads;
  const std::pair<const char*, std::filesystem::path> served[] = {{"nas-office", office},
                                                                  {"offsite-vault", offsite}};
  for (const auto& [name, root] : served) {
    worker::WorkerOptions wo;
    wo.coordinator = address;
    wo.site = std::string(name) == "nas-office" ? "office" : "offsite";
    wo.locations[name] = root.string();
    wo.verbose = false;
    // Workers enrol like any other: a one-time token for their site.
    v1::IssueTokenRequest enrol;
    enrol.set_kind(v1::TOKEN_KIND_ENROL);
    enrol.set_site(wo.site);
    enrol.set_name("vigil dev worker (" + wo.site + ")");
    auto issued = (*node)->coordinator().IssueToken(enrol);
    if (!issued.ok()) {
      std::fprintf(stderr, "vigil dev: %s\n", std::string(issued.status().message()).c_str());
      return kExitFailure;
    }
    wo.enrol_token = issued->token();
    auto w = worker::Worker::Create(wo);
    if (!w.ok()) {
      std::fprintf(stderr, "vigil dev: %s\n", std::string(w.status().message()).c_str());
      return kExitFailure;
    }
    workers.push_back(std::move(*w));
    threads.emplace_back([w = workers.back().get()] { (void)w->Run(); });
  }
  std::printf("vigil dev: coordinator listening on %s, 2 workers (office, offsite)\n",
              address.c_str());
  std::printf("data directory: %s\n", data.c_str());
  std::printf("admin token: %s\n", token.c_str());
  if (!args.once) {
    std::printf("dashboard: http://%s/ (log in with the admin token above)\n",
                (*node)->http_address().c_str());
  }
  std::printf("\n");
  std::fflush(stdout);

  ClientArgs client;
  client.coordinator = address;
  client.token = token;
  int rc = RunApply({client, {yaml}, false});
  if (rc == 0) {
    CheckRunArgs cr;
    cr.client = client;
    cr.tenant = "dupont-avocats";
    cr.wait = true;
    cr.timeout_s = 120;
    (void)RunCheckRun(cr);
    std::printf("\n");
    rc = RunStatus({client, "", false});
  }
  if (rc == 0 && !args.once) {
    // Commands that work as printed: this binary's directory first on PATH.
    std::string self = SelfPath();
    std::string path_dir =
        self.empty() ? "" : std::filesystem::path(self).parent_path().string() + ":";
    std::printf(
        "\ndashboard: http://%s/ (admin token: %s)\n"
        "try, in another shell:\n  export PATH=%s\"$PATH\" VIGIL_COORDINATOR=%s VIGIL_TOKEN=%s\n"
        "  vigil status\n  vigil check run dupont-avocats --wait\n\nCtrl-C to stop.\n",
        (*node)->http_address().c_str(), token.c_str(), ShellWord(path_dir).c_str(),
        address.c_str(), token.c_str());
    std::fflush(stdout);
    WaitForSignal(signals);
  }
  for (auto& w : workers) w->Stop();
  for (auto& t : threads) t.join();
  (*node)->Shutdown();
  return rc;
}

}  // namespace vigil::cli
