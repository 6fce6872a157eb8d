// libFuzzer target: an S3 ListObjectsV2 page, an error document and a
// bucket's versioning and Object Lock configurations
// (services/worker/remote/s3_xml.h) as a server might answer them, the page
// fed in chunks whose sizes the first byte picks. Must never crash, hang or
// leak; a page never holds more entries than its cap; a refusal is
// DataLoss; a configuration taken holds only the values it may.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/worker/remote/s3_xml.h"

using namespace vigil::worker::remote;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  S3ListPageParser parser(16);
  vigil::storage::Status s;
  for (size_t at = 0; at < body.size() && s.ok(); at += chunk)
    s = parser.Feed(body.substr(at, chunk));
  if (s.ok()) s = parser.Finish();
  if (!s.ok() && s.code() != absl::StatusCode::kDataLoss) std::abort();
  const S3ListPage& page = parser.page();
  if (page.objects.size() + page.common_prefixes.size() > 16) std::abort();
  for (const auto& o : page.objects) {
    if (!o.checksum_sha256.empty() && o.checksum_sha256.size() != 32) std::abort();
  }

  (void)ParseS3Error(body);
  auto v = ParseVersioningConfiguration(body);
  if (!v.ok() && v.status().code() != absl::StatusCode::kDataLoss) std::abort();
  if (v.ok() && !v->status.empty() && v->status != "Enabled" && v->status != "Suspended") {
    std::abort();
  }
  auto l = ParseObjectLockConfiguration(body);
  if (!l.ok() && l.status().code() != absl::StatusCode::kDataLoss) std::abort();
  if (l.ok() && !l->mode.empty() && l->mode != "GOVERNANCE" && l->mode != "COMPLIANCE") {
    std::abort();
  }
  if (l.ok() && (l->days > 1000000 || l->years > 1000000)) std::abort();
  int64_t ns = 0;
  (void)ParseIso8601Ns(body, &ns);
  (void)DecodeChecksumSha256(body);
  return 0;
}
