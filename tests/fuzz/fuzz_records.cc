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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::storage;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  EntryRecord e;
  Status s = DecodeEntryRecord(in, &e);
  if (!s.ok() && !absl::IsDataLoss(s)) std::abort();
  if (s.ok()) {
    std::string enc, enc2;
    EncodeEntryRecord(e, &enc);
    EntryRecord e2;
    if (!DecodeEntryRecord(enc, &e2).ok()) std::abort();
    if (!(e2 == e)) std::abort();
    EncodeEntryRecord(e2, &enc2);
    if (enc2 != enc) std::abort();
    if (enc.size() > in.size()) std::abort();  // re-encoding never grows
  }

  VerifyRecord v;
  s = DecodeVerifyRecord(in, &v);
  if (!s.ok() && !absl::IsDataLoss(s)) std::abort();
  if (s.ok()) {
    std::string enc, enc2;
    EncodeVerifyRecord(v, &enc);
    VerifyRecord v2;
    if (!DecodeVerifyRecord(enc, &v2).ok()) std::abort();
    if (!(v2 == v)) std::abort();
    EncodeVerifyRecord(v2, &enc2);
    if (enc2 != enc) std::abort();
    if (enc.size() > in.size()) std::abort();
  }
  return 0;
}
