// A directory on an SFTP server as a storage::Store (storage/store.h), over
// libssh 0.10: the worker's readers list, stat and read a backup at a second
// site or a provider (restic's and borg's most common remote) with nothing
// mounted. docs/remote.md "SFTP locations" describes it for operators.
//
// Connection: the server's host key must be the pinned one (type and key
// blob compared; anything else is refused: FailedPrecondition naming both
// SHA256 fingerprints, before authentication, and nothing is written to a
// known_hosts file; libssh reads neither ~/.ssh/known_hosts nor
// ~/.ssh/config). Authentication: the user's public key from the private key
// file only (no agent, no password). The store connects when it is opened, so
// a wrong key, user or host shows at once, and reconnects to the same
// host:port when the session dies (a restarted sshd is reached again; a
// server that moved to another port is not: Unavailable after the retries).
//
// Round trips (counters().requests): List one OPENDIR, one READDIR per batch
// of names (plus one READLINK per symbolic link) and a CLOSE; Stat one LSTAT
// (plus one READLINK for a link); ReadAt one READ per 64 KiB, up to 16 in
// flight (pipelined with sftp_async_read_begin/sftp_async_read), plus OPEN
// and FSTAT when the file is not the one the previous ReadAt read (the last
// file's handle stays open, so a hasher reading a file 1 MiB at a time opens
// it once) and a CLOSE of the file it replaces. A ReadAt that goes on where
// the previous one ended keeps up to 16 READs (1 MiB) running ahead of it
// (never past the size the file had when it was opened): the next call
// finds its data on the way, which doubles sequential throughput (loopback:
// ~80 MiB/s, as OpenSSH's sftp client); a jump elsewhere drops them (their
// READs were made and are counted). Reads stop at that size: a file that
// grows while it is read is read as it was.
//
// Timeouts and retries: RetryPolicy.timeout bounds the TCP connect and the
// SSH handshake (libssh's own timeout) and every SFTP round trip after it (a
// watchdog thread shuts the socket down when an answer does not come in time:
// libssh's blocking SFTP calls would otherwise wait forever on a server that
// stops answering). A transient failure (connection refused, reset or lost,
// a timeout) drops the session and tries again on a new one, waiting
// BackoffDelay between attempts, up to RetryPolicy.attempts; then
// Unavailable. A session found dead when a call starts using it (the server
// restarted, or dropped the connection while the store was idle) is
// replaced at once and does not count as an attempt (it counts as a retry). A List that already
// handed out entries is not retried (it would hand them out twice): Unavailable.
//
// Errors follow storage/store.h: NotFound (no such path), PermissionDenied
// (key refused for the user, or the server refused access to a path),
// FailedPrecondition (host key differs, the key file is missing, unreadable
// or encrypted, no SFTP subsystem, List of a non-directory), Unavailable,
// InvalidArgument (a bad path or configuration). Messages name
// Describe() and the path, never key material.
//
// Thread safety: the store may be called from several threads; one libssh
// session serves them all, one call at a time (a mutex guards it: libssh
// sessions are not thread-safe). Parallel readers therefore share one
// connection's pipeline; a pool of sessions would be the next step if one
// connection's throughput is not enough.
#pragma once

#include <memory>

#include "services/worker/remote/remote.h"
#include "storage/status.h"
#include "storage/store.h"

namespace vigil::worker::remote {

// Opens the store at config.path on config.host:config.port as config.user,
// connecting and authenticating once before it returns (with the policy's
// retries). InvalidArgument for a malformed configuration (empty host or
// user, port outside 1..65535, a path that is not absolute, a host_key that
// is not "TYPE BASE64"); the other codes as above.
storage::StatusOr<std::unique_ptr<storage::Store>> OpenSftpStore(
    const SftpConfig& config, const SshCredentials& credentials,
    const storage::RetryPolicy& policy);

}  // namespace vigil::worker::remote
