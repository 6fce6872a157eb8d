// libFuzzer target: vigil::worker::remote::ParseS3Credentials (the
// --secrets/LOCATION.s3 file) on arbitrary text. It must not crash; an
// error names the file first and holds printable ASCII only; a secret
// written in the file (a sentinel appended before and after the fuzzed
// text) never appears in a message; a success gives non-empty keys with
// no white space, and the same result when written back out and parsed
// again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/worker/remote/credentials.h"

namespace {

constexpr std::string_view kSentinel = "S3CR3T-SENTINEL-q9";

void Check(const std::string& text) {
  const std::string file = "f.s3";
  auto got = vigil::worker::remote::ParseS3Credentials(text, file);
  if (!got.ok()) {
    const std::string m(got.status().message());
    if (m.compare(0, file.size(), file) != 0) std::abort();
    for (char c : m) {
      if (c < 0x20 || c > 0x7e) std::abort();
    }
    if (m.find(kSentinel) != std::string::npos) std::abort();
    return;
  }
  if (got->access_key_id.empty() || got->secret_access_key.empty()) std::abort();
  for (const std::string* v : {&got->access_key_id, &got->secret_access_key, &got->session_token}) {
    if (v->find_first_of(" \t\r\n\v\f") != std::string::npos) std::abort();
  }
  std::string again = "aws_access_key_id = " + got->access_key_id +
                      "\naws_secret_access_key = " + got->secret_access_key + "\n";
  if (!got->session_token.empty()) again += "aws_session_token = " + got->session_token + "\n";
  auto back = vigil::worker::remote::ParseS3Credentials(again, file);
  if (!back.ok() || back->access_key_id != got->access_key_id ||
      back->secret_access_key != got->secret_access_key ||
      back->session_token != got->session_token) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  Check(in);
  Check("aws_secret_access_key = " + std::string(kSentinel) + "\n" + in);
  Check(in + "\naws_secret_access_key = " + std::string(kSentinel) + "\n");
  return 0;
}
