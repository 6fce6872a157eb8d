#include "services/cli/worker_http.h"

#include <dirent.h>

#include <cerrno>
#include <cstring>

namespace vigil::cli {
namespace {

http::Response Text(int status, std::string body) {
  return {.status = status, .body = std::move(body) + "\n", .headers = {}};
}

// Why `root` cannot be listed, "" if it can.
std::string ListProblem(const std::string& root) {
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return std::strerror(errno);
  closedir(d);
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<http::Server>> StartWorkerHttp(
    const std::string& listen, const worker::Worker* worker,
    const std::map<std::string, std::string>& locations) {
  std::map<std::string, http::Handler> handlers;
  handlers["/healthz"] = [](const http::Request&) { return Text(200, "ok"); };
  handlers["/readyz"] = [worker, locations](const http::Request&) {
    if (!worker->registered()) return Text(503, "not ready: not registered with the coordinator");
    for (const auto& [name, root] : locations) {
      // A remote location (root "") is not listed here: its store is
      // opened per task, with the address the task carries.
      if (root.empty()) continue;
      // Location names, not paths: a probe reveals nothing of the layout.
      std::string problem = ListProblem(root);
      if (!problem.empty()) {
        return Text(503, "not ready: location '" + name + "' cannot be listed: " + problem);
      }
    }
    return Text(200, "ready");
  };
  return http::Server::Start(listen, std::move(handlers));
}

}  // namespace vigil::cli
