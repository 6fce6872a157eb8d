#include "services/common/signing.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace vigil::signing {

namespace {

using Pkey = std::shared_ptr<EVP_PKEY>;

Pkey Wrap(EVP_PKEY* k) { return Pkey(k, EVP_PKEY_free); }

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string ErrnoText() { return std::strerror(errno); }

StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(path + ": no such file");
    return absl::PermissionDeniedError(path + ": " + ErrnoText());
  }
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = path + ": " + ErrnoText();
      ::close(fd);
      return absl::UnavailableError(err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) {
      ::close(fd);
      return absl::InvalidArgumentError(path + ": larger than 1 MiB, not a key file");
    }
  }
  ::close(fd);
  return out;
}

// Writes `path` through a temporary file, fsync and rename: a reader sees the
// old or the new content, never a part.
Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return absl::PermissionDeniedError(tmp + ": " + ErrnoText());
  if (::fchmod(fd, mode) != 0) {  // umask must not widen or narrow it
    std::string err = tmp + ": " + ErrnoText();
    ::close(fd);
    return absl::PermissionDeniedError(err);
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = tmp + ": " + ErrnoText();
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::UnavailableError(err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(tmp + ": " + ErrnoText());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = path + ": " + ErrnoText();
    ::unlink(tmp.c_str());
    return absl::UnavailableError(err);
  }
  return absl::OkStatus();
}

Status MakeDir(const std::string& dir, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(dir + ": " + ec.message());
  ::chmod(dir.c_str(), mode);
  return absl::OkStatus();
}

StatusOr<std::string> RawPublic(EVP_PKEY* k) {
  size_t len = 32;
  std::string raw(32, '\0');
  if (EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != 32) {
    return absl::InternalError("cannot read the raw public key: " + OpensslError());
  }
  return raw;
}

// The PEM text `write(bio)` puts in a memory BIO (it returns 1 on
// success); `what` names the key in the error.
template <typename Write>
StatusOr<std::string> ToPem(const char* what, Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || write(bio) != 1) {
    BIO_free(bio);
    return absl::InternalError(std::string("cannot encode the ") + what + ": " + OpensslError());
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

StatusOr<std::string> PublicPem(EVP_PKEY* k) {
  return ToPem("public key", [k](BIO* bio) { return PEM_write_bio_PUBKEY(bio, k); });
}

StatusOr<std::string> PrivatePem(EVP_PKEY* k) {
  return ToPem("private key", [k](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

StatusOr<PublicKey> PublicOf(EVP_PKEY* k) {
  PublicKey pub;
  auto raw = RawPublic(k);
  if (!raw.ok()) return raw.status();
  auto pem = PublicPem(k);
  if (!pem.ok()) return pem.status();
  pub.raw = *std::move(raw);
  pub.pem = *std::move(pem);
  pub.key_id = KeyIdOf(pub.raw);
  return pub;
}

StatusOr<Pkey> Generate() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (k == nullptr) return absl::InternalError("Ed25519 key generation: " + OpensslError());
  return Wrap(k);
}

StatusOr<Pkey> LoadPrivate(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::PermissionDeniedError(path + ": private key readable by others (mode " +
                                       std::string(mode) + "); run chmod 600 " + path);
  }
  auto pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) {
    return absl::InvalidArgumentError(path + ": not a PEM private key (" + OpensslError() + ")");
  }
  Pkey key = Wrap(k);
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(path + ": not an Ed25519 key");
  }
  return key;
}

// Writes a new current key: keys/ID.pub first, then msp.pub, then msp.key.
Status WriteCurrent(const std::string& dir, EVP_PKEY* k, const PublicKey& pub) {
  auto priv = PrivatePem(k);
  if (!priv.ok()) return priv.status();
  if (Status s = MakeDir(dir + "/keys", 0755); !s.ok()) return s;
  if (Status s = WriteFileAtomic(dir + "/keys/" + pub.key_id + ".pub", pub.pem, 0644); !s.ok()) {
    return s;
  }
  if (Status s = WriteFileAtomic(dir + "/msp.pub", pub.pem, 0644); !s.ok()) return s;
  return WriteFileAtomic(dir + "/msp.key", *priv, 0600);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// An Ed25519 public key from its PEM text (SubjectPublicKeyInfo).
StatusOr<Pkey> ParsePublicPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) {
    return absl::InvalidArgumentError("not a PEM public key (" + OpensslError() + ")");
  }
  Pkey key = Wrap(k);
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("not an Ed25519 public key");
  }
  return key;
}

}  // namespace

std::string KeyIdOf(std::string_view raw_public_key) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(raw_public_key.data(), raw_public_key.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 8; ++i) {
    id.push_back(kHex[md[i] >> 4]);
    id.push_back(kHex[md[i] & 15]);
  }
  return id;
}

StatusOr<PublicKey> LoadPublicKey(std::string_view pem) {
  StatusOr<Pkey> key = ParsePublicPem(pem);
  if (!key.ok()) return key.status();
  return PublicOf(key->get());
}

Status Verify(std::string_view message, std::string_view signature,
              std::string_view public_key_pem) {
  StatusOr<Pkey> k = ParsePublicPem(public_key_pem);
  if (!k.ok()) return k.status();
  EVP_PKEY* raw = k->get();
  if (signature.size() != 64) {
    return absl::InvalidArgumentError("an Ed25519 signature has 64 bytes, not " +
                                      std::to_string(signature.size()));
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = ctx == nullptr ? 0 : EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, raw);
  if (rc == 1) {
    rc = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size());
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (rc != 1) {
    return absl::UnauthenticatedError("signature does not match (key " +
                                      KeyIdOf(RawPublic(raw).value_or("")) + ")");
  }
  return absl::OkStatus();
}

std::string DefaultKeyDir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/vigil/keys";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.config/vigil/keys";
}

namespace {

// A fresh key written as `dir`'s current one (WriteCurrent), then the ring
// of `dir` as KeyRing::Open reads it.
StatusOr<KeyRing> NewCurrentKey(const std::string& dir) {
  auto key = Generate();
  if (!key.ok()) return key.status();
  auto pub = PublicOf(key->get());
  if (!pub.ok()) return pub.status();
  if (Status s = WriteCurrent(dir, key->get(), *pub); !s.ok()) return s;
  return KeyRing::Open(dir);
}

}  // namespace

StatusOr<KeyRing> KeyRing::Init(const std::string& dir) {
  for (const char* f : {"/msp.key", "/msp.pub"}) {
    if (Exists(dir + f)) {
      return absl::AlreadyExistsError(dir + f +
                                      " already exists: refusing to overwrite a key (use "
                                      "`vigil keys rotate` for a new one)");
    }
  }
  if (Status s = MakeDir(dir, 0700); !s.ok()) return s;
  return NewCurrentKey(dir);
}

StatusOr<KeyRing> KeyRing::Open(const std::string& dir) {
  KeyRing ring;
  ring.dir_ = dir;
  auto key = LoadPrivate(dir + "/msp.key");
  if (!key.ok()) return key.status();
  ring.private_key_ = std::static_pointer_cast<void>(*key);
  auto pub = PublicOf(key->get());
  if (!pub.ok()) return pub.status();
  ring.current_ = *std::move(pub);

  std::error_code ec;
  std::vector<std::string> files;
  if (std::filesystem::is_directory(dir + "/keys", ec)) {
    for (const auto& e : std::filesystem::directory_iterator(dir + "/keys", ec)) {
      std::string name = e.path().filename().string();
      if (name.size() == 16 + 4 && name.ends_with(".pub")) files.push_back(e.path().string());
    }
    if (ec) return absl::UnavailableError(dir + "/keys: " + ec.message());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    auto pem = ReadFile(f);
    if (!pem.ok()) return pem.status();
    auto k = LoadPublicKey(*pem);
    if (!k.ok()) return absl::InvalidArgumentError(f + ": " + std::string(k.status().message()));
    std::string expect = std::filesystem::path(f).stem().string();
    if (k->key_id != expect) {
      return absl::DataLossError(f + ": holds key " + k->key_id + ", not " + expect);
    }
    ring.keys_.push_back(*std::move(k));
  }
  bool has_current = std::any_of(ring.keys_.begin(), ring.keys_.end(), [&](const PublicKey& k) {
    return k.key_id == ring.current_.key_id;
  });
  if (!has_current) ring.keys_.push_back(ring.current_);
  return ring;
}

StatusOr<KeyRing> KeyRing::Rotate(const std::string& dir) {
  auto old = Open(dir);
  if (!old.ok()) return old.status();
  // Keep the old public key whatever state keys/ is in.
  if (Status s = MakeDir(dir + "/keys", 0755); !s.ok()) return s;
  std::string old_file = dir + "/keys/" + old->current_.key_id + ".pub";
  if (!Exists(old_file)) {
    if (Status s = WriteFileAtomic(old_file, old->current_.pem, 0644); !s.ok()) return s;
  }
  return NewCurrentKey(dir);
}

StatusOr<PublicKey> KeyRing::FindKey(std::string_view key_id) const {
  for (const PublicKey& k : keys_) {
    if (k.key_id == key_id) return k;
  }
  return absl::NotFoundError("no key " + std::string(key_id) + " in " + dir_ + "/keys");
}

StatusOr<Signature> KeyRing::Sign(std::string_view message) const {
  auto* k = static_cast<EVP_PKEY*>(private_key_.get());
  if (k == nullptr) return absl::FailedPreconditionError("key ring has no private key");
  Signature sig;
  sig.key_id = current_.key_id;
  sig.signature.assign(64, '\0');
  size_t len = 64;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = ctx == nullptr ? 0 : EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, k);
  if (rc == 1) {
    rc = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.signature.data()), &len,
                        reinterpret_cast<const unsigned char*>(message.data()), message.size());
  }
  EVP_MD_CTX_free(ctx);
  if (rc != 1 || len != 64) return absl::InternalError("Ed25519 signing: " + OpensslError());
  return sig;
}

Status KeyRing::Verify(std::string_view message, const Signature& signature) const {
  auto key = FindKey(signature.key_id);
  if (!key.ok()) return key.status();
  return signing::Verify(message, signature.signature, key->pem);
}

}  // namespace vigil::signing
