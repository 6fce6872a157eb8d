// The MSP's Ed25519 signing keys (OpenSSL 3), kept in a key directory:
//
//   DIR/msp.key            current private key, PEM (PKCS#8), mode 0600
//   DIR/msp.pub            current public key, PEM (SubjectPublicKeyInfo)
//   DIR/keys/KEYID.pub     every public key the ring ever had, current one
//                          included: old signatures keep verifying after a
//                          rotation.
//
// KEY ID: the first 16 lower-case hex characters of SHA-256 of the raw
// 32-byte Ed25519 public key (RFC 8032 encoding), e.g. "3f1c0a9b5e2d7744".
//
// Signatures are plain Ed25519 (RFC 8032, "pure", no pre-hash) over the exact
// bytes given: 64 raw bytes, shipped detached with the key id.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace vigil::signing {

using storage::Status;
using storage::StatusOr;

struct PublicKey {
  std::string raw;     // 32 bytes
  std::string pem;     // SubjectPublicKeyInfo PEM
  std::string key_id;  // KeyIdOf(raw)
};

struct Signature {
  std::string key_id;
  std::string signature;  // 64 raw bytes
};

// First 16 hex chars of SHA-256(raw_public_key).
std::string KeyIdOf(std::string_view raw_public_key);
inline std::string KeyIdOf(const PublicKey& k) { return KeyIdOf(k.raw); }

// Parses a PEM public key; InvalidArgument unless it is an Ed25519 key.
StatusOr<PublicKey> LoadPublicKey(std::string_view pem);

// OK if `signature` is a valid Ed25519 signature of `message` by the key in
// `public_key_pem`; InvalidArgument (bad key, bad signature length) or
// Unauthenticated (the signature does not match) otherwise.
Status Verify(std::string_view message, std::string_view signature,
              std::string_view public_key_pem);

// $XDG_CONFIG_HOME/vigil/keys, else $HOME/.config/vigil/keys.
std::string DefaultKeyDir();

class KeyRing {
 public:
  // Creates a new key pair in `dir` (created if missing). AlreadyExists,
  // naming the file, if dir/msp.key exists: a key is never overwritten.
  static StatusOr<KeyRing> Init(const std::string& dir);
  // Loads the ring of `dir`. NotFound naming the file if there is no key.
  static StatusOr<KeyRing> Open(const std::string& dir);
  // Makes a new current key in `dir`; the previous public key stays in
  // dir/keys/. NotFound if `dir` holds no key yet.
  static StatusOr<KeyRing> Rotate(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const PublicKey& current() const { return current_; }
  // Every public key of the ring (the current one included), by key id.
  const std::vector<PublicKey>& public_keys() const { return keys_; }
  // NotFound if the ring has no key with that id.
  StatusOr<PublicKey> FindKey(std::string_view key_id) const;

  // Signs with the current key.
  StatusOr<Signature> Sign(std::string_view message) const;
  // Verifies with the ring's public key named by signature.key_id.
  Status Verify(std::string_view message, const Signature& signature) const;

 private:
  std::string dir_;
  std::shared_ptr<void> private_key_;  // EVP_PKEY*
  PublicKey current_;
  std::vector<PublicKey> keys_;
};

}  // namespace vigil::signing
