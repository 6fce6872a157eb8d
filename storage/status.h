// Error values for the storage layer.
//
// Vigil uses absl::Status / absl::StatusOr throughout storage/: both are
// [[nodiscard]], carry a canonical code and a message, and are what gRPC
// already depends on, so services convert them to grpc::Status in one place.
// Conventions used by every storage API:
//   - NotFound          an ordinary "no such key" answer, not a failure;
//   - InvalidArgument   the caller passed something malformed (names the field);
//   - DataLoss          bytes read back from disk do not decode (corruption);
//   - FailedPrecondition the on-disk format is newer or older than this build;
//   - Internal/Unavailable  errors reported by RocksDB or the OS.
// No exception crosses into or out of storage/.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vigil::storage {

using Status = absl::Status;
template <typename T>
using StatusOr = absl::StatusOr<T>;

}  // namespace vigil::storage
