// The HTTP probes of `vigil worker --http-listen` (docs/operations.md):
//   /healthz  200 "ok".
//   /readyz   200 "ready" once the coordinator accepted the worker's
//             registration and every location root can be listed (a remote
//             location, root "", is not: its store opens per task); 503
//             with the reason otherwise.
// The coordinator's endpoints are services/coordinator/http_api.h.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/http_server.h"
#include "services/worker/worker.h"

namespace vigil::cli {

// `worker` is not owned and must outlive the returned server. Errors: as
// http::Server::Start.
absl::StatusOr<std::unique_ptr<http::Server>> StartWorkerHttp(
    const std::string& listen, const worker::Worker* worker,
    const std::map<std::string, std::string>& locations);

}  // namespace vigil::cli
