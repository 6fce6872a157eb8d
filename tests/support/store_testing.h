// Small helpers for the tests of storage::Store implementations over real
// servers (tests/services/worker/remote/s3_store_test.cc against the
// s3rver test server, ceph_rgw_test.cc against Ceph's radosgw): a whole
// directory listed into a map, and the hex MD5 an S3 single-part ETag is.
// Header-only.
//
// Thread safety: stateless functions; a Store's own rules apply.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>
#include <string>
#include <utility>

#include "storage/store.h"

namespace vigil::testing {

// Every child of `dir`, by name; a name listed twice or a failed listing
// is the test's failure.
inline std::map<std::string, storage::StoreEntry> ListAll(storage::Store& store,
                                                          const std::string& dir) {
  std::map<std::string, storage::StoreEntry> out;
  const auto s = store.List(dir, [&](storage::StoreEntry&& e) {
    const std::string name = e.name;
    EXPECT_TRUE(out.emplace(name, std::move(e)).second) << "listed twice: " << name;
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Lower-case hex MD5 of `s` (needs OpenSSL::Crypto).
inline std::string Md5Hex(const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), d, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[d[i] >> 4];
    hex += kHex[d[i] & 15];
  }
  return hex;
}

}  // namespace vigil::testing
