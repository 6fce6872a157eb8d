// Remote locations a worker reads without anything mounted: an S3-compatible
// bucket prefix (s3_store.h) and a directory on an SFTP server
// (sftp_store.h), both behind storage::Store (storage/store.h). Their
// addresses come from the contract (v1::Location.s3 / .sftp, carried in
// the task); their credentials only from the worker's --secrets directory
// (credentials.h), never over gRPC and never in a contract.
#pragma once

#include <string>

namespace vigil::worker::remote {

struct S3Config {
  std::string endpoint;  // "https://host[:port]" or "http://host[:port]"
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;         // "" or "a/b": the store's root
  bool virtual_host = false;  // bucket.host instead of host/bucket
  std::string ca_file;        // "" = the system's CAs
};

// --secrets/LOCATION.s3 (credentials.h).
struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct SftpConfig {
  std::string host;
  int port = 22;
  std::string user;
  // The pinned host key, "TYPE BASE64" (a known_hosts / .pub line without
  // the host; a trailing comment is ignored).
  std::string host_key;
  std::string path;  // absolute directory on the server: the store's root
};

// --secrets/LOCATION.ssh: an OpenSSH private key file (unencrypted).
struct SshCredentials {
  std::string private_key_file;  // path on the worker's machine
};

}  // namespace vigil::worker::remote
