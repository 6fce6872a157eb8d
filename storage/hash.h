// Content hashing: one streaming interface over XXH3-128 (xxHash) and the
// cryptographic digests manifests name (SHA-256, SHA-512, SHA-1, MD5 through
// OpenSSL EVP).
//
// XXH3-128 with seed 0 is the catalogue's default: it runs at memory speed and
// detects corruption, but is NOT collision-resistant against an attacker; a
// contract that wants client-checkable inclusion proofs asks for SHA-256.
//
// Every digest Vigil stores carries its algorithm. The numeric values of
// HashAlgorithm are written to disk (catalogue entries, hash-index keys): they
// can never change, only be added to. XXH3-128 digests are stored in the
// canonical big-endian byte order of XXH128_canonicalFromHash(), so that the
// hex form equals what `xxhsum -H2` prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil::storage {

// Persisted. Never renumber.
enum class HashAlgorithm : uint8_t {
  kXxh3_128 = 1,
  kSha256 = 2,
  kSha512 = 3,
  kSha1 = 4,
  kMd5 = 5,
  kSha224 = 6,
  kSha384 = 7,
};

// Digest length in bytes for `alg` (16 for XXH3-128, 32 for SHA-256, ...).
size_t DigestSize(HashAlgorithm alg);
// Lower-case name as used in manifests and on the command line:
// "xxh3-128", "sha256", "sha512", "sha1", "md5", "sha224", "sha384".
std::string_view AlgorithmName(HashAlgorithm alg);
// Inverse of AlgorithmName(); case-insensitive, accepts "sha-256" too.
std::optional<HashAlgorithm> ParseAlgorithm(std::string_view name);
// True if `v` is one of the enumerators above (for decoding untrusted bytes).
bool IsKnownAlgorithm(uint8_t v);

// A digest value with its algorithm. Fixed capacity (64 bytes, SHA-512), no
// allocation: digests are created per file on the hot path.
class Digest {
 public:
  static constexpr size_t kMaxSize = 64;

  Digest() = default;
  // REQUIRES: bytes.size() == DigestSize(alg).
  Digest(HashAlgorithm alg, std::span<const uint8_t> bytes);

  HashAlgorithm algorithm() const { return alg_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> bytes() const { return {bytes_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_), size_}; }
  std::string Hex() const;
  // "xxh3-128:0123..." — the algorithm-qualified form used in reports.
  std::string ToString() const;
  // Parses Hex() output for a given algorithm; nullopt on bad length or digits.
  static std::optional<Digest> FromHex(HashAlgorithm alg, std::string_view hex);

  friend bool operator==(const Digest& a, const Digest& b) {
    return a.alg_ == b.alg_ && a.view() == b.view();
  }

 private:
  HashAlgorithm alg_ = HashAlgorithm::kXxh3_128;
  uint8_t size_ = 0;
  uint8_t bytes_[kMaxSize] = {};
};

// Streaming hasher. Not thread-safe; one per thread. Reset() makes it reusable
// so the hot path allocates nothing per file.
class Hasher {
 public:
  virtual ~Hasher() = default;
  virtual HashAlgorithm algorithm() const = 0;
  virtual void Reset() = 0;
  virtual void Update(std::span<const uint8_t> data) = 0;
  // Returns the digest of everything passed to Update() since the last Reset().
  // The hasher must be Reset() before it is used again.
  virtual Digest Finish() = 0;
};

// Never returns null for a known algorithm.
std::unique_ptr<Hasher> NewHasher(HashAlgorithm alg);

// One-shot convenience.
Digest HashBytes(HashAlgorithm alg, std::span<const uint8_t> data);
inline Digest HashBytes(HashAlgorithm alg, std::string_view data) {
  return HashBytes(alg, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}

}  // namespace vigil::storage
