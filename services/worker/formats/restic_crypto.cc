#include "services/worker/formats/restic_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace vigil::formats::restic {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// One AES-128 block encryption: s = AES_k(nonce).
bool Aes128Block(const uint8_t k[16], const uint8_t in[16], uint8_t out[16]) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  int n = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ecb(), nullptr, k, nullptr) != 1) return false;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  if (EVP_EncryptUpdate(ctx.get(), out, &n, in, 16) != 1 || n != 16) return false;
  return true;
}

bool Poly1305(const uint8_t key[32], std::string_view msg, uint8_t tag[16]) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  if (mac == nullptr) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  bool ok = ctx != nullptr && EVP_MAC_init(ctx, key, 32, nullptr) == 1 &&
            EVP_MAC_update(ctx, U8(msg), msg.size()) == 1;
  size_t len = 0;
  ok = ok && EVP_MAC_final(ctx, tag, &len, 16) == 1 && len == 16;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok;
}

}  // namespace

bool Decrypt(const Key& key, std::string_view sealed, std::string* plain, std::string* error) {
  if (sealed.size() < kOverhead) {
    *error = "encrypted object too short (" + std::to_string(sealed.size()) + " bytes, at least " +
             std::to_string(kOverhead) + " needed)";
    return false;
  }
  const uint8_t* iv = U8(sealed);
  std::string_view ct = sealed.substr(kIvSize, sealed.size() - kOverhead);
  const uint8_t* want = U8(sealed) + sealed.size() - kMacSize;

  uint8_t polykey[32];
  std::memcpy(polykey, key.mac_r, 16);
  // restic masks r before use; Poly1305 clamps it the same way.
  static constexpr int kClamp3[] = {3, 7, 11, 15};
  static constexpr int kClamp252[] = {4, 8, 12};
  for (int i : kClamp3) polykey[i] &= 15;
  for (int i : kClamp252) polykey[i] &= 252;
  if (!Aes128Block(key.mac_k, iv, polykey + 16)) {
    *error = "AES-128 (MAC nonce) failed in OpenSSL";
    return false;
  }
  uint8_t tag[16];
  if (!Poly1305(polykey, ct, tag)) {
    *error = "Poly1305 failed in OpenSSL";
    return false;
  }
  if (CRYPTO_memcmp(tag, want, 16) != 0) {
    *error = "MAC mismatch (wrong key or corrupted data)";
    return false;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key.encrypt, iv) != 1) {
    *error = "AES-256-CTR init failed in OpenSSL";
    return false;
  }
  plain->resize(ct.size());
  int n = 0;
  if (!ct.empty() && (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<uint8_t*>(plain->data()), &n,
                                        U8(ct), static_cast<int>(ct.size())) != 1 ||
                      static_cast<size_t>(n) != ct.size())) {
    *error = "AES-256-CTR failed in OpenSSL";
    return false;
  }
  return true;
}

bool DeriveKey(std::string_view password, std::string_view salt, uint64_t n, uint64_t r, uint64_t p,
               uint64_t max_memory, Key* out, std::string* error) {
  if (n < 2 || (n & (n - 1)) != 0) {
    *error = "scrypt N=" + std::to_string(n) + " is not a power of two >= 2";
    return false;
  }
  if (r == 0 || p == 0 || r > (1u << 20) || p > (1u << 20)) {
    *error = "scrypt r/p out of range (r=" + std::to_string(r) + ", p=" + std::to_string(p) + ")";
    return false;
  }
  // 128*N*r for V plus 128*r*p for B; guard the products against overflow.
  if (n > max_memory / 128 / r || 128 * r * p > max_memory - 128 * n * r) {
    *error = "scrypt parameters N=" + std::to_string(n) + " r=" + std::to_string(r) +
             " p=" + std::to_string(p) + " need more than " + std::to_string(max_memory >> 20) +
             " MiB";
    return false;
  }
  uint8_t buf[64];
  if (EVP_PBE_scrypt(password.data(), password.size(), U8(salt), salt.size(), n, r, p,
                     max_memory + (1u << 20), buf, sizeof buf) != 1) {
    *error = "scrypt failed in OpenSSL";
    return false;
  }
  std::memcpy(out->encrypt, buf, 32);
  std::memcpy(out->mac_k, buf + 32, 16);
  std::memcpy(out->mac_r, buf + 48, 16);
  return true;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + static_cast<size_t>(j)];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after '='
      v[j] = val(c);
      if (v[j] < 0) return std::nullopt;
    }
    uint32_t w = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xff));
  }
  return out;
}

bool ZstdDecompress(std::string_view in, uint64_t max_bytes, std::string* out, std::string* error) {
  out->clear();
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) {
    *error = "zstd: out of memory";
    return false;
  }
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  size_t last = 1;
  // One decompression step into `chunk`, appended to *out; false with
  // *error on a zstd error (`at_offset`: naming the compressed byte) or
  // past max_bytes.
  auto step = [&](ZSTD_outBuffer* ob, bool at_offset) {
    last = ZSTD_decompressStream(ds, ob, &ib);
    if (ZSTD_isError(last)) {
      *error = std::string("zstd: ") + ZSTD_getErrorName(last) +
               (at_offset ? " at compressed byte " + std::to_string(ib.pos) : std::string());
      return false;
    }
    if (out->size() + ob->pos > max_bytes) {
      *error = "zstd: decompresses to more than " + std::to_string(max_bytes) + " bytes";
      return false;
    }
    out->append(chunk.data(), ob->pos);
    return true;
  };
  bool ok = true;
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
    if (!step(&ob, /*at_offset=*/true)) {
      ok = false;
      break;
    }
    if (ob.pos == 0 && ib.pos < ib.size && last != 0) continue;
  }
  if (ok) {
    // Flush whatever the decoder still holds.
    while (last != 0) {
      ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
      if (!step(&ob, /*at_offset=*/false)) {
        ok = false;
        break;
      }
      if (ob.pos == 0) {
        *error = "zstd: truncated frame";
        ok = false;
        break;
      }
    }
  }
  ZSTD_freeDStream(ds);
  return ok;
}

bool DecodeUnpacked(std::string_view plain, uint64_t max_bytes, std::string* json,
                    std::string* error) {
  if (plain.empty()) {
    *error = "empty plaintext";
    return false;
  }
  if (plain[0] == '{' || plain[0] == '[') {
    json->assign(plain);
    return true;
  }
  if (plain[0] == 2) return ZstdDecompress(plain.substr(1), max_bytes, json, error);
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", static_cast<unsigned>(static_cast<uint8_t>(plain[0])));
  *error = std::string("unknown plaintext version byte ") + b + " at offset 0";
  return false;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (char c : bytes) {
    s.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    s.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return s;
}

}  // namespace vigil::formats::restic
