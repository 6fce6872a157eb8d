// Stand-ins for an alert receiver on loopback: the test's own HMAC-SHA256
// (to check a webhook's signature without the code under test), a port
// that refuses every connection and one that takes connections and never
// answers. Each port is held by its object for as long as it lives, so no
// other process can take it meanwhile (a port probed, closed and named
// later could be).
//
// Used by the alert delivery tests; link OpenSSL::Crypto. Header-only.
//
// Thread safety: none needed; one owner.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace vigil::testing {

// HMAC-SHA256 of `data` under `key`, lowercase hex.
inline std::string HmacSha256Hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  char hex[3];
  std::string s;
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", out[i]);
    s += hex;
  }
  return s;
}

// A TCP port on 127.0.0.1, bound for the object's life. Refusing: bound,
// not listening (a connection is refused at once). Hanging: listening,
// never accepting (the kernel completes the handshake and queues the
// connection; nothing is ever read or answered).
class LoopbackPort {
 public:
  enum class Kind { kRefusing, kHanging };
  // Throws std::runtime_error if no port can be bound.
  explicit LoopbackPort(Kind kind) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (kind == Kind::kHanging && ::listen(fd_, 16) != 0) ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
      Close();
      throw std::runtime_error("cannot bind a loopback port");
    }
    port_ = ntohs(a.sin_port);
  }
  ~LoopbackPort() { Close(); }
  LoopbackPort(const LoopbackPort&) = delete;
  LoopbackPort& operator=(const LoopbackPort&) = delete;

  int port() const { return port_; }
  // Closes the socket now (a hanging peer's connections then fail).
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace vigil::testing
