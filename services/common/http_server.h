// An HTTP or HTTPS server for probes, metrics and the dashboard, on
// cpp-httplib (OpenSSL 3 for TLS). httplib and OpenSSL stay inside
// http_server.cc: this header is cheap.
//
// GET only; a path without a handler answers 404, another method 405.
// Handlers run on the server's own threads (never on gRPC's), so they may
// read the disk; they must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace vigil::http {

struct Request {
  std::string path;
  // The "Authorization" header, as sent ("" when absent).
  std::string authorization;
  // The query string's parameters, decoded (the first value of each name).
  std::map<std::string, std::string> params;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra response headers.
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;

// TLS for StartTls: a certificate chain and its private key, PEM files, read
// once at start. TLS 1.2 is the minimum version; ciphers are OpenSSL 3's
// defaults (no weaker ones are enabled); no client certificates are asked.
struct TlsFiles {
  // The server's certificate first, then any intermediate CA certificates.
  std::string cert_file;
  // Its private key, unencrypted (a key needing a passphrase is refused).
  std::string key_file;
  // How error messages name the two files, e.g. the flags that gave them.
  std::string cert_name = "certificate";
  std::string key_name = "private key";
};

// OK if `tls` can serve: both files are readable PEM, the key is the
// certificate's. InvalidArgument otherwise, naming the file at fault as
// "NAME 'FILE': reason". Start a server with StartTls to use them.
absl::Status CheckTlsFiles(const TlsFiles& tls);

class Server {
 public:
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and serves the
  // handlers by exact path. InvalidArgument if `listen` is not HOST:PORT,
  // Unavailable if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const std::string& listen,
                                                       std::map<std::string, Handler> handlers);
  // The same over HTTPS only (a plain-HTTP request fails the handshake).
  // InvalidArgument as CheckTlsFiles if the files cannot serve.
  static absl::StatusOr<std::unique_ptr<Server>> StartTls(const std::string& listen,
                                                          const TlsFiles& tls,
                                                          std::map<std::string, Handler> handlers);
  virtual ~Server() = default;
  // The bound address, e.g. "127.0.0.1:40123".
  virtual std::string address() const = 0;
  // Stops serving and waits for the server thread. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace vigil::http
