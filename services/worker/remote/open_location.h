// Opens the storage::Store of a remote location for one task: the address
// from the contract (v1::Location.s3 / .sftp, carried in the task), the
// credentials from the worker's --secrets directory (credentials.h). What
// the worker's WorkerOptions::open_store calls (services/cli).
//
// Thread safety: a free function; the store it returns is the caller's.
#pragma once

#include <memory>
#include <string>

#include "storage/status.h"
#include "storage/store.h"
#include "vigil/v1/types.pb.h"

namespace vigil::worker::remote {

// FailedPrecondition when the kind is not s3/sftp, a credentials file is
// missing or wrong (named), or the store refuses to open (its own error).
storage::StatusOr<std::unique_ptr<storage::Store>> OpenLocationStore(
    const v1::Location& location, const std::string& secrets_dir,
    const storage::RetryPolicy& retry);

}  // namespace vigil::worker::remote
