// libFuzzer target: BagIt manifest parsing (payload and tag manifests, every
// tag-file encoding), the manifest line splitter, percent-decoding and the
// path rules. Must never crash, hang or leak; every finding names a file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/worker/formats/bagit_parse.h"
#include "services/worker/formats/path_check.h"

using namespace vigil::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);
  auto encoding = static_cast<TextEncoding>(mode % 5);
  ManifestKind kind = (mode & 0x08) != 0 ? ManifestKind::kTag : ManifestKind::kPayload;
  static constexpr vigil::storage::HashAlgorithm kAlgs[] = {
      vigil::storage::HashAlgorithm::kMd5,    vigil::storage::HashAlgorithm::kSha1,
      vigil::storage::HashAlgorithm::kSha224, vigil::storage::HashAlgorithm::kSha256,
      vigil::storage::HashAlgorithm::kSha384, vigil::storage::HashAlgorithm::kSha512};
  std::optional<vigil::storage::HashAlgorithm> alg;
  if ((mode >> 4) < 6) alg = kAlgs[mode >> 4];

  Findings findings;
  Manifest m = ParseManifest(raw, "manifest-x.txt", kind, alg, encoding, &findings);
  for (const auto& e : m.entries) {
    // Every accepted path is canonical, relative and inside the bag.
    PathCheck pc = CheckRelativePath(e.path, true);
    if (!pc.ok || pc.canonical != e.path) std::abort();
    if (kind == ManifestKind::kPayload && e.path.rfind("data/", 0) != 0) std::abort();
    if (m.index.at(e.path) >= m.entries.size()) std::abort();
  }
  for (const auto& f : findings.errors) {
    if (f.file.empty() || f.message.empty()) std::abort();
    (void)f.ToString();
  }

  // The line splitter and the decoders on the raw input as one line.
  ManifestLine line;
  std::string error;
  size_t column = 0;
  if (!ParseManifestLine(raw, &line, &error, &column) && column > raw.size()) std::abort();
  (void)PercentDecodePath(raw);
  return 0;
}
