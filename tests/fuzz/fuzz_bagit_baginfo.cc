// libFuzzer target: bag-info.txt (labels, continuations, Payload-Oxum,
// Bagging-Date), the strict bagit.txt declaration and fetch.txt, in every
// tag-file encoding. Must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/worker/formats/bagit_parse.h"

using namespace vigil::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto encoding = static_cast<TextEncoding>(data[0] % 5);
  std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);

  Findings findings;
  BagInfo info = ParseBagInfo(raw, encoding, "bag-info.txt", &findings);
  for (const auto& f : info.fields) {
    if (f.label.empty() || f.line == 0) std::abort();
    (void)ParsePayloadOxum(f.value);
    (void)ParseBaggingDate(f.value);
  }
  if (info.oxum && info.oxum_line == 0) std::abort();

  BagDeclaration d = ParseBagDeclaration(raw, &findings);
  if (d.version_ok && d.version.empty()) std::abort();

  auto fetch = ParseFetch(raw, encoding, "fetch.txt", &findings);
  for (const auto& e : fetch) {
    if (e.path.rfind("data/", 0) != 0 || e.url.empty()) std::abort();
  }
  for (const auto& f : findings.errors) {
    if (f.file.empty() || f.message.empty()) std::abort();
  }
  return 0;
}
