// Lowercase hexadecimal text of bytes, and back: one implementation for
// digests, Merkle hashes, keys, tokens and the JSON documents that carry them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::storage {

// Two lowercase hex digits per byte.
std::string HexEncode(std::string_view bytes);
// The bytes of `hex`; nullopt unless it is an even number of hex digits
// (either case).
std::optional<std::string> HexDecode(std::string_view hex);

}  // namespace vigil::storage
