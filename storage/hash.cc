#include "storage/hash.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstring>
#include <iterator>
#include <string>

namespace vigil::storage {

namespace {

// Everything Vigil knows of each algorithm, in value order (1..7).
struct AlgorithmRow {
  HashAlgorithm alg;
  const char* name;        // AlgorithmName()
  size_t size;             // DigestSize()
  const EVP_MD* (*evp)();  // OpenSSL's digest; none for XXH3
};

constexpr AlgorithmRow kAlgorithms[] = {{HashAlgorithm::kXxh3_128, "xxh3-128", 16, nullptr},
                                        {HashAlgorithm::kSha256, "sha256", 32, EVP_sha256},
                                        {HashAlgorithm::kSha512, "sha512", 64, EVP_sha512},
                                        {HashAlgorithm::kSha1, "sha1", 20, EVP_sha1},
                                        {HashAlgorithm::kMd5, "md5", 16, EVP_md5},
                                        {HashAlgorithm::kSha224, "sha224", 28, EVP_sha224},
                                        {HashAlgorithm::kSha384, "sha384", 48, EVP_sha384}};

constexpr bool InValueOrder() {
  for (size_t i = 0; i < std::size(kAlgorithms); ++i) {
    if (static_cast<size_t>(kAlgorithms[i].alg) != i + 1) return false;
  }
  return true;
}
static_assert(InValueOrder());

// The row of `alg`, or null for a value no row has.
const AlgorithmRow* RowOf(HashAlgorithm alg) {
  const size_t i = static_cast<size_t>(alg) - 1;  // wraps for 0
  return i < std::size(kAlgorithms) ? &kAlgorithms[i] : nullptr;
}

// Lower case without '-' and '_': "SHA-256" and "sha_256" read "sha256".
std::string Folded(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c == '-' || c == '_') continue;
    n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return n;
}

}  // namespace

size_t DigestSize(HashAlgorithm alg) {
  const AlgorithmRow* r = RowOf(alg);
  return r == nullptr ? 0 : r->size;
}

std::string_view AlgorithmName(HashAlgorithm alg) {
  const AlgorithmRow* r = RowOf(alg);
  return r == nullptr ? "unknown" : r->name;
}

bool IsKnownAlgorithm(uint8_t v) { return RowOf(static_cast<HashAlgorithm>(v)) != nullptr; }

std::optional<HashAlgorithm> ParseAlgorithm(std::string_view name) {
  const std::string n = Folded(name);
  if (n == "xxh128" || n == "xxh3") return HashAlgorithm::kXxh3_128;
  for (const AlgorithmRow& r : kAlgorithms) {
    if (n == Folded(r.name)) return r.alg;
  }
  return std::nullopt;
}

Digest::Digest(HashAlgorithm alg, std::span<const uint8_t> bytes) : alg_(alg) {
  assert(bytes.size() == DigestSize(alg));
  size_ = static_cast<uint8_t>(std::min(bytes.size(), kMaxSize));
  std::memcpy(bytes_, bytes.data(), size_);
}

std::string Digest::Hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size_ * 2, '0');
  for (size_t i = 0; i < size_; ++i) {
    out[2 * i] = kHex[bytes_[i] >> 4];
    out[2 * i + 1] = kHex[bytes_[i] & 0xF];
  }
  return out;
}

std::string Digest::ToString() const {
  std::string out(AlgorithmName(alg_));
  out.push_back(':');
  out += Hex();
  return out;
}

std::optional<Digest> Digest::FromHex(HashAlgorithm alg, std::string_view hex) {
  size_t n = DigestSize(alg);
  if (hex.size() != 2 * n) return std::nullopt;
  uint8_t buf[kMaxSize];
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    buf[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return Digest(alg, {buf, n});
}

namespace {

class Xxh3Hasher final : public Hasher {
 public:
  Xxh3Hasher() : state_(XXH3_createState()) { Reset(); }
  ~Xxh3Hasher() override { XXH3_freeState(state_); }
  HashAlgorithm algorithm() const override { return HashAlgorithm::kXxh3_128; }
  void Reset() override { XXH3_128bits_reset(state_); }
  void Update(std::span<const uint8_t> data) override {
    XXH3_128bits_update(state_, data.data(), data.size());
  }
  Digest Finish() override {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state_));
    return Digest(HashAlgorithm::kXxh3_128, {c.digest, sizeof(c.digest)});
  }

 private:
  XXH3_state_t* state_;
};

const EVP_MD* EvpFor(HashAlgorithm alg) {
  const AlgorithmRow* r = RowOf(alg);
  return r == nullptr || r->evp == nullptr ? nullptr : r->evp();
}

class EvpHasher final : public Hasher {
 public:
  explicit EvpHasher(HashAlgorithm alg) : alg_(alg), md_(EvpFor(alg)), ctx_(EVP_MD_CTX_new()) {
    Reset();
  }
  ~EvpHasher() override { EVP_MD_CTX_free(ctx_); }
  HashAlgorithm algorithm() const override { return alg_; }
  void Reset() override { EVP_DigestInit_ex(ctx_, md_, nullptr); }
  void Update(std::span<const uint8_t> data) override {
    EVP_DigestUpdate(ctx_, data.data(), data.size());
  }
  Digest Finish() override {
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, out, &len);
    return Digest(alg_, {out, len});
  }

 private:
  HashAlgorithm alg_;
  const EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::unique_ptr<Hasher> NewHasher(HashAlgorithm alg) {
  if (alg == HashAlgorithm::kXxh3_128) return std::make_unique<Xxh3Hasher>();
  if (EvpFor(alg) == nullptr) return nullptr;
  return std::make_unique<EvpHasher>(alg);
}

Digest HashBytes(HashAlgorithm alg, std::span<const uint8_t> data) {
  auto h = NewHasher(alg);
  h->Update(data);
  return h->Finish();
}

}  // namespace vigil::storage
