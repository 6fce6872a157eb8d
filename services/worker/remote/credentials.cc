#include "services/worker/remote/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "absl/strings/escaping.h"
#include "services/contracts/model.h"

namespace vigil::worker::remote {
namespace {

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\v\f");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\v\f");
  return s.substr(b, e - b + 1);
}

// The path of DIR/NAME.EXT after the checks every secrets file shares.
storage::StatusOr<std::string> SecretPath(const std::string& dir, const std::string& name,
                                          const char* ext, const char* what) {
  if (!contracts::IsValidName(name)) {
    // A name from a task, not a secret: quoted with its rule.
    return absl::InvalidArgumentError(std::string("no ") + what + " for location '" + name +
                                      "': not a valid location name (" + contracts::kNameRule +
                                      ")");
  }
  if (dir.empty()) {
    return absl::NotFoundError(std::string("no ") + what + " for location '" + name +
                               "': the worker has no secrets directory (--secrets DIR with DIR/" +
                               name + ext + ")");
  }
  return dir + "/" + name + ext;
}

// The whole of `path`, opened without following a symbolic link, after
// checking it is a regular file only its owner may read or write.
storage::StatusOr<std::string> ReadPrivateFile(const std::string& path, const char* what) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    const std::string head = std::string(what) + " file '" + path + "' ";
    if (err == ENOENT) return absl::NotFoundError(head + "does not exist on the worker");
    if (err == ELOOP) {
      return absl::InvalidArgumentError(head +
                                        "is a symbolic link: put the file itself in --secrets");
    }
    if (err == EACCES) return absl::PermissionDeniedError(head + "cannot be read by the worker");
    return absl::InternalError(head + "cannot be opened: " + std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return absl::InternalError(std::string(what) + " file '" + path +
                               "' cannot be examined: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(std::string(what) + " file '" + path +
                                      "' is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::PermissionDeniedError(std::string(what) + " file '" + path + "' has mode " + mode +
                                       ": group or others may access it; it is refused until "
                                       "only its owner can (chmod 600 '" +
                                       path + "')");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxCredentialsFileBytes) {
    return absl::InvalidArgumentError(std::string(what) + " file '" + path + "' is larger than " +
                                      std::to_string(kMaxCredentialsFileBytes) + " bytes");
  }
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(std::string(what) + " file '" + path +
                                 "' cannot be read: " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxCredentialsFileBytes) {
      return absl::InvalidArgumentError(std::string(what) + " file '" + path + "' is larger than " +
                                        std::to_string(kMaxCredentialsFileBytes) + " bytes");
    }
  }
  return out;
}

constexpr const char* kPemHeaders[] = {
    "-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",      "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
};

}  // namespace

storage::StatusOr<S3Credentials> ParseS3Credentials(std::string_view text,
                                                    const std::string& file) {
  S3Credentials c;
  int id_line = 0, secret_line = 0, token_line = 0;
  int number = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t nl = text.find('\n', at);
    std::string_view raw =
        text.substr(at, nl == std::string_view::npos ? text.size() - at : nl - at);
    at = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++number;
    // Never the line's text in a message: it may hold a secret.
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(file + ":" + std::to_string(number) + ": " + why);
    };
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line == "[default]") continue;
      return bad(
          "only a [default] section may appear: one file holds the credentials of one "
          "location");
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return bad(
          "expected 'key = value' (aws_access_key_id, aws_secret_access_key, "
          "aws_session_token)");
    }
    std::string_view key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    std::string* out = nullptr;
    int* seen = nullptr;
    if (key == "aws_access_key_id") {
      out = &c.access_key_id, seen = &id_line;
    } else if (key == "aws_secret_access_key") {
      out = &c.secret_access_key, seen = &secret_line;
    } else if (key == "aws_session_token") {
      out = &c.session_token, seen = &token_line;
    } else {
      return bad(
          "unknown key; expected aws_access_key_id, aws_secret_access_key or "
          "aws_session_token");
    }
    if (*seen != 0) {
      return bad(std::string(key) + " given twice (first on line " + std::to_string(*seen) + ")");
    }
    if (value.empty()) return bad(std::string(key) + " has no value");
    if (value.find_first_of(" \t\v\f\r") != std::string_view::npos ||
        value.find('\0') != std::string_view::npos) {
      return bad(std::string(key) + "'s value holds white space or a NUL byte");
    }
    *out = std::string(value);
    *seen = number;
  }
  if (id_line == 0) return absl::InvalidArgumentError(file + ": no aws_access_key_id");
  if (secret_line == 0) return absl::InvalidArgumentError(file + ": no aws_secret_access_key");
  return c;
}

storage::StatusOr<S3Credentials> LoadS3Credentials(const std::string& secrets_dir,
                                                   const std::string& location_name) {
  auto path = SecretPath(secrets_dir, location_name, ".s3", "S3 credentials");
  if (!path.ok()) return path.status();
  auto text = ReadPrivateFile(*path, "S3 credentials");
  if (!text.ok()) return text.status();
  return ParseS3Credentials(*text, *path);
}

storage::StatusOr<SshCredentials> LoadSshCredentials(const std::string& secrets_dir,
                                                     const std::string& location_name) {
  auto path = SecretPath(secrets_dir, location_name, ".ssh", "SSH private key");
  if (!path.ok()) return path.status();
  auto text = ReadPrivateFile(*path, "SSH private key");
  if (!text.ok()) return text.status();
  const std::string head = "SSH private key file '" + *path + "' ";
  std::string_view t = *text;
  std::string_view first = Trim(t.substr(0, t.find('\n')));
  const char* header = nullptr;
  for (const char* h : kPemHeaders) {
    if (first == h) header = h;
  }
  if (header == nullptr) {
    if (first == "-----BEGIN ENCRYPTED PRIVATE KEY-----") {
      return absl::InvalidArgumentError(head +
                                        "is passphrase-protected: the worker needs a key without "
                                        "a passphrase (ssh-keygen -p -N '')");
    }
    return absl::InvalidArgumentError(
        head +
        "is not an OpenSSH private key (its first line is not '-----BEGIN OPENSSH "
        "PRIVATE KEY-----' or another PEM private key header)");
  }
  bool encrypted = t.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
  if (std::string_view(header) == kPemHeaders[0]) {
    // The body begins "openssh-key-v1\0" then the cipher's name, "none"
    // for a key without a passphrase.
    std::string b64;
    for (size_t i = first.size(); i < t.size() && b64.size() < 64; ++i) {
      char ch = t[i];
      if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
          ch == '+' || ch == '/') {
        b64.push_back(ch);
      } else if (ch == '-') {
        break;
      }
    }
    b64.resize(b64.size() - b64.size() % 4);
    std::string blob;
    constexpr std::string_view kMagic("openssh-key-v1\0", 15);
    if (!absl::Base64Unescape(b64, &blob) || blob.size() < kMagic.size() + 4 ||
        std::string_view(blob).substr(0, kMagic.size()) != kMagic) {
      return absl::InvalidArgumentError(head + "has an OpenSSH header but no OpenSSH key body");
    }
    const auto* p = reinterpret_cast<const unsigned char*>(blob.data()) + kMagic.size();
    uint32_t n = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    std::string_view cipher =
        std::string_view(blob).substr(kMagic.size() + 4, std::min<size_t>(n, 32));
    encrypted = encrypted || cipher != "none";
  }
  if (encrypted) {
    return absl::InvalidArgumentError(head +
                                      "is passphrase-protected: the worker needs a key without a "
                                      "passphrase (ssh-keygen -p -N '' -f FILE)");
  }
  return SshCredentials{*path};
}

}  // namespace vigil::worker::remote
