// AWS Signature Version 4 for the S3 client (s3_store.cc): the canonical
// request, the string to sign, the signing key and the Authorization
// header, as AWS specifies them. Pure functions over strings (OpenSSL 3 for
// SHA-256 and HMAC); no I/O, no clock: the caller gives the time.
//
// Paths are given raw (unencoded, '/'-separated) and encoded here once per
// segment, the S3 rule (other AWS services encode twice and normalise the
// path; Vigil signs only S3 requests, and paths with '.' or '..' segments
// never reach here: storage::CheckStorePath refuses them). Query keys and
// values are given raw too and encoded here; the caller sends the URL built
// by CanonicalUri() + "?" + CanonicalQuery(), so what is signed is what is
// sent.
//
// Tested against AWS's published SigV4 test suite vectors
// (tests/services/worker/remote/sigv4_test.cc).
//
// Thread safety: stateless; every function may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::worker::remote {

// "UNSIGNED-PAYLOAD": the body is not part of the signature.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Request {
  std::string method;                                      // "GET", "HEAD", "PUT", "POST"
  std::string path;                                        // raw, starting with '/'
  std::vector<std::pair<std::string, std::string>> query;  // raw key, value
  // Every header to sign (name in any case, value as sent; Host included).
  // Names are lowercased, values trimmed and inner runs of spaces folded.
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body (Sha256Hex) or kUnsignedPayload.
  std::string payload_hash;
};

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

struct SigV4Scope {
  std::string amz_date;  // "YYYYMMDDTHHMMSSZ" (UTC), also the x-amz-date header
  std::string region;    // "us-east-1"
  std::string service;   // "s3"
};

// RFC 3986 percent-encoding as AWS wants it: A-Z a-z 0-9 - . _ ~ stay,
// every other byte becomes %XY (upper-case hex); '/' too unless
// `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

// The path encoded segment by segment ("/a b/c" -> "/a%20b/c"); "/" if empty.
std::string CanonicalUri(std::string_view raw_path);

// "k1=v1&k2=v2": keys and values encoded, sorted by encoded key then value;
// an empty value keeps its '='.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

// The canonical request: method, URI, query, headers, signed header names,
// payload hash, '\n'-separated.
std::string CanonicalRequest(const SigV4Request& req);

// "host;x-amz-date": the lowercased header names, sorted, ';'-joined.
std::string SignedHeaders(const SigV4Request& req);

// "AWS4-HMAC-SHA256\n<date>\n<yyyymmdd>/<region>/<service>/aws4_request\n<hex sha256>".
std::string StringToSign(const SigV4Scope& scope, std::string_view canonical_request);

// The signing key: HMAC-SHA256 chain over "AWS4"+secret, date, region,
// service, "aws4_request" (32 raw bytes).
std::string SigningKey(std::string_view secret, const SigV4Scope& scope);

// Hex HMAC-SHA256 of the string to sign under the signing key.
std::string Signature(const SigV4Credentials& creds, const SigV4Scope& scope,
                      std::string_view string_to_sign);

// "AWS4-HMAC-SHA256 Credential=AKID/<yyyymmdd>/<region>/<service>/aws4_request,
//  SignedHeaders=..., Signature=..." for `req` (the whole chain).
std::string Authorization(const SigV4Request& req, const SigV4Credentials& creds,
                          const SigV4Scope& scope);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace vigil::worker::remote
