// A plain-HTTP server for probes and metrics (/healthz, /readyz, /metrics),
// on cpp-httplib. httplib stays inside http_server.cc: this header is cheap.
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

class Server {
 public:
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and serves the
  // handlers by exact path. InvalidArgument if `listen` is not HOST:PORT,
  // Unavailable if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const std::string& listen,
                                                       std::map<std::string, Handler> handlers);
  virtual ~Server() = default;
  // The bound address, e.g. "127.0.0.1:40123".
  virtual std::string address() const = 0;
  // Stops serving and waits for the server thread. Idempotent.
  virtual void Stop() = 0;
};

// The token of an "Authorization: Bearer TOKEN" header; "" if absent or of
// another scheme.
std::string BearerToken(const std::string& authorization);

}  // namespace vigil::http
