#include "services/common/http_server.h"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace vigil::http {
namespace {

// Probes and scrapes are small and rare: a few threads, short timeouts, no
// request bodies.
constexpr size_t kThreads = 4;
constexpr size_t kMaxPayloadBytes = 4096;

// OpenSSL's queued errors of this thread, "; "-joined (the queue is
// cleared).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

// The file's text, or an error naming it.
absl::StatusOr<std::string> ReadPemFile(const std::string& name, const std::string& file) {
  std::ifstream f(file);
  if (!f) {
    return absl::InvalidArgumentError(name + " '" + file +
                                      "': cannot be read: " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (ss.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(name + " '" + file + "': not a PEM file");
  }
  return ss.str();
}

// Loads `tls` into `ctx` and sets the protocol floor. The chain file may
// hold intermediates after the server's certificate.
absl::Status ConfigureContext(SSL_CTX* ctx, const TlsFiles& tls) {
  ERR_clear_error();
  auto cert = ReadPemFile(tls.cert_name, tls.cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile(tls.key_name, tls.key_file);
  if (!key.ok()) return key.status();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return absl::InternalError("cannot set TLS 1.2 as the minimum: " + OpenSslErrors());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Never prompt for a passphrase on the terminal (an encrypted key fails).
  SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return 0; });
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(tls.cert_name + " '" + tls.cert_file +
                                      "': not a usable PEM certificate chain (" + OpenSslErrors() +
                                      ")");
  }
  // The key parsed here, not by SSL_CTX_use_PrivateKey_file: a key of
  // another certificate then gets its own message.
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(key->data(), static_cast<int>(key->size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      bio == nullptr ? nullptr
                     : PEM_read_bio_PrivateKey(
                           bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr),
      &EVP_PKEY_free);
  if (pkey == nullptr) {
    std::string why = key->find("ENCRYPTED") != std::string::npos
                          ? "an encrypted key (a passphrase is not supported)"
                          : "not a usable PEM private key";
    return absl::InvalidArgumentError(tls.key_name + " '" + tls.key_file + "': " + why + " (" +
                                      OpenSslErrors() + ")");
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  if (leaf == nullptr || X509_check_private_key(leaf, pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(tls.key_name + " '" + tls.key_file +
                                      "': not the private key of the certificate in " +
                                      tls.cert_name + " '" + tls.cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(tls.key_name + " '" + tls.key_file +
                                      "': cannot be used with " + tls.cert_name + " '" +
                                      tls.cert_file + "' (" + OpenSslErrors() + ")");
  }
  return absl::OkStatus();
}

class ServerImpl final : public Server {
 public:
  ~ServerImpl() override { Stop(); }

  // Over TLS with `tls`, else plain HTTP.
  absl::Status Init(const std::string& listen, const TlsFiles* tls,
                    std::map<std::string, Handler> handlers) {
    size_t colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
    std::string port_text = colon == std::string::npos ? "" : listen.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    int port = -1;
    if (!port_text.empty() && port_text.size() <= 5 &&
        port_text.find_first_not_of("0123456789") == std::string::npos) {
      port = std::stoi(port_text);
    }
    if (host.empty() || port < 0 || port > 65535) {
      return absl::InvalidArgumentError("listen address '" + listen +
                                        "' is not HOST:PORT (port 0-65535)");
    }
    if (tls != nullptr) {
      absl::Status tls_status;
      auto ssl = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
        tls_status = ConfigureContext(&ctx, *tls);
        return tls_status.ok();
      });
      if (!tls_status.ok()) return tls_status;
      if (!ssl->is_valid()) return absl::InternalError("cannot make a TLS context (OpenSSL)");
      server_ = std::move(ssl);
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    scheme_ = tls != nullptr ? "HTTPS" : "HTTP";
    handlers_ = std::move(handlers);
    server_->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    server_->set_read_timeout(5, 0);
    server_->set_write_timeout(5, 0);
    server_->set_keep_alive_max_count(10);
    server_->set_payload_max_length(kMaxPayloadBytes);
    // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, with
    // which a second process can listen on a port already served, and the
    // kernel splits the connections between the two.
    server_->set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // One routing function: exact paths, GET only.
    server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      auto it = handlers_.find(req.path);
      Response r;
      if (it == handlers_.end()) {
        r.status = 404;
        r.body = "not found\n";
      } else if (req.method != "GET" && req.method != "HEAD") {
        r.status = 405;
        r.body = "method not allowed (GET only)\n";
        res.set_header("Allow", "GET, HEAD");
      } else {
        Request in;
        in.path = req.path;
        in.authorization = req.get_header_value("Authorization");
        for (const auto& [k, v] : req.params) in.params.emplace(k, v);
        r = it->second(in);
      }
      res.status = r.status;
      for (const auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
      res.set_content(r.body, r.content_type.c_str());
      return httplib::Server::HandlerResponse::Handled;
    });
    int bound = port;
    if (port == 0) {
      bound = server_->bind_to_any_port(host);
    } else if (!server_->bind_to_port(host, port)) {
      bound = -1;
    }
    if (bound <= 0) {
      return absl::UnavailableError("cannot listen (" + scheme_ + ") on '" + listen + "': port " +
                                    port_text +
                                    " is in use, or the address is not one of this machine's");
    }
    std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    address_ = shown + ":" + std::to_string(bound);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // cpp-httplib 0.11 has no wait_until_ready(): poll is_running().
    for (int i = 0; i < 500 && !server_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return absl::OkStatus();
  }

  std::string address() const override { return address_; }

  void Stop() override {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }

 private:
  std::unique_ptr<httplib::Server> server_;  // an SSLServer for HTTPS
  std::string scheme_;
  std::map<std::string, Handler> handlers_;
  std::string address_;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const std::string& listen,
                                                      std::map<std::string, Handler> handlers) {
  auto s = std::make_unique<ServerImpl>();
  if (absl::Status st = s->Init(listen, nullptr, std::move(handlers)); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

absl::StatusOr<std::unique_ptr<Server>> Server::StartTls(const std::string& listen,
                                                         const TlsFiles& tls,
                                                         std::map<std::string, Handler> handlers) {
  auto s = std::make_unique<ServerImpl>();
  if (absl::Status st = s->Init(listen, &tls, std::move(handlers)); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

absl::Status CheckTlsFiles(const TlsFiles& tls) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (ctx == nullptr) return absl::InternalError("cannot make a TLS context: " + OpenSslErrors());
  return ConfigureContext(ctx.get(), tls);
}

}  // namespace vigil::http
