#include "services/worker/remote/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>

namespace vigil::worker::remote {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string ToHex(const unsigned char* p, size_t n) {
  std::string s(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4];
    s[2 * i + 1] = kHex[p[i] & 0xf];
  }
  return s;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trims the value and folds each inner run of spaces to one.
std::string TrimFold(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> CanonicalHeaders(const SigV4Request& req) {
  std::vector<std::pair<std::string, std::string>> h;
  h.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) h.emplace_back(Lower(name), TrimFold(value));
  std::stable_sort(h.begin(), h.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Repeated names join their values with ',' in the order given.
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& e : h) {
    if (!out.empty() && out.back().first == e.first) {
      out.back().second += "," + e.second;
    } else {
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::string ShortDate(const SigV4Scope& scope) { return scope.amz_date.substr(0, 8); }

std::string CredentialScope(const SigV4Scope& scope) {
  return ShortDate(scope) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0xf]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  return UriEncode(raw_path, /*keep_slash=*/true);
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string SignedHeaders(const SigV4Request& req) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(req)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& req) {
  std::string out =
      req.method + "\n" + CanonicalUri(req.path) + "\n" + CanonicalQuery(req.query) + "\n";
  std::string names;
  for (const auto& [name, value] : CanonicalHeaders(req)) {
    out += name + ":" + value + "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  out += "\n" + names + "\n" + req.payload_hash;
  return out;
}

std::string StringToSign(const SigV4Scope& scope, std::string_view canonical_request) {
  return "AWS4-HMAC-SHA256\n" + scope.amz_date + "\n" + CredentialScope(scope) + "\n" +
         Sha256Hex(canonical_request);
}

std::string SigningKey(std::string_view secret, const SigV4Scope& scope) {
  std::string k = Hmac("AWS4" + std::string(secret), ShortDate(scope));
  k = Hmac(k, scope.region);
  k = Hmac(k, scope.service);
  return Hmac(k, "aws4_request");
}

std::string Signature(const SigV4Credentials& creds, const SigV4Scope& scope,
                      std::string_view string_to_sign) {
  const std::string mac = Hmac(SigningKey(creds.secret_access_key, scope), string_to_sign);
  return ToHex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string Authorization(const SigV4Request& req, const SigV4Credentials& creds,
                          const SigV4Scope& scope) {
  const std::string sts = StringToSign(scope, CanonicalRequest(req));
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + CredentialScope(scope) +
         ", SignedHeaders=" + SignedHeaders(req) + ", Signature=" + Signature(creds, scope, sts);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return ToHex(md, sizeof md);
}

}  // namespace vigil::worker::remote
