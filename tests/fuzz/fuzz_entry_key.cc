// libFuzzer target: DecodeEntryKey on arbitrary bytes. It must never crash,
// and a key it accepts must be canonical: re-encoding the decoded EntryKey
// gives back exactly the input bytes (two different keys never decode to the
// same entry), with a valid relative path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/key_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::storage;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto k = DecodeEntryKey(in);
  if (!k) return 0;
  if (!IsValidRelativePath(k->path)) std::abort();
  if (EncodeEntryKey(*k) != in) std::abort();
  std::string prefix = RestorePointPrefix(k->tenant, k->backup_set, k->restore_point);
  if (in.substr(0, prefix.size()) != prefix) std::abort();
  if (DecodePath(in.substr(prefix.size())) != k->path) std::abort();
  if (EncodePath(k->path) != in.substr(prefix.size())) std::abort();
  return 0;
}
