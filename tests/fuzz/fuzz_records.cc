// libFuzzer target: DecodeEntryRecord and DecodeVerifyRecord on arbitrary
// bytes. They must never crash; on failure the status is DataLoss; a record
// that decodes re-encodes to bytes that decode to the same record (the
// encoding is canonical once written, though varints read leniently).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/entry.h"

namespace {

using namespace vigil::storage;

// One codec's properties on `in`; aborts (the fuzzer's finding) if one fails.
template <typename Record>
void CheckCodec(std::string_view in, Status (*decode)(std::string_view, Record*),
                void (*encode)(const Record&, std::string*)) {
  Record r;
  Status s = decode(in, &r);
  if (!s.ok() && !absl::IsDataLoss(s)) std::abort();
  if (!s.ok()) return;
  std::string enc, enc2;
  encode(r, &enc);
  Record r2;
  if (!decode(enc, &r2).ok()) std::abort();
  if (!(r2 == r)) std::abort();
  encode(r2, &enc2);
  if (enc2 != enc) std::abort();
  if (enc.size() > in.size()) std::abort();  // re-encoding never grows
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckCodec<EntryRecord>(in, DecodeEntryRecord, EncodeEntryRecord);
  CheckCodec<VerifyRecord>(in, DecodeVerifyRecord, EncodeVerifyRecord);
  return 0;
}
