#include "services/worker/remote/open_location.h"

#include "services/worker/remote/credentials.h"
#include "services/worker/remote/remote.h"
#include "services/worker/remote/s3_store.h"
#include "services/worker/remote/sftp_store.h"

namespace vigil::worker::remote {

storage::StatusOr<std::unique_ptr<storage::Store>> OpenLocationStore(
    const v1::Location& location, const std::string& secrets_dir,
    const storage::RetryPolicy& retry) {
  if (location.kind() == "s3") {
    const v1::S3Location& s = location.s3();
    S3Config c;
    c.endpoint = s.endpoint();
    if (!s.region().empty()) c.region = s.region();
    c.bucket = s.bucket();
    c.prefix = s.prefix();
    c.virtual_host = s.virtual_host();
    c.ca_file = s.ca_file();
    auto cred = LoadS3Credentials(secrets_dir, location.name());
    if (!cred.ok()) return cred.status();
    return OpenS3Store(c, *cred, retry);
  }
  if (location.kind() == "sftp") {
    const v1::SftpLocation& s = location.sftp();
    SftpConfig c;
    c.host = s.host();
    c.port = s.port() == 0 ? 22 : static_cast<int>(s.port());
    c.user = s.user();
    c.host_key = s.host_key();
    c.path = s.path();
    auto cred = LoadSshCredentials(secrets_dir, location.name());
    if (!cred.ok()) return cred.status();
    return OpenSftpStore(c, *cred, retry);
  }
  return absl::FailedPreconditionError("location " + location.name() + " is of type '" +
                                       location.kind() + "', not a remote location (s3, sftp)");
}

}  // namespace vigil::worker::remote
