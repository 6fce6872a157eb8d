// A real S3 server on loopback for the S3 store tests: @20minutes/s3rver
// (tests/s3/, pinned; installed by tests/s3/install, which scripts/test
// runs), which checks AWS Signature V4 signatures. The server listens on
// 127.0.0.1 port 0 and prints the port it bound; the fixture reads it,
// creates the buckets it is given at start, and kills the PID it started
// when it goes. Credentials: the server's built-in account (S3RVER /
// S3RVER).
//
// Used by tests/services/worker/remote/s3_store_test.cc (and the lead's
// end-to-end tests). Needs VIGIL_SOURCE_DIR defined by the test target and
// tests/integration/test_util.cc linked (BackgroundProcess).
//
// Thread safety: one owner (a test or its fixture); the server itself
// serves any number of client threads.
#pragma once

#include <openssl/evp.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "services/worker/remote/remote.h"
#include "tests/integration/test_util.h"
#include "tests/support/temp_dir.h"

namespace vigil::testing {

class S3Server {
 public:
  // Starts the server with `buckets` created; throws std::runtime_error
  // (the test's failure) if it is not installed or does not come up.
  explicit S3Server(const std::vector<std::string>& buckets) {
    const std::string dir = std::string(VIGIL_SOURCE_DIR) + "/tests/s3";
    if (!std::filesystem::exists(dir + "/node_modules/@20minutes/s3rver/package.json")) {
      throw std::runtime_error("the S3 test server is not installed: run tests/s3/install");
    }
    // --openssl-legacy-provider: the server encrypts its continuation
    // tokens with DES, which OpenSSL 3 keeps in its legacy provider.
    std::vector<std::string> argv = {"/usr/bin/env", "node", "--openssl-legacy-provider",
                                     dir + "/serve.js", data_.path() + "/data"};
    argv.insert(argv.end(), buckets.begin(), buckets.end());
    proc_ = std::make_unique<BackgroundProcess>(argv, data_.path() + "/s3rver");
    const std::string port = proc_->WaitForLine("PORT ", 30000);
    if (port.empty()) {
      throw std::runtime_error("the S3 test server did not start: " + proc_->err());
    }
    port_ = std::stoi(port);
  }
  ~S3Server() {
    proc_->Signal(SIGKILL);
    proc_->Wait();
  }
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // A path-style location of `bucket` under `prefix` on this server.
  worker::remote::S3Config Config(const std::string& bucket, const std::string& prefix = "") const {
    worker::remote::S3Config c;
    c.endpoint = endpoint();
    c.region = "us-east-1";
    c.bucket = bucket;
    c.prefix = prefix;
    return c;
  }
  // Writes object `key` of `bucket` (created at start) with `body` straight
  // into the server's storage directory, in the layout s3rver 4.0.4's
  // FilesystemStore reads (lib/stores/filesystem.js): KEY_DIRS/NAME._S3rver_object
  // with the content's MD5 (the ETag) in NAME._S3rver_object.md5 beside it,
  // no metadata file (no user metadata). The server reads its directory on
  // every request, so the object is listed and served at once: thousands of
  // objects in a fraction of the time a PUT each takes. No check of `key`:
  // tests pass plain keys. Needs OpenSSL::Crypto linked.
  void WriteObjectOnDisk(const std::string& bucket, const std::string& key,
                         const std::string& body) const {
    const std::filesystem::path file =
        std::filesystem::path(data_.path()) / "data" / bucket / (key + "._S3rver_object");
    std::filesystem::create_directories(file.parent_path());
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(body.data(), body.size(), d, &len, EVP_md5(), nullptr);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
      hex += "0123456789abcdef"[d[i] >> 4];
      hex += "0123456789abcdef"[d[i] & 15];
    }
    std::ofstream(file, std::ios::binary) << body;
    std::ofstream(file.string() + ".md5", std::ios::binary) << hex;
    if (!std::filesystem::exists(file.string() + ".md5")) {
      throw std::runtime_error("cannot write " + file.string());
    }
  }

  // The file on disk where the server keeps the content of `key` in
  // `bucket` (its ETag, the MD5 recorded at upload, is kept apart): a test
  // changes bytes here to damage an object behind the store's record.
  std::string ObjectFileForTest(const std::string& bucket, const std::string& key) const {
    return data_.path() + "/data/" + bucket + "/" + key + "._S3rver_object";
  }
  static worker::remote::S3Credentials Credentials() {
    worker::remote::S3Credentials c;
    c.access_key_id = "S3RVER";
    c.secret_access_key = "S3RVER";
    return c;
  }

 private:
  TempDir data_;
  std::unique_ptr<BackgroundProcess> proc_;
  int port_ = 0;
};

}  // namespace vigil::testing
