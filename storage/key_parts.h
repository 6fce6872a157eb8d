// Decoders of the key components of key_codec.h, for layouts that combine
// them in other orders (versions.h). Kept out of key_codec.h so that its
// many includers do not see them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::storage {

// Consumes Str(s) from the front of *in into *out; false (in unchanged or
// partly consumed) on a missing terminator or a bad escape.
bool ConsumeString(std::string_view* in, std::string* out);
// Consumes I64(v) from the front of *in; false if fewer than 8 bytes.
bool ConsumeI64(std::string_view* in, int64_t* v);

}  // namespace vigil::storage
