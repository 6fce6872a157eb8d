#include "services/contracts/location_address.h"

#include <cstdint>
#include <vector>

#include "absl/strings/escaping.h"
#include "services/contracts/parse_scalars.h"

namespace vigil::contracts {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlnum(char c) { return IsDigit(c) || IsLower(c) || (c >= 'A' && c <= 'Z'); }
bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A DNS name (letters, digits, '-', '.'), an IPv4 address, or (ipv6) an
// IPv6 address: hex digits, ':' and '.' with at least two ':'.
bool IsHost(std::string_view h, bool ipv6) {
  if (h.empty() || h.size() > 253) return false;
  if (ipv6) {
    int colons = 0;
    for (char c : h) {
      bool hex = IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return false;
      colons += c == ':';
    }
    return colons >= 2;
  }
  if (h.front() == '.' || h.front() == '-' || h.find("..") != std::string_view::npos) return false;
  for (char c : h) {
    if (!IsAlnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsPort(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  int v = 0;
  for (char c : p) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  return v >= 1 && v <= 65535;
}

std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

constexpr std::string_view kHostKeyTypes[] = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"};

}  // namespace

std::string S3EndpointProblem(std::string_view e) {
  const std::string expected =
      "expected http://HOST[:PORT] or https://HOST[:PORT] (no path, query or user), got " +
      Quote(e);
  std::string_view rest;
  if (e.rfind("https://", 0) == 0) {
    rest = e.substr(8);
  } else if (e.rfind("http://", 0) == 0) {
    rest = e.substr(7);
  } else {
    return expected;
  }
  if (rest.find_first_of("/?#@") != std::string_view::npos) return expected;
  std::string_view host = rest, port;
  bool ipv6 = false;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return expected;
    host = rest.substr(1, close - 1);
    ipv6 = true;
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return expected;
      port = after.substr(1);
      if (!IsPort(port)) return expected;
    }
  } else if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (!IsPort(port)) return expected;
  }
  if (!IsHost(host, ipv6)) return expected;
  return "";
}

std::string S3RegionProblem(std::string_view r) {
  bool ok = !r.empty() && r.size() <= 64;
  for (char c : r) ok = ok && (IsAlnum(c) || c == '-' || c == '_');
  return ok ? "" : "expected a region like us-east-1 (1 to 64 of a-z A-Z 0-9 - _), got " + Quote(r);
}

std::string S3BucketProblem(std::string_view b) {
  const std::string got = ", got " + Quote(b);
  if (b.size() < 3 || b.size() > 63) return "a bucket name has 3 to 63 characters" + got;
  for (char c : b) {
    if (!IsLower(c) && !IsDigit(c) && c != '.' && c != '-') {
      return "a bucket name has only a-z, 0-9, '.' and '-'" + got;
    }
  }
  if (!IsAlnum(b.front()) || !IsAlnum(b.back())) {
    return "a bucket name begins and ends with a letter or a digit" + got;
  }
  if (b.find("..") != std::string_view::npos) return "a bucket name has no '..'" + got;
  if (b.rfind("xn--", 0) == 0) return "a bucket name does not begin with 'xn--'" + got;
  if (b.size() >= 8 && b.substr(b.size() - 8) == "-s3alias") {
    return "a bucket name does not end with '-s3alias'" + got;
  }
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : b) {
    dots += c == '.';
    digits_and_dots = digits_and_dots && (IsDigit(c) || c == '.');
  }
  if (dots == 3 && digits_and_dots) return "a bucket name is not an IP address" + got;
  return "";
}

std::string S3PrefixProblem(std::string_view p) {
  if (p.empty()) return "";
  const std::string expected =
      "expected a key prefix like backups/acme: no leading or trailing '/', no empty, '.' or "
      "'..' component, got " +
      Quote(p);
  if (HasControl(p)) return expected;
  size_t b = 0;
  while (true) {
    size_t e = p.find('/', b);
    std::string_view c = p.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    if (c.empty() || c == "." || c == "..") return expected;
    if (e == std::string_view::npos) return "";
    b = e + 1;
  }
}

std::string S3AddressingProblem(std::string_view a) {
  if (a == "path" || a == "virtual-host") return "";
  return "expected path or virtual-host, got " + Quote(a);
}

std::string AbsoluteFileProblem(std::string_view p) {
  if (!p.empty() && p.front() == '/' && !HasControl(p)) return "";
  return "expected an absolute path on the worker's machine, got " + Quote(p);
}

std::string SftpHostProblem(std::string_view h) {
  if (IsHost(h, h.find(':') != std::string_view::npos)) return "";
  return "expected a host name or an IP address, got " + Quote(h);
}

std::string SftpUserProblem(std::string_view u) {
  bool ok = !u.empty() && u.size() <= 64 && !HasControl(u);
  for (char c : u) ok = ok && c != ' ' && c != '@' && c != ':';
  return ok ? "" : "expected a user name (1 to 64 bytes, no space, '@' or ':'), got " + Quote(u);
}

std::string SshHostKeyProblem(std::string_view k) {
  const std::string expected =
      "expected the server's public key as 'TYPE BASE64 [comment]' (a line of its "
      "/etc/ssh/ssh_host_*_key.pub), TYPE one of ssh-ed25519, ecdsa-sha2-nistp256, "
      "ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa";
  if (k.find_first_of("\r\n") != std::string_view::npos) return expected + ": one line only";
  std::vector<std::string_view> f = SplitFields(k);
  if (f.size() < 2) return expected + ", got " + Quote(k);
  bool known = false;
  for (auto t : kHostKeyTypes) known = known || f[0] == t;
  if (!known) return expected + ", got the type " + Quote(f[0]);
  std::string decoded;
  if (!absl::Base64Unescape(absl::string_view(f[1].data(), f[1].size()), &decoded)) {
    return expected + ": the key after " + std::string(f[0]) + " is not base64";
  }
  const std::string* blob = &decoded;
  // The blob begins with the key type as an SSH string (uint32 length, bytes).
  std::string embedded;
  if (blob->size() >= 4) {
    uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>((*blob)[0])) << 24) |
                 (static_cast<uint32_t>(static_cast<unsigned char>((*blob)[1])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>((*blob)[2])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>((*blob)[3]));
    if (n <= blob->size() - 4) embedded = blob->substr(4, n);
  }
  if (embedded != f[0]) {
    return "the key is not a " + std::string(f[0]) + " key (it says " +
           (embedded.empty() ? std::string("nothing") : Quote(embedded)) +
           "); copy the whole line of the server's .pub file";
  }
  return "";
}

std::string SftpPathProblem(std::string_view p) {
  const std::string expected =
      "expected an absolute directory like /srv/backups: no empty, '.' or '..' component, no "
      "trailing '/', got " +
      Quote(p);
  if (p.empty() || p.front() != '/' || HasControl(p)) return expected;
  if (p == "/") return "";
  return S3PrefixProblem(p.substr(1)).empty() ? "" : expected;
}

std::string LocationAddressText(const Location& l) {
  if (l.kind == "s3") {
    return "s3://" + l.s3.bucket + (l.s3.prefix.empty() ? "" : "/" + l.s3.prefix) + " at " +
           l.s3.endpoint;
  }
  if (l.kind == "sftp") {
    const bool ipv6 = l.sftp.host.find(':') != std::string::npos;
    return "sftp://" + l.sftp.user + "@" + (ipv6 ? "[" + l.sftp.host + "]" : l.sftp.host) +
           (l.sftp.port == 22 ? "" : ":" + std::to_string(l.sftp.port)) + l.sftp.path;
  }
  return "";
}

std::string LocationAddressProblem(const Location& l, bool has_s3, bool has_sftp) {
  auto first = [](std::initializer_list<std::pair<const char*, std::string>> checks) {
    for (const auto& [field, problem] : checks) {
      if (!problem.empty()) return std::string(field) + ": " + problem;
    }
    return std::string();
  };
  if (l.kind != "filesystem" && l.kind != "s3" && l.kind != "sftp") {
    return "type: unknown location type " + Quote(l.kind) + "; expected filesystem, s3 or sftp";
  }
  if (has_s3 && l.kind != "s3") return "s3: applies to type: s3 only (this is " + l.kind + ")";
  if (has_sftp && l.kind != "sftp") {
    return "sftp: applies to type: sftp only (this is " + l.kind + ")";
  }
  if (l.kind == "s3") {
    if (!has_s3) return "s3: missing: a location of type s3 needs its s3 block";
    return first({{"s3.endpoint", S3EndpointProblem(l.s3.endpoint)},
                  {"s3.region", S3RegionProblem(l.s3.region)},
                  {"s3.bucket", S3BucketProblem(l.s3.bucket)},
                  {"s3.prefix", S3PrefixProblem(l.s3.prefix)},
                  {"s3.caFile", l.s3.ca_file.empty() ? "" : AbsoluteFileProblem(l.s3.ca_file)}});
  }
  if (l.kind == "sftp") {
    if (!has_sftp) return "sftp: missing: a location of type sftp needs its sftp block";
    return first({{"sftp.host", SftpHostProblem(l.sftp.host)},
                  {"sftp.port",
                   l.sftp.port >= 1 && l.sftp.port <= 65535
                       ? ""
                       : "expected an integer from 1 to 65535, got " + std::to_string(l.sftp.port)},
                  {"sftp.user", SftpUserProblem(l.sftp.user)},
                  {"sftp.hostKey", SshHostKeyProblem(l.sftp.host_key)},
                  {"sftp.path", SftpPathProblem(l.sftp.path)}});
  }
  return "";
}

}  // namespace vigil::contracts
