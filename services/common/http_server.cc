#include "services/common/http_server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

namespace vigil::http {
namespace {

// Probes and scrapes are small and rare: a few threads, short timeouts, no
// request bodies.
constexpr size_t kThreads = 4;
constexpr size_t kMaxPayloadBytes = 4096;

class ServerImpl final : public Server {
 public:
  ~ServerImpl() override { Stop(); }

  absl::Status Init(const std::string& listen, std::map<std::string, Handler> handlers) {
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
      return absl::InvalidArgumentError("HTTP listen address '" + listen +
                                        "' is not HOST:PORT (port 0-65535)");
    }
    handlers_ = std::move(handlers);
    server_.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.set_keep_alive_max_count(10);
    server_.set_payload_max_length(kMaxPayloadBytes);
    // One routing function: exact paths, GET only.
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
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
      bound = server_.bind_to_any_port(host);
    } else if (!server_.bind_to_port(host, port)) {
      bound = -1;
    }
    if (bound <= 0) return absl::UnavailableError("cannot listen (HTTP) on '" + listen + "'");
    std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    address_ = shown + ":" + std::to_string(bound);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // cpp-httplib 0.11 has no wait_until_ready(): poll is_running().
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return absl::OkStatus();
  }

  std::string address() const override { return address_; }

  void Stop() override {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

 private:
  httplib::Server server_;
  std::map<std::string, Handler> handlers_;
  std::string address_;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const std::string& listen,
                                                      std::map<std::string, Handler> handlers) {
  auto s = std::make_unique<ServerImpl>();
  if (absl::Status st = s->Init(listen, std::move(handlers)); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

std::string BearerToken(const std::string& authorization) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size() ||
      authorization.compare(0, kPrefix.size(), kPrefix) != 0) {
    return "";
  }
  return authorization.substr(kPrefix.size());
}

}  // namespace vigil::http
