// restic's cryptography and encodings, read-only (see docs/formats.md):
//   - a master key is 32 bytes of AES-256 key plus a Poly1305-AES MAC key
//     (16-byte AES-128 key k and 16-byte r, r clamped as Poly1305 requires);
//   - an encrypted object is IV(16) || AES-256-CTR ciphertext || MAC(16),
//     MAC = Poly1305 over the ciphertext with the one-time key r || AES_k(IV);
//   - key files derive a user key with scrypt(password, salt, N, r, p) -> 64
//     bytes (32 AES key, 16 k, 16 r) that decrypts the master key;
//   - repository format 2 compresses with zstd: unpacked files (index,
//     snapshots) whose plaintext starts with 0x02, and blobs whose pack
//     header entry says so.
// Never throws; errors come back as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::formats::restic {

inline constexpr size_t kIvSize = 16;
inline constexpr size_t kMacSize = 16;
inline constexpr size_t kOverhead = kIvSize + kMacSize;

struct Key {
  uint8_t encrypt[32] = {};
  uint8_t mac_k[16] = {};
  uint8_t mac_r[16] = {};
};

// Decrypts IV || ciphertext || MAC after checking the MAC. False with *error
// ("too short", "MAC mismatch", an OpenSSL failure) otherwise.
bool Decrypt(const Key& key, std::string_view sealed, std::string* plain, std::string* error);

// scrypt into a Key (64 bytes). Refuses parameters needing more than
// `max_memory` bytes (128 * N * r * p) instead of trying.
bool DeriveKey(std::string_view password, std::string_view salt, uint64_t n, uint64_t r, uint64_t p,
               uint64_t max_memory, Key* out, std::string* error);

// Standard base64 (with padding, as Go's StdEncoding writes it); nullopt on
// any other character or a bad length.
std::optional<std::string> Base64Decode(std::string_view text);

// One or more zstd frames into *out, at most `max_bytes` of output.
bool ZstdDecompress(std::string_view in, uint64_t max_bytes, std::string* out, std::string* error);

// The JSON text of a decrypted unpacked file (config, index, snapshot):
// format 2 prefixes compressed content with 0x02 (zstd follows); JSON
// starting with '{' or '[' is uncompressed. Anything else is an error.
bool DecodeUnpacked(std::string_view plain, uint64_t max_bytes, std::string* json,
                    std::string* error);

std::string Hex(std::string_view bytes);

}  // namespace vigil::formats::restic
