// A remote location's credentials, from the worker's --secrets directory
// (never from the coordinator, never in a contract, never over gRPC):
//   DIR/LOCATION.s3    an S3 access key, as in the AWS credentials file:
//                        [default]                       (optional)
//                        aws_access_key_id = AKIA...
//                        aws_secret_access_key = ...
//                        aws_session_token = ...         (optional)
//                      '#' and ';' start a comment line; blank lines are
//                      skipped; other sections and keys are refused.
//   DIR/LOCATION.ssh   an unencrypted OpenSSH (or PEM) private key; the
//                      SFTP store (sftp_store.h) reads it by its path.
// Like ssh with its keys, a file that its group or others may read (or
// write) is refused, as is a symbolic link or anything not a regular file.
// Errors name the file (and the line for a .s3 file) and what is wrong,
// never a secret: no value, and no text of a line, ever enters a message.
// Nothing here logs.
//
// Used by the worker when it opens the store of a remote location
// (docs/contracts.md, "Remote locations"). Stateless functions,
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "services/worker/remote/remote.h"
#include "storage/status.h"

namespace vigil::worker::remote {

// The largest credentials file read (a .s3 file or a private key).
inline constexpr size_t kMaxCredentialsFileBytes = 64 * 1024;

// `text` as the contents of a .s3 file called `file` (for messages).
// InvalidArgument "FILE:LINE: ..." for a malformed line (not key = value,
// an unknown key or section, a key given twice, an empty value or one with
// white space), "FILE: ..." for a missing access key id or secret.
storage::StatusOr<S3Credentials> ParseS3Credentials(std::string_view text, const std::string& file);

// DIR/LOCATION.s3, parsed. NotFound naming the file when it (or
// `secrets_dir`) is missing; InvalidArgument for a location name that is not
// a valid name (model.h's IsValidName: no path traversal) or a file that is
// not a regular file (a symbolic link included); PermissionDenied for a file
// readable or writable by group or others, or unreadable; the parse errors
// above.
storage::StatusOr<S3Credentials> LoadS3Credentials(const std::string& secrets_dir,
                                                   const std::string& location_name);

// DIR/LOCATION.ssh, checked: it exists, is a regular file (not a symbolic
// link), only its owner may read it, and it begins with an OpenSSH or PEM
// private key header ("-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN
// RSA|EC|DSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----") and is not
// passphrase-protected. Errors as LoadS3Credentials; InvalidArgument for a
// file that is not such a key.
storage::StatusOr<SshCredentials> LoadSshCredentials(const std::string& secrets_dir,
                                                     const std::string& location_name);

}  // namespace vigil::worker::remote
