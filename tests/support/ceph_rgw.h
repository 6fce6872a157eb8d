// A real Ceph object gateway on loopback for the S3 tests: Debian's Ceph
// 16.2 (`ceph-mon`, `ceph-osd`, `radosgw`, `radosgw-admin` from
// ceph-common; scripts/install-deps installs them) started by the test
// itself as a one-node cluster in a temporary directory.
//
// What runs, all as the current user (no root needed; nothing outside the
// temporary directory: config, monitor store, sockets, pid files, logs; no
// keyring, auth is off):
//   - one monitor `mon.a` on 127.0.0.1 (msgr v2 only), `auth_*_required =
//     none`; ceph-mon cannot bind port 0, so the fixture picks a random
//     high port and, when the monitor exits with "Address already in
//     use", makes a fresh monmap with another port and tries again (no
//     probe-then-reuse), like tests/support/sshd_server.h;
//   - one OSD `osd.0` with `osd objectstore = memstore` (objects in
//     memory, no disk), registered with `ceph osd new`; every pool has
//     size 1 and a few placement groups;
//   - radosgw `client.rgw` with `rgw frontends = beast
//     endpoint=127.0.0.1:PORT` (random port, retried the same way); it
//     creates its own pools on first start;
//   - one S3 user made with `radosgw-admin user create`, with a random
//     access key id and secret.
// Ready = radosgw answers GET / with 200 and the user exists. Start-up
// takes ~5 s on a busy two-core machine (monitor ~1 s, OSD ~2 s, radosgw
// ~2 s; startup_report() says how long each stage took). Each stage has a deadline: the monitor 30
// s, the OSD 60 s, radosgw 120 s (helper commands 60 s each).
//
// Radosgw verifies AWS Signature V4 (and V2) like AWS, and supports what
// the store-evidence tests need: bucket versioning, Object Lock at bucket
// creation (`x-amz-bucket-object-lock-enabled: true`), the bucket's default
// retention (PutObjectLockConfiguration) and per-object retention (at PUT
// or PutObjectRetention), reported back by GET ?versioning, GET
// ?object-lock, GET ?retention and HEAD (x-amz-object-lock-mode,
// x-amz-object-lock-retain-until-date).
//
// Logs: every daemon writes its log file to DIR/log/ (mon.a.log,
// osd.0.log, client.rgw.log) and its stderr to DIR/*.err; Logs() returns
// their tails, and Start()'s error carries them when start-up fails.
//
// Processes: only those this fixture started, by PID. Kill() ends the
// three daemons with SIGKILL; Stop() asks them with SIGTERM first; the
// destructor kills whatever is left and removes the directory. The
// daemons run under `setpriv --pdeathsig KILL`, so a test that dies
// without its destructor (a crash, a ctest timeout) leaves none behind.
// Helper commands (ceph, radosgw-admin) run under timeout(1).
//
// Used by tests/services/worker/remote/ceph_rgw_test.cc,
// tests/integration/ceph_process_test.cc and bench/ceph_rgw_serve.cc
// (bench/remote/run). Needs tests/support/ceph_rgw.cc and
// tests/integration/test_util.cc (BackgroundProcess) in the SOURCES, and
// links vigil_s3 (the signer), CURL::libcurl, OpenSSL::Crypto.
//
// Example:
//   std::string error;
//   auto rgw = CephRgw::Start(&error);  // nullptr and `error` on failure
//   rgw->CreateBucket("b", {.object_lock = true});  // versioned as well
//   rgw->PutObjectLockConfiguration("b", "GOVERNANCE", 30);
//   rgw->PutObject("b", "repo/config", body,
//                  {.lock_mode = "COMPLIANCE", .retain_until = "2035-01-01T00:00:00Z"});
//   auto store = worker::remote::OpenS3Store(rgw->Config("b", "repo"),
//                                            rgw->Credentials(), storage::RetryPolicy{});
//   CephRgw::Reply r = rgw->Send({.bucket = "b", .query = {{"object-lock", ""}}});
//
// Thread safety: one owner (a test or its fixture) calls Start, Stop, Kill
// and the bucket helpers; radosgw itself serves any number of client
// threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/worker/remote/remote.h"
#include "storage/status.h"
#include "tests/support/temp_dir.h"

namespace vigil::testing {

class BackgroundProcess;

class CephRgw {
 public:
  // Starts the cluster and the gateway and creates the S3 user; nullptr
  // and *error (what failed, with the daemons' log tails) when it cannot.
  // `memstore_bytes`: the OSD's in-memory device size (what radosgw may
  // hold; its RAM grows with what is stored). The tests' 2 GiB default;
  // bench/ceph_rgw_serve.cc asks for more.
  struct Options {
    int64_t memstore_bytes = int64_t{2} << 30;
  };
  static std::unique_ptr<CephRgw> Start(std::string* error) { return Start(Options{}, error); }
  static std::unique_ptr<CephRgw> Start(const Options& options, std::string* error);
  ~CephRgw();
  CephRgw(const CephRgw&) = delete;
  CephRgw& operator=(const CephRgw&) = delete;

  // "http://127.0.0.1:PORT": radosgw's S3 endpoint (path-style).
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(rgw_port_); }
  int port() const { return rgw_port_; }
  int mon_port() const { return mon_port_; }
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_access_key_; }
  worker::remote::S3Credentials Credentials() const;
  // A path-style location of `bucket` under `prefix` on this gateway.
  worker::remote::S3Config Config(const std::string& bucket, const std::string& prefix = "") const;
  const std::string& dir() const { return dir_.path(); }
  // Seconds from Start() to ready, and each stage's share ("mon 0.9 s,
  // osd 3.1 s, rgw 9.8 s, user 0.5 s; total 14.3 s").
  double startup_seconds() const { return startup_seconds_; }
  const std::string& startup_report() const { return startup_report_; }
  // The last lines of each daemon's log and stderr.
  std::string Logs() const;

  // A signed S3 request to the gateway (SigV4 by services/worker/remote/
  // sigv4.h, payload hash of `body`, Content-MD5 added when there is a
  // body) with the fixture's user, or `creds` when given.
  struct Reply {
    long code = 0;  // HTTP status; 0 when no answer (curl's error in body)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };
  struct Request {
    std::string method = "GET";  // GET, HEAD, PUT, DELETE
    std::string bucket{};
    std::string key{};                                         // "" = the bucket itself
    std::vector<std::pair<std::string, std::string>> query{};  // raw: {"versioning", ""}
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
  };
  Reply Send(const Request& req) const;
  Reply Send(const Request& req, const worker::remote::S3Credentials& creds) const;

  // CreateBucket. `object_lock` sends x-amz-bucket-object-lock-enabled:
  // true (S3 then turns versioning on by itself); `versioned` also PUTs
  // ?versioning Enabled. Error (with S3's answer) unless 200.
  struct BucketOptions {
    bool versioned = false;
    bool object_lock = false;
  };
  storage::Status CreateBucket(const std::string& bucket, const BucketOptions& options) const;
  storage::Status CreateBucket(const std::string& bucket) const {
    return CreateBucket(bucket, BucketOptions{});
  }
  // PutObjectLockConfiguration: ObjectLockEnabled and, when `mode` is not
  // empty, a default retention rule of `mode` ("GOVERNANCE"/"COMPLIANCE")
  // for `days` days.
  storage::Status PutObjectLockConfiguration(const std::string& bucket, const std::string& mode,
                                             int days) const;

  // PutObject of `body` at `key` (the full key). With `lock_mode` and
  // `retain_until` ("2030-01-01T00:00:00Z"), the object is written with
  // that retention (x-amz-object-lock-mode / -retain-until-date headers;
  // the bucket must have Object Lock). *version_id gets x-amz-version-id
  // ("" on an unversioned bucket).
  struct ObjectOptions {
    std::string lock_mode{};     // "", "GOVERNANCE" or "COMPLIANCE"
    std::string retain_until{};  // ISO 8601 UTC, with lock_mode
  };
  storage::Status PutObject(const std::string& bucket, const std::string& key,
                            const std::string& body, const ObjectOptions& options,
                            std::string* version_id = nullptr) const;
  storage::Status PutObject(const std::string& bucket, const std::string& key,
                            const std::string& body) const {
    return PutObject(bucket, key, body, ObjectOptions{});
  }
  // PutObjectRetention on an existing object (its latest version unless
  // `version_id`).
  storage::Status PutObjectRetention(const std::string& bucket, const std::string& key,
                                     const std::string& mode, const std::string& retain_until,
                                     const std::string& version_id = "") const;

  // The three daemons: SIGTERM, then SIGKILL after 10 s (Stop), or SIGKILL
  // at once (Kill). Idempotent.
  void Stop();
  void Kill();

 private:
  CephRgw() = default;
  bool StartMon(std::string* error);
  bool StartOsd(std::string* error);
  bool StartRgw(std::string* error);
  bool CreateUser(std::string* error);
  void WriteConfig();
  // Runs a helper (argv[0] on PATH) with -c CONFIG under timeout(1); false
  // and *error naming the command when it fails; *out gets its stdout.
  bool Run(const std::vector<std::string>& args, std::string* out, std::string* error,
           int timeout_s = 60) const;

  TempDir dir_;
  std::string conf_;
  std::string fsid_;
  int64_t memstore_bytes_ = 0;
  std::string access_key_id_;
  std::string secret_access_key_;
  int mon_port_ = 0;
  int rgw_port_ = 0;
  double startup_seconds_ = 0;
  std::string startup_report_;
  std::unique_ptr<BackgroundProcess> mon_, osd_, rgw_;
};

}  // namespace vigil::testing
