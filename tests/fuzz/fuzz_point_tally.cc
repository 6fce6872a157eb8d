// libFuzzer target: DecodePointTally (services/contracts/signals.h) on
// arbitrary bytes, as a point's summary read back from the catalogue. It
// must never crash; a tally that decodes adds up (its extensions count its
// files) and re-encodes to the same bytes (the encoding is canonical).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/contracts/signals.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::contracts;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::optional<PointTally> t = DecodePointTally(in);
  if (!t) return 0;
  uint64_t files = t->long_extension_files;
  for (const auto& [ext, n] : t->extensions) files += n;
  if (files != t->files || t->sampled_files > t->files || t->zero_length_files > t->files) {
    std::abort();
  }
  const std::string enc = EncodePointTally(*t);
  std::optional<PointTally> back = DecodePointTally(enc);
  if (!back || !(*back == *t) || EncodePointTally(*back) != enc) std::abort();
  return 0;
}
