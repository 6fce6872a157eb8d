// libFuzzer target: DecodeHashKey on arbitrary bytes. It must never crash;
// an accepted key has a digest of its algorithm's size and re-encodes to the
// input bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storage/hash.h"
#include "storage/key_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::storage;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto hk = DecodeHashKey(in);
  if (!hk) return 0;
  if (hk->digest.size() != DigestSize(hk->digest.algorithm())) std::abort();
  if (EncodeHashKey(hk->digest, hk->entry_key) != in) std::abort();
  if (HashIndexPrefix(hk->digest) != in.substr(0, 1 + hk->digest.size())) std::abort();
  // The entry key part is arbitrary bytes here: decoding it must not crash.
  (void)DecodeEntryKey(hk->entry_key);
  return 0;
}
