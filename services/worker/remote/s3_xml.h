// The XML an S3 server answers, decoded with expat as it arrives: a
// ListObjectsV2 page (ListBucketResult), an error document (<Error>), and
// what a bucket says of itself: its versioning (GetBucketVersioning) and
// Object Lock configuration (GetObjectLockConfiguration).
// The S3 store (s3_store.cc) feeds the response body to a parser chunk by
// chunk, so only the decoded page (at most max-keys entries) is held, never
// the listing's text. tests/fuzz/fuzz_s3_list_xml.cc feeds them anything.
//
// Thread safety: a parser is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace vigil::worker::remote {

// One <Contents> of a page: the object's key and what the store recorded.
struct S3ListedObject {
  std::string key;
  uint64_t size = 0;
  int64_t last_modified_ns = 0;  // 0 when absent or not a date
  std::string etag;              // without its quotes
  std::string checksum_sha256;   // raw 32 bytes; "" when absent or composite
};

struct S3ListPage {
  std::vector<S3ListedObject> objects;
  std::vector<std::string> common_prefixes;  // as given, trailing '/' kept
  bool is_truncated = false;
  std::string next_continuation_token;
};

// A streaming parser of one ListObjectsV2 page.
class S3ListPageParser {
 public:
  // `max_entries`: a page holding more objects and prefixes than this is
  // refused (DataLoss), so a server cannot make the parser buffer without
  // bound (the store asks for at most 1000 a page).
  explicit S3ListPageParser(size_t max_entries = 10000);
  ~S3ListPageParser();
  S3ListPageParser(const S3ListPageParser&) = delete;
  S3ListPageParser& operator=(const S3ListPageParser&) = delete;

  // Feeds the next chunk of the body. DataLoss "not XML at byte N: ..." (or
  // "not a ListBucketResult", or a field that does not decode: Size not a
  // number) on the first malformed byte; the parser is then spent.
  storage::Status Feed(std::string_view chunk);
  // The end of the body: DataLoss if the document is incomplete.
  storage::Status Finish();

  const S3ListPage& page() const { return page_; }
  S3ListPage& page() { return page_; }

 private:
  struct State;
  std::unique_ptr<State> st_;
  S3ListPage page_;
};

// The <Code> and <Message> of an S3 error document; both "" when `body` is
// not one (an empty HEAD answer, HTML from a proxy). Never fails.
struct S3ErrorDoc {
  std::string code;
  std::string message;
};
S3ErrorDoc ParseS3Error(std::string_view body);

// A bucket's versioning (GetBucketVersioning, GET /?versioning): `status`
// "Enabled", "Suspended", or "" when versioning was never enabled (an empty
// <VersioningConfiguration/>).
struct S3Versioning {
  std::string status;
};
// DataLoss naming what does not decode: not a VersioningConfiguration, a
// Status other than Enabled/Suspended, a DTD, a body over 64 KiB.
storage::StatusOr<S3Versioning> ParseVersioningConfiguration(std::string_view body);

// A bucket's Object Lock configuration (GetObjectLockConfiguration, GET
// /?object-lock). `enabled`: <ObjectLockEnabled>Enabled</...>; the default
// retention of new objects, when the bucket has one: `mode` "GOVERNANCE" or
// "COMPLIANCE" ("" none) for `days` or `years` (one of them, 0 = absent).
struct S3ObjectLock {
  bool enabled = false;
  std::string mode;
  uint32_t days = 0;
  uint32_t years = 0;
};
// DataLoss naming what does not decode: not an ObjectLockConfiguration,
// ObjectLockEnabled other than "Enabled", a Mode other than GOVERNANCE or
// COMPLIANCE, Days/Years not a number of 1..1000000, a DTD, a body over
// 64 KiB.
storage::StatusOr<S3ObjectLock> ParseObjectLockConfiguration(std::string_view body);

// "2026-12-06T14:21:16.123Z" (RFC 3339, services/common/time.h) -> ns
// since the epoch; false if it is not one or int64 ns cannot hold it.
bool ParseIso8601Ns(std::string_view s, int64_t* ns);

// Standard base64 -> bytes; false if it is not base64.
bool DecodeBase64(std::string_view in, std::string* out);

// An S3 ChecksumSHA256 value (base64 of 32 bytes) -> the 32 raw bytes; ""
// for a composite checksum of a multipart upload ("...-N": a checksum of
// part checksums, not of the content) or a value that does not decode.
std::string DecodeChecksumSha256(std::string_view b64);

}  // namespace vigil::worker::remote
