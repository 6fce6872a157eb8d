// The address of a remote location (`type: s3` / `type: sftp`, model.h's
// S3Spec and SftpSpec) checked field by field: what the YAML parser
// (parse.cc, which adds file:line:column) and the coordinator's structured
// Apply (services/coordinator/coordinator.cc) both refuse, so that a store
// is never opened on an address that was not checked. Credentials are not
// part of an address: they are the worker's --secrets files
// (services/worker/remote/credentials.h).
//
// Each *Problem function returns "" when the value is valid, else what is
// wrong as a phrase for an error message ("expected ..., got '...'"),
// without the field's name. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "services/contracts/model.h"

namespace vigil::contracts {

// "http://host[:port]" or "https://host[:port]": a host name, an IPv4
// address or a bracketed IPv6 address, a port 1..65535; no path (a
// trailing '/' included), query, fragment or user information.
std::string S3EndpointProblem(std::string_view endpoint);
// A SigV4 signing region: 1 to 64 of a-z A-Z 0-9 - _ ("us-east-1",
// "eu-west-3", "default").
std::string S3RegionProblem(std::string_view region);
// An S3 bucket name (AWS's rules): 3 to 63 of a-z 0-9 . -, beginning and
// ending with a letter or digit, no "..", not an IPv4 address, not
// beginning with "xn--" and not ending with "-s3alias".
std::string S3BucketProblem(std::string_view bucket);
// A key prefix: "" or components joined by '/', none empty, "." or "..";
// no leading or trailing '/'; no control character.
std::string S3PrefixProblem(std::string_view prefix);
// `addressing`: "path" or "virtual-host".
std::string S3AddressingProblem(std::string_view addressing);
// A file on the worker's machine: an absolute path with no control
// character.
std::string AbsoluteFileProblem(std::string_view path);
// An SFTP server: a host name, an IPv4 address or an IPv6 address (not
// bracketed), at most 253 bytes.
std::string SftpHostProblem(std::string_view host);
// A user name on the SFTP server: 1 to 64 bytes, no white space, control
// character, '@' or ':'.
std::string SftpUserProblem(std::string_view user);
// The pinned host key, "TYPE BASE64 [comment]" as in a .pub file or a
// known_hosts line without its host: TYPE one of ssh-ed25519,
// ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa;
// BASE64 decodes to an SSH public key blob whose embedded type is TYPE.
std::string SshHostKeyProblem(std::string_view host_key);
// The directory on the SFTP server: "/" or "/a/b", no empty, "." or ".."
// component, no trailing '/', no control character.
std::string SftpPathProblem(std::string_view path);

// How a location's address is shown to people (vigil apply's changes,
// messages): "" for a filesystem location (its root is the worker's
// --location NAME=PATH), "s3://BUCKET[/PREFIX] at ENDPOINT" or
// "sftp://USER@HOST[:PORT]PATH" (the port when not 22).
std::string LocationAddressText(const Location& l);

// Every rule above for `l` as its kind needs: kind "filesystem", "s3" or
// "sftp", and the s3/sftp fields. "" when valid, else "FIELD: PROBLEM"
// (FIELD as in the YAML: "s3.bucket", "sftp.hostKey", "type").
// `has_s3` / `has_sftp`: whether the record carries an s3 / sftp block (a
// filesystem location may carry neither, an s3 location no sftp block).
std::string LocationAddressProblem(const Location& l, bool has_s3, bool has_sftp);

}  // namespace vigil::contracts
