// Arbitrary bytes as a serialized inclusion proof (storage/merkle.h JSON
// form): parsing must fail cleanly or yield a proof whose verification, and
// the decoding of its leaf as a catalogue entry, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/merkle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto doc = vigil::storage::ParseInclusionProof(in);
  if (!doc.ok()) return 0;
  (void)vigil::storage::VerifyInclusionProof(*doc);
  (void)vigil::storage::DecodeEntryLeaf(doc->leaf);
  // Re-serialising a parsed proof must parse again to the same proof.
  auto again = vigil::storage::ParseInclusionProof(vigil::storage::SerializeInclusionProof(*doc));
  if (!again.ok() || again->path != doc->path || again->root != doc->root ||
      again->leaf != doc->leaf || again->index != doc->index ||
      again->tree_size != doc->tree_size) {
    __builtin_trap();
  }
  return 0;
}
