// A prefix of an S3-compatible bucket as a storage::Store (storage/store.h):
// ListObjectsV2 (a page at a time), HEAD, ranged GET, signed with AWS
// Signature V4 (sigv4.h), over libcurl. Path-style addressing
// (endpoint/bucket/key) unless S3Config::virtual_host (bucket.host/key).
//
// Store paths map to keys under the prefix: "a/b" is the key PREFIX/a/b; a
// directory is a key prefix ending in '/' (listed with delimiter '/'); an
// object whose key ends in '/' under a listed directory is a directory
// marker and is not listed as a child.
//
// Errors follow storage/store.h; each message names Describe()
// ("s3://HOST[:PORT]/BUCKET/PREFIX") and the key, never a secret:
//   403 (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, ...) ->
//   PermissionDenied with S3's code and message; NoSuchBucket ->
//   FailedPrecondition; connection errors, stalls (no byte for the
//   RetryPolicy's timeout), HTTP 429/500/502/503/504 and SlowDown are
//   retried with storage::BackoffDelay, then Unavailable; a listing that is
//   not XML -> DataLoss naming the request and the byte.
//
// docs/remote.md says what is read and which requests are made.
//
// Thread safety: the Store may be called from several threads at once;
// each call takes a libcurl handle from a small pool (kept idle handles are
// bounded) and returns it.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/worker/remote/remote.h"
#include "storage/status.h"
#include "storage/store.h"

namespace vigil::worker::remote {

// InvalidArgument naming the field when `config` or `creds` is unusable
// (endpoint not http(s)://host[:port], no bucket, a prefix that is not a
// store path, no access key id or secret). Makes no request.
storage::StatusOr<std::unique_ptr<storage::Store>> OpenS3Store(const S3Config& config,
                                                               const S3Credentials& creds,
                                                               const storage::RetryPolicy& policy);

// Test seams (tests/services/worker/remote/s3_store_test.cc).
struct S3StoreOptionsForTest {
  int max_keys = 1000;  // ListObjectsV2 max-keys: small pages exercise pagination
  // Set to the largest number of listing entries the store held at once.
  std::atomic<size_t>* peak_page_entries = nullptr;
};
storage::StatusOr<std::unique_ptr<storage::Store>> OpenS3StoreForTest(
    const S3Config& config, const S3Credentials& creds, const storage::RetryPolicy& policy,
    const S3StoreOptionsForTest& options);

// PUTs `body` as the object `key` (a full key, the prefix not added), signed
// like every request: how tests fill a bucket. Vigil itself never writes.
storage::Status PutS3ObjectForTest(const S3Config& config, const S3Credentials& creds,
                                   std::string_view key, std::string_view body);

// One signed request as the store sends it, for tests that set a bucket up
// (create it with `x-amz-bucket-object-lock-enabled: true`, PUT its
// `?object-lock` configuration, PUT an object with a retention): `method`
// "GET", "HEAD" or "PUT"; `key` "" = the bucket itself; `headers` are sent
// and signed (lowercase names). The HTTP status (transient ones retried
// first), and the body of a non-2xx answer in *error_body.
struct S3TestRequest {
  std::string method = "GET";
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
storage::StatusOr<long> S3RequestForTest(const S3Config& config, const S3Credentials& creds,
                                         const S3TestRequest& request,
                                         std::string* error_body = nullptr);

}  // namespace vigil::worker::remote
